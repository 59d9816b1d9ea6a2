/*-------------------------------------------------------------------------
 *
 * clm_cov.h
 *	  Static covariates of the BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma
 *	  models (plain C, no PostgreSQL headers), linked to the parameters as
 *	  CLVTools links them.
 *
 * A customer i with covariates z_i (k numbers, the same for every process)
 * has the individual parameters
 *
 *	 BG/NBD, MBG/NBD	alpha_i = alpha0 exp(-g_trans' z_i)
 *						a_i = a0 exp(g_life' z_i),  b_i = b0 exp(g_life' z_i)
 *	 Pareto/NBD			alpha_i = alpha0 exp(-g_trans' z_i)
 *						beta_i = beta0 exp(-g_life' z_i)
 *	 Gamma-Gamma		gamma_i = gamma0 exp(g_spend' z_i)
 *
 * and the other parameters (r; s; p, q) shared.  A positive g_trans raises
 * the purchase rate (E[lambda] = r / alpha_i), a positive g_life of
 * Pareto/NBD raises the dropout rate (E[mu] = s / beta_i), a positive
 * g_spend raises the mean spend (E[zeta] = p gamma_i / (q - 1)).  The
 * BG/NBD g_life scales a and b together: the mean dropout probability
 * a / (a + b) stays, its spread across customers changes (as in CLVTools).
 *
 * The likelihood of customer i is the model's likelihood at its individual
 * parameters, so the fit reuses each model's log-likelihood per block of
 * tuples sharing one covariate vector, and the chain rule gives the
 * gradient: d LL / d g_c = sign * z_c * d LL / d log(par).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_COV_H
#define CLM_COV_H

#include "clm_models.h"

/* most covariates of a model, and most processes (groups of gammas) */
#define CLM_MAX_COV 10
#define CLM_COV_MAX_GROUPS 2

/* how a kind's parameters depend on the covariates */
typedef struct clm_cov_link
{
	int			ngroups;
	const char *group_names[CLM_COV_MAX_GROUPS];	/* "trans", "life", "spend" */
	int			group_of[CLM_MAX_PAR];	/* -1: parameter without covariates */
	double		sign[CLM_MAX_PAR];	/* log par_i = log par_0 + sign g' z */
} clm_cov_link;

/* the link of a kind, NULL when the kind takes no covariates */
extern const clm_cov_link *clm_cov_get_link(int kind);

/*
 * A fit problem: n tuples obs[] with covariates z[] (n x k, row-major),
 * ordered so that equal covariate vectors are contiguous (blocks).
 */
typedef struct clm_cov_problem
{
	int			kind;
	int			k;
	const clm_obs *obs;
	const double *z;
	int			n;
	/* block starts (nblk + 1 entries, the last n); NULL: one block per tuple */
	const int  *blk;
	int			nblk;
} clm_cov_problem;

/* number of fitted numbers: npar + ngroups * k */
extern int	clm_cov_ntheta(int kind, int k);

/*
 * Log-likelihood at theta = (log par_0 [npar], g [ngroups][k]), with its
 * gradient with respect to theta (grad may be NULL).
 */
extern double clm_cov_ll(const clm_cov_problem *p, const double *theta,
						 double *grad);

/* block starts of a problem (caller frees with clm_core_free); NULL if out of memory */
extern int *clm_cov_blocks(const double *z, int n, int k, int *nblk);

/*
 * The individual parameters of a customer with covariates z: false when one
 * is not finite and > 0 (a covariate far outside the fitted range).
 */
extern bool clm_cov_individual(int kind, const double *par, const double *gamma,
							   int k, const double *z, double *par_i);

typedef struct clm_cov_fit_result
{
	clm_fit_result base;		/* par = the base parameters par_0 */
	int			k;
	int			ngroups;
	double		gamma[CLM_COV_MAX_GROUPS * CLM_MAX_COV];
	double		gamma_se[CLM_COV_MAX_GROUPS * CLM_MAX_COV];	/* < 0: none */
	bool		used[CLM_MAX_COV];	/* false: constant or collinear, g = 0 */
} clm_cov_fit_result;

/*
 * Fit with covariates (problem as above, blk ignored).  Covariates that are
 * constant over the customers, or a linear combination of the others and a
 * constant, cannot be told from the base parameters: they are left out of
 * the fit (used[c] = false, g = 0, no standard error).  With none left the
 * result is clm_fit's on the same tuples.  Returns NULL or an error message
 * as clm_fit.
 */
extern const char *clm_cov_fit(const clm_cov_problem *p, clm_cov_fit_result *res,
							   const char **hint);

#endif							/* CLM_COV_H */
