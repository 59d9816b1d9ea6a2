/*-------------------------------------------------------------------------
 *
 * rfm_customers.c
 *	  RFM in one pass: clm.customer_rfm and clm.customer_rfm_rows.
 *
 * Definitions and layouts: rfm.h.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "compat.h"
#include "customers.h"
#include "period.h"
#include "profile.h"
#include "rfm.h"

PG_FUNCTION_INFO_V1(clm_customer_rfm_trans);
PG_FUNCTION_INFO_V1(clm_customer_rfm_combine);
PG_FUNCTION_INFO_V1(clm_customer_rfm_final);
PG_FUNCTION_INFO_V1(clm_customer_rfm_rows);
PG_FUNCTION_INFO_V1(clm_customer_rfm_rows_bp);

/*
 * The state keeps (customer_id, R, F, M) for every customer with a purchase
 * on or before as_of (customers.h, 4 elements a customer); the rows function
 * computes the breakpoints of those customers exactly as clm.rfm_breakpoints
 * does (or takes frozen ones), scores and labels every customer, reading the
 * profiles once instead of twice.
 */
static const ClmCustState rfm_cs = {CS_KIND_RFM, 4, "clm.customer_rfm"};

/*
 * Sort x[0 .. n) ascending: an LSD radix sort, a byte at a time, of the
 * offsets x - min (as unsigned, so that the whole int64 range works), over
 * only the bytes in which the values differ: R and F take one or two
 * passes, M three or four, instead of n log n comparisons.
 */
static void
radix_sort_int64(int64 *x, int64 n)
{
	uint64	   *a = (uint64 *) x;
	uint64	   *b;
	uint64		min,
				span;
	int64		lo,
				hi,
				i;
	int			shift;

	if (n < 2)
		return;
	lo = hi = x[0];
	for (i = 1; i < n; i++)
	{
		lo = Min(lo, x[i]);
		hi = Max(hi, x[i]);
	}
	min = (uint64) lo;
	span = (uint64) hi - min;
	for (i = 0; i < n; i++)
		a[i] -= min;
	b = palloc(sizeof(uint64) * n);
	for (shift = 0; shift < 64 && (span >> shift) != 0; shift += 8)
	{
		int64		pos[256] = {0};
		int64		sum = 0;
		uint64	   *t;
		int			d;

		for (i = 0; i < n; i++)
			pos[(a[i] >> shift) & 0xFF]++;
		for (d = 0; d < 256; d++)
		{
			int64		c = pos[d];

			pos[d] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			b[pos[(a[i] >> shift) & 0xFF]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	/* a holds the sorted offsets; put the values back into x */
	for (i = 0; i < n; i++)
		x[i] = (int64) (a[i] + min);
	pfree(a == (uint64 *) x ? b : a);
}

/* transition: append one customer's R, F and M (nothing without a purchase) */
Datum
clm_customer_rfm_trans(PG_FUNCTION_ARGS)
{
	Datum		state;
	int64	   *rec;
	DateADT		as_of;
	int64		r,
				f,
				m;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be NULL")));
	as_of = clm_rfm_as_of_arg(fcinfo, 3);
	if (!PG_ARGISNULL(2) && PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("customer_id must not be NULL")));
	if (PG_ARGISNULL(2) ||
		!clm_rfm_profile_values(PG_GETARG_CLM_PROFILE(2), as_of, &r, &f, &m))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	state = clm_cs_append(fcinfo, &rfm_cs, as_of, &rec);
	rec[0] = PG_GETARG_INT64(1);
	rec[1] = r;
	rec[2] = f;
	rec[3] = m;
	PG_RETURN_DATUM(state);
}

/* combine: the customers of both states */
Datum
clm_customer_rfm_combine(PG_FUNCTION_ARGS)
{
	return clm_cs_combine(fcinfo, &rfm_cs);
}

/* final: the state trimmed to its customers */
Datum
clm_customer_rfm_final(PG_FUNCTION_ARGS)
{
	return clm_cs_final(fcinfo, &rfm_cs);
}

/*
 * Quantile breakpoints for n scores of the n_rec records (as
 * clm.rfm_breakpoints over the same customers): each dimension's values are
 * sorted, run-length coded from worst to best and cut by clm_rfm_quantile_cuts.
 */
static RfmBreakpoints *
records_breakpoints(const int64 *recs, int64 n_rec, int n, int32 as_of)
{
	RfmBreakpoints *bp = clm_rfm_bp_alloc(n, RFM_KIND_QUANTILE);
	int64	   *x = palloc(sizeof(int64) * n_rec);
	int64	   *vals = palloc(sizeof(int64) * n_rec);
	int64	   *cnt = palloc(sizeof(int64) * n_rec);
	int			dim;
	int64		i;

	bp->as_of = as_of;
	bp->customers = n_rec;
	bp->excluded = 0;
	for (dim = DIM_R; dim <= DIM_M; dim++)
	{
		int32		k = 0;

		for (i = 0; i < n_rec; i++)
			x[i] = recs[4 * i + 1 + dim];
		radix_sort_int64(x, n_rec);
		for (i = 0; i < n_rec; i++)
		{
			/* R: worst is the largest number of days, so walk it backwards */
			int64		v = (dim == DIM_R) ? x[n_rec - 1 - i] : x[i];

			if (k > 0 && vals[k - 1] == v)
				cnt[k - 1]++;
			else
			{
				vals[k] = v;
				cnt[k++] = 1;
			}
		}
		clm_rfm_quantile_cuts(vals, cnt, k, n_rec, n, dim == DIM_R ? -1 : 1,
					  &bp->cuts[dim * (n - 1)]);
	}
	pfree(x);
	pfree(vals);
	pfree(cnt);
	return bp;
}

/* what customer_rfm_rows keeps from one call to the next */
typedef struct RfmRowsCtx
{
	const int64 *recs;			/* the records of the state */
	const RfmBreakpoints *bp;
	RfmMapCache *map;			/* NULL: no segment */
	TupleDesc	desc;
} RfmRowsCtx;

/*
 * The rows of a clm.customer_rfm value under the breakpoints in argument 1
 * (bp_arg) or else the quantile breakpoints of its own customers, n scores, and the segment map
 * in argument map_arg (NULL: no segment): (customer_id,
 * days_since_last_purchase, orders, total_spend, r_score, f_score, m_score,
 * rfm_code, segment), in the order the customers were aggregated.
 *
 * One row a call (value per call), as clm.customer_stage_rows: in a select
 * list, (clm.customer_rfm_rows(s, ...)).*, the rows go to the caller without
 * a tuplestore.  The state is read and checked, the breakpoints computed and
 * the map loaded (into memory that lasts the set) on the first call.
 */
static Datum
customer_rfm_rows(FunctionCallInfo fcinfo, bool bp_arg, int n, int map_arg)
{
	FuncCallContext *funcctx;
	RfmRowsCtx *ctx;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		const RfmBreakpoints *bp = NULL;
		int64		n_rec,
					i;
		int32		as_of;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (bp_arg)
		{
			/* given breakpoints, read once into memory that lasts the set */
			if (PG_ARGISNULL(1))
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("breakpoints must not be NULL")));
			bp = clm_rfm_bp_read(PG_GETARG_DATUM(1));
		}
		ctx = (RfmRowsCtx *) palloc0(sizeof(RfmRowsCtx));
		if (get_call_result_type(fcinfo, NULL, &ctx->desc) != TYPEFUNC_COMPOSITE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("clm.customer_rfm_rows must be called where a record is expected")));
		ctx->desc = BlessTupleDesc(ctx->desc);
		funcctx->user_fctx = ctx;
		if (PG_ARGISNULL(0))
		{
			MemoryContextSwitchTo(old);
			SRF_RETURN_DONE(funcctx);
		}
		ctx->recs = clm_cs_records(PG_GETARG_ARRAYTYPE_P(0), &rfm_cs, true, &n_rec, &as_of);
		for (i = 0; i < n_rec; i++)
		{
			const int64 *rec = ctx->recs + 4 * i;

			/* the ranges the transition produces (clm.rfm_state's checks) */
			if (rec[1] < 0 || rec[1] > PG_INT32_MAX || rec[2] < 1 || rec[2] > PG_INT32_MAX - 1 ||
				rec[3] < -(PG_INT64_MAX - 1) || rec[3] > PG_INT64_MAX - 1)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid %s record", rfm_cs.aggname),
						 errhint("Pass the value returned by %s.", rfm_cs.aggname)));
		}
		if (!PG_ARGISNULL(map_arg))
		{
			text	   *name = PG_GETARG_TEXT_PP(map_arg);

			ctx->map = clm_rfm_map_load(fcinfo, name, funcctx->multi_call_memory_ctx);
			if (ctx->map->n_rules == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("rfm segment map \"%s\" has no rules", text_to_cstring(name)),
						 errhint("The maps are the rows of clm.rfm_segment_map.")));
		}
		if (n_rec > 0 && bp == NULL)
			bp = records_breakpoints(ctx->recs, n_rec, n, as_of);
		ctx->bp = bp;
		funcctx->max_calls = (uint64) n_rec;
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	ctx = (RfmRowsCtx *) funcctx->user_fctx;
	if (funcctx->call_cntr < funcctx->max_calls)
	{
		const int64 *rec = ctx->recs + 4 * funcctx->call_cntr;
		Datum		values[9];
		bool		nulls[9] = {false, false, false, false, false, false, false, false, false};
		int			sc[3];
		int32		code[2];	/* the rfm_code text: no palloc, the tuple copies it */
		int			w;

		CHECK_FOR_INTERRUPTS();
		clm_rfm_scores_of(ctx->bp, rec[1], rec[2], rec[3], sc);
		SET_VARSIZE(code, VARHDRSZ + 3);
		VARDATA(code)[0] = (char) ('0' + sc[0]);
		VARDATA(code)[1] = (char) ('0' + sc[1]);
		VARDATA(code)[2] = (char) ('0' + sc[2]);
		values[0] = Int64GetDatum(rec[0]);
		values[1] = Int32GetDatum((int32) rec[1]);
		values[2] = Int32GetDatum((int32) rec[2]);
		values[3] = clm_spend_numeric(rec[3]);
		values[4] = Int32GetDatum(sc[0]);
		values[5] = Int32GetDatum(sc[1]);
		values[6] = Int32GetDatum(sc[2]);
		values[7] = PointerGetDatum(code);
		w = ctx->map ? clm_rfm_map_winner(ctx->map, sc[0], sc[1], sc[2]) : -1;
		if (w < 0)
			nulls[8] = true;
		else
			values[8] = ctx->map->segment[w];
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(heap_form_tuple(ctx->desc, values, nulls)));
	}
	SRF_RETURN_DONE(funcctx);
}

/* clm.customer_rfm_rows(s, n, map_name): breakpoints of the customers of s */
Datum
clm_customer_rfm_rows(PG_FUNCTION_ARGS)
{
	int			n;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("n must not be NULL")));
	n = PG_GETARG_INT32(1);
	if (n < RFM_MIN_N || n > RFM_MAX_N)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be between %d and %d, not %d", RFM_MIN_N, RFM_MAX_N, n),
				 errhint("The three-digit code needs one digit per score.")));
	return customer_rfm_rows(fcinfo, false, n, 2);
}

/* clm.customer_rfm_rows(s, bp, map_name): given (e.g. frozen) breakpoints */
Datum
clm_customer_rfm_rows_bp(PG_FUNCTION_ARGS)
{
	return customer_rfm_rows(fcinfo, true, 0, 2);
}
