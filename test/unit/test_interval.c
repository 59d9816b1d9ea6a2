/*
 * test_interval.c
 *	  Unit tests of the prediction intervals' core (src/core/clm_interval.c).
 *
 * Independent references: the count distributions against the models' own
 * pmf (clm_p_purchases: the closed form of Fader, Hardie and Lee 2005 for
 * BG/NBD, a quadrature of its own for Pareto/NBD) and expectations; the
 * normal quantiles and incomplete gamma values by their closed forms or
 * published tables (Abramowitz and Stegun 26.2); the sigma points by the
 * moments they must reproduce.
 */
#include <math.h>
#include <stdlib.h>

#include "clm_interval.h"
#include "unit.h"

/* the count distribution of a kind against its pmf and expectation */
static void
check_counts(int kind, const double *par, double tol)
{
	double		t = 39,
				x = 2,
				t_x = 30.43,
				T = 38.86;
	clm_alive_counts d;
	double		pa = clm_p_alive(kind, par, x, t_x, T);
	int			k;

	UNIT_CHECK(clm_alive_counts_dist(kind, par, t, x, T, &d) == NULL);
	UNIT_CHECK(d.n > 10 && d.cdf[d.n - 1] > 1 - 1e-12);
	for (k = 0; k <= 10; k++)
	{
		double		pk = d.cdf[k] - (k > 0 ? d.cdf[k - 1] : 0.0);
		double		want = clm_p_purchases(kind, par, k, t, x, t_x, T);

		UNIT_CHECK_NEAR(pa * pk + (k == 0 ? 1 - pa : 0), want, tol);
	}
	UNIT_CHECK_NEAR(pa * d.m1, clm_expected_purchases(kind, par, t, x, t_x, T), tol);
	/* E[Y^2] >= E[Y]^2 and the variance from the pmf */
	{
		double		m2 = 0.0;

		for (k = 1; k < d.n; k++)
			m2 += (double) k * k * (d.cdf[k] - d.cdf[k - 1]);
		UNIT_CHECK_NEAR(m2, d.m2, 1e-9 * d.m2);
		UNIT_CHECK(d.m2 > d.m1 * d.m1);
	}
	/* the quantile of a single point: the smallest k with P(Y <= k) >= q */
	{
		double		w = 1.0;
		double		q90 = clm_count_quantile(1, &w, &pa, &d, 0.95);
		double		F = 0.0;

		for (k = 0; k < 200; k++)
		{
			F += clm_p_purchases(kind, par, k, t, x, t_x, T);
			if (F >= 0.95)
				break;
		}
		UNIT_CHECK_NEAR(q90, (double) k, 0);
	}
	free(d.cdf);
}

/* entry point */
void
test_interval_run(void)
{
	double		bg[4] = {0.243, 4.414, 0.793, 2.426};
	double		pnbd[4] = {0.553, 10.578, 0.606, 11.669};

	check_counts(CLM_KIND_BGNBD, bg, 1e-12);
	check_counts(CLM_KIND_MBGNBD, bg, 1e-12);
	check_counts(CLM_KIND_PARETONBD, pnbd, 1e-7);

	/*
	 * the CLV's discounted purchases (clm_clv with margin * spend = 1, the
	 * function of clm.clv and of the intervals' estimate) against the
	 * discounted period increments of E[Y(k)] by the quadrature over p
	 */
	{
		double		pars[2][4] = {{0.243, 4.414, 0.793, 2.426}, {0.75, 2.0, 0.8, 2.5}};
		double		cust[4][3] = {{2, 30.43, 38.86}, {0, 0, 10}, {10, 50, 52}, {1, 1, 60}};
		int			i,
					k,
					h,
					kind;

		for (kind = CLM_KIND_BGNBD; kind <= CLM_KIND_MBGNBD; kind++)
			for (i = 0; i < 2; i++)
				for (k = 0; k < 4; k++)
				{
					int			m = kind == CLM_KIND_MBGNBD ? 1 : 0;
					double		prev = 0.0,
								df = 1.0,
								want = 0.0;

					for (h = 1; h <= 52; h++)
					{
						double		e = clm_bg_expected_given_alive(m, pars[i], h, cust[k][0], cust[k][2], 2);

						df /= 1.01;
						want += (e - prev) * df;
						prev = e;
					}
					want *= clm_p_alive(kind, pars[i], cust[k][0], cust[k][1], cust[k][2]);
					UNIT_CHECK_NEAR(clm_clv(kind, pars[i], 1, 1, 0.01, 52,
											cust[k][0], cust[k][1], cust[k][2]),
									want, 1e-10 * want);
				}
	}

	/* t = 0: no purchase */
	{
		clm_alive_counts d;

		UNIT_CHECK(clm_alive_counts_dist(CLM_KIND_BGNBD, bg, 0, 3, 10, &d) == NULL);
		UNIT_CHECK(d.n == 1 && d.cdf[0] == 1.0 && d.m1 == 0.0);
		free(d.cdf);
		UNIT_CHECK(clm_alive_counts_dist(CLM_KIND_GG, bg, 1, 3, 10, &d) != NULL);
		free(d.cdf);
	}

	/* normal quantiles (A&S 26.2) and the distribution function */
	UNIT_CHECK_NEAR(clm_normal_quantile(0.95), 1.6448536269514722, 1e-14);
	UNIT_CHECK_NEAR(clm_normal_quantile(0.975), 1.959963984540054, 1e-14);
	UNIT_CHECK_NEAR(clm_normal_quantile(0.5), 0.0, 1e-15);
	UNIT_CHECK_NEAR(clm_normal_quantile(1e-10), -6.361340902404056, 1e-12);
	UNIT_CHECK_NEAR(clm_normal_cdf(clm_normal_quantile(0.123)), 0.123, 1e-15);

	/* Q(1, x) = e^-x, Q(3, 2) = 5 e^-2, Q(1/2, x) = erfc(sqrt(x)) */
	UNIT_CHECK_NEAR(clm_gamma_q(1.0, 0.7), exp(-0.7), 1e-15);
	UNIT_CHECK_NEAR(clm_gamma_q(1.0, 30.0), exp(-30.0), 1e-27);
	UNIT_CHECK_NEAR(clm_gamma_q(3.0, 2.0), 5 * exp(-2.0), 1e-15);
	UNIT_CHECK_NEAR(clm_gamma_q(0.5, 4.0), erfc(2.0), 1e-16);
	UNIT_CHECK_NEAR(clm_gamma_q(0.5, 0.01), erfc(0.1), 1e-15);

	/* sigma points reproduce the mean and covariance of the log-parameters */
	{
		double		par[4] = {0.5, 4.0, 0.8, 2.5};
		double		se[4] = {0.05, 0.6, 0.2, 0.9};
		double		corr[CLM_NCORR];
		clm_sigma	sp;
		int			i,
					j,
					p;

		for (i = 0; i < CLM_NCORR; i++)
			corr[i] = 0.1;
		corr[CLM_CORR_INDEX(0, 1)] = 0.9;
		corr[CLM_CORR_INDEX(2, 3)] = 0.8;
		UNIT_CHECK(clm_sigma_points(4, par, se, corr, &sp) == NULL);
		UNIT_CHECK(sp.npts == 9);
		for (i = 0; i < 4; i++)
		{
			double		m = 0.0;

			for (p = 0; p < sp.npts; p++)
				m += sp.w[p] * log(sp.par[p][i]);
			UNIT_CHECK_NEAR(m, log(par[i]), 1e-14);
			for (j = 0; j < 4; j++)
			{
				double		c = 0.0,
							want = (se[i] / par[i]) * (se[j] / par[j]) *
					(i == j ? 1.0 : corr[i < j ? CLM_CORR_INDEX(i, j) : CLM_CORR_INDEX(j, i)]);

				for (p = 0; p < sp.npts; p++)
					c += sp.w[p] * (log(sp.par[p][i]) - log(par[i])) * (log(sp.par[p][j]) - log(par[j]));
				UNIT_CHECK_NEAR(c, want, 1e-14);
			}
		}
		/* unknown se: known parameters; a missing correlation: an error */
		se[0] = se[1] = se[2] = se[3] = NAN;
		UNIT_CHECK(clm_sigma_points(4, par, se, corr, &sp) == NULL && sp.npts == 1);
		se[0] = se[1] = se[2] = se[3] = 0.1;
		corr[CLM_CORR_INDEX(1, 3)] = NAN;
		UNIT_CHECK(clm_sigma_points(4, par, se, corr, &sp) != NULL);
		corr[CLM_CORR_INDEX(1, 3)] = 0.99;
		corr[CLM_CORR_INDEX(0, 1)] = -0.99;
		corr[CLM_CORR_INDEX(0, 3)] = 0.99;
		UNIT_CHECK(clm_sigma_points(4, par, se, corr, &sp) != NULL);
	}

	/* totals: known parameters give the normal interval */
	{
		double		m = 100.0,
					v = 100.0,
					lo,
					hi;

		UNIT_CHECK(clm_total_interval(4, 1, 0.0, &m, &v, 0.9, &lo, &hi));
		UNIT_CHECK_NEAR(lo, 100 - 10 * 1.6448536269514722, 1e-9);
		UNIT_CHECK_NEAR(hi, 100 + 10 * 1.6448536269514722, 1e-9);
	}
}
