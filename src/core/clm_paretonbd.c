/*-------------------------------------------------------------------------
 *
 * clm_paretonbd.c
 *	  Pareto/NBD (Schmittlein, Morrison and Colombo 1987): log-likelihood,
 *	  gradient and predictions.
 *
 * With lambda ~ Gamma(r, alpha), mu ~ Gamma(s, beta) (rate parameters)
 * and data (x, t_x, T), the individual likelihood (Fader and Hardie 2005,
 * "A note on deriving the Pareto/NBD model and related expressions") is
 *
 *	 L = G(r+x) alpha^r beta^s / G(r)
 *		 * [ (alpha+T)^-(r+x) (beta+T)^-s + s I ]
 *	 I = int_{t_x}^{T} (alpha+u)^-(r+x) (beta+u)^-(s+1) du
 *
 * (the second term integrates "alive until u, dies at u" over u).  With
 * N = r+s+x the integral has the closed form of the note,
 *
 *	 alpha >= beta:  I = [F(t_x)/(alpha+t_x)^N - F(T)/(alpha+T)^N] / N,
 *					 F(y) = 2F1(N, s+1; N+1; (alpha-beta)/(alpha+y))
 *	 alpha <  beta:  the same with alpha <-> beta, s+1 -> r+x,
 *
 * and since c = a+1, 2F1(a, b; a+1; z) = sum_n a/(a+n) (b)_n z^n / n!.
 * The series is used when z <= 0.7 and it converges in at most 400 terms
 * without overflow; otherwise I is integrated numerically (16-point
 * Gauss-Legendre panels of doubling width from t_x, which follow both an
 * exponential-like decay at heavy buyers and a power-law tail), all in
 * log space.  Derivatives of log I come from the termwise derivatives of
 * the series, or by differentiating under the integral sign.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "clm_models.h"

/*
 * Series for G(y) = 2F1(N, b; N+1; z) (m+y)^-N in logs, with derivatives of
 * log G wrt (N, b, z).  Returns false when it does not converge fast.
 */
static double inv_int[402];		/* 1/n, filled on first use */
static bool inv_int_ready = false;

static bool
h2f1_series(double N, double b, double z, double *logF, double *dN,
			double *db, double *dz)
{
	double		term = 1.0;		/* (b)_n z^n / n! */
	double		hsum = 0.0;		/* sum_{k<n} 1/(b+k) */
	double		F = 1.0,
				FN = 0.0,
				Fb = 0.0,
				Fz = 0.0;
	int			n;

	if (z < 0 || z > 0.7)
		return false;
	if (!inv_int_ready)
	{
		int			i;

		inv_int[0] = 0.0;
		for (i = 1; i < 402; i++)
			inv_int[i] = 1.0 / i;
		inv_int_ready = true;
	}
	/*
	 * FN and Fz accumulate sum tn n/(N+n) and sum tn n, scaled by 1/N and
	 * 1/z at the end: two divisions per term instead of five
	 */
	for (n = 1; n <= 400; n++)
	{
		double		tn,
					inv = 1.0 / (N + n);

		hsum += 1.0 / (b + n - 1);
		term *= (b + n - 1) * z * inv_int[n];
		tn = term * N * inv;
		F += tn;
		FN += tn * n * inv;
		Fb += tn * hsum;
		Fz += tn * n;
		if (!(F < 1e300))
			return false;
		if (tn < 1e-17 * F && n > 2 && (b + n) * z * inv_int[n + 1] < 0.9)
			break;
	}
	if (n > 400)
		return false;
	*logF = log(F);
	*dN = FN / (N * F);
	*db = Fb / F;
	*dz = (z > 0) ? Fz / (z * F) : 0.0;
	return true;
}

typedef struct pnbd_ctx
{
	double		R,
				al,
				s,
				be,
				t0,
				g0;
} pnbd_ctx;

/* scaled integrand of I and the moments needed for its derivatives */
static void
pnbd_integrand(double u, double *out, void *vctx)
{
	pnbd_ctx   *c = (pnbd_ctx *) vctx;
	double		la = log(c->al + u),
				lb = log(c->be + u);
	double		f = exp(-c->R * la - (c->s + 1) * lb - c->g0);

	out[0] = f;
	out[1] = f * la;
	out[2] = f / (c->al + u);
	out[3] = f * lb;
	out[4] = f / (c->be + u);
}

/*
 * Cache of the series at the lower end y = t_x: the histogram is sorted by
 * (x, t_x, T), so consecutive tuples (all customers with x = 0, for one)
 * share it within one log-likelihood evaluation.
 */
#define PNBD_UPPER 1024

typedef struct pnbd_cache
{
	bool		valid;
	bool		ok;
	double		x,
				y,
				lF,
				dN,
				db,
				dz;
	/* the upper-end series by (x, T): a direct-mapped table, ukey x < 0 empty */
	double		ukx[PNBD_UPPER],
				ukT[PNBD_UPPER],
				uval[PNBD_UPPER][4];
	bool		uok[PNBD_UPPER];
	/* split integral: quadrature on [t_x, y0] for the tuple (qx, qy) */
	bool		qvalid;
	double		qx,
				qy,
				logQ,
				dQ[4];
} pnbd_cache;

/*
 * h2f1_series at the upper end y = T, through the cache's (x, T) table when
 * there is one (its value depends on (x, T) and the parameters only, and
 * the histogram repeats (x, T) across its t_x values)
 */
static bool
upper_series(pnbd_cache *cache, double x, double T, double N, double b,
			 double z, double *lF, double *dN, double *db, double *dz)
{
	uint64_t	hx,
				hT,
				h;
	int			slot;
	bool		ok;

	if (cache == NULL)
		return h2f1_series(N, b, z, lF, dN, db, dz);
	memcpy(&hx, &x, sizeof(hx));
	memcpy(&hT, &T, sizeof(hT));
	h = (hx ^ (hT * UINT64_C(0x9E3779B97F4A7C15))) * UINT64_C(0xC2B2AE3D27D4EB4F);
	slot = (int) (h >> 54);		/* 10 bits: PNBD_UPPER */
	if (cache->ukx[slot] == x && cache->ukT[slot] == T)
	{
		*lF = cache->uval[slot][0];
		*dN = cache->uval[slot][1];
		*db = cache->uval[slot][2];
		*dz = cache->uval[slot][3];
		return cache->uok[slot];
	}
	ok = h2f1_series(N, b, z, lF, dN, db, dz);
	cache->ukx[slot] = x;
	cache->ukT[slot] = T;
	cache->uok[slot] = ok;
	cache->uval[slot][0] = ok ? *lF : 0.0;
	cache->uval[slot][1] = ok ? *dN : 0.0;
	cache->uval[slot][2] = ok ? *db : 0.0;
	cache->uval[slot][3] = ok ? *dz : 0.0;
	return ok;
}

static double pnbd_log_i(const double *par, double x, double t_x, double T,
						 int method, double *dlog, bool *by_series,
						 pnbd_cache *cache);

/* log I and d log I / d(r, alpha, s, beta); see the file header */
double
clm_paretonbd_log_i(const double *par, double x, double t_x, double T,
					int method, double *dlog, bool *by_series)
{
	return pnbd_log_i(par, x, t_x, T, method, dlog, by_series, NULL);
}

/* the same with an optional cache of the lower-end series */
static double
pnbd_log_i(const double *par, double x, double t_x, double T,
		   int method, double *dlog, bool *by_series, pnbd_cache *cache)
{
	double		r = par[0],
				al = par[1],
				s = par[2],
				be = par[3];
	double		N = r + s + x;

	*by_series = false;
	if (!(T > t_x))
	{
		dlog[0] = dlog[1] = dlog[2] = dlog[3] = 0.0;
		return -INFINITY;
	}
	if (method != 2)
	{
		bool		big_alpha = (al >= be);
		double		m = big_alpha ? al : be;
		double		o = big_alpha ? be : al;
		double		b = big_alpha ? s + 1 : r + x;
		double		lF1,
					dN1,
					db1,
					dz1,
					lF2,
					dN2,
					db2,
					dz2;
		double		z1 = (m - o) / (m + t_x),
					z2 = (m - o) / (m + T);

		bool		ok1;

		if (cache && cache->valid && cache->x == x && cache->y == t_x)
		{
			ok1 = cache->ok;
			lF1 = cache->lF;
			dN1 = cache->dN;
			db1 = cache->db;
			dz1 = cache->dz;
		}
		else
		{
			ok1 = h2f1_series(N, b, z1, &lF1, &dN1, &db1, &dz1);
			if (cache)
			{
				cache->valid = true;
				cache->ok = ok1;
				cache->x = x;
				cache->y = t_x;
				cache->lF = lF1;
				cache->dN = dN1;
				cache->db = db1;
				cache->dz = dz1;
			}
		}
		if (ok1 && upper_series(cache, x, T, N, b, z2, &lF2, &dN2, &db2, &dz2))
		{
			/* log G(y) = log F - N log(m+y); G1 at t_x, G2 at T */
			double		lG1 = lF1 - N * log(m + t_x),
						lG2 = lF2 - N * log(m + T);
			double		e = exp(lG2 - lG1);		/* < 1 */
			double		d1[4],
						d2[4];
			int			k;

			if (e < 1.0)
			{
				double		logI = lG1 + log1p(-e) - log(N);
				double		ys[2] = {t_x, T};
				double	   *ds[2] = {d1, d2};
				double		dNs[2] = {dN1, dN2},
							dbs[2] = {db1, db2},
							dzs[2] = {dz1, dz2};

				for (k = 0; k < 2; k++)
				{
					double		y = ys[k],
								lm = log(m + y);
					/* dz/dm and dz/do for z = (m-o)/(m+y) */
					double		dz_dm = (o + y) / ((m + y) * (m + y)),
								dz_do = -1.0 / (m + y);
					double		dlogG_dN = dNs[k] - lm;
					double		dlogG_dm = dzs[k] * dz_dm - N / (m + y);
					double		dlogG_do = dzs[k] * dz_do;
					double	   *d = ds[k];

					/* (r, alpha, s, beta) */
					d[0] = dlogG_dN + (big_alpha ? 0.0 : dbs[k]);
					d[2] = dlogG_dN + (big_alpha ? dbs[k] : 0.0);
					d[1] = big_alpha ? dlogG_dm : dlogG_do;
					d[3] = big_alpha ? dlogG_do : dlogG_dm;
				}
				for (k = 0; k < 4; k++)
				{
					double		dN_k = (k == 0 || k == 2) ? 1.0 : 0.0;

					dlog[k] = (d1[k] - e * d2[k]) / (1.0 - e) - dN_k / N;
				}
				*by_series = true;
				return logI;
			}
		}
		if (method == 1)
			return NAN;

		/*
		 * In a fit (cache given), when only the lower end's series fails
		 * (z(t_x) > 0.7, customers with t_x near 0), split I at y0 where
		 * z(y0) = 0.65: quadrature on [t_x, y0], which depends on (x, t_x)
		 * only and is shared by the consecutive tuples with those (the
		 * histogram is sorted by (x, t_x, T)), plus the series on [y0, T].
		 * Both pieces hold y0 fixed, so their derivatives add up.
		 */
		if (cache && !ok1 && z2 <= 0.65)
		{
			double		y0 = (m - o) / 0.65 - m;
			double		dS[4];
			bool		sser;
			double		logS;

			if (y0 > t_x && y0 < T)
			{
				logS = pnbd_log_i(par, x, y0, T, 1, dS, &sser, NULL);
				if (!isnan(logS) && logS > -INFINITY)
				{
					double		logQ,
								lse,
								wq;
					int			k;

					if (cache->qvalid && cache->qx == x && cache->qy == t_x)
						logQ = cache->logQ;
					else
					{
						logQ = pnbd_log_i(par, x, t_x, y0, 2, cache->dQ, &sser, NULL);
						cache->qvalid = true;
						cache->qx = x;
						cache->qy = t_x;
						cache->logQ = logQ;
					}
					if (logQ > -INFINITY && isfinite(logQ))
					{
						lse = clm_logsumexp2(logQ, logS);
						wq = exp(logQ - lse);
						for (k = 0; k < 4; k++)
							dlog[k] = wq * cache->dQ[k] + (1.0 - wq) * dS[k];
						return lse;
					}
				}
			}
		}
	}

	/* quadrature */
	{
		pnbd_ctx	c;
		double		out[5];
		double		k0,
					h0;

		c.R = r + x;
		c.al = al;
		c.s = s;
		c.be = be;
		c.t0 = t_x;
		c.g0 = -c.R * log(al + t_x) - (s + 1) * log(be + t_x);
		k0 = c.R / (al + t_x) + (s + 1) / (be + t_x);
		h0 = 0.25 / k0;
		clm_quad_geometric(pnbd_integrand, &c, 5, t_x, T, h0, out);
		if (!(out[0] > 0))
		{
			dlog[0] = dlog[1] = dlog[2] = dlog[3] = 0.0;
			return -INFINITY;
		}
		dlog[0] = -out[1] / out[0];
		dlog[1] = -c.R * out[2] / out[0];
		dlog[2] = -out[3] / out[0];
		dlog[3] = -(s + 1) * out[4] / out[0];
		return c.g0 + log(out[0]);
	}
}

/* per-customer log-likelihood; w1 receives P(alive) */
static double
pnbd_ll1(const double *par, double x, double t_x, double T, double *d,
		 double *w1out, const double *xc, pnbd_cache *cache)
{
	double		r = par[0],
				al = par[1],
				s = par[2],
				be = par[3];
	double		dI[4];
	bool		ser;
	double		logI = pnbd_log_i(par, x, t_x, T, 0, dI, &ser, cache);
	double		L1 = -(r + x) * log(al + T) - s * log(be + T);
	double		L2 = log(s) + logI;
	double		lse = clm_logsumexp2(L1, L2);
	double		w2 = (L2 == -INFINITY) ? 0.0 : exp(L2 - lse);
	double		w1 = 1.0 - w2;

	if (w1out)
		*w1out = exp(L1 - lse);
	if (d)
	{
		d[0] = (xc ? xc[1] : clm_digamma(r + x) - clm_digamma(r)) + log(al)
			- w1 * log(al + T) + w2 * dI[0];
		d[1] = r / al - w1 * (r + x) / (al + T) + w2 * dI[1];
		d[2] = log(be) - w1 * log(be + T) + w2 * (1.0 / s + dI[2]);
		d[3] = s / be - w1 * s / (be + T) + w2 * dI[3];
	}
	return (xc ? xc[0] : lgamma(r + x) - lgamma(r)) + r * log(al) + s * log(be) + lse;
}

/* Pareto/NBD total log-likelihood, gradient wrt log(r, alpha, s, beta) */
double
clm_paretonbd_ll(const double *lp, const clm_obs *o, int n, double *grad)
{
	double		par[4];
	double		total = 0.0,
				g[4] = {0, 0, 0, 0},
				d[4];
	double		cx = -1.0,
				xc[2] = {0, 0};
	pnbd_cache	cache;
	int			i,
				k;

	cache.valid = false;
	cache.qvalid = false;
	for (k = 0; k < PNBD_UPPER; k++)
		cache.ukx[k] = -1.0;

	for (k = 0; k < 4; k++)
		par[k] = exp(lp[k]);
	for (i = 0; i < n; i++)
	{
		clm_core_check_interrupts();
		/* sorted by x: gamma terms once per distinct x */
		if (o[i].v[0] != cx)
		{
			cx = o[i].v[0];
			xc[0] = lgamma(par[0] + cx) - lgamma(par[0]);
			xc[1] = clm_digamma(par[0] + cx) - clm_digamma(par[0]);
		}
		total += o[i].w * pnbd_ll1(par, o[i].v[0], o[i].v[1], o[i].v[2],
								   grad ? d : NULL, NULL, xc, &cache);
		if (grad)
			for (k = 0; k < 4; k++)
				g[k] += o[i].w * d[k];
	}
	if (grad)
		for (k = 0; k < 4; k++)
			grad[k] = g[k] * par[k];
	return total;
}

/* Pareto/NBD P(alive at T) */
double		clm_pnbd_p_alive(const double *par, double x, double t_x, double T);
double
clm_pnbd_p_alive(const double *par, double x, double t_x, double T)
{
	double		w1;

	pnbd_ll1(par, x, t_x, T, NULL, &w1, NULL, NULL);
	return w1;
}

/*
 * Expected purchases in (T, T+t]:
 *	 P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]
 * written with expm1 so that s = 1 is its limit (log) and no cancellation.
 */
/* 1 - P(alive) of Pareto/NBD: the dropout term's weight, no cancellation */
double		clm_pnbd_churn(const double *par, double x, double t_x, double T);
double
clm_pnbd_churn(const double *par, double x, double t_x, double T)
{
	double		dI[4];
	bool		ser;
	double		logI = pnbd_log_i(par, x, t_x, T, 0, dI, &ser, NULL);
	double		L1 = -(par[0] + x) * log(par[1] + T) - par[2] * log(par[3] + T);
	double		L2 = log(par[2]) + logI;

	if (L2 == -INFINITY)
		return 0.0;
	return exp(L2 - clm_logsumexp2(L1, L2));
}

double		clm_pnbd_expected_given_alive(const double *par, double t, double x, double T);
double
clm_pnbd_expected_given_alive(const double *par, double t, double x, double T)
{
	double		r = par[0],
				al = par[1],
				s = par[2],
				be = par[3];
	double		lq = -log1p(t / (be + T));
	double		f;

	if (t <= 0)
		return 0.0;
	if (s == 1.0)
		f = -lq;
	else
		f = -expm1((s - 1.0) * lq) / (s - 1.0);
	return (r + x) * (be + T) / (al + T) * f;
}

/* expected purchases in (T, T+t] = P(alive) * the above */
double		clm_pnbd_expected(const double *par, double t, double x, double t_x, double T);
double
clm_pnbd_expected(const double *par, double t, double x, double t_x, double T)
{
	if (t <= 0)
		return 0.0;
	return clm_pnbd_p_alive(par, x, t_x, T) * clm_pnbd_expected_given_alive(par, t, x, T);
}

typedef struct p0_ctx
{
	double		R,
				A,
				s,
				B,
				delta;
	double		k,				/* first_event: the rate's shape and scale, */
				K;				/* s, B (dying) or R, A (buying) */
} p0_ctx;

/*
 * k/(K+u) (A/(A+u))^R (B/(B+u))^s: under the posterior of a customer alive
 * at T, the density of "dies at u before buying" (k, K = s, B), or of "buys
 * first at u, alive" (k, K = R, A): E[mu e^-(lambda+mu)u], E[lambda
 * e^-(lambda+mu)u]
 */
static void
first_event_integrand(double u, double *out, void *vctx)
{
	p0_ctx	   *c = (p0_ctx *) vctx;

	out[0] = c->k / (c->K + u) * exp(-c->R * log1p(u / c->A) - c->s * log1p(u / c->B));
}

/*
 * P(the first event in (T, T+t] is a purchase, or with buying = false a
 * death) of a customer alive at T, posterior Gamma(r+x, alpha+T) of lambda
 * and Gamma(s, beta+T) of mu: the integral of first_event_integrand over
 * (0, t] by quadrature (t > 0), at most 1.  *c gets the posterior.
 */
static double
first_event_within(p0_ctx *c, const double *par, double t, double x, double T, bool buying)
{
	double		out[1];

	c->R = par[0] + x;
	c->A = par[1] + T;
	c->s = par[2];
	c->B = par[3] + T;
	c->k = buying ? c->R : c->s;
	c->K = buying ? c->A : c->B;
	clm_quad_geometric(first_event_integrand, c, 1, 0.0, t,
					   0.25 / (c->R / c->A + c->s / c->B + 1.0 / c->K), out);
	return fmin(1.0, out[0]);
}

/*
 * P(no purchase in (T, T+t]) = 1 - P(alive) + P(alive) E[exp(-(lambda+mu)t)
 * + int_0^t mu exp(-(lambda+mu)u) du] under the posterior Gamma(r+x,
 * alpha+T), Gamma(s, beta+T); the integral by quadrature.
 */
double		clm_pnbd_p_none(const double *par, double t, double x, double t_x, double T);
double
clm_pnbd_p_none(const double *par, double t, double x, double t_x, double T)
{
	p0_ctx		c;
	double		pa = clm_pnbd_p_alive(par, x, t_x, T);
	double		die;

	if (t <= 0)
		return 1.0;
	die = first_event_within(&c, par, t, x, T, false);
	return 1.0 - pa + pa * fmin(1.0, exp(-c.R * log1p(t / c.A) - c.s * log1p(t / c.B)) + die);
}

/*
 * P(at least one purchase in (T, T+t]) = P(alive) E[lambda / (lambda + mu)
 * (1 - e^-(lambda+mu)t)]: the customer alive at T buys first at u <= t
 * before dying, whose density under the posterior is
 *	 E[lambda e^-(lambda+mu)u] = R/(A+u) (A/(A+u))^R (B/(B+u))^s.
 * A sum of positive terms: a small probability keeps its relative
 * precision, as 1 - P(no purchase) did not (1e-12 had 3 correct digits).
 */
double
clm_paretonbd_p_within(const double *par, double t, double x, double t_x, double T)
{
	p0_ctx		c;

	if (t <= 0)
		return 0.0;
	return clm_pnbd_p_alive(par, x, t_x, T) * first_event_within(&c, par, t, x, T, true);
}

/* e^(-delta u) (B/(B+u))^s: discounted purchase rate shape */
static void
dert_integrand(double u, double *out, void *vctx)
{
	p0_ctx	   *c = (p0_ctx *) vctx;

	out[0] = exp(-c->delta * u - c->s * log1p(u / c->B));
}

/*
 * Discounted expected residual transactions with continuous discount rate
 * delta per time unit, infinite horizon (FHL 2005 "RFM and CLV"):
 *	 DERT = P(alive) (r+x)/(alpha+T) int_0^inf e^(-delta u) ((beta+T)/(beta+T+u))^s du
 * which equals their closed form alpha^r beta^s delta^(s-1) G(r+x+1)
 * Psi(s, s; delta(beta+T)) / (G(r) (alpha+T)^(r+x+1) L) with Tricomi's Psi;
 * the integral is taken by quadrature.
 */
double
clm_paretonbd_dert(const double *par, double delta, double x, double t_x, double T)
{
	p0_ctx		c;
	double		out[1];
	double		k0;

	c.s = par[2];
	c.B = par[3] + T;
	c.delta = delta;
	k0 = delta + c.s / c.B;
	clm_quad_geometric(dert_integrand, &c, 1, 0.0, INFINITY, 0.25 / k0, out);
	return clm_pnbd_p_alive(par, x, t_x, T) * (par[0] + x) / (par[1] + T) * out[0];
}

typedef struct pk_ctx
{
	double		R,
				A,
				s,
				B;
	int			k;
	double		lnorm;			/* lgamma(R+k) - lgamma(R) - lgamma(k+1) */
	double		rev;			/* > 0: the variable is v = rev - u */
} pk_ctx;

/* NB(k; R, A/(A+u)) times the density s/(B+u) (B/(B+u))^s of dying at u */
static void
pk_integrand(double u, double *out, void *vctx)
{
	pk_ctx	   *c = (pk_ctx *) vctx;
	double		lnb;

	if (c->rev > 0.0)
		u = c->rev - u;
	if (u <= 0.0)
	{
		out[0] = (c->k == 0) ? c->s / c->B : 0.0;
		return;
	}
	lnb = c->lnorm - c->R * log1p(u / c->A) + c->k * (log(u) - log(c->A + u));
	out[0] = c->s / (c->B + u) * exp(lnb - c->s * log1p(u / c->B));
}

/*
 * P(Y(t) = k | x, t_x, T) for Pareto/NBD: alive at T, a customer buys at
 * rate lambda until death at tau ~ Exp(mu), so
 *	 P(k | lambda, mu) = e^(-mu t) Pois(k; lambda t)
 *						 + int_0^t mu e^(-mu u) Pois(k; lambda u) du
 * and under the posterior lambda ~ Gamma(r+x, alpha+T), mu ~ Gamma(s, beta+T)
 * the Poisson becomes a negative binomial NB(k; r+x, A/(A+u)); the integral
 * over u by quadrature.  P(k) = P(alive) P(k | alive) + [k = 0] (1 - P(alive)).
 */
double		clm_pnbd_p_k(const double *par, int k, double t, double x, double t_x, double T);
double
clm_pnbd_p_k(const double *par, int k, double t, double x, double t_x, double T)
{
	pk_ctx		c;
	double		out[1];
	double		pa = clm_pnbd_p_alive(par, x, t_x, T);
	double		stay,
				k0,
				p;

	if (t <= 0)
		return k == 0 ? 1.0 : 0.0;
	c.R = par[0] + x;
	c.A = par[1] + T;
	c.s = par[2];
	c.B = par[3] + T;
	c.k = k;
	c.lnorm = lgamma(c.R + k) - lgamma(c.R) - lgamma(k + 1.0);
	stay = exp(c.lnorm - c.R * log1p(t / c.A) + k * (log(t) - log(c.A + t))
			   - c.s * log1p(t / c.B));
	k0 = c.R / c.A + (c.s + 1) / c.B;

	/*
	 * The integrand behaves like u^k at 0 and may rise steeply up to u = t
	 * (large k): panels refined geometrically from both ends, [0, t/2] from
	 * 0 and [t/2, t] from t
	 */
	c.rev = 0.0;
	clm_quad_geometric(pk_integrand, &c, 1, 0.0, 0.5 * t, fmin(t, 0.25 / k0) * 1e-3, out);
	p = out[0];
	c.rev = t;
	clm_quad_geometric(pk_integrand, &c, 1, 0.0, 0.5 * t, fmin(t, 0.25 / k0) * 1e-3, out);
	p = pa * (stay + p + out[0]);
	if (k == 0)
		p += clm_pnbd_churn(par, x, t_x, T);
	return fmin(1.0, fmax(0.0, p));
}

/*
 * Pareto/NBD discounted purchases of the next horizon periods:
 * E[Y(k)] = P(alive) * (the same with P(alive) = 1), differenced by period.
 */
static double
pnbd_discounted(const double *par, double disc, int horizon,
				double x, double t_x, double T)
{
	double		det = 0.0,
				prev = 0.0,
				df = 1.0,
				pa = clm_pnbd_p_alive(par, x, t_x, T);
	int			k;

	for (k = 1; k <= horizon; k++)
	{
		double		cur = pa * clm_pnbd_expected_given_alive(par, k, x, T);

		df /= (1.0 + disc);
		det += (cur - prev) * df;
		prev = cur;
	}
	return det;
}

/*
 * Pareto/NBD new customer: E[X(t)] = r beta / (alpha (s-1)) [1 - (beta /
 * (beta+t))^(s-1)] (Schmittlein, Morrison and Colombo 1987), r beta /
 * alpha log(1 + t/beta) at s = 1; written with expm1 and log1p so that s
 * near 1 and small t keep their digits.
 */
static double
pnbd_new_customer(const double *par, double t)
{
	double		r = par[0],
				alpha = par[1],
				s = par[2],
				beta = par[3];
	double		lq = log1p(t / beta);

	if (t <= 0)
		return 0.0;
	if (fabs(s - 1.0) * lq < 1e-10)
		return r * beta / alpha * lq * (1.0 - 0.5 * (s - 1.0) * lq);
	return r * beta / alpha * (-expm1(-(s - 1.0) * lq)) / (s - 1.0);
}

/* start points: those of BG/NBD with beta on the scale of T */
static int
pnbd_starts(const clm_obs *obs, int n, double starts[][CLM_MAX_PAR])
{
	double		W = 0.0,
				sT = 0.0,
				meanT;
	int			i;

	clm_starts_xtT(obs, n, starts);
	for (i = 0; i < n; i++)
	{
		W += obs[i].w;
		sT += obs[i].w * obs[i].v[2];
	}
	meanT = sT / W;
	starts[1][3] = log(fmax(meanT, 1e-3));
	starts[2][3] = log(fmax(meanT, 1e-3) * 4);
	return 3;
}

/*
 * No warm start: the flat beta direction keeps BFGS from converging near
 * the optimum (Newton polishing finishes it), so it only adds iterations.
 */
const clm_model_def clm_model_paretonbd = {
	.name = "paretonbd",
	.npar = 4,
	.par_names = {"r", "alpha", "s", "beta"},
	.ll = clm_paretonbd_ll,
	.check = clm_check_xtT,
	.continuous = true,
	.identify = clm_identify_repeat,
	.starts = pnbd_starts,
	.warm_start = false,
	.p_alive = clm_pnbd_p_alive,
	.churn = clm_pnbd_churn,
	.expected = clm_pnbd_expected,
	.p_k = clm_pnbd_p_k,
	.p_none = clm_pnbd_p_none,
	.discounted = pnbd_discounted,
	.dert = clm_paretonbd_dert,
	.gamma_rate = true,
	.new_customer = pnbd_new_customer,
};
