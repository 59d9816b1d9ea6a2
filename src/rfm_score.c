/*-------------------------------------------------------------------------
 *
 * rfm_score.c
 *	  RFM scores: a profile's R, F and M as of a day, and clm.rfm_score.
 *
 * Definitions and layouts: rfm.h.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "compat.h"
#include "period.h"
#include "profile.h"
#include "rfm.h"

PG_FUNCTION_INFO_V1(clm_rfm_score_profile);
PG_FUNCTION_INFO_V1(clm_rfm_score_values);

/* the three scores of (R, F, M) under bp */
void
clm_rfm_scores_of(const RfmBreakpoints *bp, int64 r, int64 f, int64 m, int *sc)
{
	int			s;

	sc[0] = sc[1] = sc[2] = 1;
	for (s = 2; s <= bp->n; s++)
	{
		if (r <= clm_rfm_bp_cut(bp, DIM_R, s))
			sc[0]++;
		if (f >= clm_rfm_bp_cut(bp, DIM_F, s))
			sc[1]++;
		if (m >= clm_rfm_bp_cut(bp, DIM_M, s))
			sc[2]++;
	}
}

/*
 * Per call site state of clm.rfm_score: the blessed result descriptor and an
 * aligned copy of the last breakpoints seen.  The breakpoints argument is
 * usually the same value on every row (a join with one stored row); when
 * its bytes match the copy, the copy is used without detoasting, copying or
 * validating it again.
 */
typedef struct ScoreCache
{
	TupleDesc	tupdesc;
	Size		bp_len;			/* payload bytes of the copy, 0 if none */
	int64		bp_buf[(RFM_BP_SIZE(RFM_MAX_N) + 7) / 8];
} ScoreCache;

/* the cache of this call site */
static ScoreCache *
score_cache(FunctionCallInfo fcinfo)
{
	ScoreCache *cache = (ScoreCache *) fcinfo->flinfo->fn_extra;

	if (cache == NULL)
	{
		TupleDesc	tupdesc;
		MemoryContext old;

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		if (tupdesc->natts != 7)
			elog(ERROR, "clm.rfm_scores has %d attributes, expected 7", tupdesc->natts);
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		cache = palloc0(sizeof(ScoreCache));
		cache->tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = cache;
	}
	return cache;
}

/* the breakpoints argument, from the call site's copy when unchanged */
static const RfmBreakpoints *
bp_arg_cached(FunctionCallInfo fcinfo, int argno)
{
	ScoreCache *cache = score_cache(fcinfo);
	struct varlena *raw = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno));
	const char *data;
	Size		len;

	if (VARATT_IS_EXTERNAL(raw) || VARATT_IS_COMPRESSED(raw))
		return clm_rfm_bp_read(PG_GETARG_DATUM(argno));
	data = VARDATA_ANY(raw);
	len = VARSIZE_ANY_EXHDR(raw);
	if (len != cache->bp_len || memcmp((char *) cache->bp_buf + VARHDRSZ, data, len) != 0)
	{
		if (len + VARHDRSZ > sizeof(cache->bp_buf))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("corrupt clm.rfm_breakpoints value")));
		cache->bp_len = 0;
		memcpy((char *) cache->bp_buf + VARHDRSZ, data, len);
		SET_VARSIZE(cache->bp_buf, len + VARHDRSZ);
		(void) clm_rfm_bp_read(PointerGetDatum(cache->bp_buf));	/* validates */
		cache->bp_len = len;
	}
	return (const RfmBreakpoints *) cache->bp_buf;
}

/* build the clm.rfm_scores row */
static Datum
score_tuple(FunctionCallInfo fcinfo, const RfmBreakpoints *bp, int64 r, int64 f, int64 m)
{
	TupleDesc	tupdesc = score_cache(fcinfo)->tupdesc;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};
	int			sc[3];
	char		code[4];

	clm_rfm_scores_of(bp, r, f, m, sc);
	code[0] = (char) ('0' + sc[0]);
	code[1] = (char) ('0' + sc[1]);
	code[2] = (char) ('0' + sc[2]);
	code[3] = '\0';
	values[0] = Int32GetDatum(sc[0]);
	values[1] = Int32GetDatum(sc[1]);
	values[2] = Int32GetDatum(sc[2]);
	values[3] = CStringGetTextDatum(code);
	values[4] = Int32GetDatum((int32) r);
	values[5] = Int32GetDatum((int32) f);
	values[6] = clm_spend_numeric(m);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* a finite as-of date argument, or an error */
DateADT
clm_rfm_as_of_arg(FunctionCallInfo fcinfo, int argno)
{
	DateADT		d = PG_GETARG_DATEADT(argno);

	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must be a finite date"),
				 errhint("RFM counts days since the last purchase up to as_of.")));
	return d;
}

/*
 * The RFM values of profile p as of a date: false if no purchase day is on
 * or before as_of.  R = as_of - last purchase day, F = purchase days,
 * M = net spend of all days on or before as_of (clm.summary's total_spend).
 */
bool
clm_rfm_profile_values(const ClmProfile *p, DateADT as_of, int64 *r, int64 *f, int64 *m)
{
	const ClmDay *days = clm_profile_days(p);
	int32		n = clm_profile_prefix(p, as_of);
	int32		i;
	int32		orders = 0;
	int32		last = 0;
	int64		total = 0;

	for (i = 0; i < n; i++)
	{
		total += days[i].spend;
		if (days[i].orders > 0)
		{
			orders++;
			last = days[i].day;
		}
	}
	if (orders == 0)
		return false;
	*r = (int64) as_of - last;
	*f = orders;
	*m = total;
	return true;
}

/* clm.rfm_score(profile, breakpoints, as_of): NULL without a purchase */
Datum
clm_rfm_score_profile(PG_FUNCTION_ARGS)
{
	ClmProfile *p = PG_GETARG_CLM_PROFILE(0);
	const RfmBreakpoints *bp = bp_arg_cached(fcinfo, 1);
	DateADT		as_of = clm_rfm_as_of_arg(fcinfo, 2);
	int64		r,
				f,
				m;

	if (!clm_rfm_profile_values(p, as_of, &r, &f, &m))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(score_tuple(fcinfo, bp, r, f, m));
}

/* clm.rfm_score(days_since_last_purchase, orders, total_spend, breakpoints) */
Datum
clm_rfm_score_values(PG_FUNCTION_ARGS)
{
	int32		r = PG_GETARG_INT32(0);
	int32		f = PG_GETARG_INT32(1);
	int64		m = clm_rfm_numeric_units(PG_GETARG_DATUM(2));
	const RfmBreakpoints *bp = bp_arg_cached(fcinfo, 3);

	if (r < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("days_since_last_purchase must not be negative")));
	if (f < 1)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("orders must be at least 1"),
				 errhint("A customer without a purchase has no RFM score.")));
	PG_RETURN_DATUM(score_tuple(fcinfo, bp, r, f, m));
}
