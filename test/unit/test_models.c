/*
 * test_models.c
 *	  Unit tests of the clm model core (src/core/clm_*.c).
 *
 * Published figures:
 *	 BG/NBD on CDNOW (Fader, Hardie and Lee 2005, Marketing Science, table):
 *		r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4; a customer
 *		with x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in 39 weeks.
 *	 Pareto/NBD on CDNOW (Fader and Hardie 2005 note): r = 0.553,
 *		alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0.
 *	 Gamma-Gamma (FHL 2005 "RFM and CLV"): p = 6.25, q = 3.74, gamma = 15.44.
 *	 BG/BB on the donations (Fader, Hardie and Shang 2010): alpha = 1.204,
 *		beta = 0.750, gamma = 0.657, delta = 2.783, LL = -33225.6.
 *	 sBG (Fader and Hardie 2007, "How to project customer retention"),
 *		survivors 1000, 631, 468, 382, 326, 289, 262, 241 (regular) and
 *		1000, 869, 743, 653, 593, 551, 517, 491 (high end) fitted on years
 *		1-7: gamma = 0.704, delta = 1.182 and gamma = 0.668, delta = 3.806.
 *
 * Everything else is checked against test/unit/crosscheck_models.py, an
 * independent scipy computation (hyp2f1, betaln, quad, Nelder-Mead) of the
 * textbook formulas; the values it prints are copied below with the line
 * they come from.  Two published figures differ from the optimum of the
 * same log-likelihood in the last printed digit; scipy agrees with clm:
 * Pareto/NBD beta is 11.6679 (published 11.669; its standard error is
 * 6.2, the likelihood is flat in beta) and Gamma-Gamma gamma is 15.4478
 * (published 15.44; lifetimes prints 15.45).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clm_models.h"
#include "unit.h"

static void test_models_series_run(void);
static void test_models_heavy_series_run(void);

#define MAXOBS 3000

static clm_obs cd[MAXOBS];
static clm_obs cdgg[MAXOBS];
static int	ncd = 0,
			ncdgg = 0;

/* read the CDNOW summary; false when the data directory is missing */
static bool
load_cdnow(void)
{
	const char *dir = getenv("CLM_DATA_DIR");
	char		path[1024];
	char		line[256];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/cdnow_customers_summary_with_transactions.csv",
			 dir ? dir : "../shared/data");
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
	{
		fclose(f);
		return false;
	}
	while (fgets(line, sizeof(line), f) && ncd < MAXOBS)
	{
		int			id;
		double		x,
					t,
					T,
					z;

		if (sscanf(line, "%d,%lf,%lf,%lf,%lf", &id, &x, &t, &T, &z) != 5)
			continue;
		cd[ncd].v[0] = x;
		cd[ncd].v[1] = t;
		cd[ncd].v[2] = T;
		cd[ncd].w = 1;
		ncd++;
		if (x > 0)
		{
			cdgg[ncdgg].v[0] = x;
			cdgg[ncdgg].v[1] = z;
			cdgg[ncdgg].v[2] = 0;
			cdgg[ncdgg].w = 1;
			ncdgg++;
		}
	}
	fclose(f);
	return true;
}

/* the 22 donation patterns of donations.csv (weights from the file) */
static int
load_donations(clm_obs *o)
{
	const char *dir = getenv("CLM_DATA_DIR");
	char		path[1024];
	char		line[256];
	FILE	   *f;
	int			n = 0;

	snprintf(path, sizeof(path), "%s/donations.csv", dir ? dir : "../shared/data");
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
	{
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f) && n < 64)
	{
		double		x,
					t,
					p,
					w;

		if (sscanf(line, "%lf,%lf,%lf,%lf", &x, &t, &p, &w) != 4)
			continue;
		o[n].v[0] = x;
		o[n].v[1] = t;
		o[n].v[2] = p;
		o[n].w = w;
		n++;
	}
	fclose(f);
	return n;
}

/* analytic gradient vs central differences of the log-likelihood */
static void
check_gradient(int kind, const double *par, const clm_obs *o, int n)
{
	clm_ll_fn	ll = clm_kind_ll(kind);
	int			np = clm_kind_npar(kind);
	double		lp[CLM_MAX_PAR],
				g[CLM_MAX_PAR];
	int			i;

	for (i = 0; i < np; i++)
		lp[i] = log(par[i]);
	ll(lp, o, n, g);
	for (i = 0; i < np; i++)
	{
		double		h = 1e-6,
					up,
					dn;

		lp[i] += h;
		up = ll(lp, o, n, NULL);
		lp[i] -= 2 * h;
		dn = ll(lp, o, n, NULL);
		lp[i] += h;
		UNIT_CHECK_NEAR(g[i], (up - dn) / (2 * h), 1e-5 * (1 + fabs(g[i])));
	}
}

static void
test_special(void)
{
	/* digamma reference values (Abramowitz and Stegun 6.3) */
	UNIT_CHECK_NEAR(clm_digamma(1.0), -0.5772156649015329, 1e-13);
	UNIT_CHECK_NEAR(clm_digamma(0.5), -1.9635100260214235, 1e-13);
	UNIT_CHECK_NEAR(clm_digamma(10.0), 2.251752589066721, 1e-13);
	UNIT_CHECK_NEAR(clm_digamma(1e-3), -1000.5755719318103, 1e-9);
	UNIT_CHECK_NEAR(clm_lbeta(2.0, 3.0), log(1.0 / 12.0), 1e-14);
}

static void
test_gradients(void)
{
	static const clm_obs cont[] = {
		{{0, 0, 38.86}, 3}, {{2, 30.43, 38.86}, 1}, {{26, 30.86, 31}, 2},
		{{5, 5, 5}, 1}, {{300, 900, 1000}, 1}, {{1, 0.5, 2000}, 1}
	};
	static const clm_obs gg[] = {{{1, 10}, 2}, {{5, 31.2}, 1}, {{120, 7.5}, 1}};
	static const clm_obs bb[] = {
		{{0, 0, 6}, 10}, {{3, 5, 6}, 4}, {{6, 6, 6}, 2}, {{1, 1, 6}, 3}
	};
	static const clm_obs sb[] = {{{1, 1}, 369}, {{3, 1}, 86}, {{7, 0}, 241}};
	double		p1[] = {0.243, 4.414, 0.793, 2.426};
	double		p2[] = {0.553, 10.578, 0.606, 11.669};
	double		p3[] = {2.0, 30.0, 1.5, 3.0};	/* alpha > beta, series */
	double		p4[] = {0.8, 0.5, 2.0, 60.0};	/* alpha < beta, quadrature too */
	double		pg[] = {6.25, 3.74, 15.44};
	double		pb[] = {1.204, 0.750, 0.657, 2.783};
	double		ps[] = {0.704, 1.182};

	check_gradient(CLM_KIND_BGNBD, p1, cont, 6);
	check_gradient(CLM_KIND_MBGNBD, p1, cont, 6);
	check_gradient(CLM_KIND_PARETONBD, p2, cont, 6);
	check_gradient(CLM_KIND_PARETONBD, p3, cont, 6);
	check_gradient(CLM_KIND_PARETONBD, p4, cont, 6);
	check_gradient(CLM_KIND_GG, pg, gg, 3);
	check_gradient(CLM_KIND_BGBB, pb, bb, 4);
	check_gradient(CLM_KIND_SBG, ps, sb, 3);
}

/* Pareto/NBD: the series and the quadrature give the same log I and derivatives */
static void
test_pareto_series_vs_quadrature(void)
{
	double		pars[][4] = {
		{0.553, 10.578, 0.606, 11.669}, {2.0, 30.0, 1.5, 3.0},
		{0.8, 5.0, 2.0, 8.0}, {0.3, 1.0, 0.7, 1.5}
	};
	double		data[][3] = {{0, 0, 38.86}, {2, 30.43, 38.86}, {26, 1.0, 31}, {7, 3, 500}};
	int			i,
				j,
				k,
				nseries = 0;

	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
		{
			double		ds[4],
						dq[4];
			bool		bs,
						bq;
			double		ls = clm_paretonbd_log_i(pars[i], data[j][0], data[j][1], data[j][2], 1, ds, &bs);
			double		lq = clm_paretonbd_log_i(pars[i], data[j][0], data[j][1], data[j][2], 2, dq, &bq);

			UNIT_CHECK(isfinite(lq) && !bq);
			if (!bs)
				continue;
			nseries++;
			UNIT_CHECK_NEAR(ls, lq, 1e-11 * (1 + fabs(lq)));
			for (k = 0; k < 4; k++)
				UNIT_CHECK_NEAR(ds[k], dq[k], 1e-8 * (1 + fabs(dq[k])));
		}
	UNIT_CHECK(nseries >= 10);
	/* far from alpha = beta (z near 1) the series is refused, quadrature used */
	{
		double		p[] = {0.5, 500.0, 0.5, 0.01};
		double		d[4];
		bool		bs;

		UNIT_CHECK(isnan(clm_paretonbd_log_i(p, 3, 0.1, 40, 1, d, &bs)));
		UNIT_CHECK(isfinite(clm_paretonbd_log_i(p, 3, 0.1, 40, 0, d, &bs)) && !bs);
	}
}

static void
test_cdnow_fits(void)
{
	clm_fit_result r;
	const char *hint;

	if (!load_cdnow())
	{
		fprintf(stderr, "CDNOW data not found: data tests skipped\n");
		return;
	}
	UNIT_CHECK(ncd == 2357);
	UNIT_CHECK(ncdgg == 946);

	UNIT_CHECK(clm_fit(CLM_KIND_BGNBD, cd, ncd, &r, &hint) == NULL);
	UNIT_CHECK(r.converged);
	UNIT_CHECK_NEAR(r.par[0], 0.243, 0.0005);
	UNIT_CHECK_NEAR(r.par[1], 4.414, 0.0005);
	UNIT_CHECK_NEAR(r.par[2], 0.793, 0.0005);
	UNIT_CHECK_NEAR(r.par[3], 2.426, 0.0005);
	UNIT_CHECK_NEAR(r.ll, -9582.4, 0.05);
	/* scipy optimum (crosscheck_models.py "bgnbd") */
	UNIT_CHECK_NEAR(r.ll, -9582.42556056736, 1e-6);
	UNIT_CHECK(r.se[0] > 0 && r.se[3] > 0);

	UNIT_CHECK(clm_fit(CLM_KIND_PARETONBD, cd, ncd, &r, &hint) == NULL);
	UNIT_CHECK(r.converged);
	UNIT_CHECK_NEAR(r.par[0], 0.553, 0.0005);
	UNIT_CHECK_NEAR(r.par[1], 10.578, 0.0005);
	UNIT_CHECK_NEAR(r.par[2], 0.606, 0.0005);
	UNIT_CHECK_NEAR(r.par[3], 11.669, 0.0015);	/* 11.6679: see the header */
	UNIT_CHECK_NEAR(r.par[3], 11.66790572, 0.0005);	/* scipy "paretonbd" */
	UNIT_CHECK_NEAR(r.ll, -9595.0, 0.05);
	UNIT_CHECK_NEAR(r.ll, -9594.973929826861, 1e-6);

	/* MBG/NBD: no published CDNOW fit; scipy "mbgnbd" */
	UNIT_CHECK(clm_fit(CLM_KIND_MBGNBD, cd, ncd, &r, &hint) == NULL);
	UNIT_CHECK(r.converged);
	UNIT_CHECK_NEAR(r.par[0], 0.52483799, 1e-4);
	UNIT_CHECK_NEAR(r.par[1], 6.18299159, 1e-3);
	UNIT_CHECK_NEAR(r.par[2], 0.89135614, 1e-4);
	UNIT_CHECK_NEAR(r.par[3], 1.61399915, 1e-3);
	UNIT_CHECK_NEAR(r.ll, -9582.132684899902, 1e-6);

	UNIT_CHECK(clm_fit(CLM_KIND_GG, cdgg, ncdgg, &r, &hint) == NULL);
	UNIT_CHECK(r.converged);
	UNIT_CHECK_NEAR(r.par[0], 6.25, 0.005);
	UNIT_CHECK_NEAR(r.par[1], 3.74, 0.005);
	UNIT_CHECK_NEAR(r.par[2], 15.44, 0.01);	/* 15.4478: see the header */
	UNIT_CHECK_NEAR(r.par[2], 15.44775059, 2e-4);	/* scipy "gg" */
	UNIT_CHECK_NEAR(r.ll, -4055.92324350286, 1e-6);
}

static void
test_bgbb_sbg_fits(void)
{
	clm_obs		d[64];
	int			n = load_donations(d);
	clm_fit_result r;
	const char *hint;
	double		W = 0;
	int			i;

	if (n > 0)
	{
		for (i = 0; i < n; i++)
			W += d[i].w;
		UNIT_CHECK(n == 22);
		UNIT_CHECK_NEAR(W, 11104, 0);
		UNIT_CHECK(clm_fit(CLM_KIND_BGBB, d, n, &r, &hint) == NULL);
		UNIT_CHECK(r.converged);
		UNIT_CHECK_NEAR(r.par[0], 1.204, 0.0005);
		UNIT_CHECK_NEAR(r.par[1], 0.750, 0.0005);
		UNIT_CHECK_NEAR(r.par[2], 0.657, 0.0005);
		UNIT_CHECK_NEAR(r.par[3], 2.783, 0.0005);
		UNIT_CHECK_NEAR(r.ll, -33225.6, 0.05);
		UNIT_CHECK_NEAR(r.ll, -33225.58127434699, 1e-6);		/* scipy "bgbb" */
	}

	/* sBG: Fader and Hardie (2007), years 1..7 of the two cohorts */
	{
		static const int reg[] = {1000, 631, 468, 382, 326, 289, 262, 241};
		static const int high[] = {1000, 869, 743, 653, 593, 551, 517, 491};
		const int  *c[2] = {reg, high};
		double		want[2][2] = {{0.704, 1.182}, {0.668, 3.806}};
		/* S(12) * 1000 by scipy "sbg": the projection of the paper's figure */
		double		s12[2] = {170.03744975687005, 377.9990811399296};
		int			k,
					t;

		for (k = 0; k < 2; k++)
		{
			clm_obs		o[8];

			for (t = 1; t <= 7; t++)
			{
				o[t - 1].v[0] = t;
				o[t - 1].v[1] = 1;
				o[t - 1].v[2] = 0;
				o[t - 1].w = c[k][t - 1] - c[k][t];
			}
			o[7].v[0] = 7;
			o[7].v[1] = 0;
			o[7].v[2] = 0;
			o[7].w = c[k][7];
			UNIT_CHECK(clm_fit(CLM_KIND_SBG, o, 8, &r, &hint) == NULL);
			UNIT_CHECK(r.converged);
			UNIT_CHECK_NEAR(r.par[0], want[k][0], 0.0005);
			UNIT_CHECK_NEAR(r.par[1], want[k][1], 0.0005);
			UNIT_CHECK_NEAR(clm_sbg_survival(r.par, 12) * 1000, s12[k], 0.01);
			UNIT_CHECK_NEAR(clm_sbg_retention(r.par, 1), r.par[1] / (r.par[0] + r.par[1]), 1e-15);
		}
	}
}

static void
test_predictions(void)
{
	/* parameters as printed by crosscheck_models.py (full precision there) */
	double		bg[] = {0.242594150135163, 4.41358964344441, 0.792919156875463, 2.42589430574212};
	double		pn[] = {0.55327552, 10.57761245, 0.60621341, 11.66790572};
	double		bb[] = {1.20352227, 0.74971632, 0.65671822, 2.78344232};
	double		gg[] = {6.24880203, 3.74458869, 15.44775059};

	/* FHL 2005: 1.226 expected purchases in 39 weeks; scipy hyp2f1: 1.2259071246878548 */
	UNIT_CHECK_NEAR(clm_expected_purchases(CLM_KIND_BGNBD, bg, 39, 2, 30.43, 38.86), 1.226, 0.0005);
	UNIT_CHECK_NEAR(clm_expected_purchases(CLM_KIND_BGNBD, bg, 39, 2, 30.43, 38.86), 1.2259071246878548, 1e-9);
	UNIT_CHECK_NEAR(clm_p_alive(CLM_KIND_BGNBD, bg, 2, 30.43, 38.86), 0.7266091413098286, 1e-12);
	UNIT_CHECK_NEAR(clm_expected_purchases(CLM_KIND_BGNBD, bg, 39, 0, 0, 38.86), 0.1947817762053346, 1e-9);
	UNIT_CHECK_NEAR(clm_expected_purchases(CLM_KIND_BGNBD, bg, 39, 26, 30.86, 31), 20.75030156399218, 1e-8);
	UNIT_CHECK_NEAR(clm_p_alive(CLM_KIND_BGNBD, bg, 26, 30.86, 31), 0.9689186161551941, 1e-12);
	UNIT_CHECK_NEAR(clm_expected_purchases(CLM_KIND_BGNBD, bg, 10, 5, 20, 40), 0.2882944752766295, 1e-9);
	/* P(Y(39) = k): scipy quad over p of FHL eq. 8 under the posterior */
	UNIT_CHECK_NEAR(clm_p_purchases(CLM_KIND_BGNBD, bg, 0, 39, 2, 30.43, 38.86), 0.4453926376656197, 1e-9);
	UNIT_CHECK_NEAR(clm_p_purchases(CLM_KIND_BGNBD, bg, 1, 39, 2, 30.43, 38.86), 0.23933030089284738, 1e-9);
	UNIT_CHECK_NEAR(clm_p_purchases(CLM_KIND_BGNBD, bg, 2, 39, 2, 30.43, 38.86), 0.14417833374997646, 1e-9);
	UNIT_CHECK_NEAR(clm_p_no_purchase(CLM_KIND_BGNBD, bg, 39, 2, 30.43, 38.86), 0.4453926376656197, 1e-9);
	{
		/* the P(k) sum to 1 and their mean is the expectation */
		double		s = 0,
					m = 0;
		int			k;

		for (k = 0; k < 400; k++)
		{
			double		p = clm_p_purchases(CLM_KIND_BGNBD, bg, k, 39, 2, 30.43, 38.86);

			s += p;
			m += k * p;
		}
		UNIT_CHECK_NEAR(s, 1.0, 1e-9);
		UNIT_CHECK_NEAR(m, 1.2259071246878548, 1e-7);
	}

	/* Pareto/NBD, scipy quad of the defining integral */
	UNIT_CHECK_NEAR(clm_p_alive(CLM_KIND_PARETONBD, pn, 2, 30.43, 38.86), 0.869118735597256, 1e-9);
	UNIT_CHECK_NEAR(clm_expected_purchases(CLM_KIND_PARETONBD, pn, 39, 2, 30.43, 38.86), 1.455113032086589, 1e-8);
	UNIT_CHECK_NEAR(clm_p_alive(CLM_KIND_PARETONBD, pn, 0, 0, 38.86), 0.295097156715988, 1e-9);
	UNIT_CHECK_NEAR(clm_expected_purchases(CLM_KIND_PARETONBD, pn, 39, 0, 0, 38.86), 0.1070597978648029, 1e-9);
	UNIT_CHECK_NEAR(clm_p_alive(CLM_KIND_PARETONBD, pn, 26, 30.86, 31), 0.9979179436164293, 1e-9);
	UNIT_CHECK_NEAR(clm_expected_purchases(CLM_KIND_PARETONBD, pn, 39, 26, 30.86, 31), 20.115867757330868, 1e-7);
	/* DERT: FHL 2005 closed form with Tricomi U (scipy hyperu) */
	UNIT_CHECK_NEAR(clm_paretonbd_dert(pn, 0.0014, 2, 30.43, 38.86), 9.510674865884171, 1e-6);
	{
		/* P(none in t) lies between 1 - P(alive) and 1, and P(none in 0) = 1 */
		double		p0 = clm_p_no_purchase(CLM_KIND_PARETONBD, pn, 39, 2, 30.43, 38.86);

		UNIT_CHECK(p0 > 1 - 0.869118735597256 && p0 < 1);
		/* P(k) of Pareto/NBD: P(0) is p_no_purchase; they sum to 1; mean = E */
		{
			double		s = 0,
						mean = 0;
			int			k;

			UNIT_CHECK_NEAR(clm_p_purchases(CLM_KIND_PARETONBD, pn, 0, 39, 2, 30.43, 38.86), p0, 1e-10);
			for (k = 0; k < 400; k++)
			{
				double		p = clm_p_purchases(CLM_KIND_PARETONBD, pn, k, 39, 2, 30.43, 38.86);

				s += p;
				mean += k * p;
			}
			UNIT_CHECK_NEAR(s, 1.0, 1e-9);
			UNIT_CHECK_NEAR(mean, 1.455113032086589, 1e-7);
		}
		UNIT_CHECK_NEAR(clm_p_no_purchase(CLM_KIND_PARETONBD, pn, 0, 2, 30.43, 38.86), 1.0, 0);
	}

	/* BG/BB: scipy, FHS 2010 eqs. 11 and 13 (closed form with gamma - 1) */
	UNIT_CHECK_NEAR(clm_p_alive(CLM_KIND_BGBB, bb, 0, 0, 6), 0.10813329033555368, 1e-8);
	UNIT_CHECK_NEAR(clm_expected_purchases(CLM_KIND_BGBB, bb, 5, 0, 0, 6), 0.07286334266533799, 1e-8);
	UNIT_CHECK_NEAR(clm_p_alive(CLM_KIND_BGBB, bb, 3, 6, 6), 0.9304335749588045, 1e-8);
	UNIT_CHECK_NEAR(clm_expected_purchases(CLM_KIND_BGBB, bb, 5, 3, 6, 6), 2.1897486587962716, 1e-8);
	UNIT_CHECK_NEAR(clm_expected_purchases(CLM_KIND_BGBB, bb, 5, 6, 6, 6), 3.752544228593012, 1e-8);
	UNIT_CHECK_NEAR(clm_p_alive(CLM_KIND_BGBB, bb, 1, 1, 6), 0.06946180964141248, 1e-8);

	/* Gamma-Gamma: E = p (gamma + x zbar) / (p x + q - 1), customer 1 (x=2, zbar=22.35) */
	UNIT_CHECK_NEAR(clm_expected_spend(gg, 2, 22.35),
			   6.24880203 * (15.44775059 + 2 * 22.35) / (6.24880203 * 2 + 3.74458869 - 1), 1e-12);
	UNIT_CHECK_NEAR(clm_expected_spend(gg, 2, 22.35), 24.6586, 0.0001);

	/*
	 * CLV with zero discount over 39 unit periods equals margin * spend *
	 * E[Y(39)] (the sum telescopes); with discount it is smaller.
	 */
	UNIT_CHECK_NEAR(clm_clv(CLM_KIND_BGNBD, bg, 20, 0.5, 0, 39, 2, 30.43, 38.86),
			   10 * 1.2259071246878548, 1e-7);
	UNIT_CHECK_NEAR(clm_clv(CLM_KIND_PARETONBD, pn, 20, 0.5, 0, 39, 2, 30.43, 38.86),
			   10 * 1.455113032086589, 1e-7);
	UNIT_CHECK_NEAR(clm_clv(CLM_KIND_BGBB, bb, 20, 0.5, 0, 5, 3, 6, 6), 10 * 2.1897486587962716, 1e-7);
	UNIT_CHECK(clm_clv(CLM_KIND_BGNBD, bg, 20, 0.5, 0.01, 39, 2, 30.43, 38.86) < 10 * 1.2259);
	{
		/* discounted BG/NBD CLV = sum of discounted period increments (direct) */
		double		s = 0,
					prev = 0;
		int			k;

		for (k = 1; k <= 39; k++)
		{
			double		cur = clm_expected_purchases(CLM_KIND_BGNBD, bg, k, 2, 30.43, 38.86);

			s += (cur - prev) / pow(1.01, k);
			prev = cur;
		}
		UNIT_CHECK_NEAR(clm_clv(CLM_KIND_BGNBD, bg, 1, 1, 0.01, 39, 2, 30.43, 38.86), s, 1e-9);
	}
	/* MBG/NBD reduces to the same machinery: P(alive) closed form */
	UNIT_CHECK_NEAR(clm_p_alive(CLM_KIND_MBGNBD, bg, 0, 0, 38.86),
			   1.0 / (1.0 + bg[2] / bg[3] * pow((bg[1] + 38.86) / bg[1], bg[0])), 1e-14);
}

/* stress inputs: never NaN or infinite */
static void
test_stress(void)
{
	double		pars[][4] = {
		{0.243, 4.414, 0.793, 2.426}, {1e-6, 1e-6, 1e-6, 1e-6}, {1e6, 1e6, 1e6, 1e6},
		{1e-4, 1e4, 0.999999, 1e-4}, {50, 0.01, 1.0, 1.0}, {0.5, 1e3, 1e-3, 1e5}
	};
	double		data[][3] = {
		{0, 0, 38.86}, {5, 38.86, 38.86}, {500, 999, 1000}, {300, 1, 5000},
		{1, 1e-9, 1e-6}, {900, 4999, 5000}
	};
	int			i,
				j,
				kind,
				bad = 0;

	for (kind = CLM_KIND_BGNBD; kind <= CLM_KIND_PARETONBD; kind++)
		for (i = 0; i < 6; i++)
			for (j = 0; j < 6; j++)
			{
				double		lp[4],
							g[4];
				clm_obs		o = {{data[j][0], data[j][1], data[j][2]}, 1};
				double		v[6];
				int			k;

				for (k = 0; k < 4; k++)
					lp[k] = log(pars[i][k]);
				v[0] = clm_kind_ll(kind) (lp, &o, 1, g);
				v[1] = clm_p_alive(kind, pars[i], data[j][0], data[j][1], data[j][2]);
				v[2] = clm_expected_purchases(kind, pars[i], 52, data[j][0], data[j][1], data[j][2]);
				v[3] = clm_p_no_purchase(kind, pars[i], 52, data[j][0], data[j][1], data[j][2]);
				v[4] = clm_clv(kind, pars[i], 10, 1, 0.01, 52, data[j][0], data[j][1], data[j][2]);
				v[5] = g[0] + g[1] + g[2] + g[3];
				for (k = 0; k < 6; k++)
					if (!isfinite(v[k]))
					{
						bad++;
						fprintf(stderr, "stress: kind %d par %d data %d value %d = %g\n",
								kind, i, j, k, v[k]);
					}
				if (!(v[1] >= 0 && v[1] <= 1 && v[3] >= 0 && v[3] <= 1 && v[2] >= 0))
				{
					bad++;
					fprintf(stderr, "stress: kind %d par %d data %d out of range\n", kind, i, j);
				}
			}
	UNIT_CHECK(bad == 0);
}

/* identification errors and input checks */
static void
test_errors(void)
{
	clm_obs		o[10];
	clm_fit_result r;
	const char *hint;
	double		v1[3] = {1, 5, 4},
				v2[3] = {0, 1, 4},
				v3[3] = {2, 1, 4},
				v4[3] = {NAN, 0, 1};
	int			i;

	for (i = 0; i < 10; i++)
	{
		o[i].v[0] = 0;
		o[i].v[1] = 0;
		o[i].v[2] = 10 + i;
		o[i].w = 1;
	}
	UNIT_CHECK(clm_fit(CLM_KIND_BGNBD, o, 10, &r, &hint) != NULL && hint != NULL);
	UNIT_CHECK(clm_fit(CLM_KIND_PARETONBD, o, 2, &r, &hint) != NULL && hint != NULL);
	UNIT_CHECK(clm_obs_check(CLM_KIND_BGNBD, v1) != NULL);
	UNIT_CHECK(clm_obs_check(CLM_KIND_BGNBD, v2) != NULL);
	UNIT_CHECK(clm_obs_check(CLM_KIND_BGNBD, v3) == NULL);
	UNIT_CHECK(clm_obs_check(CLM_KIND_BGBB, v3) != NULL);
	UNIT_CHECK(clm_obs_check(CLM_KIND_GG, v4) != NULL);
	UNIT_CHECK(!clm_predict_applies(CLM_KIND_GG, CLM_PRED_P_ALIVE));
	UNIT_CHECK(clm_predict_applies(CLM_KIND_PARETONBD, CLM_PRED_P_N));
	UNIT_CHECK(clm_predict_applies(CLM_KIND_PARETONBD, CLM_PRED_DERT));
}

/*
 * The model table: every kind has a complete entry, found back by its name;
 * next purchase and new customers by hand.
 */
static void
test_model_table(void)
{
	int			k,
				i;
	double		bg[4] = {0.243, 4.414, 0.793, 2.426},
				pn[4] = {0.5534, 10.5802, 0.6061, 11.6562};
	clm_next_purchase_result n;
	double		R = 0.243 + 2,
				A = 4.414 + 38.86;

	for (k = 1; k <= CLM_KIND_MAX; k++)
	{
		const clm_model_def *d = clm_model_get_def(k);

		UNIT_CHECK(d != NULL && d->name != NULL && d->ll != NULL && d->check != NULL);
		UNIT_CHECK(d->npar >= 1 && d->npar <= CLM_MAX_PAR);
		UNIT_CHECK(clm_kind_from_name(d->name) == k);
		for (i = 0; i < d->npar; i++)
			UNIT_CHECK(d->par_names[i] != NULL);
		/* CLV needs the expected purchases, the next purchase P(alive) and P(none) */
		UNIT_CHECK(d->discounted == NULL || d->expected != NULL);
		UNIT_CHECK(!d->gamma_rate || (d->p_alive != NULL && d->p_none != NULL));
	}
	UNIT_CHECK(clm_model_get_def(0) == NULL && clm_model_get_def(CLM_KIND_MAX + 1) == NULL);

	/* BG/NBD next purchase by hand: R = r + x, A = alpha + T */
	clm_next_purchase(CLM_KIND_BGNBD, bg, 10, 2, 30.43, 38.86, &n);
	UNIT_CHECK_NEAR(n.p_within, n.p_alive * (1 - pow(A / (A + 10), R)), 1e-14);
	UNIT_CHECK_NEAR(pow(A / (A + n.median_wait), R), 0.5, 1e-14);
	UNIT_CHECK_NEAR(n.mean_wait, A / (R - 1), 1e-12);
	UNIT_CHECK_NEAR(1 / n.mean_interval,
					n.own_weight / n.own_interval + (1 - n.own_weight) / n.population_interval, 1e-14);
	/* Pareto/NBD: death can only lower the chance of a purchase */
	clm_next_purchase(CLM_KIND_PARETONBD, pn, 10, 2, 30.43, 38.86, &n);
	UNIT_CHECK(n.p_within < n.p_alive * (1 - pow((10.5802 + 38.86) / (10.5802 + 48.86), 2.5534)));

	/* new customers: the closed form against the conditional at x = t_x = T = 0 */
	UNIT_CHECK_NEAR(clm_new_customer_expected(CLM_KIND_PARETONBD, pn, 39),
					clm_expected_purchases(CLM_KIND_PARETONBD, pn, 39, 0, 0, 0), 1e-8);
	{
		double		p1[4] = {0.5, 10, 1, 12},
					p2[4] = {0.5, 10, 1 + 1e-9, 12};

		UNIT_CHECK_NEAR(clm_new_customer_expected(CLM_KIND_PARETONBD, p1, 39), 0.6 * log1p(39 / 12.0), 1e-14);
		UNIT_CHECK_NEAR(clm_new_customer_expected(CLM_KIND_PARETONBD, p2, 39), 0.6 * log1p(39 / 12.0), 1e-9);
	}
	UNIT_CHECK(isnan(clm_new_customer_expected(CLM_KIND_GG, bg, 39)));
	UNIT_CHECK(clm_new_customer_expected(CLM_KIND_BGNBD, bg, 0) == 0);
}

/* entry point called by main() */
void
test_models_run(void)
{
	test_special();
	test_gradients();
	test_pareto_series_vs_quadrature();
	test_cdnow_fits();
	test_bgbb_sbg_fits();
	test_predictions();
	test_stress();
	test_errors();
	test_model_table();
	test_models_series_run();
	test_models_heavy_series_run();
}


/* BG/NBD and MBG/NBD: the series fast path agrees with the quadrature (and scipy) */
static void
test_models_series_run(void)
{
	double		pars[][4] = {
		{0.243, 4.414, 0.793, 2.426}, {0.525, 6.183, 0.891, 1.614}, {1.5, 2.0, 3.0, 0.5}, {0.1, 30, 0.3, 9}
	};
	double		cases[][3] = {{39, 0, 38.86}, {39, 2, 38.86}, {10, 26, 31}, {52, 5, 100}, {1, 1, 1}};
	int			i,
				j,
				m,
				nseries = 0;

	for (m = 0; m <= 1; m++)
		for (i = 0; i < 4; i++)
			for (j = 0; j < 5; j++)
			{
				double		s = clm_bg_expected_given_alive(m, pars[i], cases[j][0], cases[j][1], cases[j][2], 1);
				double		q = clm_bg_expected_given_alive(m, pars[i], cases[j][0], cases[j][1], cases[j][2], 2);

				UNIT_CHECK(isfinite(q) && q > 0);
				if (isnan(s))
					continue;
				nseries++;
				UNIT_CHECK_NEAR(s, q, 1e-9 * q);
			}
	UNIT_CHECK(nseries >= 20);
	/* scipy hyp2f1 (FHL eq. 10) for r 1.5, alpha 2, a 3, b 0.5, x 2, T 38.86, t 39 */
	UNIT_CHECK_NEAR(clm_bg_expected_given_alive(0, pars[2], 39, 2, 38.86, 2), 1.4837180440906526, 1e-10);
	UNIT_CHECK_NEAR(clm_bg_expected_given_alive(1, pars[2], 39, 0, 38.86, 2), 0.7998800490772245, 1e-10);
}

/*
 * Heavy buyers (r + x > 50): the series beyond its original domain agrees
 * with mpmath's hyp2f1 in FHL eq. 10 to 1e-12, and roughly (1e-4) with the
 * quadrature over p, which is off by up to 1e-5 relative at x = 600, a = 3
 * (it was the only method there before); the
 * discounted sum of clm.clv by shared series coefficients equals the sum of
 * the per-period series.
 */
static void
test_models_heavy_series_run(void)
{
	double		pars[][4] = {{0.77, 2.227, 0.797, 2.432}, {0.243, 4.414, 0.793, 2.426}, {1.5, 2.0, 3.0, 0.5}};
	double		xs[] = {10, 60, 150, 300, 600};
	double		Ts[] = {20, 60, 150, 400};
	int			i,
				j,
				k,
				m,
				nseries = 0,
				nall = 0;

	/* mpmath 1.3, 40 digits: C/(a-1) (1 - A 2F1(R, bb; C; z)) */
	UNIT_CHECK_NEAR(clm_bg_expected_given_alive(0, pars[2], 30, 60, 20, 1),
					25.550249076502188571, 1e-12 * 25.55);
	UNIT_CHECK_NEAR(clm_bg_expected_given_alive(0, pars[2], 1, 150, 20, 1),
					6.4464813235153250094, 1e-12 * 6.45);
	UNIT_CHECK_NEAR(clm_bg_expected_given_alive(0, pars[0], 52, 300, 60, 1),
					194.61839043484267146, 1e-12 * 194.6);
	UNIT_CHECK_NEAR(clm_bg_expected_given_alive(1, pars[1], 13, 600, 150, 1),
					48.934865008522039243, 1e-12 * 48.9);
	UNIT_CHECK_NEAR(clm_bg_expected_given_alive(0, pars[2], 1, 300, 20, 1),
					12.826460250932088054, 1e-12 * 12.8);
	UNIT_CHECK_NEAR(clm_bg_expected_given_alive(1, pars[2], 52, 150, 400, 1),
					16.394421567359302523, 1e-12 * 16.4);
	for (m = 0; m <= 1; m++)
		for (i = 0; i < 3; i++)
			for (j = 0; j < 20; j++)
			{
				double		x = xs[j % 5],
							T = Ts[j / 5];
				double		prev = 0.0,
							df = 1.0,
							want = 0.0,
							got;
				bool		all_series = true;

				for (k = 1; k <= 52; k++)
				{
					double		q = clm_bg_expected_given_alive(m, pars[i], k, x, T, 2);
					double		s = clm_bg_expected_given_alive(m, pars[i], k, x, T, 1);

					if (!isnan(s))
					{
						nseries++;
						UNIT_CHECK_NEAR(s, q, 1e-4 * q);
						q = s;
					}
					else
						all_series = false;
					df /= 1.002;
					want += (q - prev) * df;
					prev = q;
				}
				got = clm_bg_discounted_given_alive(m, pars[i], 0.002, 52, x, T);
				nall += all_series;
				UNIT_CHECK_NEAR(got, want, (all_series ? 1e-12 : 1e-4) * want);
			}
	UNIT_CHECK(nseries >= 2000);
	UNIT_CHECK(nall >= 40);
}
