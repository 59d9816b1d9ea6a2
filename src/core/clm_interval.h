/*-------------------------------------------------------------------------
 *
 * clm_interval.h
 *	  Prediction intervals of the clm models (plain C, no PostgreSQL
 *	  headers): sigma points of the parameters' asymptotic normal, the
 *	  distribution of a customer's future purchase count, the quantiles of
 *	  its mixture over the parameters, of a sum over customers, of the
 *	  Gamma-Gamma mean spend.  The method is in clm_interval.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_INTERVAL_H
#define CLM_INTERVAL_H

#include <stdbool.h>

#include "clm_models.h"

#define CLM_SIGMA_MAX (2 * CLM_MAX_PAR + 1)

/*
 * The sigma points: point 0 is the estimate, points 2k+1 and 2k+2 are the
 * estimate plus and minus h times column k of the Cholesky factor of the
 * covariance of the log-parameters.  npts is 1 when the parameters are
 * known (a model without standard errors).
 */
typedef struct clm_sigma
{
	int			npar;
	int			npts;
	double		h;
	double		w[CLM_SIGMA_MAX];
	double		par[CLM_SIGMA_MAX][CLM_MAX_PAR];
} clm_sigma;

/* NULL, or a message when the covariance is missing or not usable */
extern const char *clm_sigma_points(int npar, const double *par, const double *se,
									const double *corr, clm_sigma *sp);

/*
 * The distribution of the purchases Y in the next t of a customer alive at
 * T with x repeat purchases, for one parameter vector: cdf[k] = P(Y <= k |
 * alive) for k < n (1 beyond), m1 = E[Y | alive], m2 = E[Y^2 | alive].
 * cdf is clm_core_alloc'd (the caller frees it).
 */
typedef struct clm_alive_counts
{
	int			n;
	double	   *cdf;
	double		m1;
	double		m2;
} clm_alive_counts;

#define CLM_COUNTS_MAX 1000000

extern bool clm_interval_applies(int kind);
extern const char *clm_alive_counts_dist(int kind, const double *par, double t,
										 double x, double T, clm_alive_counts *out);

/* smallest k with sum_j w_j ((1 - pa_j) + pa_j cdf_j(k)) >= q */
extern double clm_count_quantile(int npts, const double *w, const double *pa,
								 const clm_alive_counts *d, double q);
/* the same for qlo <= qhi in one pass */
extern void clm_count_quantiles(int npts, const double *w, const double *pa,
								const clm_alive_counts *d, double qlo, double qhi,
								double *lo, double *hi);

/* the standard normal's quantile function and distribution function */
extern double clm_normal_quantile(double p);
extern double clm_normal_cdf(double z);

/*
 * The interval of a function of the parameters from its values g[] at the
 * sigma points, normal on the scale of g: g0 -+ z sd, sd the sigma points'
 * standard deviation of g.
 */
extern void clm_sigma_normal(const clm_sigma *sp, const double *g, double g0,
							 double level, double *lo, double *hi);

/*
 * The interval of a sum over customers, from the sums over customers of
 * each customer's mean and variance given the parameters, at each sigma
 * point: the quadratic through the sigma points, drawn CLM_TOTAL_DRAWS
 * times from the parameters' normal, and the quantiles of the mixture of
 * normals N(mean(draw), var(draw)).  Returns false if memory is short.
 */
#define CLM_TOTAL_DRAWS 2000
#define CLM_TOTAL_SEED UINT64_C(20260315)
extern bool clm_total_interval(int npar, int npts, double h, const double *mean,
							   const double *var, double level,
							   double *lo, double *hi);

/* Gamma-Gamma: quantile q of the customer's mean spend, mixed over sp */
extern double clm_gamma_q(double a, double x);
extern double clm_spend_quantile(const clm_sigma *sp, double x, double zbar,
								 double q);

#endif							/* CLM_INTERVAL_H */
