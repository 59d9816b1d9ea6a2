/*-------------------------------------------------------------------------
 *
 * rfm.c
 *	  RFM breakpoints (tie-aware quantiles or fixed thresholds) and scores.
 *
 * For a customer with at least one purchase day on or before as_of:
 *	 R = days_since_last_purchase = as_of - last purchase day (fewer is better)
 *	 F = orders = number of purchase days on or before as_of (more is better;
 *		 ranks exactly like frequency = orders - 1)
 *	 M = total_spend = net spend of every day on or before as_of, refunds
 *		 subtracted, in units of 1/10000 (more is better)
 * A customer with no purchase day on or before as_of has no RFM values: it
 * is counted as "excluded" by the breakpoints and scores NULL.
 *
 * Breakpoints for n scores (2 <= n <= 9) are three lists of n - 1 thresholds,
 * one per score 2..n:
 *	 r_score = 1 + #{s : R <= r_cut[s]}		(r_cut non-increasing)
 *	 f_score = 1 + #{s : F >= f_cut[s]}		(f_cut non-decreasing)
 *	 m_score = 1 + #{s : M >= m_cut[s]}		(m_cut non-decreasing)
 * so a score depends on the value alone: equal values get equal scores.
 *
 * Text form of clm.rfm_breakpoints (round-trips exactly):
 *	 quantile: "n=5 as_of=2025-01-01 customers=8 excluded=2 r<=90,30,10,3 f>=2,2,3,5 m>=10,25.5,100,250"
 *	 fixed:    "n=5 r<=180,90,30,7 f>=2,3,5,8 m>=50,100,250,1000"
 *
 * The aggregate state clm.rfm_state holds three exact run-length histograms
 * of (value, count), one per dimension; its text form is
 *	 "n=5 as_of=2025-01-01 excluded=2 r=3:1,10:2 f=1:2,2:1 m=100000:1,255000:2"
 * (values and counts as integers, M in 1/10000 units).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "compat.h"
#include "customers.h"
#include "period.h"
#include "profile.h"

PG_FUNCTION_INFO_V1(clm_rfm_breakpoints_in);
PG_FUNCTION_INFO_V1(clm_rfm_breakpoints_out);
PG_FUNCTION_INFO_V1(clm_rfm_state_in);
PG_FUNCTION_INFO_V1(clm_rfm_state_out);
PG_FUNCTION_INFO_V1(clm_rfm_state_trans);
PG_FUNCTION_INFO_V1(clm_rfm_state_combine);
PG_FUNCTION_INFO_V1(clm_rfm_state_final);
PG_FUNCTION_INFO_V1(clm_rfm_breakpoints_fixed);
PG_FUNCTION_INFO_V1(clm_rfm_cut_points);
PG_FUNCTION_INFO_V1(clm_rfm_score_profile);
PG_FUNCTION_INFO_V1(clm_rfm_score_values);
PG_FUNCTION_INFO_V1(clm_rfm_segment);
PG_FUNCTION_INFO_V1(clm_rfm_segment_scores);
PG_FUNCTION_INFO_V1(clm_rfm_breakpoints_send);
PG_FUNCTION_INFO_V1(clm_rfm_breakpoints_recv);
PG_FUNCTION_INFO_V1(clm_rfm_state_send);
PG_FUNCTION_INFO_V1(clm_rfm_state_recv);
PG_FUNCTION_INFO_V1(clm_customer_rfm_trans);
PG_FUNCTION_INFO_V1(clm_customer_rfm_combine);
PG_FUNCTION_INFO_V1(clm_customer_rfm_final);
PG_FUNCTION_INFO_V1(clm_customer_rfm_rows);
PG_FUNCTION_INFO_V1(clm_customer_rfm_rows_bp);

#define RFM_MIN_N			2
#define RFM_MAX_N			9
#define RFM_VERSION			1

#define RFM_KIND_FIXED		0
#define RFM_KIND_QUANTILE	1

#define DIM_R	0
#define DIM_F	1
#define DIM_M	2

/* the breakpoints value: cuts[dim * (n - 1) + (s - 2)] is the cut of score s */
typedef struct RfmBreakpoints
{
	int32		vl_len_;
	uint8		version;
	uint8		kind;			/* RFM_KIND_* */
	uint8		n;				/* number of scores */
	uint8		reserved;
	int32		as_of;			/* quantile: the as-of date; fixed: 0 */
	int64		customers;		/* quantile: customers with a purchase */
	int64		excluded;		/* quantile: customers without one */
	int64		cuts[FLEXIBLE_ARRAY_MEMBER];
} RfmBreakpoints;

#define RFM_BP_SIZE(n)	(offsetof(RfmBreakpoints, cuts) + 3 * ((n) - 1) * sizeof(int64))

/* one run of the histogram state */
typedef struct RfmEntry
{
	int32		dim;			/* DIM_* */
	int32		reserved;
	int64		value;
	int64		count;
} RfmEntry;

/* the aggregate state: entries[0 .. n_sorted) sorted and run-length coded */
typedef struct RfmState
{
	int32		vl_len_;
	uint8		version;
	uint8		n;
	uint16		reserved;
	int32		as_of;
	int32		n_entries;
	int32		n_sorted;
	int64		excluded;
	RfmEntry	entries[FLEXIBLE_ARRAY_MEMBER];
} RfmState;

#define RFM_STATE_HDR		offsetof(RfmState, entries)
#define RFM_STATE_CAP(st)	((int32) ((VARSIZE(st) - RFM_STATE_HDR) / sizeof(RfmEntry)))
#define RFM_MAX_ENTRIES		((int32) ((MaxAllocSize - RFM_STATE_HDR) / sizeof(RfmEntry)))

static const char dim_name[3] = {'r', 'f', 'm'};

/* ---------- text parsing helpers ---------- */

typedef struct RfmCursor
{
	const char *s;
	const char *input;
	const char *type_name;
} RfmCursor;

pg_noreturn static void rfm_syntax_error(RfmCursor *cur, const char *what);

/* raise 22P02 for malformed text input */
static void
rfm_syntax_error(RfmCursor *cur, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", cur->type_name, cur->input),
			 errdetail("%s at offset %d.", what, (int) (cur->s - cur->input))));
}

/* consume the literal word w or fail */
static void
expect_word(RfmCursor *cur, const char *w)
{
	size_t		len = strlen(w);

	if (strncmp(cur->s, w, len) != 0)
		rfm_syntax_error(cur, psprintf("expected \"%s\"", w));
	cur->s += len;
}

/* consume one space separator */
static void
expect_space(RfmCursor *cur)
{
	if (*cur->s != ' ')
		rfm_syntax_error(cur, "expected a space");
	cur->s++;
}

/* read a signed decimal integer in [lo, hi] (clm_parse_int64) */
static int64
read_int64(RfmCursor *cur, int64 lo, int64 hi)
{
	int64		v = 0;
	const char *err = clm_parse_int64(&cur->s, lo, hi, &v);

	if (err)
		rfm_syntax_error(cur, err);
	return v;
}

/* read an amount -?digits(.digits{1,4})? as 1/10000 units (clm_parse_spend) */
static int64
read_amount(RfmCursor *cur)
{
	int64		v = 0;
	const char *err = clm_parse_spend(&cur->s, &v);

	if (err)
		rfm_syntax_error(cur, err);
	return v;
}

/* read -?YYYY-MM-DD as a finite DateADT */
static int32
read_date(RfmCursor *cur)
{
	int64		y,
				m,
				d;
	int			yy,
				mm,
				dd;
	int			jd;

	y = read_int64(cur, -4713, 5874897);
	expect_word(cur, "-");
	m = read_int64(cur, 1, 12);
	expect_word(cur, "-");
	d = read_int64(cur, 1, 31);
	if (!IS_VALID_JULIAN(y, m, d))
		rfm_syntax_error(cur, "date out of range");
	jd = date2j((int) y, (int) m, (int) d);
	j2date(jd, &yy, &mm, &dd);
	if (yy != y || mm != m || dd != d)
		rfm_syntax_error(cur, "invalid date");
	jd -= POSTGRES_EPOCH_JDATE;
	if (!IS_VALID_DATE(jd))
		rfm_syntax_error(cur, "date out of range");
	return jd;
}

/* append a date as -?YYYY-MM-DD with an astronomical year */
static void
append_date(StringInfo buf, int32 day)
{
	int			y,
				m,
				d;

	j2date(day + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	if (y < 0)
		appendStringInfo(buf, "-%04d-%02d-%02d", -y, m, d);
	else
		appendStringInfo(buf, "%04d-%02d-%02d", y, m, d);
}

/* ---------- breakpoints ---------- */

/* the cut of score s (2..n) in dimension dim */
static inline int64
bp_cut(const RfmBreakpoints *bp, int dim, int s)
{
	return bp->cuts[dim * (bp->n - 1) + (s - 2)];
}

/* NULL if the cut lists of bp are ordered, else a message */
static const char *
bp_check_order(const RfmBreakpoints *bp)
{
	int			s;

	for (s = 3; s <= bp->n; s++)
	{
		if (bp_cut(bp, DIM_R, s) > bp_cut(bp, DIM_R, s - 1))
			return "r thresholds must not increase (score s needs R <= r_cut[s])";
		if (bp_cut(bp, DIM_F, s) < bp_cut(bp, DIM_F, s - 1))
			return "f thresholds must not decrease (score s needs F >= f_cut[s])";
		if (bp_cut(bp, DIM_M, s) < bp_cut(bp, DIM_M, s - 1))
			return "m thresholds must not decrease (score s needs M >= m_cut[s])";
	}
	return NULL;
}

/* a zeroed breakpoints value for n scores */
static RfmBreakpoints *
bp_alloc(int n, int kind)
{
	RfmBreakpoints *bp = palloc0(RFM_BP_SIZE(n));

	SET_VARSIZE(bp, RFM_BP_SIZE(n));
	bp->version = RFM_VERSION;
	bp->kind = (uint8) kind;
	bp->n = (uint8) n;
	return bp;
}

/* detoast and check the structure of a breakpoints datum */
static RfmBreakpoints *
bp_read(Datum d)
{
	RfmBreakpoints *bp = (RfmBreakpoints *) PG_DETOAST_DATUM(d);

	if (VARSIZE(bp) < offsetof(RfmBreakpoints, cuts) ||
		bp->version != RFM_VERSION ||
		bp->n < RFM_MIN_N || bp->n > RFM_MAX_N ||
		VARSIZE(bp) != RFM_BP_SIZE(bp->n) ||
		bp->kind > RFM_KIND_QUANTILE)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt clm.rfm_breakpoints value")));
	return bp;
}

/* read one comma-separated list of n - 1 cuts */
static void
read_cut_list(RfmCursor *cur, RfmBreakpoints *bp, int dim)
{
	int			s;

	for (s = 2; s <= bp->n; s++)
	{
		int64		v;

		if (s > 2)
			expect_word(cur, ",");
		if (dim == DIM_M)
			v = read_amount(cur);
		else
			v = read_int64(cur, PG_INT32_MIN, PG_INT32_MAX);
		bp->cuts[dim * (bp->n - 1) + (s - 2)] = v;
	}
}

/* text input of clm.rfm_breakpoints, fully validated */
Datum
clm_rfm_breakpoints_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	RfmCursor	cur = {str, str, "clm.rfm_breakpoints"};
	RfmBreakpoints *bp;
	int64		n;
	const char *why;

	expect_word(&cur, "n=");
	n = read_int64(&cur, RFM_MIN_N, RFM_MAX_N);
	expect_space(&cur);
	if (strncmp(cur.s, "as_of=", 6) == 0)
	{
		bp = bp_alloc((int) n, RFM_KIND_QUANTILE);
		cur.s += 6;
		bp->as_of = read_date(&cur);
		expect_space(&cur);
		expect_word(&cur, "customers=");
		bp->customers = read_int64(&cur, 1, PG_INT64_MAX);
		expect_space(&cur);
		expect_word(&cur, "excluded=");
		bp->excluded = read_int64(&cur, 0, PG_INT64_MAX);
		expect_space(&cur);
	}
	else
		bp = bp_alloc((int) n, RFM_KIND_FIXED);
	expect_word(&cur, "r<=");
	read_cut_list(&cur, bp, DIM_R);
	expect_space(&cur);
	expect_word(&cur, "f>=");
	read_cut_list(&cur, bp, DIM_F);
	expect_space(&cur);
	expect_word(&cur, "m>=");
	read_cut_list(&cur, bp, DIM_M);
	if (*cur.s != '\0')
		rfm_syntax_error(&cur, "unexpected text after the m thresholds");
	if ((why = bp_check_order(bp)) != NULL)
		rfm_syntax_error(&cur, why);
	PG_RETURN_POINTER(bp);
}

/* text output of clm.rfm_breakpoints */
Datum
clm_rfm_breakpoints_out(PG_FUNCTION_ARGS)
{
	RfmBreakpoints *bp = bp_read(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			dim,
				s;

	initStringInfo(&buf);
	appendStringInfo(&buf, "n=%d ", bp->n);
	if (bp->kind == RFM_KIND_QUANTILE)
	{
		appendStringInfoString(&buf, "as_of=");
		append_date(&buf, bp->as_of);
		appendStringInfo(&buf, " customers=" INT64_FORMAT " excluded=" INT64_FORMAT " ",
						 bp->customers, bp->excluded);
	}
	for (dim = DIM_R; dim <= DIM_M; dim++)
	{
		if (dim > DIM_R)
			appendStringInfoChar(&buf, ' ');
		appendStringInfo(&buf, "%c%s", dim_name[dim], dim == DIM_R ? "<=" : ">=");
		for (s = 2; s <= bp->n; s++)
		{
			if (s > 2)
				appendStringInfoChar(&buf, ',');
			if (dim == DIM_M)
				clm_append_spend(&buf, bp_cut(bp, dim, s));
			else
				appendStringInfo(&buf, INT64_FORMAT, bp_cut(bp, dim, s));
		}
	}
	PG_RETURN_CSTRING(buf.data);
}

/* the elements of a one-dimensional array argument without NULLs */
static void
array_arg(ArrayType *a, Oid elemtype, const char *what, Datum **elems, int *nelems)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	bool	   *nulls;
	int			i;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array", what)));
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(a, elemtype, typlen, typbyval, typalign, elems, &nulls, nelems);
	for (i = 0; i < *nelems; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not contain NULLs", what)));
}

/* a numeric amount as 1/10000 units, exactly, or an error */
static int64
numeric_to_units(Datum num)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, num));
	RfmCursor	cur = {s, s, "amount"};
	int64		v;
	char	   *dot;

	if (strchr(s, 'N') != NULL || strchr(s, 'I') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amounts must be finite, not \"%s\"", s)));
	dot = strchr(s, '.');
	if (dot != NULL)
	{
		/* trailing zeros of the scale do not count as decimals */
		char	   *end = s + strlen(s);

		while (end > dot + 1 && end[-1] == '0')
			*--end = '\0';
		if (end == dot + 1)
			*dot = '\0';
		else if (end - dot - 1 > CLM_SPEND_DIGITS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("amount %s has more than 4 decimals", s)));
	}
	if (strcspn(s, ".") - (s[0] == '-') > 14)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("amount %s is out of range", s)));
	v = read_amount(&cur);
	return v;
}

/*
 * clm.rfm_breakpoints_fixed(r_days int[], f_orders int[], m_spend numeric[]):
 * business thresholds for scores 2..n, each array of length n - 1.
 */
Datum
clm_rfm_breakpoints_fixed(PG_FUNCTION_ARGS)
{
	Datum	   *r,
			   *f,
			   *m;
	int			nr,
				nf,
				nm,
				s;
	RfmBreakpoints *bp;
	const char *why;

	array_arg(PG_GETARG_ARRAYTYPE_P(0), INT4OID, "r_days", &r, &nr);
	array_arg(PG_GETARG_ARRAYTYPE_P(1), INT4OID, "f_orders", &f, &nf);
	array_arg(PG_GETARG_ARRAYTYPE_P(2), NUMERICOID, "m_spend", &m, &nm);
	if (nr != nf || nr != nm || nr < RFM_MIN_N - 1 || nr > RFM_MAX_N - 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("r_days, f_orders and m_spend must each hold n - 1 thresholds for the same n between %d and %d",
						RFM_MIN_N, RFM_MAX_N),
				 errdetail("Lengths are %d, %d and %d.", nr, nf, nm),
				 errhint("For 5 scores pass 4 thresholds each, for scores 2, 3, 4 and 5.")));
	bp = bp_alloc(nr + 1, RFM_KIND_FIXED);
	for (s = 2; s <= bp->n; s++)
	{
		bp->cuts[DIM_R * nr + s - 2] = DatumGetInt32(r[s - 2]);
		bp->cuts[DIM_F * nr + s - 2] = DatumGetInt32(f[s - 2]);
		bp->cuts[DIM_M * nr + s - 2] = numeric_to_units(m[s - 2]);
	}
	if ((why = bp_check_order(bp)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", why),
				 errhint("Thresholds are listed for scores 2 to n: r_days descending, f_orders and m_spend ascending.")));
	PG_RETURN_POINTER(bp);
}

/* clm.rfm_cut_points(bp): one row per score 2..n with its three thresholds */
Datum
clm_rfm_cut_points(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RfmBreakpoints *bp;
	int			s;

	InitMaterializedSRF(fcinfo, 0);
	bp = bp_read(PG_GETARG_DATUM(0));
	for (s = 2; s <= bp->n; s++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = Int32GetDatum(s);
		values[1] = Int32GetDatum((int32) bp_cut(bp, DIM_R, s));
		values[2] = Int32GetDatum((int32) bp_cut(bp, DIM_F, s));
		values[3] = clm_spend_numeric(bp_cut(bp, DIM_M, s));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* ---------- scores ---------- */

/* the three scores of (R, F, M) under bp */
static void
score_values(const RfmBreakpoints *bp, int64 r, int64 f, int64 m, int *sc)
{
	int			s;

	sc[0] = sc[1] = sc[2] = 1;
	for (s = 2; s <= bp->n; s++)
	{
		if (r <= bp_cut(bp, DIM_R, s))
			sc[0]++;
		if (f >= bp_cut(bp, DIM_F, s))
			sc[1]++;
		if (m >= bp_cut(bp, DIM_M, s))
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
		return bp_read(PG_GETARG_DATUM(argno));
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
		(void) bp_read(PointerGetDatum(cache->bp_buf));	/* validates */
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

	score_values(bp, r, f, m, sc);
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
static DateADT
finite_as_of(FunctionCallInfo fcinfo, int argno)
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
static bool
profile_rfm(const ClmProfile *p, DateADT as_of, int64 *r, int64 *f, int64 *m)
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
	DateADT		as_of = finite_as_of(fcinfo, 2);
	int64		r,
				f,
				m;

	if (!profile_rfm(p, as_of, &r, &f, &m))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(score_tuple(fcinfo, bp, r, f, m));
}

/* clm.rfm_score(days_since_last_purchase, orders, total_spend, breakpoints) */
Datum
clm_rfm_score_values(PG_FUNCTION_ARGS)
{
	int32		r = PG_GETARG_INT32(0);
	int32		f = PG_GETARG_INT32(1);
	int64		m = numeric_to_units(PG_GETARG_DATUM(2));
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

/* ---------- the aggregate state ---------- */

/* order entries by (dim, value) */
static inline int
entry_cmp(const RfmEntry *x, const RfmEntry *y)
{
	if (x->dim != y->dim)
		return x->dim < y->dim ? -1 : 1;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return 0;
}

/* rfm_entry_sort(RfmEntry *, size_t): a sort with the comparison inlined */
#define ST_SORT rfm_entry_sort
#define ST_ELEMENT_TYPE RfmEntry
#define ST_COMPARE(a, b) entry_cmp(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* add count c to run e, or fail */
static inline void
add_count(RfmEntry *e, int64 c)
{
	if (__builtin_add_overflow(e->count, c, &e->count))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("too many customers for clm.rfm_breakpoints")));
}

/* sort entries[from .. to) and merge equal runs in place; returns the new end */
static int32
sort_runs(RfmEntry *e, int32 from, int32 to)
{
	int32		i,
				out = from;

	rfm_entry_sort(e + from, to - from);
	for (i = from; i < to; i++)
	{
		if (out > from && entry_cmp(&e[out - 1], &e[i]) == 0)
			add_count(&e[out - 1], e[i].count);
		else
			e[out++] = e[i];
	}
	return out;
}

/*
 * Sort the unsorted tail, run-length code it and merge it with the sorted
 * prefix: O(t log t + p) for a tail of t and a prefix of p entries.
 */
static void
state_compact(RfmState *st)
{
	RfmEntry   *e = st->entries;
	int32		p = st->n_sorted;
	int32		end;
	RfmEntry   *merged;
	int32		i,
				j,
				out = 0;

	if (st->n_sorted == st->n_entries)
		return;
	end = sort_runs(e, p, st->n_entries);
	if (p == 0)
	{
		st->n_entries = st->n_sorted = end;
		return;
	}
	merged = palloc(sizeof(RfmEntry) * (end));
	i = 0;
	j = p;
	while (i < p || j < end)
	{
		const RfmEntry *next;

		if (j >= end || (i < p && entry_cmp(&e[i], &e[j]) <= 0))
			next = &e[i++];
		else
			next = &e[j++];
		if (out > 0 && entry_cmp(&merged[out - 1], next) == 0)
			add_count(&merged[out - 1], next->count);
		else
			merged[out++] = *next;
	}
	memcpy(e, merged, sizeof(RfmEntry) * out);
	pfree(merged);
	st->n_entries = st->n_sorted = out;
}

/* a state with room for cap entries, in context cxt */
static RfmState *
state_alloc(MemoryContext cxt, int n, DateADT as_of, int32 cap)
{
	RfmState   *st = MemoryContextAllocZero(cxt, RFM_STATE_HDR + (Size) cap * sizeof(RfmEntry));

	SET_VARSIZE(st, RFM_STATE_HDR + (Size) cap * sizeof(RfmEntry));
	st->version = RFM_VERSION;
	st->n = (uint8) n;
	st->as_of = as_of;
	return st;
}

/* make room for extra more entries, compacting first; may move the state */
static RfmState *
state_reserve(RfmState *st, int32 extra)
{
	int32		cap = RFM_STATE_CAP(st);
	int64		want;
	RfmState   *grown;

	if (st->n_entries + extra <= cap)
		return st;
	state_compact(st);
	if (st->n_entries + extra <= cap && st->n_entries <= cap / 2)
		return st;
	want = Max((int64) cap * 2, (int64) st->n_entries + extra);
	if (want > RFM_MAX_ENTRIES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("clm.rfm_breakpoints state too large: at most %d distinct values",
						RFM_MAX_ENTRIES),
				 errhint("Split the customers into groups, or use clm.customer_rfm.")));
	/*
	 * A new block in the current context, the old one left alone: inside an
	 * aggregate the executor copies the new state into its own context and
	 * frees the old one itself.
	 */
	grown = state_alloc(CurrentMemoryContext, st->n, st->as_of, (int32) want);
	memcpy(grown, st, RFM_STATE_HDR + (Size) st->n_entries * sizeof(RfmEntry));
	SET_VARSIZE(grown, RFM_STATE_HDR + (Size) want * sizeof(RfmEntry));
	return grown;
}

/* check the structure of a state (corrupt input must not crash) */
static void
state_check(const RfmState *st)
{
	if (VARSIZE(st) < RFM_STATE_HDR ||
		(VARSIZE(st) - RFM_STATE_HDR) % sizeof(RfmEntry) != 0 ||
		st->version != RFM_VERSION ||
		st->n < RFM_MIN_N || st->n > RFM_MAX_N ||
		st->n_entries < 0 || st->n_entries > RFM_STATE_CAP(st) ||
		st->n_sorted < 0 || st->n_sorted > st->n_entries ||
		st->excluded < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt clm.rfm_state value")));
}

/*
 * A writable state from argument argno, checked: inside an aggregate the
 * state itself (a detoasted copy if needed), else a copy, so that a direct
 * call never writes into its input.
 */
static RfmState *
state_writable(FunctionCallInfo fcinfo, int argno)
{
	Datum		d = PG_GETARG_DATUM(argno);
	struct varlena *v = (struct varlena *) DatumGetPointer(d);

	if (VARATT_IS_EXTENDED(v) || !AggCheckCallContext(fcinfo, NULL))
		v = (struct varlena *) PG_DETOAST_DATUM_COPY(d);
	state_check((RfmState *) v);
	return (RfmState *) v;
}

/* error unless two states (or a state and a row) agree on n and as_of */
static void
state_same_params(const RfmState *st, int n, DateADT as_of)
{
	if (st->n != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be the same in every row of clm.rfm_breakpoints (%d and %d)",
						st->n, n)));
	if (st->as_of != as_of)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must be the same in every row of clm.rfm_breakpoints")));
}

/* transition: add one customer's R, F and M (or count it as excluded) */
Datum
clm_rfm_state_trans(PG_FUNCTION_ARGS)
{
	RfmState   *st;
	ClmProfile *p;
	DateADT		as_of;
	int32		n = 5;
	int64		r,
				f,
				m;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be NULL")));
	as_of = finite_as_of(fcinfo, 2);
	if (PG_NARGS() > 3)
	{
		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("n must not be NULL")));
		n = PG_GETARG_INT32(3);
		if (n < RFM_MIN_N || n > RFM_MAX_N)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("n must be between %d and %d, not %d", RFM_MIN_N, RFM_MAX_N, n),
					 errhint("The three-digit code needs one digit per score.")));
	}
	if (PG_ARGISNULL(0))
		st = state_alloc(CurrentMemoryContext, n, as_of, 64);
	else
	{
		st = state_writable(fcinfo, 0);
		state_same_params(st, n, as_of);
	}

	p = PG_GETARG_CLM_PROFILE(1);
	if (!profile_rfm(p, as_of, &r, &f, &m))
	{
		if (__builtin_add_overflow(st->excluded, 1, &st->excluded))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("too many customers for clm.rfm_breakpoints")));
		PG_RETURN_POINTER(st);
	}
	st = state_reserve(st, 3);
	st->entries[st->n_entries].dim = DIM_R;
	st->entries[st->n_entries].value = r;
	st->entries[st->n_entries++].count = 1;
	st->entries[st->n_entries].dim = DIM_F;
	st->entries[st->n_entries].value = f;
	st->entries[st->n_entries++].count = 1;
	st->entries[st->n_entries].dim = DIM_M;
	st->entries[st->n_entries].value = m;
	st->entries[st->n_entries++].count = 1;
	PG_RETURN_POINTER(st);
}

/* combine: the histogram of the union of two populations */
Datum
clm_rfm_state_combine(PG_FUNCTION_ARGS)
{
	RfmState   *a;
	RfmState   *b;

	a = state_writable(fcinfo, 0);
	b = (RfmState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	state_check(b);
	state_same_params(a, b->n, b->as_of);
	if (__builtin_add_overflow(a->excluded, b->excluded, &a->excluded))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("too many customers for clm.rfm_breakpoints")));
	if (b->n_entries > 0)
	{
		int32		i;

		a = state_reserve(a, b->n_entries);
		for (i = 0; i < b->n_entries; i++)
		{
			if (b->entries[i].dim < DIM_R || b->entries[i].dim > DIM_M ||
				b->entries[i].count <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("corrupt clm.rfm_state value")));
			a->entries[a->n_entries++] = b->entries[i];
		}
		state_compact(a);
	}
	PG_RETURN_POINTER(a);
}

/*
 * Tie-aware quantile cuts of one dimension.
 *
 * vals[0..k) are the distinct values in order from worst to best with their
 * counts cnt[], N customers in all.  Let worse(v) be the number of customers
 * with a strictly worse value than v.  The score of v is
 *
 *	   score(v) = 1 + floor(n * worse(v) / N)
 *
 * i.e. a customer's score is fixed by the share of customers it beats
 * strictly, so equal values always share a score, and without ties it is
 * exactly NTILE(n).  The cut of score s + 1 is the first value (from worst
 * to best) with n * worse(v) >= s * N; when no value qualifies (a tie at the
 * top holds more than 1/n of the population), the cut is one step past the
 * best value, so that score is not used.  step is +1 (F, M) or -1 (R).
 */
static void
quantile_cuts(const int64 *vals, const int64 *cnt, int32 k, int64 N, int n,
			  int64 step, int64 *cuts)
{
	int32		j = 0;
	int			s;
	int64		worse = 0;

	for (s = 1; s < n; s++)
	{
		/* advance to the first j with n * worse(vals[j]) >= s * N */
		while (j < k && (__int128) n * worse < (__int128) s * N)
			worse += cnt[j++];
		/* worse is now the count strictly worse than vals[j] */
		if (j < k)
			cuts[s - 1] = vals[j];
		else
			cuts[s - 1] = vals[k - 1] + step;
	}
}

/* final: the breakpoints of the population (NULL if nobody has a purchase) */
Datum
clm_rfm_state_final(PG_FUNCTION_ARGS)
{
	RfmState   *st;
	RfmState   *copy;
	RfmBreakpoints *bp;
	int64	   *vals;
	int64	   *cnt;
	int64		total[3] = {0, 0, 0};
	int32		start[4];
	int32		i,
				dim;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (RfmState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	state_check(st);
	/* compact a copy: the final function must not change the state */
	copy = palloc(VARSIZE(st));
	memcpy(copy, st, VARSIZE(st));
	state_compact(copy);

	for (i = 0; i < copy->n_entries; i++)
	{
		dim = copy->entries[i].dim;
		if (dim < DIM_R || dim > DIM_M || copy->entries[i].count <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("corrupt clm.rfm_state value")));
		if (__builtin_add_overflow(total[dim], copy->entries[i].count, &total[dim]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("too many customers for clm.rfm_breakpoints")));
	}
	if (total[DIM_R] != total[DIM_F] || total[DIM_R] != total[DIM_M])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt clm.rfm_state value"),
				 errdetail("The r, f and m histograms count different numbers of customers.")));
	if (total[DIM_R] == 0)
		PG_RETURN_NULL();

	/* entries are sorted by dim: find each dimension's run */
	for (dim = DIM_R, i = 0; dim <= DIM_M; dim++)
	{
		start[dim] = i;
		while (i < copy->n_entries && copy->entries[i].dim == dim)
			i++;
	}
	start[3] = copy->n_entries;

	bp = bp_alloc(copy->n, RFM_KIND_QUANTILE);
	bp->as_of = copy->as_of;
	bp->customers = total[DIM_R];
	bp->excluded = copy->excluded;
	vals = palloc(sizeof(int64) * Max(copy->n_entries, 1));
	cnt = palloc(sizeof(int64) * Max(copy->n_entries, 1));
	for (dim = DIM_R; dim <= DIM_M; dim++)
	{
		int32		k = start[dim + 1] - start[dim];

		for (i = 0; i < k; i++)
		{
			/* R: worst is the largest number of days, so walk it backwards */
			const RfmEntry *e = (dim == DIM_R) ?
				&copy->entries[start[dim + 1] - 1 - i] : &copy->entries[start[dim] + i];

			vals[i] = e->value;
			cnt[i] = e->count;
		}
		quantile_cuts(vals, cnt, k, total[dim], copy->n, dim == DIM_R ? -1 : 1,
					  &bp->cuts[dim * (copy->n - 1)]);
	}
	PG_RETURN_POINTER(bp);
}

/* text output of clm.rfm_state (runs in sorted order) */
Datum
clm_rfm_state_out(PG_FUNCTION_ARGS)
{
	RfmState   *st = (RfmState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	RfmState   *copy;
	StringInfoData buf;
	int32		i = 0;
	int			dim;

	state_check(st);
	copy = palloc(VARSIZE(st));
	memcpy(copy, st, VARSIZE(st));
	state_compact(copy);
	initStringInfo(&buf);
	appendStringInfo(&buf, "n=%d as_of=", copy->n);
	append_date(&buf, copy->as_of);
	appendStringInfo(&buf, " excluded=" INT64_FORMAT, copy->excluded);
	for (dim = DIM_R; dim <= DIM_M; dim++)
	{
		bool		first = true;

		appendStringInfo(&buf, " %c=", dim_name[dim]);
		for (; i < copy->n_entries && copy->entries[i].dim == dim; i++)
		{
			appendStringInfo(&buf, "%s" INT64_FORMAT ":" INT64_FORMAT,
							 first ? "" : ",",
							 copy->entries[i].value, copy->entries[i].count);
			first = false;
		}
	}
	PG_RETURN_CSTRING(buf.data);
}

/* text input of clm.rfm_state, fully validated */
Datum
clm_rfm_state_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	RfmCursor	cur = {str, str, "clm.rfm_state"};
	int64		n;
	DateADT		as_of;
	RfmState   *st;
	int64		total[3] = {0, 0, 0};
	int			dim;

	expect_word(&cur, "n=");
	n = read_int64(&cur, RFM_MIN_N, RFM_MAX_N);
	expect_space(&cur);
	expect_word(&cur, "as_of=");
	as_of = read_date(&cur);
	st = state_alloc(CurrentMemoryContext, (int) n, as_of, 16);
	expect_space(&cur);
	expect_word(&cur, "excluded=");
	st->excluded = read_int64(&cur, 0, PG_INT64_MAX);
	for (dim = DIM_R; dim <= DIM_M; dim++)
	{
		bool		first = true;

		expect_space(&cur);
		expect_word(&cur, dim == DIM_R ? "r=" : dim == DIM_F ? "f=" : "m=");
		while (*cur.s != ' ' && *cur.s != '\0')
		{
			RfmEntry   *e;

			if (!first)
				expect_word(&cur, ",");
			first = false;
			st = state_reserve(st, 1);
			e = &st->entries[st->n_entries];
			e->dim = dim;
			/* the ranges the transition produces, so every cut fits its list */
			if (dim == DIM_R)
				e->value = read_int64(&cur, 0, PG_INT32_MAX);
			else if (dim == DIM_F)
				e->value = read_int64(&cur, 1, PG_INT32_MAX - 1);
			else
				e->value = read_int64(&cur, -(PG_INT64_MAX - 1), PG_INT64_MAX - 1);
			expect_word(&cur, ":");
			e->count = read_int64(&cur, 1, PG_INT64_MAX);
			if (st->n_entries > 0 && st->entries[st->n_entries - 1].dim == dim &&
				st->entries[st->n_entries - 1].value >= e->value)
				rfm_syntax_error(&cur, "values must be strictly increasing");
			if (__builtin_add_overflow(total[dim], e->count, &total[dim]))
				rfm_syntax_error(&cur, "count out of range");
			st->n_entries++;
			st->n_sorted = st->n_entries;
		}
	}
	if (*cur.s != '\0')
		rfm_syntax_error(&cur, "unexpected text after the m histogram");
	if (total[DIM_R] != total[DIM_F] || total[DIM_R] != total[DIM_M])
		rfm_syntax_error(&cur, "the r, f and m histograms must count the same customers");
	PG_RETURN_POINTER(st);
}

/* ---------- segment lookup ---------- */

#define RFM_CELLS	(RFM_MAX_N * RFM_MAX_N * RFM_MAX_N)

/* a map loaded for one call site: the winning rule of every cell */
typedef struct RfmMapCache
{
	text	   *map_name;		/* the map this cache holds */
	int			n_rules;
	Datum	   *segment;		/* per rule: segment (text) */
	int32	   *rule_id;		/* per rule */
	int32	   *priority;		/* per rule */
	int16		winner[RFM_CELLS];	/* rule index per cell, -1 for a gap */
	TupleDesc	tupdesc;		/* blessed clm.rfm_segment_match */
} RfmMapCache;

/* load map_name from clm.rfm_segment_map into a cache in fn_mcxt */
static RfmMapCache *
load_map(FunctionCallInfo fcinfo, text *map_name, bool match_type)
{
	MemoryContext fcxt = fcinfo->flinfo->fn_mcxt;
	RfmMapCache *cache;
	char	   *nsp = get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));
	char	   *query;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	uint64		i;
	int			c;

	query = psprintf("SELECT segment, rule_id, priority, r_min, r_max, f_min, f_max, m_min, m_max "
					 "FROM %s.rfm_segment_map WHERE map_name OPERATOR(pg_catalog.=) $1 "
					 "ORDER BY priority, rule_id",
					 quote_identifier(nsp));
	args[0] = PointerGetDatum(map_name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(query, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the rfm segment map");

	cache = MemoryContextAllocZero(fcxt, sizeof(RfmMapCache));
	cache->map_name = (text *) MemoryContextAlloc(fcxt, VARSIZE_ANY(map_name));
	memcpy(cache->map_name, map_name, VARSIZE_ANY(map_name));
	cache->n_rules = (int) Min(SPI_processed, (uint64) PG_INT16_MAX);
	cache->segment = MemoryContextAllocZero(fcxt, sizeof(Datum) * Max(cache->n_rules, 1));
	cache->rule_id = MemoryContextAllocZero(fcxt, sizeof(int32) * Max(cache->n_rules, 1));
	cache->priority = MemoryContextAllocZero(fcxt, sizeof(int32) * Max(cache->n_rules, 1));
	for (c = 0; c < RFM_CELLS; c++)
		cache->winner[c] = -1;

	/* rules come in firing order: the first rule to cover a cell wins it */
	for (i = 0; i < (uint64) cache->n_rules; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		int32		lim[6];
		int			k,
					r,
					f,
					m;
		MemoryContext old;

		old = MemoryContextSwitchTo(fcxt);
		cache->segment[i] = PointerGetDatum(DatumGetTextPCopy(SPI_getbinval(tup, td, 1, &isnull)));
		MemoryContextSwitchTo(old);
		cache->rule_id[i] = DatumGetInt32(SPI_getbinval(tup, td, 2, &isnull));
		cache->priority[i] = DatumGetInt32(SPI_getbinval(tup, td, 3, &isnull));
		for (k = 0; k < 6; k++)
			lim[k] = DatumGetInt32(SPI_getbinval(tup, td, 4 + k, &isnull));
		for (r = Max(lim[0], 1); r <= Min(lim[1], RFM_MAX_N); r++)
			for (f = Max(lim[2], 1); f <= Min(lim[3], RFM_MAX_N); f++)
				for (m = Max(lim[4], 1); m <= Min(lim[5], RFM_MAX_N); m++)
				{
					int			cell = ((r - 1) * RFM_MAX_N + (f - 1)) * RFM_MAX_N + (m - 1);

					if (cache->winner[cell] < 0)
						cache->winner[cell] = (int16) i;
				}
	}
	SPI_finish();

	if (!match_type)
		return cache;
	if (get_call_result_type(fcinfo, NULL, &cache->tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (cache->tupdesc->natts != 3)
		elog(ERROR, "clm.rfm_segment_match has %d attributes, expected 3", cache->tupdesc->natts);
	{
		MemoryContext old = MemoryContextSwitchTo(fcxt);

		cache->tupdesc = BlessTupleDesc(CreateTupleDescCopy(cache->tupdesc));
		MemoryContextSwitchTo(old);
	}
	return cache;
}

/*
 * The segment of cell (r, f, m) under map_name and the rule that fired
 * (lowest priority, then lowest rule_id), or NULL.  The map is read once per
 * call site and query and kept in fn_extra, so labelling a million
 * customers reads the map table once.
 */
static RfmMapCache *
map_cached(FunctionCallInfo fcinfo, text *map_name, bool match_type)
{
	RfmMapCache *cache = (RfmMapCache *) fcinfo->flinfo->fn_extra;

	if (cache == NULL ||
		VARSIZE_ANY_EXHDR(cache->map_name) != VARSIZE_ANY_EXHDR(map_name) ||
		memcmp(VARDATA_ANY(cache->map_name), VARDATA_ANY(map_name),
			   VARSIZE_ANY_EXHDR(map_name)) != 0)
	{
		if (cache != NULL)
		{
			/* another map at this call site: drop the old one */
			int			i;

			for (i = 0; i < cache->n_rules; i++)
				pfree(DatumGetPointer(cache->segment[i]));
			pfree(cache->segment);
			pfree(cache->rule_id);
			pfree(cache->priority);
			pfree(cache->map_name);
			if (cache->tupdesc)
				FreeTupleDesc(cache->tupdesc);
			pfree(cache);
			fcinfo->flinfo->fn_extra = NULL;
		}
		cache = load_map(fcinfo, map_name, match_type);
		fcinfo->flinfo->fn_extra = cache;
	}
	return cache;
}

/* the rule index of cell (r, f, m) in a loaded map, -1 for none */
static inline int
map_winner(const RfmMapCache *cache, int32 r, int32 f, int32 m)
{
	if (r < 1 || r > RFM_MAX_N || f < 1 || f > RFM_MAX_N || m < 1 || m > RFM_MAX_N)
		return -1;
	return cache->winner[((r - 1) * RFM_MAX_N + (f - 1)) * RFM_MAX_N + (m - 1)];
}

/*
 * The segment of cell (r, f, m) under map_name and the rule that fired
 * (lowest priority, then lowest rule_id), or NULL.  The map is read once per
 * call site and query and kept in fn_extra, so labelling a million
 * customers reads the map table once.
 */
static Datum
segment_lookup(FunctionCallInfo fcinfo, int32 r, int32 f, int32 m, text *map_name)
{
	RfmMapCache *cache = map_cached(fcinfo, map_name, true);
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int			w = map_winner(cache, r, f, m);

	if (w < 0)
		PG_RETURN_NULL();
	values[0] = cache->segment[w];
	values[1] = Int32GetDatum(cache->rule_id[w]);
	values[2] = Int32GetDatum(cache->priority[w]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(cache->tupdesc, values, nulls)));
}

/* clm.rfm_segment(r, f, m, map_name) */
Datum
clm_rfm_segment(PG_FUNCTION_ARGS)
{
	return segment_lookup(fcinfo, PG_GETARG_INT32(0), PG_GETARG_INT32(1),
						  PG_GETARG_INT32(2), PG_GETARG_TEXT_PP(3));
}

/* clm.rfm_segment(scores clm.rfm_scores, map_name): NULL if a score is NULL */
Datum
clm_rfm_segment_scores(PG_FUNCTION_ARGS)
{
	HeapTupleHeader t = PG_GETARG_HEAPTUPLEHEADER(0);
	int32		sc[3];
	int			i;

	for (i = 0; i < 3; i++)
	{
		bool		isnull;
		Datum		d = GetAttributeByNum(t, (AttrNumber) (i + 1), &isnull);

		if (isnull)
			PG_RETURN_NULL();
		sc[i] = DatumGetInt32(d);
	}
	return segment_lookup(fcinfo, sc[0], sc[1], sc[2], PG_GETARG_TEXT_PP(1));
}

/* ---------- binary I/O ---------- */

/*
 * The binary form of both types is their text form (a version byte, then
 * the text): it is compact enough, architecture independent, and goes
 * through the same validation as text input.
 */
#define RFM_BINARY_VERSION	1

/* send a cstring produced by an output function */
static Datum
send_text_form(char *s)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, RFM_BINARY_VERSION);
	pq_sendtext(&buf, s, strlen(s));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* the text carried by a binary message, for an input function */
static char *
recv_text_form(StringInfo buf, const char *type_name)
{
	int			version;
	int			nbytes;

	if (buf->cursor >= buf->len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary representation of %s: the value is empty", type_name)));
	version = pq_getmsgbyte(buf);
	if (version != RFM_BINARY_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary format version %d for type %s", version, type_name)));
	return pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
}

/* binary output of clm.rfm_breakpoints */
Datum
clm_rfm_breakpoints_send(PG_FUNCTION_ARGS)
{
	return send_text_form(DatumGetCString(DirectFunctionCall1(clm_rfm_breakpoints_out,
															  PG_GETARG_DATUM(0))));
}

/* binary input of clm.rfm_breakpoints (validated like text input) */
Datum
clm_rfm_breakpoints_recv(PG_FUNCTION_ARGS)
{
	char	   *s = recv_text_form((StringInfo) PG_GETARG_POINTER(0), "clm.rfm_breakpoints");

	return DirectFunctionCall1(clm_rfm_breakpoints_in, CStringGetDatum(s));
}

/* binary output of clm.rfm_state */
Datum
clm_rfm_state_send(PG_FUNCTION_ARGS)
{
	return send_text_form(DatumGetCString(DirectFunctionCall1(clm_rfm_state_out,
															  PG_GETARG_DATUM(0))));
}

/* binary input of clm.rfm_state (validated like text input) */
Datum
clm_rfm_state_recv(PG_FUNCTION_ARGS)
{
	char	   *s = recv_text_form((StringInfo) PG_GETARG_POINTER(0), "clm.rfm_state");

	return DirectFunctionCall1(clm_rfm_state_in, CStringGetDatum(s));
}

/* ---------- one pass: clm.customer_rfm and clm.customer_rfm_rows ---------- */

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
	ArrayType  *a;
	int64	   *rec;
	DateADT		as_of;
	int64		r,
				f,
				m;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be NULL")));
	as_of = finite_as_of(fcinfo, 3);
	if (!PG_ARGISNULL(2) && PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("customer_id must not be NULL")));
	if (PG_ARGISNULL(2) ||
		!profile_rfm(PG_GETARG_CLM_PROFILE(2), as_of, &r, &f, &m))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	a = clm_cs_append(fcinfo, &rfm_cs, as_of, &rec);
	rec[0] = PG_GETARG_INT64(1);
	rec[1] = r;
	rec[2] = f;
	rec[3] = m;
	PG_RETURN_ARRAYTYPE_P(a);
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
 * sorted, run-length coded from worst to best and cut by quantile_cuts.
 */
static RfmBreakpoints *
records_breakpoints(const int64 *recs, int64 n_rec, int n, int32 as_of)
{
	RfmBreakpoints *bp = bp_alloc(n, RFM_KIND_QUANTILE);
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
		quantile_cuts(vals, cnt, k, n_rec, n, dim == DIM_R ? -1 : 1,
					  &bp->cuts[dim * (n - 1)]);
	}
	pfree(x);
	pfree(vals);
	pfree(cnt);
	return bp;
}

/*
 * The rows of a clm.customer_rfm value under breakpoints bp (NULL: the
 * quantile breakpoints of its own customers, n scores) and the segment map
 * in argument map_arg (NULL: no segment): (customer_id,
 * days_since_last_purchase, orders, total_spend, r_score, f_score, m_score,
 * rfm_code, segment), in the order the customers were aggregated.
 */
static Datum
customer_rfm_rows(FunctionCallInfo fcinfo, const RfmBreakpoints *bp, int n, int map_arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RfmMapCache *map = NULL;
	int64	   *recs;
	int64		n_rec,
				i;
	int32		as_of;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	recs = clm_cs_records(PG_GETARG_ARRAYTYPE_P(0), &rfm_cs, true, &n_rec, &as_of);
	for (i = 0; i < n_rec; i++)
	{
		const int64 *rec = recs + 4 * i;

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

		map = map_cached(fcinfo, name, false);
		if (map->n_rules == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rfm segment map \"%s\" has no rules", text_to_cstring(name)),
					 errhint("The maps are the rows of clm.rfm_segment_map.")));
	}
	if (n_rec == 0)
		return (Datum) 0;
	if (bp == NULL)
		bp = records_breakpoints(recs, n_rec, n, as_of);

	for (i = 0; i < n_rec; i++)
	{
		const int64 *rec = recs + 4 * i;
		Datum		values[9];
		bool		nulls[9] = {false, false, false, false, false, false, false, false, false};
		int			sc[3];
		char		code[4];
		int			w;

		CHECK_FOR_INTERRUPTS();
		score_values(bp, rec[1], rec[2], rec[3], sc);
		code[0] = (char) ('0' + sc[0]);
		code[1] = (char) ('0' + sc[1]);
		code[2] = (char) ('0' + sc[2]);
		code[3] = '\0';
		values[0] = Int64GetDatum(rec[0]);
		values[1] = Int32GetDatum((int32) rec[1]);
		values[2] = Int32GetDatum((int32) rec[2]);
		values[3] = clm_spend_numeric(rec[3]);
		values[4] = Int32GetDatum(sc[0]);
		values[5] = Int32GetDatum(sc[1]);
		values[6] = Int32GetDatum(sc[2]);
		values[7] = CStringGetTextDatum(code);
		w = map ? map_winner(map, sc[0], sc[1], sc[2]) : -1;
		if (w < 0)
			nulls[8] = true;
		else
			values[8] = map->segment[w];
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		pfree(DatumGetPointer(values[3]));
		pfree(DatumGetPointer(values[7]));
	}
	return (Datum) 0;
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
	return customer_rfm_rows(fcinfo, NULL, n, 2);
}

/* clm.customer_rfm_rows(s, bp, map_name): given (e.g. frozen) breakpoints */
Datum
clm_customer_rfm_rows_bp(PG_FUNCTION_ARGS)
{
	const RfmBreakpoints *bp;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("breakpoints must not be NULL")));
	bp = bp_read(PG_GETARG_DATUM(1));
	return customer_rfm_rows(fcinfo, bp, bp->n, 2);
}
