/*-------------------------------------------------------------------------
 *
 * test_rng.c
 *	  Unit tests of src/core/rng.c: reference streams, determinism, and the
 *	  first two moments of every distribution.
 *
 * Moment checks draw N values and compare the sample mean and variance
 * with the closed forms.  The tolerance is 5 standard errors for the mean
 * (sd / sqrt(N)) and 6 for the variance (var * sqrt((2 + excess kurtosis) / N)),
 * so a correct generator fails a check with probability below 1e-6; the
 * seeds are fixed, so the outcome is deterministic anyway.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "unit.h"
#include "rng.h"

#include <stdint.h>

#define N_DRAWS 200000

typedef double (*draw_fn) (ClmRng *rng, const double *par);

/* check mean and variance of N_DRAWS draws against the closed forms */
static void
check_moments(const char *what, draw_fn fn, const double *par,
			  double mean, double var, double exkurt, double lo, double hi)
{
	ClmRng		rng;
	double		s = 0.0,
				ss = 0.0,
				m,
				v;
	int			i,
				out_of_range = 0;

	clm_rng_seed_stream(&rng, 2026, (uint64_t) (par[0] * 1000 + par[1]));
	for (i = 0; i < N_DRAWS; i++)
	{
		double		x = fn(&rng, par);

		if (!(x >= lo && x <= hi))
			out_of_range++;
		s += x;
		ss += x * x;
	}
	m = s / N_DRAWS;
	v = ss / N_DRAWS - m * m;
	if (out_of_range)
		fprintf(stderr, "%s: %d draws out of [%g, %g]\n", what, out_of_range, lo, hi);
	UNIT_CHECK(out_of_range == 0);
	UNIT_CHECK_NEAR(m, mean, 5.0 * sqrt(var / N_DRAWS));
	UNIT_CHECK_NEAR(v, var, 6.0 * var * sqrt((2.0 + exkurt) / N_DRAWS));
}

/* adapters from the generator API to draw_fn */
static double
d_uniform(ClmRng *rng, const double *par)
{
	return clm_rng_uniform(rng);
}

static double
d_uniform_pos(ClmRng *rng, const double *par)
{
	return clm_rng_uniform_pos(rng);
}

static double
d_exponential(ClmRng *rng, const double *par)
{
	return clm_rng_exponential(rng);
}

static double
d_normal(ClmRng *rng, const double *par)
{
	return clm_rng_normal(rng);
}

static double
d_gamma(ClmRng *rng, const double *par)
{
	return clm_rng_gamma(rng, par[0], par[1]);
}

static double
d_beta(ClmRng *rng, const double *par)
{
	return clm_rng_beta(rng, par[0], par[1]);
}

static double
d_poisson(ClmRng *rng, const double *par)
{
	return (double) clm_rng_poisson(rng, par[0]);
}

static double
d_below(ClmRng *rng, const double *par)
{
	return (double) clm_rng_below(rng, (uint64_t) par[0]);
}

/* reference outputs, computed with an independent Python implementation */
static void
test_reference_streams(void)
{
	/* splitmix64 from 1234567: the values on Vigna's reference page */
	static const uint64_t sm_ref[5] = {
		UINT64_C(6457827717110365317), UINT64_C(3203168211198807973),
		UINT64_C(9817491932198370423), UINT64_C(4593380528125082431),
		UINT64_C(16408922859458223821)
	};
	uint64_t	st = 1234567;
	ClmRng		rng;
	int			i;

	for (i = 0; i < 5; i++)
		UNIT_CHECK(clm_splitmix64(&st) == sm_ref[i]);

	/* xoshiro256** seeded by splitmix64(42) */
	clm_rng_seed(&rng, 42);
	UNIT_CHECK(clm_rng_next(&rng) == UINT64_C(0x15780b2e0c2ec716));
	UNIT_CHECK(clm_rng_next(&rng) == UINT64_C(0x6104d9866d113a7e));
	UNIT_CHECK(clm_rng_next(&rng) == UINT64_C(0xae17533239e499a1));

	/* stream (42, 7) */
	clm_rng_seed_stream(&rng, 42, 7);
	UNIT_CHECK(clm_rng_next(&rng) == UINT64_C(0x77c94cb0da5eb17a));
	UNIT_CHECK(clm_rng_next(&rng) == UINT64_C(0x95f9385fd1f739e2));
	UNIT_CHECK(clm_rng_next(&rng) == UINT64_C(0x9638d18fa7b4585c));
}

/* same (seed, stream) gives the same draws; other streams differ */
static void
test_determinism(void)
{
	ClmRng		a,
				b,
				c;
	int			i,
				same = 1,
				differ_b = 0,
				differ_c = 0;

	clm_rng_seed_stream(&a, 42, 1);
	clm_rng_seed_stream(&b, 42, 1);
	for (i = 0; i < 1000; i++)
	{
		double		x = clm_rng_gamma(&a, 0.75, 2.0);
		double		y = clm_rng_gamma(&b, 0.75, 2.0);

		if (x != y)
			same = 0;
	}
	UNIT_CHECK(same);

	clm_rng_seed_stream(&a, 42, 1);
	clm_rng_seed_stream(&b, 42, 2);
	clm_rng_seed_stream(&c, 43, 1);
	for (i = 0; i < 100; i++)
	{
		uint64_t	x = clm_rng_next(&a);

		differ_b += (x != clm_rng_next(&b));
		differ_c += (x != clm_rng_next(&c));
	}
	UNIT_CHECK(differ_b == 100);
	UNIT_CHECK(differ_c == 100);
}

/* edge cases: tiny shapes, zero means, bounds */
static void
test_edges(void)
{
	ClmRng		rng;
	int			i,
				ok_log = 1,
				ok_beta = 1,
				ok_small = 1;
	double		s = 0.0;

	clm_rng_seed(&rng, 7);
	UNIT_CHECK(clm_rng_poisson(&rng, 0.0) == 0);
	UNIT_CHECK(clm_rng_below(&rng, 1) == 0);
	UNIT_CHECK(clm_rng_below(&rng, 0) == 0);

	/* shape 0.001: the draw often underflows, its log must stay finite */
	for (i = 0; i < 10000; i++)
	{
		double		lg = clm_rng_log_gamma(&rng, 0.001);

		if (!isfinite(lg))
			ok_log = 0;
	}
	UNIT_CHECK(ok_log);

	/* Beta(0.01, 0.01): mass at both ends, never NaN, always in [0, 1] */
	for (i = 0; i < 10000; i++)
	{
		double		p = clm_rng_beta(&rng, 0.01, 0.01);

		if (!(p >= 0.0 && p <= 1.0))
			ok_beta = 0;
		s += p;
	}
	UNIT_CHECK(ok_beta);
	UNIT_CHECK_NEAR(s / 10000, 0.5, 0.03);	/* sd of the mean ~ 0.005 */

	/* Gamma(0.05, 1) draws are >= 0 and finite */
	for (i = 0; i < 10000; i++)
	{
		double		g = clm_rng_gamma(&rng, 0.05, 1.0);

		if (!(g >= 0.0 && isfinite(g)))
			ok_small = 0;
	}
	UNIT_CHECK(ok_small);
}

/* moments of every distribution */
static void
test_distributions(void)
{
	static const double gamma_shapes[] = {0.05, 0.3, 0.75, 1.0, 2.5, 10.0, 250.0};
	static const double beta_pars[][2] = {
		{0.8, 2.5}, {2.0, 3.0}, {0.3, 0.3}, {5.0, 0.5}, {1.0, 1.0}
	};
	static const double poisson_means[] = {0.5, 3.0, 9.99, 10.0, 25.0, 1000.0, 1e6};
	double		par[2] = {0.0, 0.0};
	int			i;

	check_moments("uniform", d_uniform, par, 0.5, 1.0 / 12, -1.2, 0.0, 1.0);
	check_moments("uniform_pos", d_uniform_pos, par, 0.5, 1.0 / 12, -1.2, 1e-300, 1.0 - 1e-17);
	check_moments("exponential", d_exponential, par, 1.0, 1.0, 6.0, 0.0, HUGE_VAL);
	check_moments("normal", d_normal, par, 0.0, 1.0, 0.0, -HUGE_VAL, HUGE_VAL);

	par[0] = 7;					/* uniform on {0..6}: mean 3, var (49-1)/12 = 4 */
	check_moments("below(7)", d_below, par, 3.0, 4.0, -1.25, 0.0, 6.0);

	for (i = 0; i < (int) (sizeof(gamma_shapes) / sizeof(gamma_shapes[0])); i++)
	{
		double		k = gamma_shapes[i];

		par[0] = k;
		par[1] = 2.0;
		/* mean k/rate, var k/rate^2, excess kurtosis 6/k */
		check_moments("gamma", d_gamma, par, k / 2.0, k / 4.0, 6.0 / k, 0.0, HUGE_VAL);
	}

	for (i = 0; i < (int) (sizeof(beta_pars) / sizeof(beta_pars[0])); i++)
	{
		double		a = beta_pars[i][0],
					b = beta_pars[i][1],
					n = a + b;
		double		var = a * b / (n * n * (n + 1));

		/* excess kurtosis of the beta is at most ~ 1/var; bound it loosely */
		par[0] = a;
		par[1] = b;
		check_moments("beta", d_beta, par, a / n, var, 6.0, 0.0, 1.0);
	}

	for (i = 0; i < (int) (sizeof(poisson_means) / sizeof(poisson_means[0])); i++)
	{
		double		l = poisson_means[i];

		par[0] = l;
		par[1] = 0;
		/* mean = var = lambda, excess kurtosis 1/lambda */
		check_moments("poisson", d_poisson, par, l, l, 1.0 / l, 0.0, HUGE_VAL);
	}
}

/* Poisson(3) probabilities of 0 and 3 (pmf e^-3 3^k / k!) */
static void
test_poisson_pmf(void)
{
	ClmRng		rng;
	int			i,
				n0 = 0,
				n3 = 0,
				n12 = 0;

	clm_rng_seed(&rng, 99);
	for (i = 0; i < N_DRAWS; i++)
	{
		uint64_t	k = clm_rng_poisson(&rng, 3.0);

		n0 += (k == 0);
		n3 += (k == 3);
	}
	/* P(0) = 0.049787, P(3) = 0.224042; sd of a share <= 0.0010 */
	UNIT_CHECK_NEAR((double) n0 / N_DRAWS, 0.049787068, 0.005);
	UNIT_CHECK_NEAR((double) n3 / N_DRAWS, 0.224041808, 0.005);

	/* PTRS branch: P(X = 12 | lambda = 12) = 0.114367 */
	for (i = 0; i < N_DRAWS; i++)
		n12 += (clm_rng_poisson(&rng, 12.0) == 12);
	UNIT_CHECK_NEAR((double) n12 / N_DRAWS, 0.114367, 0.005);
}

/* all rng tests */
void
test_rng(void)
{
	test_reference_streams();
	test_determinism();
	test_edges();
	test_distributions();
	test_poisson_pmf();
}
