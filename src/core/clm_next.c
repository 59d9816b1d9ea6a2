/*-------------------------------------------------------------------------
 *
 * clm_next.c
 *	  The next purchase of a customer and a new customer's forecast, for the
 *	  models whose purchases are a Poisson process with rate lambda ~
 *	  Gamma(r, alpha) while the customer is alive (BG/NBD, MBG/NBD,
 *	  Pareto/NBD: par[0] = r, par[1] = alpha).
 *
 * Given the customer's (x, t_x, T) and alive at T, lambda ~ Gamma(R, A)
 * with R = r + x, A = alpha + T, and the dropout process does not touch
 * lambda.  The waiting time W from T to the next purchase, for a customer
 * who stays alive that long, is exponential with rate lambda; over the
 * posterior it is Lomax (Pareto II):
 *
 *	 P(W > w) = E[exp(-lambda w)] = (A / (A + w))^R
 *	 median   = A (2^(1/R) - 1)
 *	 mean     = A / (R - 1)		(R > 1; infinite otherwise)
 *
 * For BG/NBD and MBG/NBD a customer alive at T cannot drop out before the
 * next purchase (dropout happens right after purchases), so W is the
 * waiting time itself; for Pareto/NBD it is the waiting time of a customer
 * who does not die first.  The probability of a purchase in (T, T + N] is
 * 1 - P(no purchase in the next N), the model's own P(Y(N) = 0), computed
 * as written below without that difference, to keep the relative precision
 * of a small probability (BG models with expm1; Pareto/NBD as the integral
 * of the density of the first purchase, clm_paretonbd_p_within):
 *
 *	 BG/NBD, MBG/NBD: P(alive) (1 - (A / (A + N))^R)
 *	 Pareto/NBD:	  P(alive) E[lambda / (lambda + mu) (1 - e^-(lambda+mu) N)]
 *
 * The mean time between purchases with shrinkage is the reciprocal of the
 * posterior mean rate E[lambda | alive] = R / A, which is a weighted mean
 * of the customer's own rate x / T and the population's r / alpha:
 *
 *	 R / A = w (x / T) + (1 - w) (r / alpha),	 w = T / (alpha + T)
 *
 * so mean_interval = A / R, own_interval = T / x, population_interval =
 * alpha / r and w the weight of the customer's own rate.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stddef.h>

#include "clm_models.h"

/* the next purchase of a customer (x, t_x, T) within the next N */
void
clm_next_purchase(int kind, const double *par, double N, double x,
				  double t_x, double T, clm_next_purchase_result *out)
{
	double		r = par[0],
				alpha = par[1],
				R = r + x,
				A = alpha + T;

	out->p_alive = clm_p_alive(kind, par, x, t_x, T);
	if ((kind == CLM_KIND_BGNBD || kind == CLM_KIND_MBGNBD) && N >= 0)
	{
		/*
		 * P(alive) (1 - (A / (A + N))^R) with the difference by expm1, not
		 * 1 - P(no purchase): that loses the relative precision of a small
		 * probability (1e-10 had 7 correct digits, 1e-15 none)
		 */
		out->p_within = out->p_alive * -expm1(-R * log1p(N / A));
	}
	else if (kind == CLM_KIND_PARETONBD && N >= 0)
		out->p_within = clm_paretonbd_p_within(par, N, x, t_x, T);
	else
		out->p_within = 1.0 - clm_p_no_purchase(kind, par, N, x, t_x, T);
	if (out->p_within < 0)
		out->p_within = 0;
	out->median_wait = A * expm1(log(2.0) / R);
	out->mean_wait = (R > 1.0) ? A / (R - 1.0) : INFINITY;
	out->mean_interval = A / R;
	out->own_interval = (x > 0) ? T / x : INFINITY;
	out->population_interval = alpha / r;
	out->own_weight = T / A;
}

/* expected purchases in (0, t] of a customer just acquired */
double
clm_new_customer_expected(int kind, const double *par, double t)
{
	const clm_model_def *d = clm_model_get_def(kind);

	if (d == NULL || d->new_customer == NULL)
		return NAN;
	if (t <= 0)
		return 0.0;
	return d->new_customer(par, t);
}
