/*-------------------------------------------------------------------------
 *
 * stage_customers.c
 *	  The stage of every customer in one pass over the profiles:
 *	  clm.customer_stages (aggregate) and clm.customer_stage_rows.
 *
 * The definitions of the stages are in stage.c; the per-customer state
 * (one fixed-width record a customer in a bigint[]) in customers.c.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"

#include "compat.h"
#include "customers.h"
#include "period.h"
#include "profile.h"
#include "stage.h"

PG_FUNCTION_INFO_V1(clm_customer_stages_trans);
PG_FUNCTION_INFO_V1(clm_customer_stages_combine);
PG_FUNCTION_INFO_V1(clm_customer_stages_final);
PG_FUNCTION_INFO_V1(clm_customer_stage_rows);

/*
 * One pass: clm.customer_stages(customer_id, p, as_of) keeps each customer's
 * history as of the day (ClmStageHist) in a per-customer state
 * (customers.h), 4 elements a customer:
 *	 [key, n_seen << 32 | last_seen, k << 32 | first_p, last_p << 32 | prev_p]
 * and clm.customer_stage_rows computes the population gap from those
 * histories (as clm.population_gap would over the same rows) and every
 * customer's stage, so that the profiles are read once, not twice.
 */
static const ClmCustState stages_cs = {CS_KIND_STAGES, 4, "clm.customer_stages"};

/* two int32 in one int64, hi first */
static inline int64
pack32(int32 hi, int32 lo)
{
	return (int64) (((uint64) (uint32) hi << 32) | (uint32) lo);
}

/* the high int32 of a packed pair */
static inline int32
hi32(int64 x)
{
	return (int32) (uint32) ((uint64) x >> 32);
}

/* the low int32 of a packed pair */
static inline int32
lo32(int64 x)
{
	return (int32) (uint32) (uint64) x;
}

/* transition: append one customer's history as of as_of */
Datum
clm_customer_stages_trans(PG_FUNCTION_ARGS)
{
	Datum		state;
	int64	   *rec;
	ClmProfile *p;
	ClmStageHist h;
	int32		as_of;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be NULL")));
	as_of = clm_finite_date(PG_GETARG_DATEADT(3), "as_of");
	if (PG_ARGISNULL(2))
	{
		/* no profile: nothing to add, like NULLs in any aggregate */
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("customer_id must not be NULL")));
	p = PG_GETARG_CLM_PROFILE(2);
	clm_stage_hist_of(&h, p, as_of);
	state = clm_cs_append(fcinfo, &stages_cs, as_of, &rec);
	rec[0] = PG_GETARG_INT64(1);
	rec[1] = pack32(h.n_seen, h.last_seen);
	rec[2] = pack32(h.k, h.first_p);
	rec[3] = pack32(h.last_p, h.prev_p);
	PG_RETURN_DATUM(state);
}

/* combine: the customers of both states */
Datum
clm_customer_stages_combine(PG_FUNCTION_ARGS)
{
	return clm_cs_combine(fcinfo, &stages_cs);
}

/* final: the state trimmed to its customers */
Datum
clm_customer_stages_final(PG_FUNCTION_ARGS)
{
	return clm_cs_final(fcinfo, &stages_cs);
}

/* the history in record rec, checked against as_of (22023 if impossible) */
static void
unpack_hist(const int64 *rec, int32 as_of, ClmStageHist *h)
{
	memset(h, 0, sizeof(*h));
	h->n_seen = hi32(rec[1]);
	h->last_seen = lo32(rec[1]);
	h->k = hi32(rec[2]);
	h->first_p = lo32(rec[2]);
	h->last_p = hi32(rec[3]);
	h->prev_p = lo32(rec[3]);
	if (h->n_seen < 0 || h->k < 0 || h->k > h->n_seen ||
		(h->n_seen > 0 && h->last_seen > as_of) ||
		(h->k > 0 && (h->first_p > h->last_p || h->last_p > as_of)) ||
		(h->k >= 2 && (h->prev_p < h->first_p || h->prev_p >= h->last_p)) ||
		(h->k == 1 && h->first_p != h->last_p))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s record", stages_cs.aggname),
				 errhint("Pass the value returned by %s.", stages_cs.aggname)));
}

/* what clm.customer_stage_rows keeps from one call to the next */
typedef struct StageRowsCtx
{
	const int64 *recs;			/* the records of the state */
	int32		as_of;
	ClmStageRules r;			/* with the population gap */
	TupleDesc	desc;
} StageRowsCtx;

/*
 * clm.customer_stage_rows(s, population_gap_days, prior_strength, new_days,
 *		active_ratio, at_risk_ratio, lapsed_ratio, fixed_days):
 * (customer_id, stage, reason, expected_gap_days, days_since_last_purchase,
 * gap_ratio) for every customer of s, in the order they were aggregated.
 * A NULL population_gap_days is the mean over the customers with two or more
 * purchase days of their mean gap (clm.population_gap over the same rows),
 * or 30 days when no customer has two purchase days.
 *
 * One row a call (value per call): in a FROM clause the executor keeps the
 * rows in a tuplestore as a materialising function would, and in a select
 * list, (clm.customer_stage_rows(s, ...)).*, each row goes straight to the
 * caller, with no tuplestore (that spills past work_mem: a million rows are
 * about 130 MB).  The state is read and checked, and the population gap
 * computed, on the first call.
 */
Datum
clm_customer_stage_rows(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	StageRowsCtx *ctx;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		ArrayType  *a;
		int64		n,
					i;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		ctx = (StageRowsCtx *) palloc0(sizeof(StageRowsCtx));
		if (get_call_result_type(fcinfo, NULL, &ctx->desc) != TYPEFUNC_COMPOSITE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("clm.customer_stage_rows must be called where a record is expected")));
		ctx->desc = BlessTupleDesc(ctx->desc);
		funcctx->user_fctx = ctx;
		if (PG_ARGISNULL(0))
		{
			MemoryContextSwitchTo(old);
			SRF_RETURN_DONE(funcctx);
		}
		/* detoasted (if it was) once, into memory that lasts the calls */
		a = PG_GETARG_ARRAYTYPE_P(0);
		ctx->recs = clm_cs_records(a, &stages_cs, true, &n, &ctx->as_of);

		/* the rules: population_gap_days may be NULL (computed), the others not */
		if (!clm_stage_rules_read(fcinfo, 1, &ctx->r, true))
		{
			/* the sum in record order, as clm.population_gap adds its rows */
			double		cnt = 0,
						sum = 0;

			for (i = 0; i < n; i++)
			{
				ClmStageHist h;

				if ((i & 0xFFFF) == 0)
					CHECK_FOR_INTERRUPTS();
				unpack_hist(ctx->recs + 4 * i, ctx->as_of, &h);
				if (h.k >= 2)
				{
					cnt += 1.0;
					sum += clm_own_mean_gap(&h);
				}
			}
			if (cnt > 0)
				ctx->r.population_gap = sum / cnt;
		}
		clm_stage_rules_check(&ctx->r); /* the computed gap too */
		funcctx->max_calls = (uint64) n;
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	ctx = (StageRowsCtx *) funcctx->user_fctx;
	if (funcctx->call_cntr < funcctx->max_calls)
	{
		const int64 *rec = ctx->recs + 4 * funcctx->call_cntr;
		ClmStageHist h;
		ClmStageResult res;
		Datum		values[6];
		bool		nulls[6];

		CHECK_FOR_INTERRUPTS();
		unpack_hist(rec, ctx->as_of, &h);
		clm_stage_eval(&ctx->r, &h, ctx->as_of, &res);
		values[0] = Int64GetDatum(rec[0]);
		nulls[0] = false;
		clm_stage_values(&ctx->r, &h, ctx->as_of, &res, values + 1, nulls + 1);
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(heap_form_tuple(ctx->desc, values, nulls)));
	}
	SRF_RETURN_DONE(funcctx);
}
