/*-------------------------------------------------------------------------
 *
 * model_predict.c
 *	  The predictions of a clm.model for one customer: P(alive), expected
 *	  purchases, purchase-count probabilities, expected spend, CLV, DERT,
 *	  survival and retention.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "utils/builtins.h"

#include "compat.h"
#include "models.h"

/* error unless the prediction applies to the model's kind */
static void
require_kind(const ClmModel *m, clm_prediction what, const char *fname)
{
	if (CLM_MODEL_HAS_COV(m))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs the customer's covariates: the model has %d", fname,
						CLM_MODEL_COV(m)->ncov),
				 errhint("Give clm.model_for(model, covariates) as the model, or use the form of %s that takes the covariates.", fname)));
	if (!clm_predict_applies(m->kind, what))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s does not apply to a %s model", fname, clm_kind_name(m->kind)),
				 errhint("See the table of predictions per model kind in docs/models.md, Predictions.")));
}

/* validate a customer's (x, t_x, T) for the model's kind */
static void
check_customer(const ClmModel *m, double x, double t_x, double T)
{
	double		v[3] = {x, t_x, T};
	const char *err;

	/*
	 * A customer whose first purchase is on the calibration end (x = t_x =
	 * T = 0) is a valid customer to predict for: alpha + T > 0 keeps every
	 * formula finite (the fits skip such customers: they add nothing).
	 */
	if (clm_model_get_def(m->kind) != NULL &&
		clm_model_get_def(m->kind)->continuous && x == 0 && t_x == 0 && T == 0)
		return;
	err = clm_obs_check(m->kind, v);

	if (err)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid customer input for a %s model: %s", clm_kind_name(m->kind), err)));
}

/* validate a horizon t */
static void
check_horizon(double t)
{
	if (!(t >= 0) || t > 1e9)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the prediction horizon must be between 0 and 1e9")));
}

/* return a result, or 22003 when it is not finite */
static Datum
finite_result(double v, const char *what)
{
	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s is not finite for this model", what)));
	return Float8GetDatum(v);
}

/*
 * Per-call-site memo of the BG/NBD and MBG/NBD quantities "given alive"
 * (the expected purchases in the next t, the discounted sum of a CLV): they
 * depend on the customer through (x, T) only, not t_x, and customers share
 * (x, T) far more often than (x, t_x, T) (every one-purchase customer
 * acquired on the same day has the same pair).  A direct-mapped table in
 * fn_mcxt, keyed by (x, T, k) with k the horizon t of expected_purchases or
 * the discount rate of clv; its entries are for one model (kind and
 * parameters) and one CLV horizon, and are dropped in O(1) (a new
 * generation) when those change, so a model or horizon that varies from row
 * to row costs a miss, never a sweep of the table.  A hit returns the value
 * the computation returned, so results are the same to the bit.
 */
#define GA_MEMO_SIZE 65536		/* 2.5 MB per call site, allocated on first use */
typedef struct GaMemoEntry
{
	double		x;
	double		T;
	double		k;
	double		val;
	uint32		gen;			/* 0: never filled */
} GaMemoEntry;

typedef struct GaMemo
{
	int32		kind;
	double		par[CLM_MAX_PAR];
	int32		horizon;
	uint32		gen;
	GaMemoEntry e[GA_MEMO_SIZE];
} GaMemo;

/* the memo entry for (x, T, k) of model m: hit if its gen is the current one */
static GaMemoEntry *
ga_memo_entry(FunctionCallInfo fcinfo, const ClmModel *m, int horizon,
			  double x, double T, double k, bool *hit)
{
	GaMemo	   *memo = (GaMemo *) fcinfo->flinfo->fn_extra;
	uint64		hx,
				hT,
				hk,
				h;
	GaMemoEntry *e;

	if (memo == NULL)
	{
		memo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(GaMemo));
		memo->kind = -1;
		fcinfo->flinfo->fn_extra = memo;
	}
	if (memo->kind != m->kind || memo->horizon != horizon ||
		memcmp(memo->par, m->par, sizeof(memo->par)) != 0)
	{
		memo->kind = m->kind;
		memcpy(memo->par, m->par, sizeof(memo->par));
		memo->horizon = horizon;
		if (++memo->gen == 0)
		{
			/* wrapped after 2^32 changes: start over from an empty table */
			memset(memo->e, 0, sizeof(memo->e));
			memo->gen = 1;
		}
	}
	memcpy(&hx, &x, sizeof(hx));
	memcpy(&hT, &T, sizeof(hT));
	memcpy(&hk, &k, sizeof(hk));
	/* murmur3's 64-bit finaliser: integral doubles have all-zero low bits */
	h = hx ^ ((hT << 31) | (hT >> 33)) ^ hT ^ ((hk << 17) | (hk >> 47));
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	e = &memo->e[h & (GA_MEMO_SIZE - 1)];
	*hit = (e->gen == memo->gen && e->x == x && e->T == T && e->k == k);
	if (!*hit)
	{
		/* invalid until ga_memo_fill: an error while computing leaves no entry */
		e->gen = 0;
		e->x = x;
		e->T = T;
		e->k = k;
	}
	return e;
}

/* store the value computed for a missed entry and return it */
static double
ga_memo_fill(FunctionCallInfo fcinfo, GaMemoEntry *e, double val)
{
	e->val = val;
	e->gen = ((GaMemo *) fcinfo->flinfo->fn_extra)->gen;
	return val;
}

PG_FUNCTION_INFO_V1(clm_p_alive_sql);
/* clm.p_alive(model, x, t_x, T) */
Datum
clm_p_alive_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		x = PG_GETARG_FLOAT8(1),
				t_x = PG_GETARG_FLOAT8(2),
				T = PG_GETARG_FLOAT8(3);

	require_kind(m, CLM_PRED_P_ALIVE, "p_alive");
	check_customer(m, x, t_x, T);
	return finite_result(clm_p_alive(m->kind, m->par, x, t_x, T), "p_alive");
}

PG_FUNCTION_INFO_V1(clm_churn_probability_sql);
/* clm.churn_probability(model, x, t_x, T) = 1 - p_alive */
Datum
clm_churn_probability_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		x = PG_GETARG_FLOAT8(1),
				t_x = PG_GETARG_FLOAT8(2),
				T = PG_GETARG_FLOAT8(3);

	require_kind(m, CLM_PRED_P_ALIVE, "churn_probability");
	check_customer(m, x, t_x, T);
	return finite_result(clm_churn_probability(m->kind, m->par, x, t_x, T), "churn_probability");
}

PG_FUNCTION_INFO_V1(clm_expected_purchases_sql);
/* clm.expected_purchases(model, t, x, t_x, T) */
Datum
clm_expected_purchases_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1),
				x = PG_GETARG_FLOAT8(2),
				t_x = PG_GETARG_FLOAT8(3),
				T = PG_GETARG_FLOAT8(4);

	require_kind(m, CLM_PRED_EXPECTED, "expected_purchases");
	check_customer(m, x, t_x, T);
	check_horizon(t);
	if (m->kind == CLM_KIND_BGBB && (t != floor(t) || t > 100000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("for a bgbb model t is a whole number of opportunities up to 100000")));
	if (m->kind == CLM_KIND_BGNBD || m->kind == CLM_KIND_MBGNBD)
	{
		/*
		 * P(alive) times the expectation given alive: the series where it
		 * applies (a fraction of a microsecond, cheaper than a memo lookup
		 * that misses the cache), else the quadrature memoised on (x, T, t).
		 * The same operations as clm_bg_expected (its method 0 is exactly
		 * this choice), so the same result.
		 */
		int			mm = (m->kind == CLM_KIND_MBGNBD) ? 1 : 0;
		double		pa = clm_bg_p_alive(mm, m->par, x, t_x, T);
		double		g;
		bool		hit;
		GaMemoEntry *e;

		if (t <= 0 || pa <= 0)
			return finite_result(0.0, "expected_purchases");
		g = clm_bg_expected_given_alive(mm, m->par, t, x, T, 1);
		if (isnan(g))
		{
			e = ga_memo_entry(fcinfo, m, 0, x, T, t, &hit);
			g = hit ? e->val :
				ga_memo_fill(fcinfo, e, clm_bg_expected_given_alive(mm, m->par, t, x, T, 2));
		}
		return finite_result(pa * g, "expected_purchases");
	}
	return finite_result(clm_expected_purchases(m->kind, m->par, t, x, t_x, T), "expected_purchases");
}

PG_FUNCTION_INFO_V1(clm_p_purchases_sql);
/* clm.p_purchases(model, n, t, x, t_x, T) */
Datum
clm_p_purchases_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	int32		k = PG_GETARG_INT32(1);
	double		t = PG_GETARG_FLOAT8(2),
				x = PG_GETARG_FLOAT8(3),
				t_x = PG_GETARG_FLOAT8(4),
				T = PG_GETARG_FLOAT8(5);

	require_kind(m, CLM_PRED_P_N, "p_purchases");
	check_customer(m, x, t_x, T);
	check_horizon(t);
	if (k < 0 || k > 1000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the number of purchases must be between 0 and 1000000")));
	return finite_result(clm_p_purchases(m->kind, m->par, k, t, x, t_x, T), "p_purchases");
}

PG_FUNCTION_INFO_V1(clm_p_no_purchase_sql);
/* clm.p_no_purchase(model, t, x, t_x, T) */
Datum
clm_p_no_purchase_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1),
				x = PG_GETARG_FLOAT8(2),
				t_x = PG_GETARG_FLOAT8(3),
				T = PG_GETARG_FLOAT8(4);

	require_kind(m, CLM_PRED_P_NONE, "p_no_purchase");
	check_customer(m, x, t_x, T);
	check_horizon(t);
	return finite_result(clm_p_no_purchase(m->kind, m->par, t, x, t_x, T), "p_no_purchase");
}

PG_FUNCTION_INFO_V1(clm_expected_spend_sql);
/* clm.expected_spend(model, x, mean_spend) */
Datum
clm_expected_spend_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		x = PG_GETARG_FLOAT8(1),
				z = PG_GETARG_FLOAT8(2);

	require_kind(m, CLM_PRED_SPEND, "expected_spend");
	if (!(x >= 0) || !isfinite(x) || (x > 0 && (!(z > 0) || !isfinite(z))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expected_spend needs x >= 0 and, when x > 0, a mean spend > 0")));
	return finite_result(clm_expected_spend(m->par, x, z), "expected_spend");
}

PG_FUNCTION_INFO_V1(clm_clv_sql);
/* clm.clv(model, horizon, discount_rate, margin, spend, x, t_x, T) */
Datum
clm_clv_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	int32		horizon = PG_GETARG_INT32(1);
	double		disc = PG_GETARG_FLOAT8(2),
				margin = PG_GETARG_FLOAT8(3),
				spend = PG_GETARG_FLOAT8(4),
				x = PG_GETARG_FLOAT8(5),
				t_x = PG_GETARG_FLOAT8(6),
				T = PG_GETARG_FLOAT8(7);

	clm_check_clv(m, horizon, disc, margin, spend, x, t_x, T, "clv");
	if (m->kind == CLM_KIND_BGNBD || m->kind == CLM_KIND_MBGNBD)
	{
		/*
		 * BG/NBD and MBG/NBD: clv = margin * spend * P(alive) * D(x, T), the
		 * discounted sum D given alive (a sum over the periods of the
		 * differences of sums over the purchase counts) does not depend on
		 * t_x or spend; customers share (x, T)
		 * far more often than (x, t_x, T), so D is memoised per call site
		 * for the model, discount rate and horizon in use.  Same operations
		 * as clm_clv, so the same result to the bit.
		 */
		int			mm = (m->kind == CLM_KIND_MBGNBD) ? 1 : 0;
		double		pa = clm_p_alive(m->kind, m->par, x, t_x, T);
		double		det = 0.0;

		if (horizon > 0 && pa > 0)
		{
			bool		hit;
			GaMemoEntry *e = ga_memo_entry(fcinfo, m, horizon, x, T, disc, &hit);

			det = pa * (hit ? e->val :
						ga_memo_fill(fcinfo, e, clm_bg_discounted_given_alive(mm, m->par, disc,
																			  horizon, x, T)));
		}
		return finite_result(margin * spend * det, "clv");
	}
	return finite_result(clm_clv(m->kind, m->par, spend, margin, disc, horizon, x, t_x, T), "clv");
}

PG_FUNCTION_INFO_V1(clm_dert_sql);
/* clm.discounted_expected_transactions(model, continuous_rate, x, t_x, T) */
Datum
clm_dert_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		d = PG_GETARG_FLOAT8(1),
				x = PG_GETARG_FLOAT8(2),
				t_x = PG_GETARG_FLOAT8(3),
				T = PG_GETARG_FLOAT8(4);

	require_kind(m, CLM_PRED_DERT, "discounted_expected_transactions");
	check_customer(m, x, t_x, T);
	if (!(d > 0) || d > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the continuous discount rate must be > 0 and at most 100")));
	return finite_result(clm_paretonbd_dert(m->par, d, x, t_x, T), "discounted_expected_transactions");
}

PG_FUNCTION_INFO_V1(clm_survival_sql);
/* clm.survival(model, t): sBG share of a cohort still active after t periods */
Datum
clm_survival_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1);

	require_kind(m, CLM_PRED_SURVIVAL, "survival");
	check_horizon(t);
	return finite_result(clm_sbg_survival(m->par, t), "survival");
}

PG_FUNCTION_INFO_V1(clm_retention_rate_sql);
/* clm.retention_rate(model, t): sBG probability of renewing at period t */
Datum
clm_retention_rate_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1);

	require_kind(m, CLM_PRED_SURVIVAL, "retention_rate");
	if (!(t >= 1) || t > 1e9)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the period of a retention rate must be between 1 and 1e9")));
	return finite_result(clm_sbg_retention(m->par, t), "retention_rate");
}

PG_FUNCTION_INFO_V1(clm_next_purchase_sql);
/*
 * clm.next_purchase(model, within, x, t_x, T): P(alive), P(a purchase in the
 * next within), the median and mean wait for the next purchase given alive,
 * and the mean time between purchases with its shrinkage (clm_next.c).
 */
Datum
clm_next_purchase_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		within = PG_GETARG_FLOAT8(1),
				x = PG_GETARG_FLOAT8(2),
				t_x = PG_GETARG_FLOAT8(3),
				T = PG_GETARG_FLOAT8(4);
	clm_next_purchase_result r;
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8] = {false, false, false, false, false, false, false, false};
	double		v[8];
	int			i;

	require_kind(m, CLM_PRED_NEXT, "next_purchase");
	check_customer(m, x, t_x, T);
	check_horizon(within);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	clm_next_purchase(m->kind, m->par, within, x, t_x, T, &r);
	v[0] = r.p_alive;
	v[1] = r.p_within;
	v[2] = r.median_wait;
	v[3] = r.mean_wait;
	v[4] = r.mean_interval;
	v[5] = r.own_interval;
	v[6] = r.population_interval;
	v[7] = r.own_weight;
	for (i = 0; i < 8; i++)
	{
		/* an infinite mean is a value (Infinity); NaN is not */
		if (isnan(v[i]) || (i < 3 && !isfinite(v[i])))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("next_purchase is not finite for this model")));
		values[i] = Float8GetDatum(v[i]);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(clm_new_customer_purchases_sql);
/* clm.new_customer_purchases(model, t): E[X(t)] of a customer just acquired */
Datum
clm_new_customer_purchases_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1);

	require_kind(m, CLM_PRED_NEW_CUSTOMER, "new_customer_purchases");
	check_horizon(t);
	return finite_result(clm_new_customer_expected(m->kind, m->par, t), "new_customer_purchases");
}

/* the argument checks above, for the prediction intervals (model_interval.c) */
void
clm_require_kind(const ClmModel *m, clm_prediction what, const char *fname)
{
	require_kind(m, what, fname);
}

/* clm_check_customer: check_customer for model_interval.c */
void
clm_check_customer(const ClmModel *m, double x, double t_x, double T)
{
	check_customer(m, x, t_x, T);
}

/*
 * clm_check_clv: the argument checks of clm.clv, shared by clm.clv_interval
 * and clm.clv_total (fname names the caller in the kind error)
 */
void
clm_check_clv(const ClmModel *m, int32 horizon, double disc, double margin,
			  double spend, double x, double t_x, double T, const char *fname)
{
	require_kind(m, CLM_PRED_CLV, fname);
	check_customer(m, x, t_x, T);
	if (horizon < 0 || horizon > 100000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the clv horizon must be between 0 and 100000 periods")));
	if (!(disc >= 0) || !isfinite(disc) || !isfinite(margin) || !isfinite(spend))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("discount rate must be >= 0, margin and spend finite")));
}

/* clm_check_horizon: check_horizon for model_interval.c */
void
clm_check_horizon(double t)
{
	check_horizon(t);
}
