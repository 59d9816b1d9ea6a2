/*-------------------------------------------------------------------------
 *
 * clm_sbg.c
 *	  Shifted-beta-geometric contractual churn model (Fader and Hardie 2007,
 *	  "How to project customer retention").
 *
 * Each customer churns at the end of each period with probability theta ~
 * Beta(gamma, delta).  A customer observed to churn in period t (t >= 1,
 * i.e. renewed t-1 times) and a customer still active after t periods
 * (t >= 0, censored) contribute
 *
 *	 P(T = t) = B(gamma+1, delta+t-1) / B(gamma, delta)
 *	 S(t)	  = B(gamma, delta+t) / B(gamma, delta)
 *
 * and the retention rate is r(t) = S(t)/S(t-1) = (delta+t-1)/(gamma+delta+t-1).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stddef.h>

#include "clm_models.h"

/* sBG total log-likelihood, gradient wrt log(gamma, delta) */
double
clm_sbg_ll(const double *lp, const clm_obs *o, int n, double *grad)
{
	double		ga = exp(lp[0]),
				de = exp(lp[1]);
	double		lb = clm_lbeta(ga, de);
	double		psi_g = clm_digamma(ga),
				psi_d = clm_digamma(de),
				psi_gd = clm_digamma(ga + de);
	double		total = 0.0,
				g[2] = {0, 0};
	int			i;

	for (i = 0; i < n; i++)
	{
		double		t = o[i].v[0],
					w = o[i].w;

		if ((i & (CLM_INTERRUPT_EVERY - 1)) == 0)
			clm_core_check_interrupts();
		if (o[i].v[1] > 0.5)
		{
			/* churned in period t */
			total += w * (clm_lbeta(ga + 1, de + t - 1) - lb);
			if (grad)
			{
				double		p = clm_digamma(ga + de + t);

				g[0] += w * (clm_digamma(ga + 1) - p - psi_g + psi_gd);
				g[1] += w * (clm_digamma(de + t - 1) - p - psi_d + psi_gd);
			}
		}
		else
		{
			/* survived t periods */
			total += w * (clm_lbeta(ga, de + t) - lb);
			if (grad)
			{
				double		p = clm_digamma(ga + de + t);

				g[0] += w * (psi_gd - p);
				g[1] += w * (clm_digamma(de + t) - p - psi_d + psi_gd);
			}
		}
	}
	if (grad)
	{
		grad[0] = g[0] * ga;
		grad[1] = g[1] * de;
	}
	return total;
}

/* sBG survival S(t) = B(gamma, delta+t)/B(gamma, delta), t >= 0 */
double
clm_sbg_survival(const double *par, double t)
{
	if (t <= 0)
		return 1.0;
	return exp(clm_lbeta(par[0], par[1] + t) - clm_lbeta(par[0], par[1]));
}

/* sBG retention rate r(t) = (delta+t-1)/(gamma+delta+t-1), t >= 1 */
double
clm_sbg_retention(const double *par, double t)
{
	return (par[1] + t - 1.0) / (par[0] + par[1] + t - 1.0);
}

/* sBG input check: t periods, churned 0 or 1 */
static const char *
sbg_check(const double *v)
{
	if (v[0] != floor(v[0]) || v[0] < 0 || v[0] > 1000000)
		return "t (periods) must be a whole number between 0 and 1000000";
	if (v[1] != 0 && v[1] != 1)
		return "churned must be 0 or 1";
	if (v[1] == 1 && v[0] < 1)
		return "a churned customer needs t >= 1";
	return NULL;
}

/* sBG identification: some churned customer */
static const char *
sbg_identify(const clm_obs *obs, int n, const char **hint)
{
	double		wchurn = 0.0;
	int			i;

	for (i = 0; i < n; i++)
		if (obs[i].v[1] > 0.5)
			wchurn += obs[i].w;
	if (wchurn > 0)
		return NULL;
	*hint = "The sbg model needs at least one churned customer.";
	return "no churn observed: the data cannot identify the model";
}

const clm_model_def clm_model_sbg = {
	.name = "sbg",
	.npar = 2,
	.par_names = {"gamma", "delta"},
	.ll = clm_sbg_ll,
	.check = sbg_check,
	.identify = sbg_identify,
	.warm_start = true,
	.survival = clm_sbg_survival,
};
