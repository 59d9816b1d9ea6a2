/*-------------------------------------------------------------------------
 *
 * feedback.c
 *	  NPS and CSAT aggregates.
 *
 * The state of both aggregates is a bigint[] of counts per answer: 11 slots
 * for NPS (scores 0..10), 5 for CSAT (scores 1..5).  The transition adds one
 * answer in place (the state lives in the aggregate's context), the combine
 * function adds two states, the final function computes the percentages.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"

#include "compat.h"

PG_FUNCTION_INFO_V1(clm_nps_trans);
PG_FUNCTION_INFO_V1(clm_csat_trans);
PG_FUNCTION_INFO_V1(clm_feedback_combine);
PG_FUNCTION_INFO_V1(clm_nps_final);
PG_FUNCTION_INFO_V1(clm_csat_final);

#define NPS_SLOTS	11
#define CSAT_SLOTS	5

/* the count slots of a state array, checked to have the expected shape */
static int64 *
state_counts(ArrayType *a, int nslots)
{
	if (ARR_NDIM(a) != 1 || ARR_DIMS(a)[0] != nslots || ARR_HASNULL(a) ||
		ARR_ELEMTYPE(a) != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid feedback aggregate state"),
				 errdetail("Expected a bigint array of %d counts without NULLs.", nslots)));
	return (int64 *) ARR_DATA_PTR(a);
}

/* the total of the counts c[from .. to], each checked to be >= 0 (22023) */
static int64
counts_total(const int64 *c, int from, int to)
{
	int64		n = 0;
	int			i;

	for (i = from; i <= to; i++)
	{
		if (c[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid feedback aggregate state: negative count %lld",
							(long long) c[i]),
					 errhint("Pass a value returned by the aggregate, unchanged.")));
		if (__builtin_add_overflow(n, c[i], &n))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("too many feedback answers: the total exceeds the bigint range")));
	}
	return n;
}

/* a writable state: in place inside an aggregate, else a copy */
static ArrayType *
state_arg(FunctionCallInfo fcinfo, int argno)
{
	if (AggCheckCallContext(fcinfo, NULL))
		return PG_GETARG_ARRAYTYPE_P(argno);
	return PG_GETARG_ARRAYTYPE_P_COPY(argno);
}

/* add one answer in [lo, hi] to the state */
static Datum
feedback_add(FunctionCallInfo fcinfo, const char *what, int lo, int hi)
{
	ArrayType  *a = state_arg(fcinfo, 0);
	int64	   *counts = state_counts(a, hi - lo + 1);
	int32		score = PG_GETARG_INT32(1);

	if (score < lo || score > hi)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s score %d is out of range", what, score),
				 errhint("%s scores are integers from %d to %d.", what, lo, hi)));
	if (__builtin_add_overflow(counts[score - lo], 1, &counts[score - lo]))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("too many feedback answers")));
	PG_RETURN_ARRAYTYPE_P(a);
}

/* transition of clm.nps(score): scores 0..10 */
Datum
clm_nps_trans(PG_FUNCTION_ARGS)
{
	return feedback_add(fcinfo, "NPS", 0, 10);
}

/* transition of clm.csat(score): scores 1..5 */
Datum
clm_csat_trans(PG_FUNCTION_ARGS)
{
	return feedback_add(fcinfo, "CSAT", 1, 5);
}

/* combine function of both: element-wise sum of two count arrays */
Datum
clm_feedback_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a = state_arg(fcinfo, 0);
	ArrayType  *b = PG_GETARG_ARRAYTYPE_P(1);
	int			n;
	int			i;
	int64	   *x;
	int64	   *y;

	n = (ARR_NDIM(a) == 1) ? ARR_DIMS(a)[0] : 0;
	if (n != NPS_SLOTS && n != CSAT_SLOTS)
		n = NPS_SLOTS;			/* let state_counts raise the error */
	x = state_counts(a, n);
	y = state_counts(b, n);
	for (i = 0; i < n; i++)
		if (__builtin_add_overflow(x[i], y[i], &x[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("too many feedback answers")));
	PG_RETURN_ARRAYTYPE_P(a);
}

/* form the result row of a final function */
static Datum
result_row(FunctionCallInfo fcinfo, Datum *values, bool *nulls, int natts)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	if (tupdesc->natts != natts)
		elog(ERROR, "result type has %d attributes, expected %d", tupdesc->natts, natts);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*
 * Final function of clm.nps: with n answers, P promoters (9-10), D
 * detractors (0-6) and shares p = P/n, d = D/n,
 *
 *	   NPS = 100 (p - d)
 *
 * Each answer is a draw of X in {+1 (promoter), 0 (passive), -1
 * (detractor)}; NPS/100 is the mean of X, whose variance is
 * E[X^2] - E[X]^2 = p + d - (p - d)^2, so the standard error of NPS is
 * 100 sqrt((p + d - (p - d)^2) / n) and the 95% margin of error is 1.96
 * times that (normal approximation).  No answer: NULL.
 */
Datum
clm_nps_final(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	int64	   *c = state_counts(a, NPS_SLOTS);
	int64		n = counts_total(c, 0, 10),
				prom = c[9] + c[10],
				pass = c[7] + c[8],
				detr = n - prom - pass;
	double		p,
				d,
				var;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	/* every partial sum of non-negative counts fits when the total does */
	if (n == 0)
		PG_RETURN_NULL();
	p = (double) prom / n;
	d = (double) detr / n;
	var = (p + d - (p - d) * (p - d)) / n;
	values[0] = Float8GetDatum(100.0 * (p - d));
	values[1] = Float8GetDatum(1.96 * sqrt(Max(var, 0.0)) * 100.0);
	values[2] = Int64GetDatum(n);
	values[3] = Int64GetDatum(prom);
	values[4] = Int64GetDatum(pass);
	values[5] = Int64GetDatum(detr);
	PG_RETURN_DATUM(result_row(fcinfo, values, nulls, 6));
}

/*
 * Final function of clm.csat: with n answers of which S are 4 or 5,
 * CSAT = 100 S / n, and the 95% margin of error of that share is
 * 1.96 * 100 sqrt(q (1 - q) / n) with q = S / n (normal approximation).
 * No answer: NULL.
 */
Datum
clm_csat_final(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	int64	   *c = state_counts(a, CSAT_SLOTS);
	int64		n = counts_total(c, 0, 4);
	int64		sat = c[3] + c[4];
	double		q;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (n == 0)
		PG_RETURN_NULL();
	q = (double) sat / n;
	values[0] = Float8GetDatum(100.0 * q);
	values[1] = Float8GetDatum(1.96 * sqrt(q * (1.0 - q) / n) * 100.0);
	values[2] = Int64GetDatum(n);
	values[3] = Int64GetDatum(sat);
	PG_RETURN_DATUM(result_row(fcinfo, values, nulls, 4));
}
