/*-------------------------------------------------------------------------
 *
 * test_optim.c
 *	  Unit tests of the optimiser's stopping rule and of the core's
 *	  interrupt checks.
 *
 * The knife edge of issue 18 item 5: near the optimum of a likelihood over
 * tens of thousands of tuples, f and its gradient carry rounding noise (f
 * to a few units in the last place, the gradient to about 1e-7) and BFGS
 * accepted noise-sized "decreases" up to its iteration limit.  Here a
 * quadratic with such noise, a deterministic function of the bits of theta,
 * must stop in a bounded number of iterations, converged, at the minimum.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <string.h>

#include "clm_models.h"
#include "unit.h"

extern long unit_interrupt_checks;

/* a deterministic pseudo-random number in [-1, 1] from the bits of theta */
static double
noise(const double *th, int n, uint64_t salt)
{
	uint64_t	h = salt * UINT64_C(0x9E3779B97F4A7C15);
	int			i;

	for (i = 0; i < n; i++)
	{
		uint64_t	b;

		memcpy(&b, &th[i], sizeof(b));
		h ^= b + UINT64_C(0x632BE59BD9B4E019) + (h << 6) + (h >> 2);
		h *= UINT64_C(0xFF51AFD7ED558CCD);
		h ^= h >> 33;
	}
	return (double) (h >> 11) / (double) (UINT64_C(1) << 52) - 1.0;
}

typedef struct noisy_ctx
{
	double		fnoise;			/* relative noise of f */
	double		gnoise;			/* absolute noise of the gradient */
	uint64_t	salt;
} noisy_ctx;

/* 16 + a badly scaled quadratic in 4 variables, with rounding-like noise */
static double
noisy_quadratic(const double *th, double *g, void *vctx)
{
	noisy_ctx  *c = (noisy_ctx *) vctx;
	static const double ctr[4] = {-0.25, 0.8, -0.2, 0.9};
	static const double sc[4] = {0.3, 0.05, 0.5, 0.02};
	double		f = 16.0;
	int			i;

	for (i = 0; i < 4; i++)
		f += sc[i] * (th[i] - ctr[i]) * (th[i] - ctr[i]) +
			0.01 * (th[i] - ctr[i]) * (th[(i + 1) % 4] - ctr[(i + 1) % 4]);
	if (g)
		for (i = 0; i < 4; i++)
			g[i] = 2 * sc[i] * (th[i] - ctr[i]) +
				0.01 * (th[(i + 1) % 4] - ctr[(i + 1) % 4]) +
				0.01 * (th[(i + 3) % 4] - ctr[(i + 3) % 4]) +
				c->gnoise * noise(th, 4, c->salt + 1 + i);
	return f * (1.0 + c->fnoise * noise(th, 4, c->salt));
}

/* BFGS stops in a bounded number of iterations whatever the noise's draw */
static void
test_bfgs_noise_floor(void)
{
	int			salt,
				worst = 0,
				nconv = 0;

	for (salt = 0; salt < 200; salt++)
	{
		noisy_ctx	c = {4.4e-16, 2e-7, (uint64_t) salt};
		double		th[4] = {0, 0, 0, 0};
		clm_optim_result r;

		clm_bfgs(noisy_quadratic, &c, 4, th, 1000, &r);
		if (r.iterations > worst)
			worst = r.iterations;
		if (r.converged && fabs(th[0] + 0.25) < 1e-4 && fabs(th[3] - 0.9) < 1e-4)
			nconv++;
	}
	/* every draw converged at the minimum, none near the limit of 1000 */
	UNIT_CHECK(nconv == 200);
	UNIT_CHECK(worst <= 60);
	if (worst > 60)
		fprintf(stderr, "bfgs under noise: worst %d iterations\n", worst);
}

/* the likelihoods, the optimiser and the quadrature check for interrupts */
static void
test_interrupt_checks(void)
{
	clm_obs		o[1000];
	clm_fit_result r;
	const char *hint;
	long		before;
	int			i;
	static const double par[4] = {0.5, 5.0, 0.7, 3.0};

	for (i = 0; i < 1000; i++)
	{
		o[i].v[0] = i % 7;
		o[i].v[1] = (i % 7) ? 10.0 + (i % 13) : 0.0;
		o[i].v[2] = 30.0 + (i % 11);
		o[i].w = 1.0;
	}
	before = unit_interrupt_checks;
	UNIT_CHECK(clm_fit(CLM_KIND_BGNBD, o, 1000, &r, &hint) == NULL);
	/* at least one check per iteration, and per 256 tuples of each evaluation */
	UNIT_CHECK(unit_interrupt_checks - before >= 4L * r.iterations);
	before = unit_interrupt_checks;
	(void) clm_expected_purchases(CLM_KIND_PARETONBD, par, 500.0, 3, 20, 40);
	(void) clm_clv(CLM_KIND_BGNBD, par, 1.0, 1.0, 0.01, 100000, 3, 20, 40);
	UNIT_CHECK(unit_interrupt_checks - before > 0);
}

/* entry point */
void
test_optim_run(void)
{
	test_bfgs_noise_floor();
	test_interrupt_checks();
}
