/*-------------------------------------------------------------------------
 *
 * clm_models.c
 *	  Model registry, input checks, the fit driver and the prediction
 *	  dispatcher of the clm numerical core.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "clm_models.h"

/* per-kind helpers defined in the model files */
extern double clm_pnbd_p_alive(const double *par, double x, double t_x, double T);
extern double clm_pnbd_churn(const double *par, double x, double t_x, double T);
extern double clm_pnbd_expected(const double *par, double t, double x, double t_x, double T);
extern double clm_pnbd_expected_given_alive(const double *par, double t, double x, double T);
extern double clm_pnbd_p_k(const double *par, int k, double t, double x, double t_x, double T);
extern double clm_pnbd_p_none(const double *par, double t, double x, double t_x, double T);
extern double clm_bgbb_p_alive(const double *par, double x, double tx, double n);
extern double clm_bgbb_expected(const double *par, int nstar, double disc,
								double x, double tx, double n);

static const char *const kind_names[] = {
	"none", "bgnbd", "mbgnbd", "paretonbd", "gg", "bgbb", "sbg"
};
static const int kind_npar[] = {0, 4, 4, 4, 3, 4, 2};
static const char *const par_names[][CLM_MAX_PAR] = {
	{NULL},
	{"r", "alpha", "a", "b"},
	{"r", "alpha", "a", "b"},
	{"r", "alpha", "s", "beta"},
	{"p", "q", "gamma"},
	{"alpha", "beta", "gamma", "delta"},
	{"gamma", "delta"}
};

/* short name of a model kind */
const char *
clm_kind_name(int kind)
{
	if (kind < 1 || kind > CLM_KIND_MAX)
		return NULL;
	return kind_names[kind];
}

/* kind from its short name, 0 if unknown */
int
clm_kind_from_name(const char *name)
{
	int			k;

	for (k = 1; k <= CLM_KIND_MAX; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return 0;
}

/* number of parameters of a kind */
int
clm_kind_npar(int kind)
{
	if (kind < 1 || kind > CLM_KIND_MAX)
		return 0;
	return kind_npar[kind];
}

/* name of parameter i of a kind */
const char *
clm_kind_par_name(int kind, int i)
{
	if (kind < 1 || kind > CLM_KIND_MAX || i < 0 || i >= kind_npar[kind])
		return NULL;
	return par_names[kind][i];
}

/* log-likelihood function of a kind */
clm_ll_fn
clm_kind_ll(int kind)
{
	switch (kind)
	{
		case CLM_KIND_BGNBD:
			return clm_bgnbd_ll;
		case CLM_KIND_MBGNBD:
			return clm_mbgnbd_ll;
		case CLM_KIND_PARETONBD:
			return clm_paretonbd_ll;
		case CLM_KIND_GG:
			return clm_gg_ll;
		case CLM_KIND_BGBB:
			return clm_bgbb_ll;
		case CLM_KIND_SBG:
			return clm_sbg_ll;
	}
	return NULL;
}

#define CLM_MAX_VALUE 1e9

/* true when v is a whole number */
static bool
is_whole(double v)
{
	return v == floor(v);
}

/* validate one input tuple of a kind: NULL or a message */
const char *
clm_obs_check(int kind, const double *v)
{
	int			i;

	for (i = 0; i < 3; i++)
		if (!isfinite(v[i]) || fabs(v[i]) > CLM_MAX_VALUE)
			return "model inputs must be finite and at most 1e9 in absolute value";
	switch (kind)
	{
		case CLM_KIND_BGNBD:
		case CLM_KIND_MBGNBD:
		case CLM_KIND_PARETONBD:
			if (v[0] < 0)
				return "x (repeat purchases) must be >= 0";
			if (!(v[2] > 0))
				return "T (customer age) must be > 0";
			if (v[1] < 0 || v[1] > v[2])
				return "t_x (recency) must be between 0 and T";
			if (v[0] == 0 && v[1] != 0)
				return "t_x must be 0 when x is 0";
			return NULL;
		case CLM_KIND_GG:
			if (!(v[0] > 0))
				return "x (repeat purchases) must be > 0 for the gamma-gamma model";
			if (!(v[1] > 0))
				return "mean spend must be > 0 for the gamma-gamma model";
			return NULL;
		case CLM_KIND_BGBB:
			if (!is_whole(v[0]) || !is_whole(v[1]) || !is_whole(v[2]))
				return "x, t_x and n must be whole numbers";
			if (v[2] < 1 || v[2] > 100000)
				return "n (opportunities) must be between 1 and 100000";
			if (v[0] < 0 || v[0] > v[1] || v[1] > v[2])
				return "need 0 <= x <= t_x <= n";
			if (v[0] == 0 && v[1] != 0)
				return "t_x must be 0 when x is 0";
			if (v[0] > 0 && v[1] < 1)
				return "t_x must be >= 1 when x > 0";
			return NULL;
		case CLM_KIND_SBG:
			if (!is_whole(v[0]) || v[0] < 0 || v[0] > 1000000)
				return "t (periods) must be a whole number between 0 and 1000000";
			if (v[1] != 0 && v[1] != 1)
				return "churned must be 0 or 1";
			if (v[1] == 1 && v[0] < 1)
				return "a churned customer needs t >= 1";
			return NULL;
	}
	return "unknown model kind";
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
	int			npar = clm_kind_npar(kind);
	double		W = 0.0,
				sx = 0.0,
				sT = 0.0,
				wrep = 0.0,
				wchurn = 0.0;
	double		starts[3][CLM_MAX_PAR];
	int			nstarts = 1,
				i,
				k;
	fit_ctx		ctx;
	double		best[CLM_MAX_PAR];
	clm_optim_result best_res;
	double		se_log[CLM_MAX_PAR];
	double		hess[CLM_MAX_PAR * CLM_MAX_PAR];
	bool		have_hess = false;
	bool		se_ok;

	*hint = NULL;
	memset(res, 0, sizeof(*res));
	res->kind = kind;
	res->npar = npar;
	for (i = 0; i < n; i++)
	{
		W += obs[i].w;
		sx += obs[i].w * obs[i].v[0];
		sT += obs[i].w * obs[i].v[2];
		if (obs[i].v[0] > 0)
			wrep += obs[i].w;
		if (kind == CLM_KIND_SBG && obs[i].v[1] > 0.5)
			wchurn += obs[i].w;
	}
	res->n_customers = W;
	res->n_distinct = n;
	if (npar == 0)
		return "unknown model kind";
	if (W < 2 * npar || n < (kind == CLM_KIND_SBG ? 2 : npar))
	{
		*hint = "The fit needs at least twice as many customers as parameters and as many distinct inputs as parameters.";
		return "too few customers to fit the model";
	}
	if (kind == CLM_KIND_SBG && wchurn <= 0)
	{
		*hint = "The sbg model needs at least one churned customer.";
		return "no churn observed: the data cannot identify the model";
	}
	if (kind != CLM_KIND_SBG && kind != CLM_KIND_GG && wrep <= 0)
	{
		*hint = "All customers have x = 0; the model needs repeat buyers.";
		return "no repeat buyers: the data cannot identify the model";
	}

	/* starting points on the log scale */
	for (k = 0; k < CLM_MAX_PAR; k++)
		starts[0][k] = 0.0;
	if (kind == CLM_KIND_BGNBD || kind == CLM_KIND_MBGNBD || kind == CLM_KIND_PARETONBD)
	{
		double		meanT = sT / W,
					meanx = sx / W;

		starts[1][0] = log(0.5);
		starts[1][1] = log(fmax(meanT, 1e-3) / fmax(meanx, 0.05) / 2.0);
		starts[1][2] = log(0.5);
		starts[1][3] = (kind == CLM_KIND_PARETONBD) ? log(fmax(meanT, 1e-3)) : log(2.0);
		starts[2][0] = log(2.0);
		starts[2][1] = log(fmax(meanT, 1e-3));
		starts[2][2] = log(2.0);
		starts[2][3] = (kind == CLM_KIND_PARETONBD) ? log(fmax(meanT, 1e-3) * 4) : log(5.0);
		nstarts = 3;
	}
	else if (kind == CLM_KIND_GG)
	{
		starts[1][0] = log(2.0);
		starts[1][1] = log(3.0);
		starts[1][2] = log(fmax(sT / W + 1, 1.0));
		nstarts = 2;
	}
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
	if (n > CLM_WARM_START_MIN && kind != CLM_KIND_PARETONBD &&
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
		(have_hess ? clm_se_from_hessian(npar, hess, W, se_log) :
		 clm_hessian_se(fit_obj, &ctx, npar, best, se_log));
	for (k = 0; k < npar; k++)
		res->se[k] = se_ok ? res->par[k] * se_log[k] : -1.0;

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
	switch (what)
	{
		case CLM_PRED_P_ALIVE:
		case CLM_PRED_EXPECTED:
		case CLM_PRED_CLV:
			return kind == CLM_KIND_BGNBD || kind == CLM_KIND_MBGNBD ||
				kind == CLM_KIND_PARETONBD || kind == CLM_KIND_BGBB;
		case CLM_PRED_P_N:
		case CLM_PRED_P_NONE:
			return kind == CLM_KIND_BGNBD || kind == CLM_KIND_MBGNBD ||
				kind == CLM_KIND_PARETONBD;
		case CLM_PRED_SPEND:
			return kind == CLM_KIND_GG;
		case CLM_PRED_SURVIVAL:
			return kind == CLM_KIND_SBG;
		case CLM_PRED_DERT:
			return kind == CLM_KIND_PARETONBD;
	}
	return false;
}

/* P(alive) at the end of the observation (BG/BB: at opportunity n+1) */
double
clm_p_alive(int kind, const double *par, double x, double t_x, double T)
{
	switch (kind)
	{
		case CLM_KIND_BGNBD:
			return clm_bg_p_alive(0, par, x, t_x, T);
		case CLM_KIND_MBGNBD:
			return clm_bg_p_alive(1, par, x, t_x, T);
		case CLM_KIND_PARETONBD:
			return clm_pnbd_p_alive(par, x, t_x, T);
		case CLM_KIND_BGBB:
			return clm_bgbb_p_alive(par, x, t_x, T);
	}
	return NAN;
}

/* 1 - P(alive), computed without the cancellation of the difference */
double
clm_churn_probability(int kind, const double *par, double x, double t_x, double T)
{
	switch (kind)
	{
		case CLM_KIND_BGNBD:
			return clm_bg_churn(0, par, x, t_x, T);
		case CLM_KIND_MBGNBD:
			return clm_bg_churn(1, par, x, t_x, T);
		case CLM_KIND_PARETONBD:
			return clm_pnbd_churn(par, x, t_x, T);
		case CLM_KIND_BGBB:
			/* at least gamma / (gamma + delta + n + 1): no cancellation to speak of */
			return 1.0 - clm_bgbb_p_alive(par, x, t_x, T);
	}
	return NAN;
}

/* expected purchases in the next t time units (BG/BB: t opportunities) */
double
clm_expected_purchases(int kind, const double *par, double t,
					   double x, double t_x, double T)
{
	switch (kind)
	{
		case CLM_KIND_BGNBD:
			return clm_bg_expected(0, par, t, x, t_x, T);
		case CLM_KIND_MBGNBD:
			return clm_bg_expected(1, par, t, x, t_x, T);
		case CLM_KIND_PARETONBD:
			return clm_pnbd_expected(par, t, x, t_x, T);
		case CLM_KIND_BGBB:
			return clm_bgbb_expected(par, (int) floor(t), 0.0, x, t_x, T);
	}
	return NAN;
}

/* P(exactly k purchases in the next t) */
double
clm_p_purchases(int kind, const double *par, int k, double t,
				double x, double t_x, double T)
{
	switch (kind)
	{
		case CLM_KIND_BGNBD:
			return clm_bg_p_k(0, par, k, t, x, t_x, T);
		case CLM_KIND_MBGNBD:
			return clm_bg_p_k(1, par, k, t, x, t_x, T);
		case CLM_KIND_PARETONBD:
			return clm_pnbd_p_k(par, k, t, x, t_x, T);
	}
	return NAN;
}

/* P(no purchase in the next t) */
double
clm_p_no_purchase(int kind, const double *par, double t,
				  double x, double t_x, double T)
{
	switch (kind)
	{
		case CLM_KIND_BGNBD:
			return clm_bg_p_k(0, par, 0, t, x, t_x, T);
		case CLM_KIND_MBGNBD:
			return clm_bg_p_k(1, par, 0, t, x, t_x, T);
		case CLM_KIND_PARETONBD:
			return clm_pnbd_p_none(par, t, x, t_x, T);
	}
	return NAN;
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
	double		det = 0.0;
	int			k;

	switch (kind)
	{
		case CLM_KIND_BGNBD:
			det = clm_bg_discounted(0, par, discount, horizon, x, t_x, T);
			break;
		case CLM_KIND_MBGNBD:
			det = clm_bg_discounted(1, par, discount, horizon, x, t_x, T);
			break;
		case CLM_KIND_PARETONBD:
			{
				double		prev = 0.0,
							df = 1.0,
							pa = clm_p_alive(kind, par, x, t_x, T);

				/* E[Y(k)] = P(alive) * (the same with P(alive) = 1) */
				for (k = 1; k <= horizon; k++)
				{
					double		cur = pa * clm_pnbd_expected_given_alive(par, k, x, T);

					df /= (1.0 + discount);
					det += (cur - prev) * df;
					prev = cur;
				}
			}
			break;
		case CLM_KIND_BGBB:
			det = clm_bgbb_expected(par, horizon, discount, x, t_x, T);
			break;
		default:
			return NAN;
	}
	return margin * spend * det;
}
