/*-------------------------------------------------------------------------
 *
 * clm_bgbb.c
 *	  BG/BB (Fader, Hardie and Shang 2010): discrete purchase opportunities.
 *
 * A customer alive at an opportunity transacts with probability p ~
 * Beta(alpha, beta) and becomes inactive at the start of each following
 * opportunity with probability theta ~ Beta(gamma, delta).  For x
 * transactions in n opportunities, the last at t_x:
 *
 *	 L = B(alpha+x, beta+n-x)/B(alpha,beta) B(gamma, delta+n)/B(gamma,delta)
 *	   + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B(alpha,beta)
 *						   B(gamma+1, delta+t_x+i)/B(gamma,delta)
 *
 * Predictions (FHS 2010 eqs. 11 and 13, the latter written as its finite
 * sum, which has no singularity at gamma = 1):
 *
 *	 P(alive at n+1) = B(alpha+x, beta+n-x)/B(alpha,beta)
 *					   B(gamma, delta+n+1)/B(gamma,delta) / L
 *	 E[X(n, n+n*)]	 = B(alpha+x+1, beta+n-x)/B(alpha,beta)
 *					   sum_{k=1}^{n*} B(gamma, delta+n+k)/B(gamma,delta) / L
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stddef.h>

#include "clm_models.h"

/* log-likelihood of one pattern and its gradient wrt (alpha, beta, gamma, delta) */
static double
bgbb_ll1(const double *par, double x, double tx, double n, double *d)
{
	double		al = par[0],
				be = par[1],
				ga = par[2],
				de = par[3];
	double		lb_ab = clm_lbeta(al, be),
				lb_gd = clm_lbeta(ga, de);
	double		psi_ab = clm_digamma(al + be),
				psi_a = clm_digamma(al),
				psi_b = clm_digamma(be),
				psi_gd = clm_digamma(ga + de),
				psi_g = clm_digamma(ga),
				psi_d = clm_digamma(de);
	double		lse = -INFINITY;
	double		acc[4] = {0, 0, 0, 0};
	int			i,
				nt = (int) (n - tx);

	/* term -1 is the "alive through n" term, then i = 0 .. n-t_x-1 */
	for (i = -1; i < nt; i++)
	{
		double		u,
					v,
					gg,
					dd,
					lt,
					td[4];
		double		psi_uv,
					psi_gdd;

		if (i < 0)
		{
			u = al + x;
			v = be + n - x;
			gg = ga;
			dd = de + n;
		}
		else
		{
			u = al + x;
			v = be + tx - x + i;
			gg = ga + 1;
			dd = de + tx + i;
		}
		lt = clm_lbeta(u, v) - lb_ab + clm_lbeta(gg, dd) - lb_gd;
		if (d)
		{
			double		newlse = clm_logsumexp2(lse, lt);
			double		wo = exp(lse - newlse),
						wn = exp(lt - newlse);
			int			k;

			psi_uv = clm_digamma(u + v);
			psi_gdd = clm_digamma(gg + dd);
			td[0] = clm_digamma(u) - psi_uv - psi_a + psi_ab;
			td[1] = clm_digamma(v) - psi_uv - psi_b + psi_ab;
			td[2] = clm_digamma(gg) - psi_gdd - psi_g + psi_gd;
			td[3] = clm_digamma(dd) - psi_gdd - psi_d + psi_gd;
			for (k = 0; k < 4; k++)
				acc[k] = wo * acc[k] + wn * td[k];
			lse = newlse;
		}
		else
			lse = clm_logsumexp2(lse, lt);
	}
	if (d)
	{
		int			k;

		for (k = 0; k < 4; k++)
			d[k] = acc[k];
	}
	return lse;
}

/* BG/BB total log-likelihood, gradient wrt log(alpha, beta, gamma, delta) */
double
clm_bgbb_ll(const double *lp, const clm_obs *o, int n, double *grad)
{
	double		par[4],
				d[4],
				g[4] = {0, 0, 0, 0};
	double		total = 0.0;
	int			i,
				k;

	for (k = 0; k < 4; k++)
		par[k] = exp(lp[k]);
	for (i = 0; i < n; i++)
	{
		clm_core_check_interrupts();
		total += o[i].w * bgbb_ll1(par, o[i].v[0], o[i].v[1], o[i].v[2],
								   grad ? d : NULL);
		if (grad)
			for (k = 0; k < 4; k++)
				g[k] += o[i].w * d[k];
	}
	if (grad)
		for (k = 0; k < 4; k++)
			grad[k] = g[k] * par[k];
	return total;
}

/* BG/BB P(alive at opportunity n+1) */
double		clm_bgbb_p_alive(const double *par, double x, double tx, double n);
double
clm_bgbb_p_alive(const double *par, double x, double tx, double n)
{
	double		ll = bgbb_ll1(par, x, tx, n, NULL);

	return exp(clm_lbeta(par[0] + x, par[1] + n - x) - clm_lbeta(par[0], par[1])
			   + clm_lbeta(par[2], par[3] + n + 1) - clm_lbeta(par[2], par[3]) - ll);
}

/*
 * BG/BB discounted expected transactions in the next nstar opportunities,
 * the k-th discounted by (1+disc)^-k (disc = 0: expected transactions).
 */
double		clm_bgbb_expected(const double *par, int nstar, double disc,
							  double x, double tx, double n);
double
clm_bgbb_expected(const double *par, int nstar, double disc,
				  double x, double tx, double n)
{
	double		ll = bgbb_ll1(par, x, tx, n, NULL);
	double		head = clm_lbeta(par[0] + x + 1, par[1] + n - x) - clm_lbeta(par[0], par[1])
		- clm_lbeta(par[2], par[3]) - ll;
	double		s = 0.0;
	int			k;

	for (k = 1; k <= nstar; k++)
	{
		if ((k & 4095) == 0)
			clm_core_check_interrupts();
		s += exp(head + clm_lbeta(par[2], par[3] + n + k) - k * log1p(disc));
	}
	return s;
}

/* true when v is a whole number */
static bool
is_whole(double v)
{
	return v == floor(v);
}

/* BG/BB input check: whole (x, t_x, n), 0 <= x <= t_x <= n */
static const char *
bgbb_check(const double *v)
{
	if (!is_whole(v[0]) || !is_whole(v[1]) || !is_whole(v[2]))
		return "x, t_x and n must be whole numbers";
	if (v[2] < 1 || v[2] > 100000)
		return "n (opportunities) must be between 1 and 100000";
	if (v[0] < 0 || v[0] > v[1] || v[1] > v[2])
		return "need 0 <= x <= t_x <= n";
	if (v[0] == 0 && v[1] != 0)
		return "t_x must be 0 when x is 0";
	if (v[0] > 0 && v[1] < 1)
		return "t_x must be >= 1 when x > 0";
	return NULL;
}

/* expected transactions in the next t opportunities */
static double
bgbb_expected_t(const double *par, double t, double x, double t_x, double n)
{
	return clm_bgbb_expected(par, (int) floor(t), 0.0, x, t_x, n);
}

/* discounted expected transactions in the next horizon opportunities */
static double
bgbb_discounted(const double *par, double disc, int horizon,
				double x, double t_x, double n)
{
	return clm_bgbb_expected(par, horizon, disc, x, t_x, n);
}

const clm_model_def clm_model_bgbb = {
	.name = "bgbb",
	.npar = 4,
	.par_names = {"alpha", "beta", "gamma", "delta"},
	.ll = clm_bgbb_ll,
	.check = bgbb_check,
	.identify = clm_identify_repeat,
	.warm_start = true,
	.p_alive = clm_bgbb_p_alive,
	.expected = bgbb_expected_t,
	.discounted = bgbb_discounted,
};
