/*-------------------------------------------------------------------------
 *
 * clm_optim.c
 *	  Minimisers for the model fits: BFGS with a backtracking line search,
 *	  Nelder-Mead as a fallback, and standard errors from the Hessian.
 *
 * All work on unconstrained log-parameters theta; the objective returns
 * +inf or NaN outside its domain, which the line search treats as "too
 * far".  Log-parameters are kept in [-CLM_THETA_MAX, CLM_THETA_MAX].
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "clm_models.h"

#define CLM_THETA_MAX 25.0
/* smallest line-search move of a log-parameter told apart from rounding */
#define CLM_STEP_MIN 1e-10
/* relative decrease of f at the level of rounding */
#define CLM_FTOL_ROUND 1e-14
#define NMAX CLM_OPT_MAX_N

/* objective value with non-finite mapped to +inf */
static double
eval(clm_obj_fn f, void *ctx, const double *th, double *g)
{
	double		v = f(th, g, ctx);

	if (!isfinite(v))
		return INFINITY;
	if (g)
	{
		int			i;

		for (i = 0; i < NMAX; i++)
			if (!isfinite(g[i]))
				return INFINITY;
	}
	return v;
}

/* clamp a point into the box of allowed log-parameters */
static void
clamp(int n, double *th)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		if (th[i] > CLM_THETA_MAX)
			th[i] = CLM_THETA_MAX;
		if (th[i] < -CLM_THETA_MAX)
			th[i] = -CLM_THETA_MAX;
	}
}

/*
 * BFGS on the inverse Hessian with an Armijo backtracking line search.
 * Converged when the largest gradient component is below 1e-7 (the
 * objective is a mean log-likelihood per customer, so this is a relative
 * criterion), or, with the gradient already below 1e-4, when no step can
 * be told from rounding any more:
 *
 *	- the line search cannot decrease f with a step that moves some
 *	  log-parameter by more than CLM_STEP_MIN, or
 *	- two iterations in a row decrease f by less than CLM_FTOL_ROUND
 *	  relative (a few units in the last place of a sum of many terms).
 *
 * Near the optimum the gradient of a sum over tens of thousands of tuples
 * carries rounding noise around 1e-7 itself; without these two tests the
 * line search then accepted steps of 1e-10 that "decreased" f by one unit
 * in the last place, by chance, up to the iteration limit: whether a fit
 * took 17 or 1,015 iterations depended on the rounding of one tuple.
 */
void
clm_bfgs(clm_obj_fn f, void *ctx, int n, double *theta, int maxit,
		 clm_optim_result *res)
{
	double		H[NMAX][NMAX];
	double		g[NMAX] = {0},
				gn[NMAX] = {0},
				d[NMAX],
				s[NMAX],
				y[NMAX],
				tn[NMAX],
				Hy[NMAX];
	double		fx;
	int			it,
				i,
				j,
				stalled = 0;

	memset(H, 0, sizeof(H));
	for (i = 0; i < n; i++)
		H[i][i] = 1.0;
	clamp(n, theta);
	fx = eval(f, ctx, theta, g);
	res->converged = false;
	res->iterations = 0;
	res->reason = "maximum iterations reached";
	if (!isfinite(fx))
	{
		res->f = fx;
		res->reason = "log-likelihood not finite at start";
		return;
	}
	for (it = 0; it < maxit; it++)
	{
		double		gmax = 0.0,
					slope = 0.0,
					dmax = 0.0,
					step = 1.0,
					fnew = INFINITY,
					sy = 0.0,
					yHy = 0.0;
		int			ls;

		clm_core_check_interrupts();
		for (i = 0; i < n; i++)
			if (fabs(g[i]) > gmax)
				gmax = fabs(g[i]);
		res->iterations = it;
		if (gmax < 1e-7)
		{
			res->converged = true;
			res->reason = "gradient below tolerance";
			break;
		}
		for (i = 0; i < n; i++)
		{
			d[i] = 0.0;
			for (j = 0; j < n; j++)
				d[i] -= H[i][j] * g[j];
			slope += d[i] * g[i];
		}
		if (!(slope < 0.0))
		{
			/* not a descent direction: restart from steepest descent */
			memset(H, 0, sizeof(H));
			slope = 0.0;
			for (i = 0; i < n; i++)
			{
				H[i][i] = 1.0;
				d[i] = -g[i];
				slope -= g[i] * g[i];
			}
		}
		for (i = 0; i < n; i++)
			if (fabs(d[i]) > dmax)
				dmax = fabs(d[i]);
		if (dmax > 5.0)
			step = 5.0 / dmax;
		for (ls = 0; ls < 60 && step * dmax >= CLM_STEP_MIN; ls++)
		{
			clm_core_check_interrupts();
			for (i = 0; i < n; i++)
				tn[i] = theta[i] + step * d[i];
			clamp(n, tn);
			fnew = eval(f, ctx, tn, gn);
			if (fnew <= fx + 1e-4 * step * slope)
				break;
			step *= 0.5;
		}
		if (ls == 60 || step * dmax < CLM_STEP_MIN || !(fnew <= fx))
		{
			if (gmax < 1e-4)
			{
				res->converged = true;
				res->reason = "no further decrease possible (gradient small)";
			}
			else
				res->reason = "line search failed";
			break;
		}
		for (i = 0; i < n; i++)
		{
			s[i] = tn[i] - theta[i];
			y[i] = gn[i] - g[i];
			sy += s[i] * y[i];
		}
		if (sy > 1e-14)
		{
			for (i = 0; i < n; i++)
			{
				Hy[i] = 0.0;
				for (j = 0; j < n; j++)
					Hy[i] += H[i][j] * y[j];
				yHy += y[i] * Hy[i];
			}
			for (i = 0; i < n; i++)
				for (j = 0; j < n; j++)
					H[i][j] += (sy + yHy) * s[i] * s[j] / (sy * sy)
						- (Hy[i] * s[j] + s[i] * Hy[j]) / sy;
		}
		memcpy(theta, tn, sizeof(double) * n);
		memcpy(g, gn, sizeof(double) * n);
		stalled = (fx - fnew <= CLM_FTOL_ROUND * fabs(fx)) ? stalled + 1 : 0;
		fx = fnew;
		if (stalled >= 2 && gmax < 1e-4)
		{
			res->iterations = it + 1;
			res->converged = true;
			res->reason = "no further decrease possible (gradient small)";
			break;
		}
	}
	res->f = fx;
	for (i = 0; i < n; i++)
		if (fabs(theta[i]) >= CLM_THETA_MAX)
		{
			res->converged = false;
			res->reason = "a parameter ran to its bound";
		}
}

/* Nelder-Mead simplex (standard coefficients), used to escape bad regions */
void
clm_nelder_mead(clm_obj_fn f, void *ctx, int n, double *theta, int maxit,
				clm_optim_result *res)
{
	double		P[NMAX + 1][NMAX];
	double		F[NMAX + 1];
	double		c[NMAX],
				xr[NMAX],
				xe[NMAX];
	int			i,
				j,
				it;

	for (i = 0; i <= n; i++)
	{
		memcpy(P[i], theta, sizeof(double) * n);
		if (i > 0)
			P[i][i - 1] += 0.5;
		F[i] = eval(f, ctx, P[i], NULL);
	}
	for (it = 0; it < maxit; it++)
	{
		int			hi = 0,
					lo = 0,
					nh = 0;
		double		fr;

		clm_core_check_interrupts();
		for (i = 0; i <= n; i++)
		{
			if (F[i] > F[hi])
				hi = i;
			if (F[i] < F[lo])
				lo = i;
		}
		nh = lo;
		for (i = 0; i <= n; i++)
			if (i != hi && F[i] > F[nh])
				nh = i;
		if (isfinite(F[hi]) && F[hi] - F[lo] < 1e-12 * (1.0 + fabs(F[lo])))
			break;
		for (j = 0; j < n; j++)
		{
			c[j] = 0.0;
			for (i = 0; i <= n; i++)
				if (i != hi)
					c[j] += P[i][j] / n;
		}
		for (j = 0; j < n; j++)
			xr[j] = c[j] + (c[j] - P[hi][j]);
		clamp(n, xr);
		fr = eval(f, ctx, xr, NULL);
		if (fr < F[lo])
		{
			double		fe;

			for (j = 0; j < n; j++)
				xe[j] = c[j] + 2.0 * (c[j] - P[hi][j]);
			clamp(n, xe);
			fe = eval(f, ctx, xe, NULL);
			if (fe < fr)
			{
				memcpy(P[hi], xe, sizeof(double) * n);
				F[hi] = fe;
			}
			else
			{
				memcpy(P[hi], xr, sizeof(double) * n);
				F[hi] = fr;
			}
		}
		else if (fr < F[nh])
		{
			memcpy(P[hi], xr, sizeof(double) * n);
			F[hi] = fr;
		}
		else
		{
			double		fc;

			for (j = 0; j < n; j++)
				xe[j] = c[j] + 0.5 * (P[hi][j] - c[j]);
			fc = eval(f, ctx, xe, NULL);
			if (fc < F[hi])
			{
				memcpy(P[hi], xe, sizeof(double) * n);
				F[hi] = fc;
			}
			else
			{
				for (i = 0; i <= n; i++)
					if (i != lo)
					{
						for (j = 0; j < n; j++)
							P[i][j] = P[lo][j] + 0.5 * (P[i][j] - P[lo][j]);
						F[i] = eval(f, ctx, P[i], NULL);
					}
			}
		}
	}
	j = 0;
	for (i = 0; i <= n; i++)
		if (F[i] < F[j])
			j = i;
	memcpy(theta, P[j], sizeof(double) * n);
	res->f = F[j];
	res->iterations = it;
	res->converged = false;
	res->reason = "nelder-mead";
}

/*
 * Covariance of the log-parameters: the inverse of the Hessian of f (f =
 * minus the total log-likelihood), the Hessian taken by central differences
 * of the analytic gradient (clm_cov_from_hessian inverts it).  Returns false
 * when it is not positive definite.
 */
bool
clm_hessian_cov(clm_obj_fn f, void *ctx, int n, const double *theta,
				double *cov)
{
	double		H[NMAX * NMAX];
	double		gp[NMAX] = {0},
				gm[NMAX] = {0},
				tp[NMAX];
	int			i,
				j;

	for (j = 0; j < n; j++)
	{
		double		h = 1e-5;

		memcpy(tp, theta, sizeof(double) * n);
		tp[j] += h;
		if (!isfinite(eval(f, ctx, tp, gp)))
			return false;
		tp[j] = theta[j] - h;
		if (!isfinite(eval(f, ctx, tp, gm)))
			return false;
		for (i = 0; i < n; i++)
			H[i * n + j] = (gp[i] - gm[i]) / (2 * h);
	}
	return clm_cov_from_hessian(n, H, 1.0, cov);
}

/*
 * Covariance of the log-parameters from a Hessian H (n x n, row-major, of f
 * at the optimum) times scale: the inverse of the symmetrised scale * H, by
 * Gauss-Jordan with pivoting, into cov (n x n, row-major).  Returns false
 * when it is not positive definite (a diagonal element of the inverse is not
 * positive and finite).
 */
bool
clm_cov_from_hessian(int n, const double *H, double scale, double *cov)
{
	double		Hm[NMAX][2 * NMAX];
	int			i,
				j,
				k;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			Hm[i][j] = scale * 0.5 * (H[i * n + j] + H[j * n + i]);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			Hm[i][n + j] = (i == j) ? 1.0 : 0.0;
	for (k = 0; k < n; k++)
	{
		int			p = k;
		double		piv;

		for (i = k + 1; i < n; i++)
			if (fabs(Hm[i][k]) > fabs(Hm[p][k]))
				p = i;
		if (!(fabs(Hm[p][k]) > 1e-300))
			return false;
		if (p != k)
			for (j = 0; j < 2 * n; j++)
			{
				double		t = Hm[k][j];

				Hm[k][j] = Hm[p][j];
				Hm[p][j] = t;
			}
		piv = Hm[k][k];
		for (j = 0; j < 2 * n; j++)
			Hm[k][j] /= piv;
		for (i = 0; i < n; i++)
			if (i != k)
			{
				double		m = Hm[i][k];

				for (j = 0; j < 2 * n; j++)
					Hm[i][j] -= m * Hm[k][j];
			}
	}
	for (i = 0; i < n; i++)
	{
		if (!(Hm[i][n + i] > 0.0) || !isfinite(Hm[i][n + i]))
			return false;
		for (j = 0; j < n; j++)
			cov[i * n + j] = 0.5 * (Hm[i][n + j] + Hm[j][n + i]);
	}
	return true;
}

/*
 * Standard errors of the log-parameters from a Hessian H times scale: the
 * square roots of the diagonal of clm_cov_from_hessian; false when it is
 * not positive definite.
 */
bool
clm_se_from_hessian(int n, const double *H, double scale, double *se_log)
{
	double		cov[NMAX * NMAX];
	int			i;

	if (!clm_cov_from_hessian(n, H, scale, cov))
		return false;
	for (i = 0; i < n; i++)
		se_log[i] = sqrt(cov[i * n + i]);
	return true;
}

/*
 * Newton polishing after BFGS: up to maxit steps theta -= H^-1 g with the
 * Hessian by central differences of the analytic gradient, each accepted
 * only if it does not increase f.  Flat directions (Pareto/NBD's beta) are
 * left by BFGS a little short of the optimum; a Newton step fixes the
 * last printed digit (the fit uses one step).  Returns the number of steps
 * taken; if hess_out is given, the Hessian at the starting point goes there
 * (n x n, row-major; *have_hess says whether it was computed).
 */
int
clm_newton_polish(clm_obj_fn f, void *ctx, int n, double *theta, int maxit,
				  double *hess_out, bool *have_hess)
{
	int			it,
				steps = 0;

	if (have_hess)
		*have_hess = false;

	for (it = 0; it < maxit; it++)
	{
		double		A[NMAX][NMAX + 1];
		double		g[NMAX] = {0},
					gp[NMAX] = {0},
					gm[NMAX] = {0},
					tp[NMAX],
					d[NMAX];
		double		f0,
					f1;
		int			i,
					j,
					k;

		clm_core_check_interrupts();
		f0 = eval(f, ctx, theta, g);
		if (!isfinite(f0))
			break;
		for (j = 0; j < n; j++)
		{
			double		h = 1e-5;

			memcpy(tp, theta, sizeof(double) * n);
			tp[j] += h;
			if (!isfinite(eval(f, ctx, tp, gp)))
				return steps;
			tp[j] = theta[j] - h;
			if (!isfinite(eval(f, ctx, tp, gm)))
				return steps;
			for (i = 0; i < n; i++)
				A[i][j] = (gp[i] - gm[i]) / (2 * h);
		}
		/* the Hessian at the starting point, for the standard errors */
		if (it == 0 && hess_out)
		{
			for (i = 0; i < n; i++)
				for (j = 0; j < n; j++)
					hess_out[i * n + j] = A[i][j];
			*have_hess = true;
		}
		for (i = 0; i < n; i++)
		{
			for (j = 0; j < i; j++)
				A[i][j] = A[j][i] = 0.5 * (A[i][j] + A[j][i]);
			A[i][n] = -g[i];
		}
		/* Gaussian elimination with partial pivoting */
		for (k = 0; k < n; k++)
		{
			int			p = k;

			for (i = k + 1; i < n; i++)
				if (fabs(A[i][k]) > fabs(A[p][k]))
					p = i;
			if (!(fabs(A[p][k]) > 1e-300))
				return steps;
			if (p != k)
				for (j = 0; j <= n; j++)
				{
					double		t = A[k][j];

					A[k][j] = A[p][j];
					A[p][j] = t;
				}
			for (i = k + 1; i < n; i++)
			{
				double		m = A[i][k] / A[k][k];

				for (j = k; j <= n; j++)
					A[i][j] -= m * A[k][j];
			}
		}
		for (i = n - 1; i >= 0; i--)
		{
			double		s = A[i][n];

			for (j = i + 1; j < n; j++)
				s -= A[i][j] * d[j];
			d[i] = s / A[i][i];
		}
		for (i = 0; i < n; i++)
		{
			if (!isfinite(d[i]) || fabs(d[i]) > 0.5)
				return steps;
			tp[i] = theta[i] + d[i];
		}
		clamp(n, tp);
		f1 = eval(f, ctx, tp, NULL);
		if (!(f1 <= f0))
			break;
		memcpy(theta, tp, sizeof(double) * n);
		steps++;
	}
	return steps;
}
