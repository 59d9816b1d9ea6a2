/*-------------------------------------------------------------------------
 *
 * rng.h
 *	  Seeded pseudo-random numbers for the sample-data generator.
 *
 * Plain C (no PostgreSQL headers), so the numerical core can be unit-tested
 * without a server.  The generator is xoshiro256** (Blackman & Vigna 2018),
 * seeded through splitmix64.  On top of it: uniform, exponential, normal,
 * gamma (Marsaglia & Tsang 2000, with the shape < 1 boost), beta (from two
 * gammas, in log space when a shape is below 1) and Poisson (multiplication
 * for small means, Hormann's PTRS for large ones).
 *
 * Every draw is a pure function of the state, so a stream is reproducible on
 * every platform that has IEEE doubles and a correctly rounded libm for the
 * few transcendental calls used (log, exp, sqrt, pow).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_RNG_H
#define CLM_RNG_H

#include <stdint.h>

typedef struct ClmRng
{
	uint64_t	s[4];			/* xoshiro256** state, never all zero */
	double		spare_normal;	/* second value of the polar method */
	int			has_spare;		/* spare_normal is valid */
} ClmRng;

/* one step of splitmix64: advances *state and returns the mixed output */
extern uint64_t clm_splitmix64(uint64_t *state);

/* seed a generator from one 64-bit seed */
extern void clm_rng_seed(ClmRng *rng, uint64_t seed);

/* seed a generator from (seed, stream): independent stream per customer */
extern void clm_rng_seed_stream(ClmRng *rng, uint64_t seed, uint64_t stream);

/* next raw 64-bit output of xoshiro256** */
extern uint64_t clm_rng_next(ClmRng *rng);

/* uniform double in [0, 1), 53 random bits */
extern double clm_rng_uniform(ClmRng *rng);

/* uniform double in (0, 1), never 0 nor 1 */
extern double clm_rng_uniform_pos(ClmRng *rng);

/* uniform integer in [0, n), n > 0, without modulo bias */
extern uint64_t clm_rng_below(ClmRng *rng, uint64_t n);

/* exponential with rate 1 (mean 1) */
extern double clm_rng_exponential(ClmRng *rng);

/* standard normal N(0, 1) */
extern double clm_rng_normal(ClmRng *rng);

/* gamma with the given shape and rate (mean shape / rate); both > 0 */
extern double clm_rng_gamma(ClmRng *rng, double shape, double rate);

/* log of a Gamma(shape, 1) draw; finite even when the draw underflows */
extern double clm_rng_log_gamma(ClmRng *rng, double shape);

/* beta with shapes a, b > 0 (mean a / (a + b)) */
extern double clm_rng_beta(ClmRng *rng, double a, double b);

/* Poisson with mean lambda >= 0 */
extern uint64_t clm_rng_poisson(ClmRng *rng, double lambda);

#endif							/* CLM_RNG_H */
