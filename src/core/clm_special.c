/*-------------------------------------------------------------------------
 *
 * clm_special.c
 *	  Special functions and quadrature for the clm numerical core.
 *
 * Plain C (no PostgreSQL headers).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stddef.h>

#include "clm_models.h"

#define GL_N 16

static double gl_x[GL_N];
static double gl_w[GL_N];
static int	gl_ready = 0;

/* Digamma function psi(x) for x > 0: recurrence up to 12, then asymptotic series */
double
clm_digamma(double x)
{
	double		r = 0.0;
	double		f;

	if (!(x > 0.0))
		return NAN;
	while (x < 12.0)
	{
		r -= 1.0 / x;
		x += 1.0;
	}
	f = 1.0 / (x * x);
	r += log(x) - 0.5 / x
		- f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
	return r;
}

/* log Beta(a, b) for a, b > 0 */
double
clm_lbeta(double a, double b)
{
	return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/*
 * Continued fraction of the regularized incomplete beta function (modified
 * Lentz; Numerical Recipes' betacf), to 1e-16 relative, at most 10000 terms.
 */
static double
beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double		qab = a + b,
				qap = a + 1.0,
				qam = a - 1.0,
				c = 1.0,
				d = 1.0 - qab * x / qap,
				h;
	int			m;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1.0 / d;
	h = d;
	for (m = 1; m <= 10000; m++)
	{
		int			m2 = 2 * m;
		double		aa = m * (b - m) * x / ((qam + m2) * (a + m2)),
					del;

		if ((m & 255) == 0)
			clm_core_check_interrupts();
		d = 1.0 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		h *= d * c;
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) < 1e-16)
			return h;
	}
	return NAN;
}

/*
 * The regularized incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1,
 * accurate to about 1e-14 relative also where it is tiny (it is the upper
 * tail P(N >= k) of a negative binomial, where 1 - sum_{j<k} P(j) cancels):
 * the continued fraction where it converges fast, x < (a+1)/(a+b+2), else
 * 1 - I_(1-x)(b, a).  NAN if the fraction does not converge.
 */
double
clm_beta_inc(double a, double b, double x)
{
	double		lfront;

	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	lfront = a * log(x) + b * log1p(-x) - clm_lbeta(a, b);
	if (x < (a + 1.0) / (a + b + 2.0))
		return exp(lfront) * beta_cf(a, b, x) / a;
	return 1.0 - exp(lfront) * beta_cf(b, a, 1.0 - x) / b;
}

/* log(exp(a) + exp(b)) without overflow; -inf arguments allowed */
double
clm_logsumexp2(double a, double b)
{
	double		m = a > b ? a : b;

	if (m == -INFINITY)
		return -INFINITY;
	return m + log(exp(a - m) + exp(b - m));
}

/*
 * Gauss-Legendre nodes and weights on [-1, 1], computed once by Newton's
 * method on the Legendre polynomial P_16 (no table to mistype).
 */
static void
gl_init(void)
{
	int			i;

	for (i = 0; i < GL_N; i++)
	{
		double		z = cos(M_PI * (i + 0.75) / (GL_N + 0.5));
		double		pp = 0.0;
		int			it;

		for (it = 0; it < 100; it++)
		{
			double		p1 = 1.0,
						p2 = 0.0,
						z1;
			int			j;

			for (j = 1; j <= GL_N; j++)
			{
				double		p3 = p2;

				p2 = p1;
				p1 = ((2.0 * j - 1.0) * z * p2 - (j - 1.0) * p3) / j;
			}
			pp = GL_N * (z * p1 - p2) / (z * z - 1.0);
			z1 = z;
			z = z1 - p1 / pp;
			if (fabs(z - z1) < 1e-16)
				break;
		}
		gl_x[i] = z;
		gl_w[i] = 2.0 / ((1.0 - z * z) * pp * pp);
	}
	gl_ready = 1;
}

/* the 16-point Gauss-Legendre nodes and weights on [-1, 1] */
void
clm_gauss_legendre16(const double **x, const double **w)
{
	if (!gl_ready)
		gl_init();
	*x = gl_x;
	*w = gl_w;
}

/*
 * Integrate the vector function f (nf <= 8 components) over [lo, hi]
 * (hi may be +inf) with 16-point Gauss-Legendre panels whose widths double
 * from h0: the first panels resolve whatever happens at lo (a fast decay,
 * an integrable kink), the later ones a power-law tail.  Component 0 must
 * be non-negative; integration stops early once a panel adds less than
 * 1e-17 of the running total of component 0.  Returns component 0.
 */
double
clm_quad_geometric(clm_vec_fn f, void *ctx, int nf,
				   double lo, double hi, double h0, double *out)
{
	double		a = lo;
	double		h = h0;
	double		buf[8];
	int			k,
				p,
				i;

	if (!gl_ready)
		gl_init();
	for (k = 0; k < nf; k++)
		out[k] = 0.0;
	if (!(hi > lo))
		return 0.0;
	if (!(h > 0.0) || h > hi - lo)
		h = (hi - lo) < 1.0 ? (hi - lo) : 1.0;
	for (p = 0; p < 400; p++)
	{
		double		b = a + h;
		double		c,
					half;
		double		panel0 = 0.0;
		int			last = 0;

		clm_core_check_interrupts();
		if (b >= hi)
		{
			b = hi;
			last = 1;
		}
		c = 0.5 * (a + b);
		half = 0.5 * (b - a);
		for (i = 0; i < GL_N; i++)
		{
			f(c + half * gl_x[i], buf, ctx);
			for (k = 0; k < nf; k++)
				out[k] += half * gl_w[i] * buf[k];
			panel0 += half * gl_w[i] * buf[0];
		}
		if (last)
			break;
		if (p >= 4 && panel0 <= 1e-17 * out[0])
			break;
		a = b;
		h *= 2.0;
	}
	return out[0];
}
