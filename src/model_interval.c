/*-------------------------------------------------------------------------
 *
 * model_interval.c
 *	  Prediction intervals of a clm.model (the method is in
 *	  src/core/clm_interval.c): per customer, clm.expected_purchases_interval,
 *	  clm.p_alive_interval, clm.expected_spend_interval, clm.clv_interval;
 *	  over customers, the aggregates clm.expected_purchases_total,
 *	  clm.alive_customers_total and clm.clv_total; and
 *	  clm.model_correlations.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "clm_interval.h"
#include "compat.h"
#include "models.h"

/*
 * Per-call-site cache (fn_extra): the model in use, its sigma points, and a
 * direct-mapped memo of the count distributions given alive, keyed by
 * (x, T, t) (they do not depend on t_x: customers share (x, T) far more
 * often than (x, t_x, T)), each with one distribution per sigma point.
 * The memo's arrays live in memo_cxt, reset when the model changes; the
 * entries are then dropped in O(1) by a new generation, so that rows whose
 * model changes from row to row (GROUP BY over models) cost a miss, never a
 * sweep of the table.
 */
#define IV_MEMO_SIZE 65536
/* the memo's arrays beyond this many bytes: start it over */
#define IV_MEMO_MAX_BYTES ((Size) 256 * 1024 * 1024)

typedef struct IvMemoEntry
{
	double		x;
	double		T;
	double		t;
	clm_alive_counts d[CLM_SIGMA_MAX];
} IvMemoEntry;

/* a slot of the table: its entry (in memo_cxt) when gen is the current one */
typedef struct IvMemoSlot
{
	IvMemoEntry *e;
	uint32		gen;			/* 0: never filled */
} IvMemoSlot;

typedef struct IvCache
{
	bool		valid;
	ClmModel	model;			/* the format-1 part of the model */
	double		corr[CLM_NCORR];	/* its correlations (NaN: unknown) */
	clm_sigma	sp;
	const char *sp_err;			/* why there are no sigma points, or NULL */
	MemoryContext memo_cxt;
	uint32		gen;
	IvMemoSlot *memo;			/* IV_MEMO_SIZE slots in fn_mcxt, NULL until used */
	TupleDesc	tupdesc;		/* clm.prediction_interval, blessed, in fn_mcxt */
} IvCache;

/* the cache of this call site for model m (rebuilt when the model changes) */
static IvCache *
iv_cache(FunctionCallInfo fcinfo, const ClmModel *m)
{
	IvCache    *c = (IvCache *) fcinfo->flinfo->fn_extra;
	double		corr[CLM_NCORR];

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(IvCache));
		c->memo_cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
											"clm interval memo",
											ALLOCSET_DEFAULT_SIZES);
		fcinfo->flinfo->fn_extra = c;
	}
	if (CLM_MODEL_HAS_COV(m))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("prediction intervals of a model with covariates are not supported"),
				 errhint("Fit the model without covariates for intervals (e.g. one model per group of customers).")));
	clm_model_corr_get(m, corr);
	if (!c->valid || memcmp(&c->model, m, sizeof(ClmModel)) != 0 ||
		memcmp(c->corr, corr, sizeof(corr)) != 0)
	{
		c->valid = false;
		MemoryContextReset(c->memo_cxt);
		if (++c->gen == 0)
		{
			/* wrapped after 2^32 models: start over from an empty table */
			if (c->memo)
				memset(c->memo, 0, sizeof(IvMemoSlot) * IV_MEMO_SIZE);
			c->gen = 1;
		}
		memcpy(&c->model, m, sizeof(ClmModel));
		memcpy(c->corr, corr, sizeof(corr));
		c->sp_err = clm_sigma_points(clm_kind_npar(m->kind), m->par, m->se,
									 corr, &c->sp);
		c->valid = true;
	}
	return c;
}

/* the sigma points of the cached model, or the error why there are none */
static const clm_sigma *
iv_sigma(IvCache *c)
{
	if (c->sp_err)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no prediction interval for this model: %s", c->sp_err),
				 errhint("Fit the model again with this version of clm (it keeps the correlations of the parameters), or make it with clm.make_model to treat the parameters as known.")));
	return &c->sp;
}

/* check a level in (0, 1) */
static void
iv_check_level(double level)
{
	if (!(level > 0.0 && level < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the level of a prediction interval must be between 0 and 1 (exclusive)")));
}

/*
 * The count distributions given alive of (x, T, t) at every sigma point,
 * from the memo or computed into it.
 */
static const clm_alive_counts *
iv_counts(FunctionCallInfo fcinfo, IvCache *c, double t, double x, double T)
{
	uint64		hx,
				hT,
				ht,
				h;
	IvMemoSlot *slot;
	IvMemoEntry *e;
	const clm_sigma *sp = &c->sp;
	int			j;

	if (c->memo == NULL)
		c->memo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
										 sizeof(IvMemoSlot) * IV_MEMO_SIZE);
	memcpy(&hx, &x, sizeof(hx));
	memcpy(&hT, &T, sizeof(hT));
	memcpy(&ht, &t, sizeof(ht));
	/* murmur3's 64-bit finaliser: integral doubles have all-zero low bits */
	h = hx ^ ((hT << 31) | (hT >> 33)) ^ hT ^ ((ht << 17) | (ht >> 47));
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	slot = &c->memo[h & (IV_MEMO_SIZE - 1)];
	if (slot->gen == c->gen && slot->e->x == x && slot->e->T == T && slot->e->t == t)
		return slot->e->d;
	/* bounded memory: past IV_MEMO_MAX_BYTES the memo starts over */
	if (MemoryContextMemAllocated(c->memo_cxt, false) > IV_MEMO_MAX_BYTES)
	{
		MemoryContextReset(c->memo_cxt);
		if (++c->gen == 0)
		{
			memset(c->memo, 0, sizeof(IvMemoSlot) * IV_MEMO_SIZE);
			c->gen = 1;
		}
	}
	/* the entries of an older generation went with the reset of memo_cxt */
	if (slot->gen == c->gen)
	{
		e = slot->e;
		for (j = 0; j < sp->npts; j++)
			if (e->d[j].cdf)
				pfree(e->d[j].cdf);
	}
	else
		e = MemoryContextAlloc(c->memo_cxt, sizeof(IvMemoEntry));
	slot->gen = 0;
	memset(e->d, 0, sizeof(e->d));
	for (j = 0; j < sp->npts; j++)
	{
		MemoryContext old = MemoryContextSwitchTo(c->memo_cxt);
		const char *err = clm_alive_counts_dist(c->model.kind, sp->par[j], t, x, T, &e->d[j]);

		MemoryContextSwitchTo(old);
		if (err)
		{
			int			i;

			for (i = 0; i <= j; i++)
				if (e->d[i].cdf)
					pfree(e->d[i].cdf);
			pfree(e);
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("prediction interval: %s", err),
					 errhint("The expected purchases are too many for a count distribution; shorten the horizon.")));
		}
	}
	e->x = x;
	e->T = T;
	e->t = t;
	slot->e = e;
	slot->gen = c->gen;
	return e->d;
}

/*
 * A row (estimate, lower, upper) of type clm.prediction_interval; its
 * tuple descriptor is kept in the call site's cache c (NULL: none).
 */
static Datum
iv_result(FunctionCallInfo fcinfo, IvCache *c, double est, double lo, double hi,
		  const char *what)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (!isfinite(est) || !isfinite(lo) || !isfinite(hi))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s is not finite for this model", what)));
	tupdesc = c ? c->tupdesc : NULL;
	if (tupdesc == NULL)
	{
		/* kept for the call site's next rows (c), else for this row only */
		MemoryContext old = MemoryContextSwitchTo(c ? fcinfo->flinfo->fn_mcxt :
												  CurrentMemoryContext);

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(old);
		if (c)
			c->tupdesc = tupdesc;
	}
	values[0] = Float8GetDatum(est);
	values[1] = Float8GetDatum(lo);
	values[2] = Float8GetDatum(hi);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* the checks of expected_purchases for the interval functions */
static void
iv_check_purchases(const ClmModel *m, double t, double x, double t_x, double T,
				   const char *fname)
{
	clm_require_kind(m, CLM_PRED_EXPECTED, fname);
	if (!clm_interval_applies(m->kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s does not apply to a %s model", fname, clm_kind_name(m->kind)),
				 errhint("Count intervals are for bgnbd, mbgnbd and paretonbd models.")));
	clm_check_customer(m, x, t_x, T);
	clm_check_horizon(t);
}

/*
 * One customer's expected purchases and count distributions at the sigma
 * points: pa[j] = P(alive), d[j] given alive; returns the estimate.
 */
static double
iv_customer_counts(FunctionCallInfo fcinfo, IvCache *c, double t, double x, double t_x, double T,
				   double *pa, const clm_alive_counts **d)
{
	const clm_sigma *sp = iv_sigma(c);
	int			kind = c->model.kind,
				j;

	for (j = 0; j < sp->npts; j++)
		pa[j] = clm_p_alive(kind, sp->par[j], x, t_x, T);
	*d = iv_counts(fcinfo, c, t, x, T);
	/* BG/NBD and MBG/NBD: the sum of the tail is the expectation to 1e-12 */
	if (kind == CLM_KIND_PARETONBD)
		return clm_expected_purchases(kind, c->model.par, t, x, t_x, T);
	return pa[0] * (*d)[0].m1;
}

PG_FUNCTION_INFO_V1(clm_expected_purchases_interval);
/*
 * clm.expected_purchases_interval(model, t, x, t_x, T, level): the expected
 * purchases in the next t and the interval of the count.
 */
Datum
clm_expected_purchases_interval(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1),
				x = PG_GETARG_FLOAT8(2),
				t_x = PG_GETARG_FLOAT8(3),
				T = PG_GETARG_FLOAT8(4),
				level = PG_GETARG_FLOAT8(5);
	IvCache    *c;
	double		pa[CLM_SIGMA_MAX],
				est,
				lo,
				hi;
	const clm_alive_counts *d;

	iv_check_purchases(m, t, x, t_x, T, "expected_purchases_interval");
	iv_check_level(level);
	c = iv_cache(fcinfo, m);
	est = iv_customer_counts(fcinfo, c, t, x, t_x, T, pa, &d);
	clm_count_quantiles(c->sp.npts, c->sp.w, pa, d, 0.5 - 0.5 * level, 0.5 + 0.5 * level,
						&lo, &hi);
	return iv_result(fcinfo, c, est, lo, hi, "expected_purchases_interval");
}

/* logit of P(alive) from P(alive) and 1 - P(alive), both accurate */
static double
iv_logit(double pa, double churn)
{
	return log(fmax(pa, 1e-300)) - log(fmax(churn, 1e-300));
}

PG_FUNCTION_INFO_V1(clm_p_alive_interval);
/*
 * clm.p_alive_interval(model, x, t_x, T, level): P(alive) and its interval
 * from the parameters' uncertainty, normal on the logit scale.
 */
Datum
clm_p_alive_interval(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		x = PG_GETARG_FLOAT8(1),
				t_x = PG_GETARG_FLOAT8(2),
				T = PG_GETARG_FLOAT8(3),
				level = PG_GETARG_FLOAT8(4);
	IvCache    *c;
	const clm_sigma *sp;
	double		g[CLM_SIGMA_MAX],
				est,
				lo,
				hi;
	int			j;

	clm_require_kind(m, CLM_PRED_P_ALIVE, "p_alive_interval");
	clm_check_customer(m, x, t_x, T);
	iv_check_level(level);
	c = iv_cache(fcinfo, m);
	sp = iv_sigma(c);
	for (j = 0; j < sp->npts; j++)
		g[j] = iv_logit(clm_p_alive(m->kind, sp->par[j], x, t_x, T),
						clm_churn_probability(m->kind, sp->par[j], x, t_x, T));
	est = clm_p_alive(m->kind, m->par, x, t_x, T);
	clm_sigma_normal(sp, g, g[0], level, &lo, &hi);
	return iv_result(fcinfo, c, est, 1.0 / (1.0 + exp(-lo)), 1.0 / (1.0 + exp(-hi)),
					 "p_alive_interval");
}

PG_FUNCTION_INFO_V1(clm_expected_spend_interval);
/*
 * clm.expected_spend_interval(model, x, mean_spend, level): the Gamma-Gamma
 * expected spend per transaction and the interval of the customer's mean
 * spend (its posterior mixed over the parameters' uncertainty).
 */
Datum
clm_expected_spend_interval(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		x = PG_GETARG_FLOAT8(1),
				z = PG_GETARG_FLOAT8(2),
				level = PG_GETARG_FLOAT8(3);
	IvCache    *c;
	const clm_sigma *sp;

	clm_require_kind(m, CLM_PRED_SPEND, "expected_spend_interval");
	if (!(x >= 0) || x > 1e9 || (x > 0 && (!(z > 0) || !isfinite(z) || z > 1e15)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expected_spend_interval needs x between 0 and 1e9 and, when x > 0, a mean spend > 0 (at most 1e15)")));
	if (x == 0)
		z = 0;
	iv_check_level(level);
	c = iv_cache(fcinfo, m);
	sp = iv_sigma(c);
	return iv_result(fcinfo, c, clm_expected_spend(m->par, x, z),
					 clm_spend_quantile(sp, x, z, 0.5 - 0.5 * level),
					 clm_spend_quantile(sp, x, z, 0.5 + 0.5 * level),
					 "expected_spend_interval");
}

PG_FUNCTION_INFO_V1(clm_clv_interval);
/*
 * clm.clv_interval(model, horizon, discount_rate, margin, spend, x, t_x, T,
 * level): the CLV and its interval from the parameters' uncertainty, normal
 * on the log of the discounted expected purchases.
 */
Datum
clm_clv_interval(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	int32		horizon = PG_GETARG_INT32(1);
	double		disc = PG_GETARG_FLOAT8(2),
				margin = PG_GETARG_FLOAT8(3),
				spend = PG_GETARG_FLOAT8(4),
				x = PG_GETARG_FLOAT8(5),
				t_x = PG_GETARG_FLOAT8(6),
				T = PG_GETARG_FLOAT8(7),
				level = PG_GETARG_FLOAT8(8);
	IvCache    *c;
	const clm_sigma *sp;
	double		g[CLM_SIGMA_MAX],
				det0,
				lo,
				hi,
				f = margin * spend;
	int			j;

	clm_check_clv(m, horizon, disc, margin, spend, x, t_x, T, "clv_interval");
	iv_check_level(level);
	c = iv_cache(fcinfo, m);
	sp = iv_sigma(c);
	/* discounted expected purchases (clm_clv with margin * spend = 1) */
	det0 = clm_clv(m->kind, m->par, 1.0, 1.0, disc, horizon, x, t_x, T);
	if (!(det0 > 0))
		return iv_result(fcinfo, c, f * det0, f * det0, f * det0, "clv_interval");
	g[0] = log(det0);
	for (j = 1; j < sp->npts; j++)
		g[j] = log(fmax(clm_clv(m->kind, sp->par[j], 1.0, 1.0, disc, horizon,
								x, t_x, T), 1e-300));
	clm_sigma_normal(sp, g, log(det0), level, &lo, &hi);
	lo = f * exp(lo);
	hi = f * exp(hi);
	return iv_result(fcinfo, c, f * det0, fmin(lo, hi), fmax(lo, hi), "clv_interval");
}

/*
 * The state of the sum aggregates: a float8[] (a real type, so that the
 * aggregates run partially on Citus workers and in parallel), laid out as
 * below.  The key (everything before IS_N) says what is summed: the model
 * (kind, parameters, standard errors, correlations), the prediction's
 * arguments other than the customer's, the level and the sigma points'
 * number and distance; every row and every combined state must have the
 * same key.  Then the rows summed and, per sigma point, the sums of the
 * means and of the variances given the parameters.
 */
#define IS_TAG		0			/* IV_TAG_* */
#define IS_KIND		1
#define IS_PAR		2			/* CLM_MAX_PAR */
#define IS_SE		(IS_PAR + CLM_MAX_PAR)
#define IS_CORR		(IS_SE + CLM_MAX_PAR)
#define IS_ARG		(IS_CORR + CLM_NCORR)	/* 2 */
#define IS_LEVEL	(IS_ARG + 2)
#define IS_NPTS		(IS_LEVEL + 1)
#define IS_H		(IS_NPTS + 1)
#define IS_N		(IS_H + 1)
#define IS_MEAN		(IS_N + 1)	/* CLM_SIGMA_MAX */
#define IS_VAR		(IS_MEAN + CLM_SIGMA_MAX)	/* CLM_SIGMA_MAX */
#define IS_LEN		(IS_VAR + CLM_SIGMA_MAX)

#define IV_TAG_PURCHASES	3101.0
#define IV_TAG_ALIVE		3102.0
#define IV_TAG_CLV			3103.0

/*
 * The state's values, after checking that it is a state of the aggregate
 * (tag; 0: of any of the sum aggregates).
 */
static double *
iv_state_values(ArrayType *a, double tag, const char *fname)
{
	double	   *v;
	int			npar,
				npts,
				i;

	if (ARR_NDIM(a) != 1 || ARR_DIMS(a)[0] != IS_LEN || ARR_HASNULL(a) ||
		ARR_ELEMTYPE(a) != FLOAT8OID)
		goto bad;
	v = (double *) ARR_DATA_PTR(a);
	if ((tag != 0 ? v[IS_TAG] != tag :
		 (v[IS_TAG] != IV_TAG_PURCHASES && v[IS_TAG] != IV_TAG_ALIVE &&
		  v[IS_TAG] != IV_TAG_CLV)) ||
		clm_kind_name((int) v[IS_KIND]) == NULL ||
		v[IS_KIND] != floor(v[IS_KIND]))
		goto bad;
	npar = clm_kind_npar((int) v[IS_KIND]);
	npts = (int) v[IS_NPTS];
	if (v[IS_NPTS] != npts || (npts != 1 && npts != 2 * npar + 1) ||
		!(v[IS_LEVEL] > 0 && v[IS_LEVEL] < 1) ||
		(npts > 1 && !(v[IS_H] > 0 && v[IS_H] < 100)) ||
		!(v[IS_N] >= 0) || !isfinite(v[IS_N]))
		goto bad;
	for (i = IS_MEAN; i < IS_LEN; i++)
		if (!isfinite(v[i]))
			goto bad;
	return v;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid state of %s", fname),
			 errhint("The state is built by the aggregate from its first row; do not give it an initial value.")));
	return NULL;
}

/* a new state for model m with its cache's sigma points, in the aggregate's context */
static ArrayType *
iv_state_new(FunctionCallInfo fcinfo, IvCache *c, double tag, double a1, double a2,
			 double level)
{
	MemoryContext aggcxt,
				old;
	Datum		elems[IS_LEN];
	double		key[IS_N];
	ArrayType  *a;
	int			i;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		aggcxt = CurrentMemoryContext;
	memset(key, 0, sizeof(key));
	key[IS_TAG] = tag;
	key[IS_KIND] = c->model.kind;
	for (i = 0; i < CLM_MAX_PAR; i++)
	{
		key[IS_PAR + i] = c->model.par[i];
		key[IS_SE + i] = c->model.se[i];
	}
	for (i = 0; i < CLM_NCORR; i++)
		key[IS_CORR + i] = c->corr[i];
	key[IS_ARG] = a1;
	key[IS_ARG + 1] = a2;
	key[IS_LEVEL] = level;
	key[IS_NPTS] = c->sp.npts;
	key[IS_H] = c->sp.h;
	for (i = 0; i < IS_LEN; i++)
		elems[i] = Float8GetDatum(i < IS_N ? key[i] : 0.0);
	old = MemoryContextSwitchTo(aggcxt);
	a = construct_array(elems, IS_LEN, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	MemoryContextSwitchTo(old);
	return a;
}

/* does the row's key (model, arguments, level) match the state's? */
static bool
iv_key_matches(const double *v, const IvCache *c, double a1, double a2, double level)
{
	int			i;

	if (v[IS_KIND] != c->model.kind || v[IS_ARG] != a1 || v[IS_ARG + 1] != a2 ||
		v[IS_LEVEL] != level)
		return false;
	for (i = 0; i < CLM_MAX_PAR; i++)
		if (memcmp(&v[IS_PAR + i], &c->model.par[i], sizeof(double)) != 0 ||
			memcmp(&v[IS_SE + i], &c->model.se[i], sizeof(double)) != 0)
			return false;
	for (i = 0; i < CLM_NCORR; i++)
		if (memcmp(&v[IS_CORR + i], &c->corr[i], sizeof(double)) != 0)
			return false;
	return true;
}

/*
 * The transition of the sum aggregates: the state for this row (new on the
 * first row; in place when called as an aggregate, else a copy), checked
 * against the row's key.
 */
static double *
iv_trans_state(FunctionCallInfo fcinfo, IvCache *c, double tag, double a1,
			   double a2, double level, const char *fname, ArrayType **out)
{
	ArrayType  *a;
	double	   *v;

	if (PG_ARGISNULL(0))
		a = iv_state_new(fcinfo, c, tag, a1, a2, level);
	else
	{
		a = PG_GETARG_ARRAYTYPE_P(0);
		if (!AggCheckCallContext(fcinfo, NULL))
			a = PG_GETARG_ARRAYTYPE_P_COPY(0);
	}
	v = iv_state_values(a, tag, fname);
	if (!iv_key_matches(v, c, a1, a2, level))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("every row of %s must have the same model, prediction arguments and level", fname),
				 errhint("Group the rows by model (GROUP BY), or sum each model in an aggregate of its own.")));
	*out = a;
	return v;
}

/* is any of the first n arguments NULL? (rows with one are skipped) */
static bool
iv_any_null(FunctionCallInfo fcinfo, int n)
{
	int			i;

	for (i = 1; i < n; i++)
		if (PG_ARGISNULL(i))
			return true;
	return false;
}

/* the level argument of a sum aggregate: argument i, or 0.9 if absent */
static double
iv_agg_level(FunctionCallInfo fcinfo, int i)
{
	double		level = PG_NARGS() > i ? PG_GETARG_FLOAT8(i) : 0.9;

	iv_check_level(level);
	return level;
}

/* return the state, or NULL when there is none yet */
#define IV_SKIP_ROW() \
	do { \
		if (PG_ARGISNULL(0)) \
			PG_RETURN_NULL(); \
		PG_RETURN_DATUM(PG_GETARG_DATUM(0)); \
	} while (0)

PG_FUNCTION_INFO_V1(clm_expected_purchases_total_trans);
/*
 * clm.expected_purchases_total(model, t, x, t_x, T [, level]) transition:
 * adds the customer's mean and variance of the count at each sigma point.
 */
Datum
clm_expected_purchases_total_trans(PG_FUNCTION_ARGS)
{
	const char *fname = "expected_purchases_total";
	ClmModel   *m;
	double		t,
				x,
				t_x,
				T,
				level,
				pa[CLM_SIGMA_MAX];
	IvCache    *c;
	ArrayType  *a;
	double	   *v;
	const clm_alive_counts *d;
	int			j;

	if (iv_any_null(fcinfo, PG_NARGS()))
		IV_SKIP_ROW();
	m = clm_model_get(PG_GETARG_DATUM(1));
	t = PG_GETARG_FLOAT8(2);
	x = PG_GETARG_FLOAT8(3);
	t_x = PG_GETARG_FLOAT8(4);
	T = PG_GETARG_FLOAT8(5);
	level = iv_agg_level(fcinfo, 6);
	iv_check_purchases(m, t, x, t_x, T, fname);
	c = iv_cache(fcinfo, m);
	iv_sigma(c);
	v = iv_trans_state(fcinfo, c, IV_TAG_PURCHASES, t, 0, level, fname, &a);
	iv_customer_counts(fcinfo, c, t, x, t_x, T, pa, &d);
	for (j = 0; j < c->sp.npts; j++)
	{
		double		mu = pa[j] * d[j].m1;

		v[IS_MEAN + j] += mu;
		v[IS_VAR + j] += fmax(0.0, pa[j] * d[j].m2 - mu * mu);
	}
	v[IS_N] += 1;
	PG_RETURN_ARRAYTYPE_P(a);
}

PG_FUNCTION_INFO_V1(clm_alive_customers_total_trans);
/*
 * clm.alive_customers_total(model, x, t_x, T [, level]) transition: the
 * number alive is a sum of Bernoulli(P(alive)).
 */
Datum
clm_alive_customers_total_trans(PG_FUNCTION_ARGS)
{
	const char *fname = "alive_customers_total";
	ClmModel   *m;
	double		x,
				t_x,
				T,
				level;
	IvCache    *c;
	ArrayType  *a;
	double	   *v;
	int			j;

	if (iv_any_null(fcinfo, PG_NARGS()))
		IV_SKIP_ROW();
	m = clm_model_get(PG_GETARG_DATUM(1));
	x = PG_GETARG_FLOAT8(2);
	t_x = PG_GETARG_FLOAT8(3);
	T = PG_GETARG_FLOAT8(4);
	level = iv_agg_level(fcinfo, 5);
	clm_require_kind(m, CLM_PRED_P_ALIVE, fname);
	clm_check_customer(m, x, t_x, T);
	c = iv_cache(fcinfo, m);
	iv_sigma(c);
	v = iv_trans_state(fcinfo, c, IV_TAG_ALIVE, 0, 0, level, fname, &a);
	for (j = 0; j < c->sp.npts; j++)
	{
		double		pa = clm_p_alive(m->kind, c->sp.par[j], x, t_x, T);

		v[IS_MEAN + j] += pa;
		v[IS_VAR + j] += pa * (1.0 - pa);
	}
	v[IS_N] += 1;
	PG_RETURN_ARRAYTYPE_P(a);
}

PG_FUNCTION_INFO_V1(clm_clv_total_trans);
/*
 * clm.clv_total(model, horizon, discount_rate, margin, spend, x, t_x, T
 * [, level]) transition: the CLV at each sigma point (an expectation: no
 * process variance).
 */
Datum
clm_clv_total_trans(PG_FUNCTION_ARGS)
{
	const char *fname = "clv_total";
	ClmModel   *m;
	int32		horizon;
	double		disc,
				margin,
				spend,
				x,
				t_x,
				T,
				level;
	IvCache    *c;
	ArrayType  *a;
	double	   *v;
	int			j;

	if (iv_any_null(fcinfo, PG_NARGS()))
		IV_SKIP_ROW();
	m = clm_model_get(PG_GETARG_DATUM(1));
	horizon = PG_GETARG_INT32(2);
	disc = PG_GETARG_FLOAT8(3);
	margin = PG_GETARG_FLOAT8(4);
	spend = PG_GETARG_FLOAT8(5);
	x = PG_GETARG_FLOAT8(6);
	t_x = PG_GETARG_FLOAT8(7);
	T = PG_GETARG_FLOAT8(8);
	level = iv_agg_level(fcinfo, 9);
	clm_check_clv(m, horizon, disc, margin, spend, x, t_x, T, fname);
	c = iv_cache(fcinfo, m);
	iv_sigma(c);
	v = iv_trans_state(fcinfo, c, IV_TAG_CLV, horizon, disc, level, fname, &a);
	for (j = 0; j < c->sp.npts; j++)
		v[IS_MEAN + j] += margin * spend *
			clm_clv(m->kind, c->sp.par[j], 1.0, 1.0, disc, horizon, x, t_x, T);
	v[IS_N] += 1;
	PG_RETURN_ARRAYTYPE_P(a);
}

PG_FUNCTION_INFO_V1(clm_interval_total_combine);
/* combine function of the sum aggregates: the sums of two states of one key */
Datum
clm_interval_total_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a,
			   *b;
	double	   *va,
			   *vb;
	int			i;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = PG_GETARG_ARRAYTYPE_P(1);
	vb = iv_state_values(b, 0, "a prediction interval aggregate");
	if (PG_ARGISNULL(0))
	{
		MemoryContext aggcxt,
					old;

		if (!AggCheckCallContext(fcinfo, &aggcxt))
			aggcxt = CurrentMemoryContext;
		old = MemoryContextSwitchTo(aggcxt);
		a = DatumGetArrayTypePCopy(PG_GETARG_DATUM(1));
		MemoryContextSwitchTo(old);
		PG_RETURN_ARRAYTYPE_P(a);
	}
	a = AggCheckCallContext(fcinfo, NULL) ? PG_GETARG_ARRAYTYPE_P(0) :
		PG_GETARG_ARRAYTYPE_P_COPY(0);
	va = iv_state_values(a, vb[IS_TAG], "a prediction interval aggregate");
	if (memcmp(va, vb, sizeof(double) * IS_N) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine prediction interval sums of different models, arguments or levels")));
	for (i = IS_N; i < IS_LEN; i++)
		va[i] += vb[i];
	PG_RETURN_ARRAYTYPE_P(a);
}

PG_FUNCTION_INFO_V1(clm_interval_total_final);
/*
 * final function of the sum aggregates: the sum's estimate (at the
 * estimated parameters) and its interval (clm_total_interval); NULL when
 * no row was summed.
 */
Datum
clm_interval_total_final(PG_FUNCTION_ARGS)
{
	ArrayType  *a;
	double	   *v,
				tag,
				lo,
				hi;
	int			npar;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	a = PG_GETARG_ARRAYTYPE_P(0);
	v = iv_state_values(a, 0, "a prediction interval aggregate");
	tag = v[IS_TAG];
	npar = clm_kind_npar((int) v[IS_KIND]);
	if (!clm_total_interval(npar, (int) v[IS_NPTS], v[IS_H], v + IS_MEAN, v + IS_VAR,
							v[IS_LEVEL], &lo, &hi))
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (tag != IV_TAG_CLV)
	{
		/* counts: purchases >= 0, customers alive between 0 and the rows */
		lo = fmax(lo, 0.0);
		if (tag == IV_TAG_ALIVE)
			hi = fmin(hi, v[IS_N]);
	}
	return iv_result(fcinfo, NULL, v[IS_MEAN], lo, hi, "the total");
}

PG_FUNCTION_INFO_V1(clm_model_correlations);
/*
 * clm.model_correlations(model): the correlations of the parameters as an
 * npar x npar matrix (1 on the diagonal, NULL where not known).
 */
Datum
clm_model_correlations(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		corr[CLM_NCORR];
	int			npar = clm_kind_npar(m->kind),
				i,
				j;
	Datum		elems[CLM_MAX_PAR * CLM_MAX_PAR];
	bool		nulls[CLM_MAX_PAR * CLM_MAX_PAR];
	int			dims[2] = {npar, npar},
				lbs[2] = {1, 1};

	clm_model_corr_get(m, corr);

	for (i = 0; i < npar; i++)
		for (j = 0; j < npar; j++)
		{
			double		c = i == j ? 1.0 :
				corr[i < j ? CLM_CORR_INDEX(i, j) : CLM_CORR_INDEX(j, i)];

			elems[i * npar + j] = Float8GetDatum(isnan(c) ? 0.0 : c);
			nulls[i * npar + j] = isnan(c);
		}
	PG_RETURN_ARRAYTYPE_P(construct_md_array(elems, nulls, 2, dims, lbs, FLOAT8OID, 8,
											 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
