/*-------------------------------------------------------------------------
 *
 * clm_interval.c
 *	  Prediction intervals of the clm models: parameter uncertainty plus,
 *	  where it applies, the process variance.
 *
 * Plain C (no PostgreSQL headers).
 *
 * Parameter uncertainty.  A fit keeps the standard errors of its parameters
 * and (model format 3) their correlations: together the covariance S of
 * the log-parameters, the inverse of the Hessian of minus the
 * log-likelihood at the optimum, so that asymptotically
 *	 log(theta) ~ N(log(theta_hat), S).
 * With L the Cholesky factor of S (S = L L') and n parameters, the 2n + 1
 * sigma points (an unscented transform with kappa = 1) are
 *	 theta_0 = theta_hat, theta_{+-k} = exp(log(theta_hat) +- h L e_k),
 *	 h = sqrt(n + 1), weights w_0 = 1 / (n + 1), w_{+-k} = 1 / (2 (n + 1)):
 * their weighted mean and covariance are those of the normal, so the
 * weighted mean of any function of the parameters that is quadratic in
 * log(theta) is exact.  A model without standard errors (made from
 * parameters) has known parameters: one point, theta_hat.
 *
 * A customer's purchases in the next t (BG/NBD, MBG/NBD, Pareto/NBD).
 * Given the parameters, the count Y is the mixture of 0 (dead at T, with
 * probability 1 - P(alive)) and its distribution given alive at T, which
 * depends on the customer through (x, T) only:
 *	 BG/NBD (m = 0), MBG/NBD (m = 1): the rate is Gamma(R = r+x, A = alpha+T)
 *	 and the dropout probability Beta(a, bb = b+x+m) given alive; the k-th
 *	 purchase happens if the Poisson process makes k purchases in t and the
 *	 customer survived the k-1 purchases before it, so
 *	   P(Y >= k | alive) = P(NB(R, A/(A+t)) >= k) B(a, bb+k-1) / B(a, bb)
 *	 (summed, this gives clm_bg_p_k's pmf exactly);
 *	 Pareto/NBD: the rate is Gamma(R, A), the remaining lifetime tau from T
 *	 exponential with rate Gamma(s, B = beta+T), so u = min(tau, t) has the
 *	 Lomax density s/B (B/(B+u))^(s+1) on (0, t) and an atom
 *	 (B/(B+t))^s at t, and
 *	   P(Y >= k | alive) = E_u[P(NB(R, A/(A+u)) >= k)]
 *	 taken by 32-point Gauss-Legendre in v = P(tau <= u) (the Lomax CDF,
 *	 so the nodes follow the density) plus the atom.
 * E[Y | alive] = sum_k P(Y >= k), E[Y^2 | alive] = sum_k (2k-1) P(Y >= k),
 * the sums and the CDF taken until P(Y >= k) < 1e-13.
 * The customer's predictive distribution mixes these over the sigma points:
 *	 P(Y <= k) = sum_j w_j ((1 - P_j(alive)) + P_j(alive) P_j(Y <= k | alive))
 * and the interval at level c is its (1-c)/2 and (1+c)/2 quantiles (the
 * smallest k whose probability reaches them).  A count is discrete: the
 * interval holds at least c of the predictive probability, often more.
 *
 * A sum over customers (the holdout total): given the parameters the
 * customers' counts are independent, so the sum's mean and variance are
 * the sums of theirs (Var Y = P(alive) E[Y^2|alive] - (P(alive) E[Y|alive])^2),
 * and with many customers the sum is nearly normal; but the parameters are
 * shared by all customers, so their uncertainty does not average out.  The
 * aggregates keep the sums of means and variances at each sigma point; the
 * final function fits the quadratic in z (log(theta) = log(theta_hat) +
 * L z) through them per axis,
 *	 M(z) = M_0 + sum_k (g_k z_k + c_k z_k^2), g_k = (M_+k - M_-k) / (2h),
 *	 c_k = (M_+k - 2 M_0 + M_-k) / (2 h^2),
 * the same for the variance V(z), draws z ~ N(0, I) CLM_TOTAL_DRAWS times
 * (xoshiro256** with a fixed seed: the same interval every time) and
 * returns the quantiles of the mixture of N(M(z_d), V(z_d)).
 *
 * Functions of the parameters alone (P(alive), a CLV, which are
 * expectations): the interval is normal on a scale where the value is
 * nearly normal (logit for P(alive), log for a CLV) with the sigma points'
 * variance, around the estimate.  The Gamma-Gamma spend: the customer's
 * mean spend per transaction zeta = p / nu, nu ~ Gamma(px + q, gamma +
 * x zbar) given the parameters, mixed over the sigma points (quantiles by
 * bisection on the mixture's CDF).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "clm_interval.h"
#include "rng.h"

/* P(Y >= k | alive) below this ends a count distribution */
#define COUNT_TAIL_EPS 1e-13

/*
 * The sigma points of the asymptotic normal of the log-parameters (the
 * method above).  se are the standard errors on the parameters' scale (se
 * of log(theta_i) = se_i / theta_i), corr the correlations (CLM_CORR_INDEX).
 */
const char *
clm_sigma_points(int npar, const double *par, const double *se,
				 const double *corr, clm_sigma *sp)
{
	double		S[CLM_MAX_PAR][CLM_MAX_PAR],
				L[CLM_MAX_PAR][CLM_MAX_PAR];
	int			nnan = 0,
				nzero = 0,
				i,
				j,
				k;

	memset(sp, 0, sizeof(*sp));
	sp->npar = npar;
	for (i = 0; i < npar; i++)
	{
		if (isnan(se[i]))
			nnan++;
		else if (!(se[i] >= 0) || !isfinite(se[i]))
			return "the model's standard errors are not finite";
		else if (se[i] == 0)
			nzero++;
	}
	for (k = 0; k < npar; k++)
		sp->par[0][k] = par[k];
	sp->w[0] = 1.0;
	sp->npts = 1;
	sp->h = 0.0;
	if (nnan + nzero == npar && (nnan == npar || nzero == npar))
		return NULL;			/* known parameters */
	if (nnan > 0)
		return "the model has no standard error for some parameter";
	for (i = 0; i < npar; i++)
		for (j = 0; j < npar; j++)
		{
			double		c = 1.0;

			if (i != j)
			{
				c = corr[i < j ? CLM_CORR_INDEX(i, j) : CLM_CORR_INDEX(j, i)];
				if (isnan(c))
					return "the model has standard errors but no correlations of its parameters";
			}
			S[i][j] = (se[i] / par[i]) * (se[j] / par[j]) * c;
		}
	/* Cholesky, tolerating a semi-definite S (a parameter with se 0) */
	memset(L, 0, sizeof(L));
	for (j = 0; j < npar; j++)
	{
		double		d = S[j][j];

		for (k = 0; k < j; k++)
			d -= L[j][k] * L[j][k];
		if (d < -1e-12 * fmax(S[j][j], 1e-300))
			return "the covariance of the model's parameters is not positive semi-definite";
		if (d <= 1e-14 * S[j][j])
			continue;			/* column j stays 0 */
		L[j][j] = sqrt(d);
		for (i = j + 1; i < npar; i++)
		{
			double		v = S[i][j];

			for (k = 0; k < j; k++)
				v -= L[i][k] * L[j][k];
			L[i][j] = v / L[j][j];
		}
	}
	sp->npts = 2 * npar + 1;
	sp->h = sqrt(npar + 1.0);
	sp->w[0] = 1.0 / (npar + 1.0);
	for (k = 0; k < npar; k++)
	{
		sp->w[2 * k + 1] = sp->w[2 * k + 2] = 0.5 / (npar + 1.0);
		for (i = 0; i < npar; i++)
		{
			double		step = sp->h * L[i][k];

			sp->par[2 * k + 1][i] = exp(log(par[i]) + step);
			sp->par[2 * k + 2][i] = exp(log(par[i]) - step);
			if (!(sp->par[2 * k + 1][i] > 0) || !isfinite(sp->par[2 * k + 1][i]) ||
				!(sp->par[2 * k + 2][i] > 0) || !isfinite(sp->par[2 * k + 2][i]))
				return "the model's standard errors are too large for an interval";
		}
	}
	return NULL;
}

/* do the count intervals apply to the kind? */
bool
clm_interval_applies(int kind)
{
	return kind == CLM_KIND_BGNBD || kind == CLM_KIND_MBGNBD ||
		kind == CLM_KIND_PARETONBD;
}

/* append P(Y >= k | alive) = S for k = n + 1 to a count distribution */
static bool
counts_push(clm_alive_counts *out, int *cap, int k, double S)
{
	if (S < 0)
		S = 0;
	if (S > 1)
		S = 1;
	if (out->n >= *cap)
	{
		int			ncap = *cap * 2;
		double	   *ncdf;

		if (ncap > CLM_COUNTS_MAX)
			return false;
		ncdf = clm_core_alloc(sizeof(double) * ncap);
		if (ncdf == NULL)
			return false;
		memcpy(ncdf, out->cdf, sizeof(double) * out->n);
		clm_core_free(out->cdf);
		out->cdf = ncdf;
		*cap = ncap;
	}
	out->cdf[out->n++] = 1.0 - S;
	out->m1 += S;
	out->m2 += (2.0 * k - 1.0) * S;
	return true;
}

#define PNBD_NODES 33

/*
 * The distribution of the purchases in the next t of a customer alive at T
 * with x repeat purchases (the method above).  NULL, or a message (more
 * than CLM_COUNTS_MAX counts, out of memory, a kind without it).
 */
const char *
clm_alive_counts_dist(int kind, const double *par, double t, double x,
					  double T, clm_alive_counts *out)
{
	int			cap = 64,
				k;
	double		R = par[0] + x,
				A = par[1] + T;

	out->n = 0;
	out->m1 = out->m2 = 0.0;
	out->cdf = clm_core_alloc(sizeof(double) * cap);
	if (out->cdf == NULL)
		return "out of memory";
	if (!clm_interval_applies(kind))
		return "no count distribution for the model";
	if (t <= 0)
	{
		out->cdf[out->n++] = 1.0;
		return NULL;
	}
	if (kind != CLM_KIND_PARETONBD)
	{
		double		a = par[2],
					bb = par[3] + x + (kind == CLM_KIND_MBGNBD ? 1 : 0);
		double		nb = exp(-R * log1p(t / A)),
					z = t / (A + t),
					tail = 1.0,
					c = 1.0;		/* E[(1-p)^(k-1)] */

		for (k = 1;; k++)
		{
			double		S;

			if ((k & 1023) == 0)
				clm_core_check_interrupts();
			tail -= nb;			/* P(NB >= k) */
			nb *= (R + k - 1.0) / k * z;
			if (k > 1)
				c *= (bb + k - 2.0) / (a + bb + k - 2.0);
			S = tail * c;
			if (!counts_push(out, &cap, k, S))
				return "the count distribution needs more than 1000000 values";
			if (S < COUNT_TAIL_EPS && (double) k > R * t / A)
				break;
		}
	}
	else
	{
		double		s = par[2],
					B = par[3] + T;
		double		Ft = -expm1(-s * log1p(t / B));
		double		u[PNBD_NODES],
					om[PNBD_NODES],
					nb[PNBD_NODES],
					z[PNBD_NODES],
					tail[PNBD_NODES];
		const double *gx,
				   *gw;
		int			i,
					pnl;

		clm_gauss_legendre16(&gx, &gw);
		/* two panels in v on [0, Ft], u = B ((1 - v)^(-1/s) - 1) */
		for (pnl = 0; pnl < 2; pnl++)
			for (i = 0; i < 16; i++)
			{
				double		v = Ft * (0.25 + 0.5 * pnl + 0.25 * gx[i]);
				int			j = pnl * 16 + i;

				u[j] = B * expm1(-log1p(-v) / s);
				if (u[j] > t)
					u[j] = t;
				om[j] = 0.25 * Ft * gw[i];
			}
		u[32] = t;
		om[32] = 1.0 - Ft;
		for (i = 0; i < PNBD_NODES; i++)
		{
			nb[i] = exp(-R * log1p(u[i] / A));
			z[i] = u[i] / (A + u[i]);
			tail[i] = 1.0;
		}
		for (k = 1;; k++)
		{
			double		S = 0.0;

			if ((k & 255) == 0)
				clm_core_check_interrupts();
			for (i = 0; i < PNBD_NODES; i++)
			{
				tail[i] -= nb[i];
				nb[i] *= (R + k - 1.0) / k * z[i];
				S += om[i] * tail[i];
			}
			if (!counts_push(out, &cap, k, S))
				return "the count distribution needs more than 1000000 values";
			if (S < COUNT_TAIL_EPS && (double) k > R * t / A)
				break;
		}
	}
	return NULL;
}

/*
 * The smallest k whose predictive probability P(Y <= k), the mixture over
 * the sigma points, reaches qlo (into *lo) and the smallest that reaches
 * qhi >= qlo (into *hi), in one pass over k.
 */
void
clm_count_quantiles(int npts, const double *w, const double *pa,
					const clm_alive_counts *d, double qlo, double qhi,
					double *lo, double *hi)
{
	double		base = 0.0,
				wp[CLM_SIGMA_MAX];
	int			nmax = 0,
				j,
				k;
	bool		have_lo = false;

	for (j = 0; j < npts; j++)
	{
		if (d[j].n > nmax)
			nmax = d[j].n;
		base += w[j] * (1.0 - pa[j]);
		wp[j] = w[j] * pa[j];
	}
	*lo = *hi = (double) nmax;
	for (k = 0; k < nmax; k++)
	{
		double		G = base;

		for (j = 0; j < npts; j++)
			G += wp[j] * (k < d[j].n ? d[j].cdf[k] : 1.0);
		if (!have_lo && G >= qlo)
		{
			*lo = (double) k;
			have_lo = true;
		}
		if (G >= qhi)
		{
			*hi = (double) k;
			return;
		}
	}
}

/* the smallest k whose predictive probability P(Y <= k) reaches q */
double
clm_count_quantile(int npts, const double *w, const double *pa,
				   const clm_alive_counts *d, double q)
{
	double		lo,
				hi;

	clm_count_quantiles(npts, w, pa, d, q, q, &lo, &hi);
	return lo;
}

/* standard normal distribution function */
double
clm_normal_cdf(double z)
{
	return 0.5 * erfc(-z / M_SQRT2);
}

/*
 * Standard normal quantile function: Acklam's rational approximation
 * (relative error 1.15e-9), refined by two Newton steps on erfc.
 */
double
clm_normal_quantile(double p)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
	2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
	2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
	2.445134137142996e+00, 3.754408661907416e+00};
	double		q,
				r,
				x;
	int			it;

	if (!(p > 0.0))
		return -INFINITY;
	if (!(p < 1.0))
		return INFINITY;
	if (p < 0.02425)
	{
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	else if (p <= 1 - 0.02425)
	{
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
			(((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	}
	else
	{
		q = sqrt(-2 * log1p(-p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	for (it = 0; it < 2; it++)
	{
		double		e = clm_normal_cdf(x) - p,
					dens = exp(-0.5 * x * x) / sqrt(2 * M_PI);

		if (dens > 0)
			x -= e / dens;
	}
	return x;
}

/*
 * The interval of a function of the parameters from its values g at the
 * sigma points: g0 -+ z sd, sd the sigma points' weighted standard deviation.
 */
void
clm_sigma_normal(const clm_sigma *sp, const double *g, double g0,
				 double level, double *lo, double *hi)
{
	double		mean = 0.0,
				var = 0.0,
				z = clm_normal_quantile(0.5 + 0.5 * level);
	int			j;

	for (j = 0; j < sp->npts; j++)
		mean += sp->w[j] * g[j];
	for (j = 0; j < sp->npts; j++)
		var += sp->w[j] * (g[j] - mean) * (g[j] - mean);
	*lo = g0 - z * sqrt(var);
	*hi = g0 + z * sqrt(var);
}

/* P(Y <= y) of the mixture of N(mu_d, sd_d^2), D components */
static double
mixture_cdf(int D, const double *mu, const double *sd, double y)
{
	double		F = 0.0;
	int			d;

	for (d = 0; d < D; d++)
		F += sd[d] > 0 ? clm_normal_cdf((y - mu[d]) / sd[d]) : (y >= mu[d] ? 1.0 : 0.0);
	return F / D;
}

/* the q quantile of the mixture, by bisection */
static double
mixture_quantile(int D, const double *mu, const double *sd, double q)
{
	double		lo = INFINITY,
				hi = -INFINITY;
	int			d,
				it;

	for (d = 0; d < D; d++)
	{
		lo = fmin(lo, mu[d] - 40 * sd[d]);
		hi = fmax(hi, mu[d] + 40 * sd[d]);
	}
	for (it = 0; it < 200 && hi > lo; it++)
	{
		double		mid = 0.5 * (lo + hi);

		if (mid <= lo || mid >= hi)
			break;
		if ((it & 15) == 0)
			clm_core_check_interrupts();
		if (mixture_cdf(D, mu, sd, mid) >= q)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/*
 * The interval of a sum over customers (the method above): mean[j] and
 * var[j] are the sums over customers at sigma point j (npts = 1 or
 * 2 npar + 1, h their distance).
 */
bool
clm_total_interval(int npar, int npts, double h, const double *mean,
				   const double *var, double level, double *lo, double *hi)
{
	int			D = npts == 1 ? 1 : CLM_TOTAL_DRAWS,
				d,
				k;
	double	   *mu = clm_core_alloc(sizeof(double) * D),
			   *sd = clm_core_alloc(sizeof(double) * D);
	double		gm[CLM_MAX_PAR],
				cm[CLM_MAX_PAR],
				gv[CLM_MAX_PAR],
				cv[CLM_MAX_PAR];
	ClmRng		rng;

	if (mu == NULL || sd == NULL)
		return false;
	for (k = 0; k < npar && npts > 1; k++)
	{
		gm[k] = (mean[2 * k + 1] - mean[2 * k + 2]) / (2 * h);
		cm[k] = (mean[2 * k + 1] - 2 * mean[0] + mean[2 * k + 2]) / (2 * h * h);
		gv[k] = (var[2 * k + 1] - var[2 * k + 2]) / (2 * h);
		cv[k] = (var[2 * k + 1] - 2 * var[0] + var[2 * k + 2]) / (2 * h * h);
	}
	clm_rng_seed(&rng, CLM_TOTAL_SEED);
	for (d = 0; d < D; d++)
	{
		double		m = mean[0],
					v = var[0];

		for (k = 0; k < npar && npts > 1; k++)
		{
			double		z = clm_rng_normal(&rng);

			m += gm[k] * z + cm[k] * z * z;
			v += gv[k] * z + cv[k] * z * z;
		}
		mu[d] = m;
		sd[d] = v > 0 ? sqrt(v) : 0.0;
	}
	*lo = mixture_quantile(D, mu, sd, 0.5 - 0.5 * level);
	*hi = mixture_quantile(D, mu, sd, 0.5 + 0.5 * level);
	clm_core_free(mu);
	clm_core_free(sd);
	return true;
}

/*
 * The upper regularized incomplete gamma function Q(a, x) = Gamma(a, x) /
 * Gamma(a), a > 0, x >= 0: the series of P where x < a + 1, else the
 * continued fraction (modified Lentz), to 1e-15 relative.
 */
double
clm_gamma_q(double a, double x)
{
	double		lfront;
	int			n;

	if (x <= 0)
		return 1.0;
	if (!isfinite(x))
		return 0.0;
	lfront = -x + a * log(x) - lgamma(a);
	if (x < a + 1.0)
	{
		double		ap = a,
					del = 1.0 / a,
					sum = del;

		for (n = 1; n < 100000000; n++)
		{
			if ((n & 1023) == 0)
				clm_core_check_interrupts();
			ap += 1.0;
			del *= x / ap;
			sum += del;
			if (fabs(del) < fabs(sum) * 1e-16)
				break;
		}
		return 1.0 - sum * exp(lfront);
	}
	else
	{
		const double tiny = 1e-300;
		double		b = x + 1.0 - a,
					c = 1.0 / tiny,
					dd = 1.0 / b,
					h = dd;

		for (n = 1; n < 100000000; n++)
		{
			double		an = -n * (n - a),
						del;

			if ((n & 1023) == 0)
				clm_core_check_interrupts();
			b += 2.0;
			dd = an * dd + b;
			if (fabs(dd) < tiny)
				dd = tiny;
			c = b + an / c;
			if (fabs(c) < tiny)
				c = tiny;
			dd = 1.0 / dd;
			del = dd * c;
			h *= del;
			if (fabs(del - 1.0) < 1e-16)
				break;
		}
		return exp(lfront) * h;
	}
}

/* P(zeta <= z) of the customer's mean spend, mixed over the sigma points */
static double
spend_cdf(const clm_sigma *sp, double x, double zbar, double z)
{
	double		F = 0.0;
	int			j;

	for (j = 0; j < sp->npts; j++)
	{
		const double *p = sp->par[j];

		/* zeta = p / nu <= z  <=>  nu >= p / z, nu ~ Gamma(px + q, gamma + x zbar) */
		F += sp->w[j] * clm_gamma_q(p[0] * x + p[1], (p[2] + x * zbar) * p[0] / z);
	}
	return F;
}

/*
 * The q quantile of the customer's mean spend per transaction (Gamma-Gamma,
 * parameters (p, q, gamma)), mixed over the sigma points: bracketing by
 * doubling from the posterior mean at the estimate, then bisection on
 * log(z) to 1e-12 relative.
 */
double
clm_spend_quantile(const clm_sigma *sp, double x, double zbar, double q)
{
	const double *p = sp->par[0];
	double		mid = p[0] * (p[2] + x * zbar) / (p[0] * x + p[1]),
				lo = mid,
				hi = mid;
	int			it;

	for (it = 0; it < 2000 && spend_cdf(sp, x, zbar, lo) >= q; it++)
		lo *= 0.5;
	for (it = 0; it < 2000 && spend_cdf(sp, x, zbar, hi) < q; it++)
		hi *= 2.0;
	for (it = 0; it < 100 && hi > lo * (1 + 1e-12); it++)
	{
		mid = sqrt(lo * hi);
		if (spend_cdf(sp, x, zbar, mid) >= q)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}
