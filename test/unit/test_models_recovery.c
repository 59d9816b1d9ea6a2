/*
 * test_models_recovery.c
 *	  Parameter recovery: simulate BG/NBD, MBG/NBD and Pareto/NBD customers
 *	  with known parameters (exact event times, a fixed-seed generator), fit
 *	  them and require every estimate within 3 standard errors of the truth.
 *
 * This is the independent check of the fit and of the standard errors for
 * the continuous-time models: the simulators below implement the models'
 * stories directly (purchases as a Poisson process, dropout after each
 * purchase with probability p -- MBG/NBD also at time 0 -- or at an
 * exponential death time for Pareto/NBD), not their likelihoods.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clm_models.h"
#include "unit.h"

static uint64_t rng_state = 88172645463325252ULL;

/* xorshift64*: uniform in (0, 1) */
static double
unif(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return ((rng_state * 2685821657736338717ULL) >> 11) * (1.0 / 9007199254740992.0) + 1e-300;
}

/* standard normal by Box-Muller */
static double
normal(void)
{
	return sqrt(-2.0 * log(unif())) * cos(2.0 * M_PI * unif());
}

/* Gamma(shape, 1) by Marsaglia and Tsang (boosted for shape < 1) */
static double
gamma1(double shape)
{
	double		d,
				c;

	if (shape < 1.0)
		return gamma1(shape + 1.0) * pow(unif(), 1.0 / shape);
	d = shape - 1.0 / 3.0;
	c = 1.0 / sqrt(9.0 * d);
	for (;;)
	{
		double		z = normal(),
					v = 1.0 + c * z;

		if (v <= 0)
			continue;
		v = v * v * v;
		if (log(unif()) < 0.5 * z * z + d - d * v + d * log(v))
			return d * v;
	}
}

/* simulate one customer of kind over (0, T]; fills v = (x, t_x, T) */
static void
simulate(int kind, const double *par, double T, double *v)
{
	double		t = 0.0,
				tx = 0.0;
	int			x = 0;

	v[2] = T;
	if (kind == CLM_KIND_PARETONBD)
	{
		double		lam = gamma1(par[0]) / par[1];
		double		tau = -log(unif()) / (gamma1(par[2]) / par[3]);
		double		end = fmin(T, tau);

		for (;;)
		{
			t += -log(unif()) / lam;
			if (t > end)
				break;
			x++;
			tx = t;
		}
	}
	else
	{
		double		lam = gamma1(par[0]) / par[1];
		double		g1 = gamma1(par[2]),
					p = g1 / (g1 + gamma1(par[3]));

		/* MBG/NBD: may drop out right after the first purchase */
		if (!(kind == CLM_KIND_MBGNBD && unif() < p))
		{
			for (;;)
			{
				t += -log(unif()) / lam;
				if (t > T)
					break;
				x++;
				tx = t;
				if (unif() < p)
					break;
			}
		}
	}
	v[0] = x;
	v[1] = x > 0 ? tx : 0.0;
}

/* simulate n customers, fit, check 3 standard errors */
static void
recover(int kind, const double *truth, int n)
{
	clm_obs    *o = malloc(sizeof(clm_obs) * n);
	clm_fit_result r;
	const char *hint;
	int			i,
				k;

	for (i = 0; i < n; i++)
	{
		/* ages of 1 to 52 time units, continuous */
		simulate(kind, truth, 1.0 + 51.0 * unif(), o[i].v);
		o[i].w = 1.0;
	}
	UNIT_CHECK(clm_fit(kind, o, n, &r, &hint) == NULL);
	UNIT_CHECK(r.converged);
	for (k = 0; k < r.npar; k++)
	{
		UNIT_CHECK(r.se[k] > 0);
		if (!(fabs(r.par[k] - truth[k]) <= 3.0 * r.se[k]))
			fprintf(stderr, "recovery %s %s: %g vs %g (se %g)\n", clm_kind_name(kind),
					clm_kind_par_name(kind, k), r.par[k], truth[k], r.se[k]);
		UNIT_CHECK(fabs(r.par[k] - truth[k]) <= 3.0 * r.se[k]);
	}
	free(o);
}

/* entry point called by main() */
void
test_models_recovery_run(void)
{
	double		bg[] = {0.243, 4.414, 0.793, 2.426};
	double		pn[] = {0.553, 10.578, 0.606, 11.669};

	recover(CLM_KIND_BGNBD, bg, 20000);
	recover(CLM_KIND_MBGNBD, bg, 20000);
	recover(CLM_KIND_PARETONBD, pn, 20000);
}
