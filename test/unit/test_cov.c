/*-------------------------------------------------------------------------
 *
 * test_cov.c
 *	  Unit tests of the static covariates (src/core/clm_cov.c): the
 *	  likelihood against the BG/NBD closed form at individual parameters and
 *	  at z = 0, the gradient against central differences, the links'
 *	  signs, the identification of constant and collinear covariates, the
 *	  fit at z = 0 against the fit without covariates, and the recovery of
 *	  known covariate effects from simulated customers.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "clm_cov.h"
#include "rng.h"
#include "unit.h"

/* BG/NBD log-likelihood of one customer, Fader, Hardie and Lee (2005), eq. 6 */
static double
bgnbd_ll_closed(double r, double alpha, double a, double b,
				double x, double t_x, double T)
{
	double		common = lgamma(r + x) - lgamma(r) + r * log(alpha);
	double		t1 = clm_lbeta(a, b + x) - clm_lbeta(a, b) - (r + x) * log(alpha + T);

	if (x == 0)
		return common + t1;
	return common + clm_logsumexp2(t1, clm_lbeta(a + 1, b + x - 1) - clm_lbeta(a, b) -
								   (r + x) * log(alpha + t_x));
}

static const clm_obs cont[] = {
	{{0, 0, 38.86}, 3}, {{2, 30.43, 38.86}, 1}, {{26, 30.86, 31}, 2},
	{{5, 5, 5}, 1}, {{1, 0.5, 20}, 1}, {{3, 10, 40}, 2}
};
static const clm_obs ggo[] = {
	{{1, 10}, 2}, {{5, 31.2}, 1}, {{12, 7.5}, 1}, {{2, 20}, 1}, {{3, 15}, 2}, {{1, 40}, 1}
};
/* two covariates per tuple: blocks {0,1}, {2}, {3,4,5} */
static const double zc[] = {1, 0.5, 1, 0.5, -0.3, 2, 0, 1.5, 0, 1.5, 0, 1.5};

/* a problem over the tuples above, with its blocks */
static clm_cov_problem
problem(int kind, const clm_obs *obs, const double *z, int n, int k)
{
	clm_cov_problem p;

	p.kind = kind;
	p.obs = obs;
	p.z = z;
	p.n = n;
	p.k = k;
	p.blk = clm_cov_blocks(z, n, k, &p.nblk);
	return p;
}

/* likelihood at z against the closed form at the individual parameters */
static void
test_cov_ll_closed_form(void)
{
	double		theta[8] = {log(0.243), log(4.414), log(0.793), log(2.426),
	0.3, -0.2, 0.4, 0.1};
	double		zero[12] = {0};
	clm_cov_problem p = problem(CLM_KIND_BGNBD, cont, zc, 6, 2);
	clm_cov_problem p0 = problem(CLM_KIND_BGNBD, cont, zero, 6, 2);
	double		want = 0.0,
				want0 = 0.0;
	int			i;

	for (i = 0; i < 6; i++)
	{
		const double *z = zc + 2 * i;
		double		tr = 0.3 * z[0] - 0.2 * z[1],
					li = 0.4 * z[0] + 0.1 * z[1];

		want += cont[i].w * bgnbd_ll_closed(0.243, 4.414 * exp(-tr), 0.793 * exp(li),
											2.426 * exp(li), cont[i].v[0],
											cont[i].v[1], cont[i].v[2]);
		want0 += cont[i].w * bgnbd_ll_closed(0.243, 4.414, 0.793, 2.426, cont[i].v[0],
											 cont[i].v[1], cont[i].v[2]);
	}
	UNIT_CHECK_NEAR(clm_cov_ll(&p, theta, NULL), want, 1e-9 * fabs(want));
	UNIT_CHECK_NEAR(clm_cov_ll(&p0, theta, NULL), want0, 1e-9 * fabs(want0));
	/* at z = 0 the model's own likelihood, to the bit, whatever the gammas */
	UNIT_CHECK(clm_cov_ll(&p0, theta, NULL) == clm_bgnbd_ll(theta, cont, 6, NULL));
	UNIT_CHECK(p.nblk == 3 && p0.nblk == 1);
	free((void *) p.blk);
	free((void *) p0.blk);
}

/* gradient against central differences of the likelihood */
static void
check_cov_gradient(int kind, const double *theta, const clm_obs *obs)
{
	clm_cov_problem p = problem(kind, obs, zc, 6, 2);
	int			nth = clm_cov_ntheta(kind, 2),
				j;
	double		g[CLM_OPT_MAX_N];
	double		ll = clm_cov_ll(&p, theta, g);

	UNIT_CHECK(isfinite(ll));
	for (j = 0; j < nth; j++)
	{
		double		tp[CLM_OPT_MAX_N],
					tm[CLM_OPT_MAX_N],
					h = 1e-6,
					fd;

		memcpy(tp, theta, sizeof(double) * nth);
		memcpy(tm, theta, sizeof(double) * nth);
		tp[j] += h;
		tm[j] -= h;
		fd = (clm_cov_ll(&p, tp, NULL) - clm_cov_ll(&p, tm, NULL)) / (2 * h);
		UNIT_CHECK_NEAR(g[j], fd, 1e-5 * fmax(1.0, fabs(fd)));
	}
	free((void *) p.blk);
}

/* the gradients of every kind with covariates */
static void
test_cov_gradients(void)
{
	double		tb[] = {log(0.243), log(4.414), log(0.793), log(2.426), 0.3, -0.2, 0.4, 0.1};
	double		tp[] = {log(0.553), log(10.578), log(0.606), log(11.669), 0.3, -0.2, -0.5, 0.25};
	double		tg[] = {log(6.25), log(3.74), log(15.44), 0.2, -0.1};

	check_cov_gradient(CLM_KIND_BGNBD, tb, cont);
	check_cov_gradient(CLM_KIND_MBGNBD, tb, cont);
	check_cov_gradient(CLM_KIND_PARETONBD, tp, cont);
	check_cov_gradient(CLM_KIND_GG, tg, ggo);
}

/* individual parameters: the signs of the links */
static void
test_cov_individual(void)
{
	double		par[] = {0.5, 10, 0.8, 2.5};
	double		gam[] = {0.7, -0.4};	/* trans, life (k = 1) */
	double		z[] = {2.0};
	double		pi[CLM_MAX_PAR];
	double		big[] = {1e6};

	UNIT_CHECK(clm_cov_individual(CLM_KIND_BGNBD, par, gam, 1, z, pi));
	UNIT_CHECK_NEAR(pi[0], 0.5, 0);
	UNIT_CHECK_NEAR(pi[1], 10 * exp(-1.4), 1e-12);
	UNIT_CHECK_NEAR(pi[2], 0.8 * exp(-0.8), 1e-12);
	UNIT_CHECK_NEAR(pi[3], 2.5 * exp(-0.8), 1e-12);
	UNIT_CHECK(clm_cov_individual(CLM_KIND_PARETONBD, par, gam, 1, z, pi));
	UNIT_CHECK_NEAR(pi[1], 10 * exp(-1.4), 1e-12);
	UNIT_CHECK_NEAR(pi[2], 0.8, 0);
	UNIT_CHECK_NEAR(pi[3], 2.5 * exp(0.8), 1e-12);
	UNIT_CHECK(clm_cov_individual(CLM_KIND_GG, par, gam, 1, z, pi));
	UNIT_CHECK_NEAR(pi[2], 0.8 * exp(1.4), 1e-12);
	/* overflow is reported, not returned */
	UNIT_CHECK(!clm_cov_individual(CLM_KIND_BGNBD, par, gam, 1, big, pi));
	UNIT_CHECK(clm_cov_get_link(CLM_KIND_BGBB) == NULL);
	UNIT_CHECK(clm_cov_ntheta(CLM_KIND_PARETONBD, 3) == 10);
}

/* one simulated BG/NBD or Pareto/NBD customer observed for T */
static void
simulate(ClmRng *rng, int kind, const double *pi, double T, clm_obs *o)
{
	double		lambda = clm_rng_gamma(rng, pi[0], pi[1]);
	double		t = 0.0,
				tx = 0.0,
				x = 0.0;

	if (kind == CLM_KIND_BGNBD)
	{
		double		p = clm_rng_beta(rng, pi[2], pi[3]);

		for (;;)
		{
			t += clm_rng_exponential(rng) / lambda;
			if (t > T)
				break;
			x += 1;
			tx = t;
			if (clm_rng_uniform(rng) < p)
				break;
		}
	}
	else
	{
		double		mu = clm_rng_gamma(rng, pi[2], pi[3]);
		double		tau = clm_rng_exponential(rng) / mu;
		double		end = fmin(tau, T);

		for (;;)
		{
			t += clm_rng_exponential(rng) / lambda;
			if (t > end)
				break;
			x += 1;
			tx = t;
		}
	}
	o->v[0] = x;
	o->v[1] = tx;
	o->v[2] = T;
	o->w = 1;
}

/* ascending by z then v, as the histogram keeps them */
static int	sort_k;
static int
cmp_rows(const void *a, const void *b)
{
	const double *x = a,
			   *y = b;
	int			i;

	for (i = 0; i < 4 + sort_k; i++)
	{
		int			j = i < sort_k ? 4 + i : i - sort_k;

		if (x[j] < y[j])
			return -1;
		if (x[j] > y[j])
			return 1;
	}
	return 0;
}

/*
 * Recovery: N customers with a dummy z1 (share 0.4) and a continuous
 * z2 (normal, rounded to 0.1), simulated from known base parameters and
 * effects; every estimate within 3 standard errors of the truth, and the
 * count within 2 printed.  Then the same tuples with z = 0: the fit is
 * clm_fit's to the bit.
 */
static void
check_recovery(int kind, const double *par, const double *gam, unsigned seed, int N)
{
	enum
	{
		K = 2
	};
	double	   *rows = malloc(sizeof(double) * N * (4 + K));
	clm_obs    *obs = malloc(sizeof(clm_obs) * N);
	double	   *z = malloc(sizeof(double) * N * K);
	double	   *z0 = calloc(N * K, sizeof(double));
	ClmRng		rng;
	clm_cov_problem p;
	clm_cov_fit_result res;
	clm_fit_result plain;
	const char *hint;
	int			i,
				j,
				within2 = 0,
				within3 = 0,
				total = 0,
				npar = clm_kind_npar(kind);

	clm_rng_seed(&rng, seed);
	for (i = 0; i < N; i++)
	{
		double	   *row = rows + (size_t) i * (4 + K);
		double		zi[K],
					pi[CLM_MAX_PAR];
		clm_obs		o;

		zi[0] = clm_rng_uniform(&rng) < 0.4 ? 1.0 : 0.0;
		zi[1] = round(clm_rng_normal(&rng) * 10) / 10;
		clm_cov_individual(kind, par, gam, K, zi, pi);
		simulate(&rng, kind, pi, 20 + 32 * clm_rng_uniform(&rng), &o);
		row[0] = o.v[0];
		row[1] = o.v[1];
		row[2] = o.v[2];
		row[3] = 1;
		row[4] = zi[0];
		row[5] = zi[1];
	}
	sort_k = K;
	qsort(rows, N, sizeof(double) * (4 + K), cmp_rows);
	for (i = 0; i < N; i++)
	{
		double	   *row = rows + (size_t) i * (4 + K);

		obs[i].v[0] = row[0];
		obs[i].v[1] = row[1];
		obs[i].v[2] = row[2];
		obs[i].w = row[3];
		z[i * K] = row[4];
		z[i * K + 1] = row[5];
	}
	p.kind = kind;
	p.obs = obs;
	p.z = z;
	p.n = N;
	p.k = K;
	p.blk = NULL;
	UNIT_CHECK(clm_cov_fit(&p, &res, &hint) == NULL);
	UNIT_CHECK(res.base.converged);
	UNIT_CHECK(res.used[0] && res.used[1]);
	for (j = 0; j < npar; j++)
	{
		double		dev = fabs(res.base.par[j] - par[j]) / res.base.se[j];

		total++;
		within2 += dev <= 2;
		within3 += dev <= 3;
		UNIT_CHECK(dev <= 3);
	}
	for (j = 0; j < 2 * K; j++)
	{
		double		dev = fabs(res.gamma[j] - gam[j]) / res.gamma_se[j];

		total++;
		within2 += dev <= 2;
		within3 += dev <= 3;
		UNIT_CHECK(dev <= 3);
	}
	fprintf(stderr, "  %s recovery (%d customers, %d distinct): %d of %d estimates within 2 SE, %d within 3 SE;"
			" trans g = (%.3f, %.3f) se (%.3f, %.3f), life g = (%.3f, %.3f) se (%.3f, %.3f)\n",
			clm_kind_name(kind), N, res.base.n_distinct, within2, total, within3,
			res.gamma[0], res.gamma[1], res.gamma_se[0], res.gamma_se[1],
			res.gamma[2], res.gamma[3], res.gamma_se[2], res.gamma_se[3]);

	/* all covariates zero: the no-covariate fit, to the bit */
	p.z = z0;
	UNIT_CHECK(clm_cov_fit(&p, &res, &hint) == NULL);
	UNIT_CHECK(clm_fit(kind, obs, N, &plain, &hint) == NULL);
	UNIT_CHECK(!res.used[0] && !res.used[1]);
	for (j = 0; j < npar; j++)
		UNIT_CHECK(res.base.par[j] == plain.par[j] && res.base.se[j] == plain.se[j]);
	UNIT_CHECK(res.base.ll == plain.ll && res.gamma[0] == 0 && res.gamma_se[0] < 0);

	/* a constant second covariate and a collinear one are left out */
	for (i = 0; i < N; i++)
	{
		z0[i * K] = z[i * K];
		z0[i * K + 1] = 3.0;
	}
	p.z = z0;
	UNIT_CHECK(clm_cov_fit(&p, &res, &hint) == NULL);
	UNIT_CHECK(res.used[0] && !res.used[1] && res.gamma[1] == 0 && res.gamma_se[1] < 0);
	for (i = 0; i < N; i++)
		z0[i * K + 1] = 1.0 - 2.0 * z[i * K];
	UNIT_CHECK(clm_cov_fit(&p, &res, &hint) == NULL);
	UNIT_CHECK(res.used[0] && !res.used[1]);
	free(rows);
	free(obs);
	free(z);
	free(z0);
}

/* recovery for the two purchase models */
static void
test_cov_recovery(void)
{
	double		pb[] = {0.75, 10.0, 0.8, 2.5};
	double		gb[] = {0.5, -0.3, 0.6, 0.2};	/* trans z1, z2; life z1, z2 */
	double		pp[] = {0.75, 10.0, 0.6, 20.0};
	double		gp[] = {0.5, -0.3, 0.7, 0.25};

	check_recovery(CLM_KIND_BGNBD, pb, gb, 20261203, 30000);
	check_recovery(CLM_KIND_PARETONBD, pp, gp, 20261204, 30000);
	/* beyond 50,000 distinct tuples: the start from a subsample */
	check_recovery(CLM_KIND_BGNBD, pb, gb, 20261205, 80000);
}

/* register */
void
test_cov_run(void)
{
	test_cov_ll_closed_form();
	test_cov_gradients();
	test_cov_individual();
	test_cov_recovery();
}
