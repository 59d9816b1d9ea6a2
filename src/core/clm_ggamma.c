/*-------------------------------------------------------------------------
 *
 * clm_ggamma.c
 *	  Gamma-Gamma spend model (Fader, Hardie and Lee 2005, "RFM and CLV:
 *	  using iso-value curves for customer base analysis").
 *
 * Each transaction value z ~ Gamma(p, nu) (shape p, rate nu), and across
 * customers nu ~ Gamma(q, gamma).  The mean zbar of a customer's x repeat
 * transactions is Gamma(p x, nu x), so marginally
 *
 *	 f(zbar | x) = G(px+q) / (G(px) G(q)) gamma^q x^(px) zbar^(px-1)
 *				   / (gamma + x zbar)^(px+q)
 *
 * and the conditional expected mean spend is
 *
 *	 E[Z | x, zbar] = p (gamma + x zbar) / (p x + q - 1)
 *
 * (a weighted mean of the population mean p gamma/(q-1) and zbar).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stddef.h>

#include "clm_models.h"

/* Gamma-Gamma total log-likelihood, gradient wrt log(p, q, gamma) */
double
clm_gg_ll(const double *lp, const clm_obs *o, int n, double *grad)
{
	double		p = exp(lp[0]),
				q = exp(lp[1]),
				ga = exp(lp[2]);
	double		total = 0.0,
				g[3] = {0, 0, 0};
	double		lgq = lgamma(q),
				lga = log(ga),
				psi_q = clm_digamma(q);
	int			i;

	for (i = 0; i < n; i++)
	{
		double		x = o[i].v[0],
					z = o[i].v[1],
					w = o[i].w;
		double		px = p * x;
		double		lden = log(ga + x * z);
		double		lx = log(x),
					lz = log(z);

		if ((i & (CLM_INTERRUPT_EVERY - 1)) == 0)
			clm_core_check_interrupts();
		total += w * (lgamma(px + q) - lgamma(px) - lgq + q * lga + px * lx
					  + (px - 1.0) * lz - (px + q) * lden);
		if (grad)
		{
			double		psi_pq = clm_digamma(px + q);

			g[0] += w * x * (psi_pq - clm_digamma(px) + lx + lz - lden);
			g[1] += w * (psi_pq - psi_q + lga - lden);
			g[2] += w * (q / ga - (px + q) / (ga + x * z));
		}
	}
	if (grad)
	{
		grad[0] = g[0] * p;
		grad[1] = g[1] * q;
		grad[2] = g[2] * ga;
	}
	return total;
}

/*
 * Conditional expected mean transaction value, E[Z | x, zbar]; for x = 0
 * the population mean p gamma / (q - 1) (which needs q > 1: otherwise the
 * mean does not exist and the result is +inf, reported by the caller).
 */
double
clm_expected_spend(const double *par, double x, double zbar)
{
	double		p = par[0],
				q = par[1],
				ga = par[2];

	if (x <= 0)
		return (q > 1.0) ? p * ga / (q - 1.0) : INFINITY;
	if (p * x + q <= 1.0)
		return INFINITY;
	return p * (ga + x * zbar) / (p * x + q - 1.0);
}

/* Gamma-Gamma input check: (x, zbar) with x > 0 and zbar > 0 */
static const char *
gg_check(const double *v)
{
	if (!(v[0] > 0))
		return "x (repeat purchases) must be > 0 for the gamma-gamma model";
	if (!(v[1] > 0))
		return "mean spend must be > 0 for the gamma-gamma model";
	return NULL;
}

/* start points: 0 and log(2, 3, mean spend + 1) */
static int
gg_starts(const clm_obs *obs, int n, double starts[][CLM_MAX_PAR])
{
	double		W = 0.0,
				sT = 0.0;
	int			i;

	for (i = 0; i < n; i++)
	{
		W += obs[i].w;
		sT += obs[i].w * obs[i].v[2];
	}
	starts[1][0] = log(2.0);
	starts[1][1] = log(3.0);
	starts[1][2] = log(fmax(sT / W + 1, 1.0));
	starts[1][3] = 0.0;
	return 2;
}

const clm_model_def clm_model_gg = {
	.name = "gg",
	.npar = 3,
	.par_names = {"p", "q", "gamma"},
	.ll = clm_gg_ll,
	.check = gg_check,
	.starts = gg_starts,
	.warm_start = true,
	.spend = clm_expected_spend,
};
