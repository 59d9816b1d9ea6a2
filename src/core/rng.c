/*-------------------------------------------------------------------------
 *
 * rng.c
 *	  Seeded pseudo-random numbers for the sample-data generator.
 *
 * See rng.h.  No PostgreSQL headers here: this file is also linked into the
 * C unit tests (test/unit).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "rng.h"

#include <math.h>

#define CLM_TWO_POW_M53		(1.0 / 9007199254740992.0)	/* 2^-53 */

/* rotate a 64-bit word left by k bits, 0 < k < 64 */
static inline uint64_t
rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* one step of splitmix64 (Steele, Lea & Flood 2014) */
uint64_t
clm_splitmix64(uint64_t *state)
{
	uint64_t	z = (*state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* fill the xoshiro state from a splitmix64 stream started at sm */
static void
seed_from_splitmix(ClmRng *rng, uint64_t sm)
{
	int			i;

	for (i = 0; i < 4; i++)
		rng->s[i] = clm_splitmix64(&sm);
	/* splitmix64 is a bijection of its counter, so four zeros cannot occur */
	if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0)
		rng->s[0] = 1;
	rng->has_spare = 0;
	rng->spare_normal = 0.0;
}

/* seed a generator from one 64-bit seed */
void
clm_rng_seed(ClmRng *rng, uint64_t seed)
{
	seed_from_splitmix(rng, seed);
}

/*
 * Seed a generator from (seed, stream).
 *
 * Both words are hashed by splitmix64 before they are combined, so streams
 * for neighbouring (seed, stream) pairs start from unrelated states.
 */
void
clm_rng_seed_stream(ClmRng *rng, uint64_t seed, uint64_t stream)
{
	uint64_t	a = seed;
	uint64_t	b = stream ^ UINT64_C(0x6A09E667F3BCC909);
	uint64_t	ha = clm_splitmix64(&a);
	uint64_t	hb = clm_splitmix64(&b);

	seed_from_splitmix(rng, ha ^ rotl64(hb, 29));
}

/* next output of xoshiro256** (Blackman & Vigna 2018) */
uint64_t
clm_rng_next(ClmRng *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = rotl64(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

/* uniform double in [0, 1) from the top 53 bits */
double
clm_rng_uniform(ClmRng *rng)
{
	return (double) (clm_rng_next(rng) >> 11) * CLM_TWO_POW_M53;
}

/* uniform double in (0, 1): the midpoints of the 2^53 cells */
double
clm_rng_uniform_pos(ClmRng *rng)
{
	return ((double) (clm_rng_next(rng) >> 11) + 0.5) * CLM_TWO_POW_M53;
}

/* uniform integer in [0, n) by Lemire's multiply-and-reject method */
uint64_t
clm_rng_below(ClmRng *rng, uint64_t n)
{
	unsigned __int128 m;
	uint64_t	lo;

	if (n <= 1)
		return 0;
	m = (unsigned __int128) clm_rng_next(rng) * n;
	lo = (uint64_t) m;
	if (lo < n)
	{
		uint64_t	threshold = (0 - n) % n;

		while (lo < threshold)
		{
			m = (unsigned __int128) clm_rng_next(rng) * n;
			lo = (uint64_t) m;
		}
	}
	return (uint64_t) (m >> 64);
}

/* exponential with mean 1, by inversion */
double
clm_rng_exponential(ClmRng *rng)
{
	return -log(clm_rng_uniform_pos(rng));
}

/* standard normal by Marsaglia's polar method; keeps the second value */
double
clm_rng_normal(ClmRng *rng)
{
	double		u,
				v,
				s,
				f;

	if (rng->has_spare)
	{
		rng->has_spare = 0;
		return rng->spare_normal;
	}
	do
	{
		u = 2.0 * clm_rng_uniform(rng) - 1.0;
		v = 2.0 * clm_rng_uniform(rng) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	f = sqrt(-2.0 * log(s) / s);
	rng->spare_normal = v * f;
	rng->has_spare = 1;
	return u * f;
}

/*
 * Gamma(shape, 1) for shape >= 1, Marsaglia & Tsang (2000).
 *
 * With d = shape - 1/3 and c = 1 / sqrt(9 d), draw x ~ N(0, 1) and set
 * v = (1 + c x)^3; accept d v when v > 0 and
 *		log u < x^2 / 2 + d (1 - v + log v),
 * with the cheap squeeze u < 1 - 0.0331 x^4 tried first.  The acceptance
 * rate is above 95% for every shape >= 1.
 */
static double
gamma_shape_ge1(ClmRng *rng, double shape)
{
	double		d = shape - 1.0 / 3.0;
	double		c = 1.0 / sqrt(9.0 * d);

	for (;;)
	{
		double		x,
					v,
					u;

		do
		{
			x = clm_rng_normal(rng);
			v = 1.0 + c * x;
		} while (v <= 0.0);
		v = v * v * v;
		u = clm_rng_uniform_pos(rng);
		if (u < 1.0 - 0.0331 * (x * x) * (x * x))
			return d * v;
		if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
			return d * v;
	}
}

/*
 * log of a Gamma(shape, 1) draw.
 *
 * For shape < 1 Marsaglia & Tsang's boost is used: if g ~ Gamma(shape + 1)
 * and u ~ U(0, 1) then g u^(1/shape) ~ Gamma(shape).  In log space,
 *		log g + log(u) / shape,
 * which stays finite when the draw itself would underflow to 0 (tiny shapes).
 */
double
clm_rng_log_gamma(ClmRng *rng, double shape)
{
	if (shape >= 1.0)
		return log(gamma_shape_ge1(rng, shape));
	else
	{
		double		g = gamma_shape_ge1(rng, shape + 1.0);

		return log(g) + log(clm_rng_uniform_pos(rng)) / shape;
	}
}

/* Gamma(shape, rate): mean shape / rate, variance shape / rate^2 */
double
clm_rng_gamma(ClmRng *rng, double shape, double rate)
{
	double		g;

	if (shape >= 1.0)
		g = gamma_shape_ge1(rng, shape);
	else
	{
		g = gamma_shape_ge1(rng, shape + 1.0);
		g *= pow(clm_rng_uniform_pos(rng), 1.0 / shape);
	}
	return g / rate;
}

/*
 * Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
 *
 * When a shape is below 1 both gammas are drawn in log space and the ratio is
 * 1 / (1 + exp(log Y - log X)), which cannot give 0/0 when both underflow.
 */
double
clm_rng_beta(ClmRng *rng, double a, double b)
{
	if (a >= 1.0 && b >= 1.0)
	{
		double		x = gamma_shape_ge1(rng, a);
		double		y = gamma_shape_ge1(rng, b);

		return x / (x + y);
	}
	else
	{
		double		lx = clm_rng_log_gamma(rng, a);
		double		ly = clm_rng_log_gamma(rng, b);

		return 1.0 / (1.0 + exp(ly - lx));
	}
}

/*
 * Poisson(lambda).
 *
 * lambda < 10: multiply uniforms until the product drops below exp(-lambda)
 * (Knuth).  lambda >= 10: PTRS, the transformed rejection with squeeze of
 * Hormann (1993), "The transformed rejection method for generating Poisson
 * random variables", constants as published.
 */
uint64_t
clm_rng_poisson(ClmRng *rng, double lambda)
{
	if (!(lambda > 0.0))
		return 0;
	if (lambda < 10.0)
	{
		double		limit = exp(-lambda);
		double		prod = clm_rng_uniform_pos(rng);
		uint64_t	k = 0;

		while (prod > limit)
		{
			k++;
			prod *= clm_rng_uniform_pos(rng);
		}
		return k;
	}
	else
	{
		double		slam = sqrt(lambda);
		double		loglam = log(lambda);
		double		b = 0.931 + 2.53 * slam;
		double		a = -0.059 + 0.02483 * b;
		double		invalpha = 1.1239 + 1.1328 / (b - 3.4);
		double		vr = 0.9277 - 3.6224 / (b - 2.0);

		for (;;)
		{
			double		u = clm_rng_uniform(rng) - 0.5;
			double		v = clm_rng_uniform_pos(rng);
			double		us = 0.5 - fabs(u);
			double		k;

			if (us <= 0.0)
				continue;
			k = floor((2.0 * a / us + b) * u + lambda + 0.43);
			if (us >= 0.07 && v <= vr)
				return (uint64_t) k;
			if (k < 0.0 || (us < 0.013 && v > us))
				continue;
			if (log(v) + log(invalpha) - log(a / (us * us) + b) <=
				-lambda + k * loglam - lgamma(k + 1.0))
				return (uint64_t) k;
		}
	}
}
