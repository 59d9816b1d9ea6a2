/*-------------------------------------------------------------------------
 *
 * clm_bgnbd.c
 *	  BG/NBD (Fader, Hardie and Lee 2005) and MBG/NBD (Batislam, Denizel
 *	  and Filiztekin 2007): log-likelihood, gradient and predictions.
 *
 * Individual likelihood, r, alpha, a, b > 0, data (x, t_x, T):
 *
 *	 BG/NBD:  L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
 *				+ [x > 0] B(a+1, b+x-1)/B(a, b)
 *						  * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))
 *	 MBG/NBD: L = B(a, b+x+1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
 *				+ B(a+1, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))
 *
 * computed as A1 + A2 + log(exp(L3) + exp(L4)) with
 *	 A1 = lgamma(r+x) - lgamma(r) + r log(alpha)
 *	 A2 = lbeta(a, b+x+m) - lbeta(a, b)			(m = 0 BG, 1 MBG)
 *	 L3 = -(r+x) log(alpha+T)
 *	 L4 = log(a) - log(b+x+m-1) - (r+x) log(alpha+t_x)	(BG: only x > 0)
 * and w4 = exp(L4 - log(exp(L3)+exp(L4))), w3 = 1 - w4 = P(alive).
 *
 * Predictions condition on being alive at T: then lambda ~ Gamma(r+x,
 * alpha+T) and p ~ Beta(a, b+x+m) independently, and the future is a fresh
 * BG/NBD process, with E[X(t) | lambda, p] = (1 - exp(-lambda p t)) / p, so
 *
 *	 E[Y(t) | x, t_x, T] = P(alive) * E_p[(1 - (1 + p t/(alpha+T))^-(r+x)) / p]
 *
 * the expectation over p by quadrature (this equals the closed form with
 * 2F1(r+x, b+x+m; a+b+x+m-1; t/(alpha+T+t)) of the papers, but has no
 * cancellation at a near 1 and no slowly converging series for t >> T);
 * the closed form by its series is the fast path where it is accurate.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "clm_models.h"

/* BG/NBD (m = 0) and MBG/NBD (m = 1) log-likelihood */
static double
bg_ll(int m, const double *lp, const clm_obs *o, int n, double *grad)
{
	double		r = exp(lp[0]),
				al = exp(lp[1]),
				a = exp(lp[2]),
				b = exp(lp[3]);
	double		total = 0.0;
	double		g[4] = {0, 0, 0, 0};
	double		psi_r = clm_digamma(r),
				psi_ab = clm_digamma(a + b),
				psi_b = clm_digamma(b),
				lbab = clm_lbeta(a, b),
				lgr = lgamma(r),
				lal = log(al);
	int			i;

	/*
	 * The histogram is sorted by x, so the terms that depend on x only
	 * (gamma and beta functions, digammas) are computed once per distinct x.
	 */
	double		cx = -1.0,
				c_lg = 0,
				c_lb = 0,
				c_pr = 0,
				c_pabx = 0,
				c_pbx = 0;

	/*
	 * log(alpha + t_x) is shared by consecutive tuples with the same t_x
	 * (sorted by (x, t_x, T)), log(alpha + T) by the many tuples with the
	 * same T (a small direct-mapped table per evaluation).
	 */
	double		ct = NAN,
				c_lat = 0.0;
	double		lT_key[256],
				lT_val[256];

	for (i = 0; i < 256; i++)
		lT_key[i] = NAN;

	for (i = 0; i < n; i++)
	{
		double		x = o[i].v[0],
					t = o[i].v[1],
					T = o[i].v[2],
					w = o[i].w;
		double		bx = b + x + m;
		double		laT,
					lat;
		double		L3;
		double		L4 = -INFINITY;
		double		lse,
					w4,
					w3;
		uint64_t	bits;
		int			slot;

		if ((i & (CLM_INTERRUPT_EVERY - 1)) == 0)
			clm_core_check_interrupts();

		memcpy(&bits, &T, sizeof(bits));
		slot = (int) ((bits * UINT64_C(0x9E3779B97F4A7C15)) >> 56);
		if (lT_key[slot] == T)
			laT = lT_val[slot];
		else
		{
			laT = log(al + T);
			lT_key[slot] = T;
			lT_val[slot] = laT;
		}
		if (t != ct)
		{
			ct = t;
			c_lat = log(al + t);
		}
		lat = c_lat;
		L3 = -(r + x) * laT;

		if (x != cx)
		{
			cx = x;
			c_lg = lgamma(r + x) - lgr + r * lal + clm_lbeta(a, bx) - lbab;
			if (grad)
			{
				c_pr = clm_digamma(r + x) - psi_r + lal;
				c_pabx = clm_digamma(a + bx);
				c_pbx = clm_digamma(bx);
			}
			c_lb = (m == 1 || x > 0) ? log(a) - log(bx - 1.0) : 0.0;
		}
		if (m == 1 || x > 0)
			L4 = c_lb - (r + x) * lat;
		if (L4 == -INFINITY)
		{
			lse = L3;
			w4 = 0.0;
		}
		else
		{
			/* log(exp(L3) + exp(L4)) and w4 with one exp and one log1p */
			double		d = L4 - L3;
			double		e = exp(-fabs(d));

			if (d > 0)
			{
				lse = L4 + log1p(e);
				w4 = 1.0 / (1.0 + e);
			}
			else
			{
				lse = L3 + log1p(e);
				w4 = e / (1.0 + e);
			}
		}
		w3 = 1.0 - w4;
		total += w * (c_lg + lse);
		if (grad)
		{
			g[0] += w * (c_pr - w3 * laT - w4 * lat);
			g[1] += w * (r / al - (r + x) * (w3 / (al + T) + w4 / (al + t)));
			g[2] += w * (psi_ab - c_pabx + w4 / a);
			g[3] += w * (psi_ab + c_pbx - psi_b - c_pabx
						 - (w4 > 0 ? w4 / (bx - 1.0) : 0.0));
		}
	}
	if (grad)
	{
		grad[0] = g[0] * r;
		grad[1] = g[1] * al;
		grad[2] = g[2] * a;
		grad[3] = g[3] * b;
	}
	return total;
}

/* BG/NBD total log-likelihood, gradient wrt log(r, alpha, a, b) */
double
clm_bgnbd_ll(const double *lp, const clm_obs *o, int n, double *g)
{
	return bg_ll(0, lp, o, n, g);
}

/* MBG/NBD total log-likelihood, gradient wrt log(r, alpha, a, b) */
double
clm_mbgnbd_ll(const double *lp, const clm_obs *o, int n, double *g)
{
	return bg_ll(1, lp, o, n, g);
}

/* P(alive at T) for BG/NBD (m = 0) or MBG/NBD (m = 1) */
double
clm_bg_p_alive(int m, const double *par, double x, double t_x, double T)
{
	double		r = par[0],
				al = par[1],
				a = par[2],
				b = par[3];
	double		d;

	if (m == 0 && x <= 0)
		return 1.0;
	/* P = 1 / (1 + a/(b+x+m-1) ((alpha+T)/(alpha+t_x))^(r+x)) */
	d = log(a) - log(b + x + m - 1.0) + (r + x) * (log(al + T) - log(al + t_x));
	if (d > 700)
		return 0.0;
	return 1.0 / (1.0 + exp(d));
}

/*
 * 1 - P(alive at T) for BG/NBD (m = 0) or MBG/NBD (m = 1), without the
 * cancellation of 1 - P where P(alive) is near 1: with the log-odds d of
 * dropping out, 1 / (1 + e^-d)
 */
double
clm_bg_churn(int m, const double *par, double x, double t_x, double T)
{
	double		r = par[0],
				al = par[1],
				a = par[2],
				b = par[3];
	double		d;

	if (m == 0 && x <= 0)
		return 0.0;
	d = log(a) - log(b + x + m - 1.0) + (r + x) * log1p((T - t_x) / (al + t_x));
	if (d < -745.0)
		return exp(d);
	return 1.0 / (1.0 + exp(-d));
}

typedef struct beta_ctx
{
	double		a;				/* Beta(a, bb) */
	double		bb;
	double		R;				/* r + x */
	double		c;				/* t / (alpha + T) */
	int			piece;			/* 1: u = log p on (0, 1/2], 2: u = log(1-p),
								 * 3: p = mode - u, 4: p = mode + u */
	double		mode;			/* pieces 3, 4: mode of the Beta density */
	double		lmode;			/* log density at the mode */
	int			horizon;		/* > 0: discounted CLV sum over periods */
	double		unit;			/* c for one period */
	double		disc;			/* per-period discount rate */
	double		lb;				/* log B(a, bb) */
} beta_ctx;

/* (1 - (1 + p c)^-R) / p, continuous at p = 0 */
static double
g_of_p(double p, double R, double c)
{
	if (p < 1e-300)
		return R * c;
	return -expm1(-R * log1p(p * c)) / p;
}

/* the function whose expectation over p is taken: g, or the CLV's discounted sum */
static double
beta_value(const beta_ctx *ctx, double p)
{
	double		prev = 0.0,
				s = 0.0,
				df = 1.0;
	int			k;

	if (ctx->horizon <= 0)
		return g_of_p(p, ctx->R, ctx->c);
	/* sum_k (g(k) - g(k-1)) / (1+d)^k over the periods */
	for (k = 1; k <= ctx->horizon; k++)
	{
		double		cur = g_of_p(p, ctx->R, ctx->unit * k);

		if ((k & 4095) == 0)
			clm_core_check_interrupts();
		df /= (1.0 + ctx->disc);
		s += (cur - prev) * df;
		prev = cur;
	}
	return s;
}

/*
 * integrand of the expectation over p in the substituted variable u:
 * pieces 3 and 4, p = mode -+ u; piece 1, u = log p (p <= 1/2); piece 2,
 * u = log(1 - p) (p >= 1/2)
 */
static void
beta_integrand(double u, double *out, void *vctx)
{
	beta_ctx   *ctx = (beta_ctx *) vctx;
	double		p,
				dens;

	if (ctx->piece >= 3)
	{
		p = (ctx->piece == 3) ? ctx->mode - u : ctx->mode + u;
		if (p <= 0.0 || p >= 1.0)
		{
			out[0] = 0.0;
			return;
		}
		dens = exp((ctx->a - 1.0) * log(p / ctx->mode)
				   + (ctx->bb - 1.0) * log((1.0 - p) / (1.0 - ctx->mode)) + ctx->lmode);
	}
	else if (ctx->piece == 1)
	{
		/* p^(a-1) (1-p)^(bb-1) / B dp = exp(a u + (bb-1) log(1-p) - lb) du */
		p = exp(u);
		dens = exp(ctx->a * u + (ctx->bb - 1.0) * log1p(-p) - ctx->lb);
	}
	else
	{
		double		q = exp(u);

		p = 1.0 - q;
		dens = exp(ctx->bb * u + (ctx->a - 1.0) * log1p(-q) - ctx->lb);
	}
	out[0] = dens == 0.0 ? 0.0 : beta_value(ctx, p) * dens;
}

/*
 * One side of the expectation over p ~ Beta(a, bb): piece 1 the integral
 * over p in (0, 1/2], piece 2 over q = 1 - p in (0, 1/2), with e the
 * exponent at that end (a, resp. bb) and o the other one.  Near the end
 * the density behaves like q^(e-1), singular for e < 1 and, for e small,
 * holding its mass at q far below any scale of the function (0.1: the
 * papers' example a = b = 0.001 puts half the mass below 1e-300).  So:
 *
 *	 int_0^(1/2) q^(e-1) h(q) dq
 *		= sum_k int_(2^-(k+2))^(2^-(k+1)) ... + int_0^(q_K) ...
 *
 * each dyadic interval by one 16-point Gauss-Legendre panel in log q
 * (the integrand is analytic there, its nearest singularities at least an
 * interval's width away, so a panel is exact to rounding), down to q_K
 * where h(q) = h(0) (1 + O(q_K dev)) with dev bounding h'/h (below 1e-17
 * relative), and the rest in closed form, h(0) q_K^e / (e B).  The loop
 * also stops once even the largest h on (0, q_K) could add no more than
 * 1e-17 of the total (large e).  At most about 60 + log2(dev) panels.
 */
static double
beta_side(beta_ctx *ctx, int piece, double e, double o, double dev)
{
	double		out[1];
	double		total = 0.0,
				h0 = beta_value(ctx, piece == 1 ? 0.0 : 1.0),
				hmax = h0 * fmax(1.0, pow(2.0, 1.0 - o)),
				top = log(0.5),
				ln2 = log(2.0);
	int			k;

	ctx->piece = piece;
	for (k = 0; k < 2000; k++)
	{
		double		hi = top - k * ln2,
					lo = hi - ln2,
					tail;

		clm_quad_geometric(beta_integrand, ctx, 1, lo, hi, ln2, out);
		total += out[0];
		/* the integral below q = exp(lo) with h at its limit h0 */
		tail = exp(e * lo - log(e) - ctx->lb);
		if (exp(lo) * dev < 1e-17 || hmax * tail < 1e-17 * total)
		{
			total += h0 * tail;
			break;
		}
	}
	return total;
}

/*
 * E over p ~ Beta(a, bb) of the integrand: the two sides of p = 1/2 by
 * beta_side.  When both a, bb >= 30 the density is concentrated far from
 * the endpoints (and 0.5^a may underflow): integrate outward from the mode
 * in both directions with panels starting at a twentieth of the standard
 * deviation (this follows a, bb in the millions).
 */
static double
beta_expect(beta_ctx *ctx)
{
	double		lb = clm_lbeta(ctx->a, ctx->bb);
	double		out[1];
	double		res,
				cmax,
				dev;

	if (ctx->a >= 30.0 && ctx->bb >= 30.0)
	{
		double		s = ctx->a + ctx->bb;
		double		sd = sqrt(ctx->a * ctx->bb / (s * s * (s + 1.0)));
		double		m = (ctx->a + ctx->bb > 2.0) ? (ctx->a - 1.0) / (s - 2.0) : 0.5;

		if (m <= 0.0)
			m = 1e-300;
		if (m >= 1.0)
			m = 1.0 - 1e-16;
		ctx->mode = m;
		ctx->lmode = (ctx->a - 1.0) * log(m) + (ctx->bb - 1.0) * log1p(-m) - lb;
		ctx->piece = 3;
		clm_quad_geometric(beta_integrand, ctx, 1, 0.0, m, 0.05 * sd, out);
		res = out[0];
		ctx->piece = 4;
		clm_quad_geometric(beta_integrand, ctx, 1, 0.0, 1.0 - m, 0.05 * sd, out);
		return res + out[0];
	}

	/*
	 * dev bounds |d log h / dq| near either end: g's (R+1) c / 2 (c the
	 * largest of the horizon), and the other factor's |o - 1| (for q <= 1/4,
	 * 2 |o - 1|)
	 */
	ctx->lb = lb;
	cmax = ctx->horizon > 0 ? ctx->unit * ctx->horizon : ctx->c;
	dev = 1.0 + (ctx->R + 1.0) * cmax + 2.0 * fabs(ctx->a - 1.0) + 2.0 * fabs(ctx->bb - 1.0);
	res = beta_side(ctx, 1, ctx->a, ctx->bb, dev);
	res += beta_side(ctx, 2, ctx->bb, ctx->a, dev);
	return res;
}

/*
 * Whether the hypergeometric series may stop after a term: the term is
 * below 1e-17 of the sum in absolute value (with C < 0 the first terms are
 * negative), every later term has the sign of this one (cnext, the next
 * C + n, > 0) and they fall by at least a factor 0.9 (rho, this term's
 * ratio, below 0.9; the ratios then fall towards z).
 */
static inline bool
bg_series_done(double term, double F, double rho, double cnext)
{
	return fabs(term) < 1e-17 * fabs(F) && cnext > 0.0 && rho >= 0.0 && rho < 0.9;
}

/*
 * Whether 1 - A F is accurate to 1e-11 relative: the rounding of the n
 * terms, sum |A term| = AS, and of A = exp(-R log(1 + t/(alpha+T))),
 * amplified by the cancellation in the bracket br.
 */
static inline bool
bg_series_accurate(int n, double AS, double lA_AF, double br)
{
	return 4e-16 * ((n + 10.0) * AS + lA_AF) <= 1e-11 * fabs(br);
}

/*
 * The papers' closed form, E = P(alive) C/(a-1) [1 - A 2F1(R, bb; C; z)] with
 * R = r+x, bb = b+x+m, C = a+bb-1, A = ((alpha+T)/(alpha+T+t))^R and
 * z = t/(alpha+T+t), by its series: used only where it is fast and
 * accurate (z <= 0.6, |a - 1| >= 0.1, R <= 50, convergence within 300
 * terms, and no cancellation worse than 1e-6 in the bracket; for R > 50,
 * up to 2000 terms while the estimated rounding error, amplified by the
 * cancellation in the bracket, stays below 1e-11 relative).  Returns
 * NAN where it does not apply; E / P(alive) otherwise.
 */
static double
bg_expected_series(int m, const double *par, double t, double x, double T)
{
	double		r = par[0],
				al = par[1],
				a = par[2],
				b = par[3];
	double		R = r + x,
				bb = b + x + m,
				C = a + bb - 1.0;
	double		z = t / (al + T + t);
	double		term = 1.0,
				F = 1.0,
				S = 1.0,
				A,
				AF,
				br;
	int			n;

	if (z > 0.6 || fabs(a - 1.0) < 0.1 || R > 1e4)
		return NAN;
	for (n = 0; n < 2000; n++)
	{
		double		rho = (R + n) * (bb + n) / ((C + n) * (n + 1.0)) * z;

		term *= rho;
		F += term;
		S += fabs(term);
		if (bg_series_done(term, F, rho, C + n + 1.0))
			break;
	}
	if (n == 2000 || !isfinite(F) || (R <= 50.0 && n >= 300))
		return NAN;
	A = exp(-R * log1p(t / (al + T)));
	AF = A * F;
	br = 1.0 - AF;
	if (fabs(br) < 1e-6 ||
		!bg_series_accurate(n, A * S, R * log1p(t / (al + T)) * fabs(AF), br))
		return NAN;
	return C / (a - 1.0) * br;
}

/* E[Y(t)] / P(alive): method 0 auto, 1 series only (NAN if not applicable), 2 quadrature */
double
clm_bg_expected_given_alive(int m, const double *par, double t, double x, double T,
							int method)
{
	beta_ctx	ctx;

	if (t <= 0)
		return 0.0;
	if (method != 2)
	{
		double		v = bg_expected_series(m, par, t, x, T);

		if (!isnan(v) || method == 1)
			return v;
	}
	ctx.a = par[2];
	ctx.bb = par[3] + x + m;
	ctx.R = par[0] + x;
	ctx.c = t / (par[1] + T);
	ctx.horizon = 0;
	return beta_expect(&ctx);
}

/* expected purchases in (T, T+t], BG/NBD (m = 0) or MBG/NBD (m = 1) */
double
clm_bg_expected(int m, const double *par, double t, double x, double t_x, double T)
{
	double		pa = clm_bg_p_alive(m, par, x, t_x, T);

	if (t <= 0 || pa <= 0)
		return 0.0;
	return pa * clm_bg_expected_given_alive(m, par, t, x, T, 0);
}

/*
 * E[Y(t) | alive] without quadrature: the customer alive at T makes at
 * least k purchases if the Poisson process (rate lambda ~ Gamma(R, A), R =
 * r+x, A = alpha+T) has k events by t and he survives the k-1 purchases
 * before the k-th (p ~ Beta(a, bb), bb = b+x+m), so
 *	 E[Y(t) | alive] = sum_k P(N(t) >= k) c_k = sum_j NB(j) C_j
 * with N(t) negative binomial, NB(j) = (R)_j/j! (A/(A+t))^R (t/(A+t))^j,
 * c_k = E[(1-p)^(k-1)] = prod_(i<k-1) (bb+i)/(a+bb+i) and C_j = c_1 + ... +
 * c_j: a sum of positive terms (no 1 - sum of NB, which cancels), stopped
 * past the mean R t / A once a term is below 1e-17 of the sum.  About
 * R t / A terms and a few dozen more; NB(0) = exp(-R log(1 + t/A)) must not
 * underflow (the caller keeps R log(1 + t/A) <= 500).
 */
static double
bg_alive_mean(int m, const double *par, double t, double x, double T)
{
	double		R = par[0] + x,
				A = par[1] + T,
				a = par[2],
				bb = par[3] + x + m;
	double		z = t / (A + t),
				mean = R * t / A,
				nb = exp(-R * log1p(t / A)),	/* NB(0) */
				c = 1.0,
				C = 0.0,
				sum = 0.0;
	int			j;

	if (t <= 0)
		return 0.0;
	for (j = 1; j < 100000000; j++)
	{
		double		term;

		if ((j & 1023) == 0)
			clm_core_check_interrupts();
		nb *= (R + j - 1.0) / j * z;
		if (j > 1)
			c *= (bb + j - 2.0) / (a + bb + j - 2.0);
		C += c;
		term = nb * C;
		sum += term;
		if ((double) j > mean && term <= 1e-17 * sum)
			break;
	}
	return sum;
}

/*
 * discounted expected purchases over horizon periods of length 1 given
 * alive at T (it does not depend on t_x):
 *	 sum_(k=1..horizon) (E[Y(k) | alive] - E[Y(k-1) | alive]) / (1+disc)^k
 * with E[Y(k) | alive] by bg_alive_mean, which costs about R k / A terms a
 * period: while the last period's R horizon / A is at most 1000 (and its
 * NB(0) far from underflow), else (a purchase rate far above the periods)
 * one quadrature over p of the whole discounted sum, whose cost does not
 * grow with the rate (about 2000 nodes, each a sum over the periods).  The
 * same function for clm.clv, clm.clv_interval and clm.clv_total.
 */
double
clm_bg_discounted_given_alive(int m, const double *par, double disc, int horizon,
							  double x, double T)
{
	beta_ctx	ctx;
	double		prev = 0.0,
				df = 1.0,
				sum = 0.0;
	int			k;

	if (horizon <= 0)
		return 0.0;
	if ((par[0] + x) * horizon / (par[1] + T) <= 1000.0 &&
		(par[0] + x) * log1p(horizon / (par[1] + T)) <= 500.0)
	{
		for (k = 1; k <= horizon; k++)
		{
			double		e;

			if ((k & 63) == 0)
				clm_core_check_interrupts();
			e = bg_alive_mean(m, par, (double) k, x, T);
			df /= 1.0 + disc;
			sum += (e - prev) * df;
			prev = e;
		}
		return sum;
	}
	ctx.a = par[2];
	ctx.bb = par[3] + x + m;
	ctx.R = par[0] + x;
	ctx.c = 0;
	ctx.unit = 1.0 / (par[1] + T);
	ctx.disc = disc;
	ctx.horizon = horizon;
	return beta_expect(&ctx);
}

/* discounted expected purchases over horizon periods of length 1 */
double
clm_bg_discounted(int m, const double *par, double disc, int horizon,
				  double x, double t_x, double T)
{
	double		pa = clm_bg_p_alive(m, par, x, t_x, T);

	if (horizon <= 0 || pa <= 0)
		return 0.0;
	return pa * clm_bg_discounted_given_alive(m, par, disc, horizon, x, T);
}

/*
 * P(Y(t) = k | x, t_x, T): with A = alpha+T, R = r+x, bb = b+x+m,
 * NB(j) = G(R+j)/(G(R) j!) (A/(A+t))^R (t/(A+t))^j,
 *	 P(k | alive) = E[(1-p)^k] NB(k) + [k>0] E[p (1-p)^(k-1)] (1 - sum_{j<k} NB(j))
 * (the last factor is the regularized incomplete beta I_(t/(A+t))(k, R), by
 * its continued fraction: the sum's complement cancelled to nothing for
 * large k)
 * (FHL 2005 eq. 8 under the posterior) and P(k) = P(alive) P(k | alive)
 * + [k = 0] (1 - P(alive)).
 */
double
clm_bg_p_k(int m, const double *par, int k, double t, double x, double t_x, double T)
{
	double		r = par[0],
				al = par[1],
				a = par[2],
				b = par[3];
	double		pa = clm_bg_p_alive(m, par, x, t_x, T);
	double		R = r + x,
				A = al + T,
				bb = b + x + m;
	double		lq = log(A / (A + t)),
				lz = log(t / (A + t));
	double		nbk,
				pk;

	if (t <= 0)
		return k == 0 ? 1.0 : 0.0;
	nbk = exp(lgamma(R + k) - lgamma(R) - lgamma(k + 1.0) + R * lq + k * lz);
	pk = exp(clm_lbeta(a, bb + k) - clm_lbeta(a, bb)) * nbk;
	if (k > 0)
	{
		/* 1 - sum_{j<k} NB(j) = I_z(k, R), z = t/(A+t): no cancellation */
		double		tail = clm_beta_inc((double) k, R, t / (A + t));

		pk += exp(clm_lbeta(a + 1, bb + k - 1) - clm_lbeta(a, bb)) * tail;
	}
	pk *= pa;
	if (k == 0)
		pk += clm_bg_churn(m, par, x, t_x, T);
	if (pk > 1.0)
		pk = 1.0;
	return pk;
}


/* BG/NBD and MBG/NBD entries: the shared functions with m = 0 and m = 1 */

/* BG/NBD p alive */
static double
bgnbd_p_alive(const double *par, double x, double t_x, double T)
{
	return clm_bg_p_alive(0, par, x, t_x, T);
}

/* MBG/NBD p alive */
static double
mbgnbd_p_alive(const double *par, double x, double t_x, double T)
{
	return clm_bg_p_alive(1, par, x, t_x, T);
}

/* BG/NBD churn */
static double
bgnbd_churn(const double *par, double x, double t_x, double T)
{
	return clm_bg_churn(0, par, x, t_x, T);
}

/* MBG/NBD churn */
static double
mbgnbd_churn(const double *par, double x, double t_x, double T)
{
	return clm_bg_churn(1, par, x, t_x, T);
}

/* BG/NBD expected */
static double
bgnbd_expected(const double *par, double t, double x, double t_x, double T)
{
	return clm_bg_expected(0, par, t, x, t_x, T);
}

/* MBG/NBD expected */
static double
mbgnbd_expected(const double *par, double t, double x, double t_x, double T)
{
	return clm_bg_expected(1, par, t, x, t_x, T);
}

/* BG/NBD p k */
static double
bgnbd_p_k(const double *par, int k, double t, double x, double t_x, double T)
{
	return clm_bg_p_k(0, par, k, t, x, t_x, T);
}

/* MBG/NBD p k */
static double
mbgnbd_p_k(const double *par, int k, double t, double x, double t_x, double T)
{
	return clm_bg_p_k(1, par, k, t, x, t_x, T);
}

/* BG/NBD p none */
static double
bgnbd_p_none(const double *par, double t, double x, double t_x, double T)
{
	return clm_bg_p_k(0, par, 0, t, x, t_x, T);
}

/* MBG/NBD p none */
static double
mbgnbd_p_none(const double *par, double t, double x, double t_x, double T)
{
	return clm_bg_p_k(1, par, 0, t, x, t_x, T);
}

/* BG/NBD discounted */
static double
bgnbd_discounted(const double *par, double disc, int horizon,
				 double x, double t_x, double T)
{
	return clm_bg_discounted(0, par, disc, horizon, x, t_x, T);
}

/* MBG/NBD discounted */
static double
mbgnbd_discounted(const double *par, double disc, int horizon,
				  double x, double t_x, double T)
{
	return clm_bg_discounted(1, par, disc, horizon, x, t_x, T);
}

/*
 * BG/NBD new customer: E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r
 * 2F1(r, b; a+b-1; t/(alpha+t))], the conditional expectation at x = t_x =
 * T = 0 (P(alive) = 1 there), by the series of the 2F1 where it is
 * accurate and by quadrature where it is not.
 */
static double
bgnbd_new_customer(const double *par, double t)
{
	return clm_bg_expected(0, par, t, 0.0, 0.0, 0.0);
}

/*
 * MBG/NBD new customer: E[X(t)] = b/(a-1) [1 - (alpha/(alpha+t))^r
 * 2F1(r, b+1; a+b; t/(alpha+t))], the conditional expectation at x = t_x
 * = T = 0 (P(alive) = b/(a+b) there: the dropout right after the first
 * purchase).
 */
static double
mbgnbd_new_customer(const double *par, double t)
{
	return clm_bg_expected(1, par, t, 0.0, 0.0, 0.0);
}

/* three start points of (x, t_x, T) models */
static int
bg_starts(const clm_obs *obs, int n, double starts[][CLM_MAX_PAR])
{
	clm_starts_xtT(obs, n, starts);
	return 3;
}

const clm_model_def clm_model_bgnbd = {
	.name = "bgnbd",
	.npar = 4,
	.par_names = {"r", "alpha", "a", "b"},
	.ll = clm_bgnbd_ll,
	.check = clm_check_xtT,
	.continuous = true,
	.identify = clm_identify_repeat,
	.starts = bg_starts,
	.warm_start = true,
	.p_alive = bgnbd_p_alive,
	.churn = bgnbd_churn,
	.expected = bgnbd_expected,
	.p_k = bgnbd_p_k,
	.p_none = bgnbd_p_none,
	.discounted = bgnbd_discounted,
	.gamma_rate = true,
	.new_customer = bgnbd_new_customer,
};

const clm_model_def clm_model_mbgnbd = {
	.name = "mbgnbd",
	.npar = 4,
	.par_names = {"r", "alpha", "a", "b"},
	.ll = clm_mbgnbd_ll,
	.check = clm_check_xtT,
	.continuous = true,
	.identify = clm_identify_repeat,
	.starts = bg_starts,
	.warm_start = true,
	.p_alive = mbgnbd_p_alive,
	.churn = mbgnbd_churn,
	.expected = mbgnbd_expected,
	.p_k = mbgnbd_p_k,
	.p_none = mbgnbd_p_none,
	.discounted = mbgnbd_discounted,
	.gamma_rate = true,
	.new_customer = mbgnbd_new_customer,
};
