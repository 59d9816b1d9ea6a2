/*-------------------------------------------------------------------------
 *
 * rfm_breakpoints.c
 *	  RFM breakpoints: the clm.rfm_breakpoints value, tie-aware quantile
 *	  cuts, fixed thresholds (clm.rfm_breakpoints_fixed) and clm.rfm_cut_points.
 *
 * Definitions and layouts: rfm.h.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "compat.h"
#include "period.h"
#include "profile.h"
#include "rfm.h"

PG_FUNCTION_INFO_V1(clm_rfm_breakpoints_fixed);
PG_FUNCTION_INFO_V1(clm_rfm_cut_points);

/* NULL if the cut lists of bp are ordered, else a message */
const char *
clm_rfm_bp_check_order(const RfmBreakpoints *bp)
{
	int			s;

	for (s = 3; s <= bp->n; s++)
	{
		if (clm_rfm_bp_cut(bp, DIM_R, s) > clm_rfm_bp_cut(bp, DIM_R, s - 1))
			return "r thresholds must not increase (score s needs R <= r_cut[s])";
		if (clm_rfm_bp_cut(bp, DIM_F, s) < clm_rfm_bp_cut(bp, DIM_F, s - 1))
			return "f thresholds must not decrease (score s needs F >= f_cut[s])";
		if (clm_rfm_bp_cut(bp, DIM_M, s) < clm_rfm_bp_cut(bp, DIM_M, s - 1))
			return "m thresholds must not decrease (score s needs M >= m_cut[s])";
	}
	return NULL;
}

/* a zeroed breakpoints value for n scores */
RfmBreakpoints *
clm_rfm_bp_alloc(int n, int kind)
{
	RfmBreakpoints *bp = palloc0(RFM_BP_SIZE(n));

	SET_VARSIZE(bp, RFM_BP_SIZE(n));
	bp->version = RFM_VERSION;
	bp->kind = (uint8) kind;
	bp->n = (uint8) n;
	return bp;
}

/* detoast and check the structure of a breakpoints datum */
RfmBreakpoints *
clm_rfm_bp_read(Datum d)
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
void
clm_rfm_quantile_cuts(const int64 *vals, const int64 *cnt, int32 k, int64 N, int n,
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
int64
clm_rfm_numeric_units(Datum num)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, num));
	const char *p = s;
	const char *err;
	int64		v = 0;
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
	err = clm_parse_spend(&p, &v);
	if (err)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type amount: \"%s\"", s),
				 errdetail("%s at offset %d.", err, (int) (p - s))));
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
	bp = clm_rfm_bp_alloc(nr + 1, RFM_KIND_FIXED);
	for (s = 2; s <= bp->n; s++)
	{
		bp->cuts[DIM_R * nr + s - 2] = DatumGetInt32(r[s - 2]);
		bp->cuts[DIM_F * nr + s - 2] = DatumGetInt32(f[s - 2]);
		bp->cuts[DIM_M * nr + s - 2] = clm_rfm_numeric_units(m[s - 2]);
	}
	if ((why = clm_rfm_bp_check_order(bp)) != NULL)
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
	bp = clm_rfm_bp_read(PG_GETARG_DATUM(0));
	for (s = 2; s <= bp->n; s++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = Int32GetDatum(s);
		values[1] = Int32GetDatum((int32) clm_rfm_bp_cut(bp, DIM_R, s));
		values[2] = Int32GetDatum((int32) clm_rfm_bp_cut(bp, DIM_F, s));
		values[3] = clm_spend_numeric(clm_rfm_bp_cut(bp, DIM_M, s));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
