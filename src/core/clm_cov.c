/*-------------------------------------------------------------------------
 *
 * clm_cov.c
 *	  Static covariates: the links of each kind's parameters to the
 *	  covariates, the log-likelihood with its gradient, and the fit
 *	  (clm_cov.h has the parametrisation).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clm_cov.h"

/* largest standard error of a log-parameter of a converged fit (as clm_fit) */
#define COV_SE_LOG_MAX 10.0
/* largest |log-parameter| of a converged fit (as clm_fit) */
#define COV_LOGPAR_MAX 20.0
/* fits on more tuples start from a fit on a subsample of about COV_WARM_SAMPLE */
#define COV_WARM_MIN 50000
#define COV_WARM_SAMPLE 20000

/* BG/NBD and MBG/NBD (r, alpha, a, b): alpha by trans, a and b by life */
static const clm_cov_link link_bg = {
	2, {"trans", "life"}, {-1, 0, 1, 1}, {0.0, -1.0, 1.0, 1.0}
};

/* Pareto/NBD (r, alpha, s, beta): alpha by trans, beta by life */
static const clm_cov_link link_pnbd = {
	2, {"trans", "life"}, {-1, 0, -1, 1}, {0.0, -1.0, 0.0, -1.0}
};

/* Gamma-Gamma (p, q, gamma): the scale gamma of nu by spend */
static const clm_cov_link link_gg = {
	1, {"spend", NULL}, {-1, -1, 0, -1}, {0.0, 0.0, 1.0, 0.0}
};

/* the link of a kind, NULL when the kind takes no covariates */
const clm_cov_link *
clm_cov_get_link(int kind)
{
	switch (kind)
	{
		case CLM_KIND_BGNBD:
		case CLM_KIND_MBGNBD:
			return &link_bg;
		case CLM_KIND_PARETONBD:
			return &link_pnbd;
		case CLM_KIND_GG:
			return &link_gg;
		default:
			return NULL;
	}
}

/* number of fitted numbers: npar + ngroups * k */
int
clm_cov_ntheta(int kind, int k)
{
	const clm_cov_link *l = clm_cov_get_link(kind);

	return clm_kind_npar(kind) + (l ? l->ngroups * k : 0);
}

/* g' z for group g of theta (gammas after the npar base log-parameters) */
static inline double
cov_dot(const double *gam, const double *z, int k)
{
	double		s = 0.0;
	int			c;

	for (c = 0; c < k; c++)
		s += gam[c] * z[c];
	return s;
}

/* block starts: runs of equal covariate vectors (n + 1 entries at most) */
int *
clm_cov_blocks(const double *z, int n, int k, int *nblk)
{
	int		   *blk = clm_core_alloc(sizeof(int) * (n + 1));
	int			i,
				m = 0;

	if (blk == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (i == 0 || memcmp(z + (size_t) i * k, z + (size_t) (i - 1) * k,
							 sizeof(double) * k) != 0)
			blk[m++] = i;
	blk[m] = n;
	*nblk = m;
	return blk;
}

/*
 * Log-likelihood with covariates: per block of tuples sharing z, the
 * kind's log-likelihood at the block's individual log-parameters
 * lp_j = theta_j + sign_j g_{group(j)}' z; the gradient by the chain rule.
 * At z = 0 lp is theta to the bit, so the value is the kind's own.
 */
double
clm_cov_ll(const clm_cov_problem *p, const double *theta, double *grad)
{
	const clm_model_def *def = clm_model_get_def(p->kind);
	const clm_cov_link *l = clm_cov_get_link(p->kind);
	int			npar = clm_kind_npar(p->kind);
	int			nth = clm_cov_ntheta(p->kind, p->k);
	int			b,
				j,
				c;
	double		ll = 0.0;

	if (grad)
		for (j = 0; j < nth; j++)
			grad[j] = 0.0;
	for (b = 0; b < p->nblk; b++)
	{
		int			s = p->blk[b],
					len = p->blk[b + 1] - s;
		const double *zb = p->z + (size_t) s * p->k;
		double		lp[CLM_MAX_PAR] = {0, 0, 0, 0},
					gb[CLM_MAX_PAR] = {0, 0, 0, 0},
					v;

		if ((b & 255) == 255)
			clm_core_check_interrupts();
		for (j = 0; j < npar; j++)
		{
			lp[j] = theta[j];
			if (l->group_of[j] >= 0)
				lp[j] += l->sign[j] * cov_dot(theta + npar + l->group_of[j] * p->k, zb, p->k);
		}
		v = def->ll(lp, p->obs + s, len, grad ? gb : NULL);
		if (!isfinite(v))
			return v;
		ll += v;
		if (grad)
			for (j = 0; j < npar; j++)
			{
				grad[j] += gb[j];
				if (l->group_of[j] >= 0)
				{
					double	   *gg = grad + npar + l->group_of[j] * p->k;

					for (c = 0; c < p->k; c++)
						gg[c] += l->sign[j] * zb[c] * gb[j];
				}
			}
	}
	return ll;
}

/* the individual parameters of a customer with covariates z */
bool
clm_cov_individual(int kind, const double *par, const double *gamma, int k,
				   const double *z, double *par_i)
{
	const clm_cov_link *l = clm_cov_get_link(kind);
	int			npar = clm_kind_npar(kind),
				j;

	for (j = 0; j < npar; j++)
	{
		par_i[j] = par[j];
		if (l && l->group_of[j] >= 0)
			par_i[j] = par[j] * exp(l->sign[j] * cov_dot(gamma + l->group_of[j] * k, z, k));
		if (!(par_i[j] > 0) || !isfinite(par_i[j]))
			return false;
	}
	return true;
}

/* objective of the fit: minus the mean log-likelihood */
typedef struct cov_ctx
{
	const clm_cov_problem *p;
	double		scale;
} cov_ctx;

/* minus the log-likelihood times scale, for the optimiser */
static double
cov_obj(const double *theta, double *grad, void *vctx)
{
	cov_ctx    *c = (cov_ctx *) vctx;
	int			nth = clm_cov_ntheta(c->p->kind, c->p->k),
				j;
	double		v = clm_cov_ll(c->p, theta, grad);

	if (grad)
		for (j = 0; j < nth; j++)
			grad[j] = -grad[j] * c->scale;
	return -v * c->scale;
}

/*
 * Which covariates the data can identify: the weighted covariance matrix of
 * z, Cholesky column by column; a column whose variance left after the
 * columns kept before it is at most 1e-10 of its spread about zero is
 * constant or a linear combination of them and a constant, and is left out.
 * Fills used[] and the root mean square of each kept column (the scale the
 * fit divides it by); returns how many are kept.
 */
static int
cov_identify(const clm_cov_problem *p, double W, bool *used, double *rms)
{
	int			k = p->k,
				i,
				c,
				d,
				kept = 0;
	double		m[CLM_MAX_COV] = {0},
				C[CLM_MAX_COV][CLM_MAX_COV],
				L[CLM_MAX_COV][CLM_MAX_COV],
				sq[CLM_MAX_COV] = {0};

	memset(C, 0, sizeof(C));
	memset(L, 0, sizeof(L));
	for (i = 0; i < p->n; i++)
	{
		const double *z = p->z + (size_t) i * k;

		for (c = 0; c < k; c++)
		{
			m[c] += p->obs[i].w * z[c];
			sq[c] += p->obs[i].w * z[c] * z[c];
		}
	}
	for (c = 0; c < k; c++)
	{
		m[c] /= W;
		rms[c] = sqrt(sq[c] / W);
	}
	for (i = 0; i < p->n; i++)
	{
		const double *z = p->z + (size_t) i * k;

		if ((i & 4095) == 4095)
			clm_core_check_interrupts();
		for (c = 0; c < k; c++)
			for (d = 0; d <= c; d++)
				C[c][d] += p->obs[i].w * (z[c] - m[c]) * (z[d] - m[d]);
	}
	for (c = 0; c < k; c++)
	{
		double		left = C[c][c] / W;

		for (d = 0; d < c; d++)
		{
			double		s = C[c][d] / W;
			int			e;

			if (!used[d])
				continue;
			for (e = 0; e < d; e++)
				if (used[e])
					s -= L[c][e] * L[d][e];
			L[c][d] = s / L[d][d];
			left -= L[c][d] * L[c][d];
		}
		used[c] = isfinite(left) && left > 1e-10 * (C[c][c] / W + m[c] * m[c]) &&
			rms[c] > 0 && isfinite(rms[c]);
		if (used[c])
		{
			L[c][c] = sqrt(left);
			kept++;
		}
	}
	return kept;
}

/*
 * Warm start of a fit on many tuples (q: the kept covariates, scaled): the
 * fit without covariates and then with them on a systematic subsample of
 * about COV_WARM_SAMPLE tuples (tuples heavier than the stride kept whole,
 * the others every stride-th one with weight times stride, as clm_fit's
 * warm start), so that BFGS on all tuples starts near the optimum and
 * needs a few iterations.  Fills theta; res->base gets the subsample's fit
 * without covariates (its counts are overwritten by the caller).
 */
static const char *
cov_warm_start(const clm_cov_problem *q, double *theta, clm_cov_fit_result *res,
			   const char **hint, double *hess, bool *have_hess)
{
	int			stride = q->n / COV_WARM_SAMPLE + 1,
				cap = q->n / stride + 1 + COV_WARM_SAMPLE,
				npar = clm_kind_npar(q->kind),
				nth = clm_cov_ntheta(q->kind, q->k),
				ns = 0,
				i,
				j;
	clm_obs    *so = clm_core_alloc(sizeof(clm_obs) * cap);
	double	   *sz = clm_core_alloc(sizeof(double) * ((size_t) cap * q->k + 1));
	double		Ws = 0.0;
	clm_cov_problem sq = *q;
	cov_ctx		ctx;
	clm_optim_result r;
	const char *err;

	if (so == NULL || sz == NULL)
		return "out of memory";
	for (i = 0; i < q->n && ns < cap; i++)
	{
		if (q->obs[i].w >= stride)
			so[ns] = q->obs[i];
		else if (i % stride == 0)
		{
			so[ns] = q->obs[i];
			so[ns].w *= stride;
		}
		else
			continue;
		memcpy(sz + (size_t) ns * q->k, q->z + (size_t) i * q->k, sizeof(double) * q->k);
		Ws += so[ns].w;
		ns++;
	}
	err = clm_fit(q->kind, so, ns, &res->base, hint);
	if (err)
	{
		/* too little in the subsample: the fit without covariates on everything */
		err = clm_fit(q->kind, q->obs, q->n, &res->base, hint);
		for (j = 0; j < npar; j++)
			theta[j] = log(res->base.par[j]);
		for (j = npar; j < nth; j++)
			theta[j] = 0.0;
		clm_core_free(so);
		clm_core_free(sz);
		return err;
	}
	for (j = 0; j < npar; j++)
		theta[j] = log(res->base.par[j]);
	for (j = npar; j < nth; j++)
		theta[j] = 0.0;
	sq.obs = so;
	sq.z = sz;
	sq.n = ns;
	sq.blk = clm_cov_blocks(sz, ns, q->k, &sq.nblk);
	if (sq.blk != NULL)
	{
		double		th[CLM_OPT_MAX_N];

		memcpy(th, theta, sizeof(double) * nth);
		ctx.p = &sq;
		ctx.scale = 1.0 / Ws;
		clm_bfgs(cov_obj, &ctx, nth, th, 1000, &r);
		res->base.iterations += r.iterations;
		if (isfinite(r.f))
		{
			/* the subsample's Hessian of the mean: about the full data's */
			res->base.iterations += clm_newton_polish(cov_obj, &ctx, nth, th, 1, hess, have_hess);
			memcpy(theta, th, sizeof(double) * nth);
		}
		clm_core_free((void *) sq.blk);
	}
	clm_core_free(so);
	clm_core_free(sz);
	return NULL;
}

/*
 * Newton steps on all the tuples with a fixed Hessian H (the subsample's,
 * of the mean log-likelihood: about the full data's), each step one
 * gradient over all tuples: d = -H^-1 g by Cholesky, halved until the
 * objective decreases.  Stops when the gradient is below 1e-7, a step
 * fails, or after 20 steps; BFGS finishes from there.  Returns the steps
 * taken (theta updated).
 */
static int
cov_fixed_newton(cov_ctx *ctx, int n, const double *H, double *theta)
{
	double		L[CLM_OPT_MAX_N][CLM_OPT_MAX_N];
	double		g[CLM_OPT_MAX_N],
				gn[CLM_OPT_MAX_N],
				d[CLM_OPT_MAX_N],
				tn[CLM_OPT_MAX_N];
	double		f;
	int			i,
				j,
				k,
				it;

	/* Cholesky of the symmetrised H; not positive definite: no steps */
	for (i = 0; i < n; i++)
		for (j = 0; j <= i; j++)
		{
			double		sum = 0.5 * (H[i * n + j] + H[j * n + i]);

			for (k = 0; k < j; k++)
				sum -= L[i][k] * L[j][k];
			if (i == j)
			{
				if (!(sum > 0) || !isfinite(sum))
					return 0;
				L[i][i] = sqrt(sum);
			}
			else
				L[i][j] = sum / L[j][j];
		}
	f = cov_obj(theta, g, ctx);
	for (it = 0; it < 20 && isfinite(f); it++)
	{
		double		gmax = 0.0,
					step = 1.0,
					fn = INFINITY;
		int			ls;

		for (i = 0; i < n; i++)
			gmax = fmax(gmax, fabs(g[i]));
		if (gmax < 1e-7)
			break;
		/* solve L L' d = -g */
		for (i = 0; i < n; i++)
		{
			double		sum = -g[i];

			for (k = 0; k < i; k++)
				sum -= L[i][k] * d[k];
			d[i] = sum / L[i][i];
		}
		for (i = n - 1; i >= 0; i--)
		{
			double		sum = d[i];

			for (k = i + 1; k < n; k++)
				sum -= L[k][i] * d[k];
			d[i] = sum / L[i][i];
		}
		for (ls = 0; ls < 10; ls++, step *= 0.5)
		{
			clm_core_check_interrupts();
			for (i = 0; i < n; i++)
				tn[i] = theta[i] + step * d[i];
			fn = cov_obj(tn, gn, ctx);
			if (fn < f)
				break;
		}
		if (!(fn < f))
			break;
		memcpy(theta, tn, sizeof(double) * n);
		memcpy(g, gn, sizeof(double) * n);
		f = fn;
	}
	return it;
}

/*
 * Fit with covariates: the fit without them (clm_fit on the same tuples;
 * beyond COV_WARM_MIN tuples, the fits without and with covariates on a
 * subsample, cov_warm_start) gives the start; the kept covariates, each divided by its root mean
 * square (so that huge values do not overflow exp and the gammas are of
 * one order), start at g = 0; BFGS, one Newton polishing step whose
 * Hessian gives the standard errors, then the scaling is undone
 * (g_c = g'_c / rms_c, and so its standard error).
 */
const char *
clm_cov_fit(const clm_cov_problem *p, clm_cov_fit_result *res, const char **hint)
{
	const clm_cov_link *l = clm_cov_get_link(p->kind);
	int			npar = clm_kind_npar(p->kind),
				k = p->k,
				kk,
				nth,
				i,
				c,
				g,
				j;
	double		rms[CLM_MAX_COV];
	int			col[CLM_MAX_COV];
	double	   *zs;
	clm_cov_problem q;
	cov_ctx		ctx;
	double		theta[CLM_OPT_MAX_N],
				se_log[CLM_OPT_MAX_N],
				hess[CLM_OPT_MAX_N * CLM_OPT_MAX_N];
	bool		have_hess = false,
				se_ok;
	clm_optim_result r;
	const char *err;
	double		W = 0.0;

	memset(res, 0, sizeof(*res));
	*hint = NULL;
	res->k = k;
	if (l == NULL)
		return "this model kind takes no covariates";
	if (k < 0 || k > CLM_MAX_COV)
		return "too many covariates";
	res->ngroups = l->ngroups;
	for (i = 0; i < CLM_COV_MAX_GROUPS * CLM_MAX_COV; i++)
		res->gamma_se[i] = -1.0;
	for (i = 0; i < p->n; i++)
		W += p->obs[i].w;
	kk = k > 0 && W > 0 ? cov_identify(p, W, res->used, rms) : 0;
	if (kk == 0 || p->n <= COV_WARM_MIN)
	{
		/* the fit without covariates: the result itself, or the start */
		err = clm_fit(p->kind, p->obs, p->n, &res->base, hint);
		if (err || kk == 0)
			return err;
	}

	/* the kept covariates, scaled */
	zs = clm_core_alloc(sizeof(double) * (size_t) p->n * kk);
	if (zs == NULL)
		return "out of memory";
	for (c = 0, j = 0; c < k; c++)
		if (res->used[c])
			col[j++] = c;
	for (i = 0; i < p->n; i++)
		for (j = 0; j < kk; j++)
			zs[(size_t) i * kk + j] = p->z[(size_t) i * k + col[j]] / rms[col[j]];
	q = *p;
	q.k = kk;
	q.z = zs;
	q.blk = clm_cov_blocks(zs, p->n, kk, &q.nblk);
	if (q.blk == NULL)
	{
		clm_core_free(zs);
		return "out of memory";
	}
	nth = clm_cov_ntheta(p->kind, kk);
	if (p->n > COV_WARM_MIN)
	{
		err = cov_warm_start(&q, theta, res, hint, hess, &have_hess);
		if (err)
		{
			clm_core_free((void *) q.blk);
			clm_core_free(zs);
			return err;
		}
	}
	else
	{
		for (j = 0; j < npar; j++)
			theta[j] = log(res->base.par[j]);
		for (j = npar; j < nth; j++)
			theta[j] = 0.0;
	}
	res->base.n_customers = W;
	res->base.n_distinct = p->n;
	ctx.p = &q;
	ctx.scale = 1.0 / W;
	if (have_hess)
		res->base.iterations += cov_fixed_newton(&ctx, nth, hess, theta);
	have_hess = false;
	clm_bfgs(cov_obj, &ctx, nth, theta, 1000, &r);
	res->base.iterations += r.iterations;
	if (!r.converged && isfinite(r.f))
	{
		/* one restart with a fresh inverse Hessian */
		clm_bfgs(cov_obj, &ctx, nth, theta, 1000, &r);
		res->base.iterations += r.iterations;
	}
	if (isfinite(r.f))
	{
		double		gp[CLM_OPT_MAX_N];
		double		gmax = 0.0;

		clm_newton_polish(cov_obj, &ctx, nth, theta, 1, hess, &have_hess);
		r.f = cov_obj(theta, gp, &ctx);
		for (j = 0; j < nth; j++)
			gmax = fmax(gmax, fabs(gp[j]));
		if (!r.converged && gmax < 1e-7)
		{
			r.converged = true;
			r.reason = "newton polishing reached the gradient tolerance";
		}
	}
	se_ok = isfinite(r.f) && have_hess &&
		clm_se_from_hessian(nth, hess, res->base.n_customers, se_log);
	res->base.ll = -r.f * res->base.n_customers;
	res->base.converged = r.converged;
	snprintf(res->base.message, sizeof(res->base.message), "%s", r.reason);
	for (j = 0; j < npar; j++)
	{
		res->base.par[j] = exp(theta[j]);
		res->base.se[j] = se_ok ? res->base.par[j] * se_log[j] : -1.0;
	}
	for (g = 0; g < l->ngroups; g++)
		for (j = 0; j < kk; j++)
		{
			int			t = npar + g * kk + j;

			res->gamma[g * k + col[j]] = theta[t] / rms[col[j]];
			res->gamma_se[g * k + col[j]] = se_ok ? se_log[t] / rms[col[j]] : -1.0;
		}
	if (res->base.converged)
	{
		bool		flat = !se_ok;

		for (j = 0; j < nth && !flat; j++)
			flat = !(se_log[j] <= COV_SE_LOG_MAX) ||
				(j < npar && fabs(theta[j]) > COV_LOGPAR_MAX);
		if (flat)
		{
			res->base.converged = false;
			snprintf(res->base.message, sizeof(res->base.message), "%s",
					 "no finite optimum: the likelihood is flat");
		}
	}
	clm_core_free((void *) q.blk);
	clm_core_free(zs);
	if (!isfinite(res->base.ll))
	{
		*hint = "Check the covariates: the log-likelihood is not finite anywhere the optimiser looked.";
		return "the model could not be fitted";
	}
	return NULL;
}
