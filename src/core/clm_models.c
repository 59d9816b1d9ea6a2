/*-------------------------------------------------------------------------
 *
 * clm_models.c
 *	  The table of model kinds (each model file defines its entry), shared
 *	  input checks and start points, the fit driver and the prediction
 *	  dispatcher of the clm numerical core.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "clm_models.h"

/*
 * The model kinds, indexed by their stored number (clm_model_kind): the
 * only list of models in the core.
 */
static const clm_model_def *const model_defs[] = {
	NULL,
	&clm_model_bgnbd,
	&clm_model_mbgnbd,
	&clm_model_paretonbd,
	&clm_model_gg,
	&clm_model_bgbb,
	&clm_model_sbg
};

#define N_MODEL_DEFS ((int) (sizeof(model_defs) / sizeof(model_defs[0])))

/* the entry of a kind, NULL if unknown */
const clm_model_def *
clm_model_get_def(int kind)
{
	if (kind < 1 || kind >= N_MODEL_DEFS)
		return NULL;
	return model_defs[kind];
}

/* short name of a model kind */
const char *
clm_kind_name(int kind)
{
	const clm_model_def *d = clm_model_get_def(kind);

	return d ? d->name : NULL;
}

/* kind from its short name, 0 if unknown */
int
clm_kind_from_name(const char *name)
{
	int			k;

	for (k = 1; k < N_MODEL_DEFS; k++)
		if (strcmp(name, model_defs[k]->name) == 0)
			return k;
	return 0;
}

/* number of parameters of a kind */
int
clm_kind_npar(int kind)
{
	const clm_model_def *d = clm_model_get_def(kind);

	return d ? d->npar : 0;
}

/* name of parameter i of a kind */
const char *
clm_kind_par_name(int kind, int i)
{
	const clm_model_def *d = clm_model_get_def(kind);

	if (d == NULL || i < 0 || i >= d->npar)
		return NULL;
	return d->par_names[i];
}

/* log-likelihood function of a kind */
clm_ll_fn
clm_kind_ll(int kind)
{
	const clm_model_def *d = clm_model_get_def(kind);

	return d ? d->ll : NULL;
}

#define CLM_MAX_VALUE 1e9

/* validate one input tuple of a kind: NULL or a message */
const char *
clm_obs_check(int kind, const double *v)
{
	const clm_model_def *d = clm_model_get_def(kind);
	int			i;

	for (i = 0; i < 3; i++)
		if (!isfinite(v[i]) || fabs(v[i]) > CLM_MAX_VALUE)
			return "model inputs must be finite and at most 1e9 in absolute value";
	if (d == NULL)
		return "unknown model kind";
	return d->check(v);
}

/* input check of the models on (x, t_x, T) in continuous time */
const char *
clm_check_xtT(const double *v)
{
	if (v[0] < 0)
		return "x (repeat purchases) must be >= 0";
	if (!(v[2] > 0))
		return "T (customer age) must be > 0";
	if (v[1] < 0 || v[1] > v[2])
		return "t_x (recency) must be between 0 and T";
	if (v[0] == 0 && v[1] != 0)
		return "t_x must be 0 when x is 0";
	return NULL;
}

/* identification of the purchase-process models: some repeat buyers */
const char *
clm_identify_repeat(const clm_obs *obs, int n, const char **hint)
{
	int			i;

	for (i = 0; i < n; i++)
		if (obs[i].v[0] > 0 && obs[i].w > 0)
			return NULL;
	*hint = "All customers have x = 0; the model needs repeat buyers.";
	return "no repeat buyers: the data cannot identify the model";
}

/*
 * Start points of the models on (x, t_x, T), log(r, alpha, a, b): a rate
 * near the mean purchase rate, and a slow one.
 */
void
clm_starts_xtT(const clm_obs *obs, int n, double starts[][CLM_MAX_PAR])
{
	double		W = 0.0,
				sx = 0.0,
				sT = 0.0,
				meanT,
				meanx;
	int			i;

	for (i = 0; i < n; i++)
	{
		W += obs[i].w;
		sx += obs[i].w * obs[i].v[0];
		sT += obs[i].w * obs[i].v[2];
	}
	meanT = sT / W;
	meanx = sx / W;
	starts[1][0] = log(0.5);
	starts[1][1] = log(fmax(meanT, 1e-3) / fmax(meanx, 0.05) / 2.0);
	starts[1][2] = log(0.5);
	starts[1][3] = log(2.0);
	starts[2][0] = log(2.0);
	starts[2][1] = log(fmax(meanT, 1e-3));
	starts[2][2] = log(2.0);
	starts[2][3] = log(5.0);
}

/* warm start from a subsample above this many distinct tuples */
#define CLM_WARM_START_MIN		50000
#define CLM_WARM_START_SAMPLE	10000
#define CLM_WARM_START_MAXIT	40
/* largest standard error of a log-parameter of a converged fit */
#define CLM_SE_LOG_MAX			10.0
/* largest |log-parameter| of a converged fit (e^20 = 4.9e8) */
#define CLM_LOGPAR_MAX			20.0

typedef struct fit_ctx
{
	clm_ll_fn	ll;
	const clm_obs *obs;
	int			n;
	double		scale;
} fit_ctx;

/* objective: minus the log-likelihood times scale */
static double
fit_obj(const double *theta, double *grad, void *vctx)
{
	fit_ctx    *c = (fit_ctx *) vctx;
	double		g[CLM_MAX_PAR] = {0, 0, 0, 0};
	double		v = c->ll(theta, c->obs, c->n, grad ? g : NULL);
	int			i;

	if (grad)
		for (i = 0; i < CLM_MAX_PAR; i++)
			grad[i] = -g[i] * c->scale;
	return -v * c->scale;
}

/*
 * Warm start for large histograms.  Every BFGS iteration evaluates the
 * likelihood over all n distinct tuples; from the usual start points that
 * takes 15 to 30 iterations.  So the starts are first run on a systematic
 * subsample of about CLM_WARM_START_SAMPLE tuples (tuples heavier than the
 * stride kept whole, the others every stride-th one with weight times
 * stride), and BFGS on the full data then starts from that optimum, where it
 * needs a few iterations (at most CLM_WARM_START_MAXIT).  Returns true, with the result in best / *best_res,
 * if the full-data BFGS converged; false (nothing changed) otherwise, and the
 * caller runs the usual starts on the full data.  Not used for Pareto/NBD:
 * its flat beta direction keeps BFGS from converging near the optimum
 * (Newton polishing finishes it), so a warm start only adds iterations.
 */
static bool
warm_start(fit_ctx *ctx, int npar, double starts[][CLM_MAX_PAR], int nstarts,
		   double *best, clm_optim_result *best_res)
{
	int			stride = ctx->n / CLM_WARM_START_SAMPLE + 1;
	clm_obs    *sub = clm_core_alloc(sizeof(clm_obs) * (ctx->n / stride + 1 + CLM_WARM_START_SAMPLE));
	int			nsub = 0,
				cap = ctx->n / stride + 1 + CLM_WARM_START_SAMPLE,
				i,
				k;
	double		Wsub = 0.0;
	fit_ctx		sctx = *ctx;
	double		th[CLM_MAX_PAR],
				sbest[CLM_MAX_PAR];
	double		sf = INFINITY;
	bool		found = false;
	clm_optim_result r;

	if (sub == NULL)
		return false;
	for (i = 0; i < ctx->n && nsub < cap; i++)
	{
		if (ctx->obs[i].w >= stride)
			sub[nsub] = ctx->obs[i];
		else if (i % stride == 0)
		{
			sub[nsub] = ctx->obs[i];
			sub[nsub].w *= stride;
		}
		else
			continue;
		Wsub += sub[nsub].w;
		nsub++;
	}
	sctx.obs = sub;
	sctx.n = nsub;
	sctx.scale = 1.0 / Wsub;
	for (k = 0; k < nstarts; k++)
	{
		memcpy(th, starts[k], sizeof(th));
		clm_bfgs(fit_obj, &sctx, npar, th, 1000, &r);
		if (r.converged && r.f < sf)
		{
			sf = r.f;
			memcpy(sbest, th, sizeof(th));
			found = true;
			break;
		}
	}
	clm_core_free(sub);
	if (!found)
		return false;
	memcpy(th, sbest, sizeof(th));
	clm_bfgs(fit_obj, ctx, npar, th, CLM_WARM_START_MAXIT, &r);
	if (!r.converged)
		return false;
	*best_res = r;
	memcpy(best, th, sizeof(th));
	return true;
}

/*
 * Fit a model: identification checks, BFGS from several starts, a
 * Nelder-Mead restart if none converged, then standard errors.
 */
const char *
clm_fit(int kind, const clm_obs *obs, int n, clm_fit_result *res,
		const char **hint)
{
	const clm_model_def *def = clm_model_get_def(kind);
	int			npar = clm_kind_npar(kind);
	double		W = 0.0;
	double		starts[3][CLM_MAX_PAR];
	int			nstarts = 1,
				i,
				k;
	fit_ctx		ctx;
	double		best[CLM_MAX_PAR];
	clm_optim_result best_res;
	double		se_log[CLM_MAX_PAR];
	double		cov[CLM_MAX_PAR * CLM_MAX_PAR];
	double		hess[CLM_MAX_PAR * CLM_MAX_PAR];
	bool		have_hess = false;
	bool		se_ok;
	const char *err;

	*hint = NULL;
	memset(res, 0, sizeof(*res));
	res->kind = kind;
	res->npar = npar;
	for (i = 0; i < n; i++)
		W += obs[i].w;
	res->n_customers = W;
	res->n_distinct = n;
	if (def == NULL)
		return "unknown model kind";
	if (W < 2 * npar || n < npar)
	{
		*hint = "The fit needs at least twice as many customers as parameters and as many distinct inputs as parameters.";
		return "too few customers to fit the model";
	}
	if (def->identify && (err = def->identify(obs, n, hint)) != NULL)
		return err;

	/* starting points on the log scale */
	for (k = 0; k < CLM_MAX_PAR; k++)
		starts[0][k] = 0.0;
	if (def->starts)
		nstarts = def->starts(obs, n, starts);
	ctx.ll = clm_kind_ll(kind);
	ctx.obs = obs;
	ctx.n = n;
	ctx.scale = 1.0 / W;

	best_res.f = INFINITY;
	best_res.converged = false;
	best_res.iterations = 0;
	best_res.reason = "no start point had a finite log-likelihood";
	memcpy(best, starts[0], sizeof(best));
	res->iterations = 0;
	if (n > CLM_WARM_START_MIN && def->warm_start &&
		warm_start(&ctx, npar, starts, nstarts, best, &best_res))
	{
		nstarts = 0;			/* converged from the warm start */
		res->iterations = best_res.iterations;
	}
	for (k = 0; k < nstarts; k++)
	{
		double		th[CLM_MAX_PAR];
		clm_optim_result r;

		/* further starts only when the first did not converge */
		if (k > 0 && best_res.converged)
			break;

		memcpy(th, starts[k], sizeof(th));
		clm_bfgs(fit_obj, &ctx, npar, th, 1000, &r);
		res->iterations += r.iterations;
		if (r.f < best_res.f - 1e-12 ||
			(r.f <= best_res.f + 1e-12 && r.converged && !best_res.converged))
		{
			best_res = r;
			memcpy(best, th, sizeof(th));
		}
	}
	if (!best_res.converged && isfinite(best_res.f))
	{
		clm_optim_result r;
		double		th[CLM_MAX_PAR];

		memcpy(th, best, sizeof(th));
		clm_nelder_mead(fit_obj, &ctx, npar, th, 5000, &r);
		res->iterations += r.iterations;
		clm_bfgs(fit_obj, &ctx, npar, th, 1000, &r);
		res->iterations += r.iterations;
		if (r.f <= best_res.f + 1e-12)
		{
			best_res = r;
			memcpy(best, th, sizeof(th));
		}
	}
	if (isfinite(best_res.f))
	{
		double		gpol[CLM_MAX_PAR] = {0, 0, 0, 0};
		double		gmax = 0.0;

		clm_newton_polish(fit_obj, &ctx, npar, best, 1, hess, &have_hess);
		best_res.f = fit_obj(best, gpol, &ctx);
		for (k = 0; k < npar; k++)
			gmax = fmax(gmax, fabs(gpol[k]));
		if (!best_res.converged && gmax < 1e-7)
		{
			best_res.converged = true;
			best_res.reason = "newton polishing reached the gradient tolerance";
		}
	}
	for (k = 0; k < npar; k++)
		res->par[k] = exp(best[k]);
	res->ll = -best_res.f * W;
	res->converged = best_res.converged;
	snprintf(res->message, sizeof(res->message), "%s", best_res.reason);
	ctx.scale = 1.0;
	/*
	 * Standard errors from the Hessian the Newton polishing step took at the
	 * BFGS optimum (of the mean log-likelihood: times W for the total), else
	 * from a Hessian of its own.
	 */
	se_ok = isfinite(best_res.f) &&
		(have_hess ? clm_cov_from_hessian(npar, hess, W, cov) :
		 clm_hessian_cov(fit_obj, &ctx, npar, best, cov));
	for (k = 0; k < npar; k++)
	{
		se_log[k] = se_ok ? sqrt(cov[k * npar + k]) : NAN;
		res->se[k] = se_ok ? res->par[k] * se_log[k] : -1.0;
	}
	/* the correlations, kept for the prediction intervals (clm_interval.c) */
	for (k = 0; k < CLM_NCORR; k++)
		res->corr[k] = NAN;
	for (k = 0; k < npar && se_ok; k++)
		for (i = k + 1; i < npar; i++)
			res->corr[CLM_CORR_INDEX(k, i)] =
				fmax(-1.0, fmin(1.0, cov[k * npar + i] / (se_log[k] * se_log[i])));

	/*
	 * A small gradient is not enough: where the optimum is at infinity (a
	 * and b of BG/NBD growing together, say) the likelihood flattens out and
	 * the gradient vanishes along the way.  Converged also requires the
	 * second-order condition, a positive definite Hessian, every
	 * log-parameter determined to within CLM_SE_LOG_MAX (a factor e^10), and
	 * every parameter within e^+-CLM_LOGPAR_MAX (beyond, the fit is on a
	 * ridge towards a limit model, e.g. Pareto/NBD's s and beta growing
	 * together, where the Hessian by differences is rounding noise).
	 */
	if (res->converged)
	{
		bool		flat = !se_ok;

		for (k = 0; k < npar && !flat; k++)
			flat = !(se_log[k] <= CLM_SE_LOG_MAX) || fabs(best[k]) > CLM_LOGPAR_MAX;
		if (flat)
		{
			res->converged = false;
			snprintf(res->message, sizeof(res->message), "%s",
					 "no finite optimum: the likelihood is flat");
		}
	}
	if (!isfinite(res->ll))
	{
		*hint = "Check the inputs: the log-likelihood is not finite anywhere the optimiser looked.";
		return "the model could not be fitted";
	}
	return NULL;
}

/* which predictions a kind supports */
bool
clm_predict_applies(int kind, clm_prediction what)
{
	const clm_model_def *d = clm_model_get_def(kind);

	if (d == NULL)
		return false;
	switch (what)
	{
		case CLM_PRED_P_ALIVE:
			return d->p_alive != NULL;
		case CLM_PRED_EXPECTED:
			return d->expected != NULL;
		case CLM_PRED_CLV:
			return d->discounted != NULL;
		case CLM_PRED_P_N:
			return d->p_k != NULL;
		case CLM_PRED_P_NONE:
			return d->p_none != NULL;
		case CLM_PRED_SPEND:
			return d->spend != NULL;
		case CLM_PRED_SURVIVAL:
			return d->survival != NULL;
		case CLM_PRED_DERT:
			return d->dert != NULL;
		case CLM_PRED_NEXT:
			return d->gamma_rate;
		case CLM_PRED_NEW_CUSTOMER:
			return d->new_customer != NULL;
	}
	return false;
}

/* P(alive) at the end of the observation (BG/BB: at opportunity n+1) */
double
clm_p_alive(int kind, const double *par, double x, double t_x, double T)
{
	const clm_model_def *d = clm_model_get_def(kind);

	return (d && d->p_alive) ? d->p_alive(par, x, t_x, T) : NAN;
}

/* 1 - P(alive), computed without the cancellation of the difference */
double
clm_churn_probability(int kind, const double *par, double x, double t_x, double T)
{
	const clm_model_def *d = clm_model_get_def(kind);

	if (d == NULL || d->p_alive == NULL)
		return NAN;
	if (d->churn)
		return d->churn(par, x, t_x, T);
	return 1.0 - d->p_alive(par, x, t_x, T);
}

/* expected purchases in the next t time units (BG/BB: t opportunities) */
double
clm_expected_purchases(int kind, const double *par, double t,
					   double x, double t_x, double T)
{
	const clm_model_def *d = clm_model_get_def(kind);

	return (d && d->expected) ? d->expected(par, t, x, t_x, T) : NAN;
}

/* P(exactly k purchases in the next t) */
double
clm_p_purchases(int kind, const double *par, int k, double t,
				double x, double t_x, double T)
{
	const clm_model_def *d = clm_model_get_def(kind);

	return (d && d->p_k) ? d->p_k(par, k, t, x, t_x, T) : NAN;
}

/* P(no purchase in the next t) */
double
clm_p_no_purchase(int kind, const double *par, double t,
				  double x, double t_x, double T)
{
	const clm_model_def *d = clm_model_get_def(kind);

	return (d && d->p_none) ? d->p_none(par, t, x, t_x, T) : NAN;
}

/*
 * CLV over horizon periods of one time unit each (BG/BB: opportunities):
 *	 margin * spend * sum_{k=1}^{horizon} (E[Y(k)] - E[Y(k-1)]) / (1+discount)^k
 * i.e. the purchases expected in period k discounted to the end of the
 * observation with the per-period rate discount.
 */
double
clm_clv(int kind, const double *par, double spend, double margin,
		double discount, int horizon, double x, double t_x, double T)
{
	const clm_model_def *d = clm_model_get_def(kind);

	if (d == NULL || d->discounted == NULL)
		return NAN;
	return margin * spend * d->discounted(par, discount, horizon, x, t_x, T);
}
