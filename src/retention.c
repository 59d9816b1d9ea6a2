/*-------------------------------------------------------------------------
 *
 * retention.c
 *	  Cohort retention as an aggregate over profiles.
 *
 * Cohorts: a customer belongs to the cohort of the period (day, week or
 * month) of the first purchase day on or before as_of; cohorts run from the
 * period holding cohorts_from to the period holding as_of (customers whose
 * first purchase is earlier are left out).  Offsets count periods from the
 * cohort period (offset 0 = the cohort period).  Only days on or before
 * as_of count.
 *
 *	 exact			retained at offset o: bought in period cohort + o;
 *					revenue: net spend in that period.
 *	 on_or_after	retained at offset o: bought in period cohort + o or
 *					later; revenue: net spend in those periods.
 *	 brackets		bounds b_0 < b_1 < ... < b_m give m brackets
 *					[b_j, b_{j+1} - 1]; retained: bought in a period whose
 *					offset is in the bracket; revenue: net spend there.
 *
 * A (cohort, column) cell is reported only when it is complete: the last
 * period it covers (cohort + o for exact and on_or_after, cohort +
 * b_{j+1} - 1 for a bracket) ended on or before as_of.  So a cohort is in
 * the denominator of an offset only when every customer of it had the whole
 * offset period to come back, and rates never mix whole and partial periods.
 *
 * State and result: a bigint[] (a real type with text and binary I/O):
 *	 [0] layout version 1, [1] cohorts_from, [2] as_of, [3] period kind,
 *	 [4] week_start, [5] mode (1 exact, 2 on_or_after, 3 brackets), [6] index
 *	 of the first cohort period c0, [7] cohorts N, [8] columns W, [9] number
 *	 of bracket bounds nb, [10 .. 10 + nb - 1] the bounds, then sizes[N],
 *	 then a[N * W], then revenue[N * W] (1/10000 currency units), where a is
 *	 the retained count (exact, brackets) or, for on_or_after, the number of
 *	 customers whose last purchase is at that offset, and revenue is per
 *	 exact offset for on_or_after; the expander takes suffix sums.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"

#include "compat.h"
#include "period.h"
#include "profile.h"

PG_FUNCTION_INFO_V1(clm_retention_trans);
PG_FUNCTION_INFO_V1(clm_retention_combine);
PG_FUNCTION_INFO_V1(clm_retention_final);
PG_FUNCTION_INFO_V1(clm_retention_rows);

#define RT_FIXED		10
#define RT_MAX_CELLS	250000
#define RT_MAX_BOUNDS	1000
#define RT_WHAT			"clm.retention value"

#define RT_EXACT		1
#define RT_ON_OR_AFTER	2
#define RT_BRACKETS		3

typedef struct RtView
{
	int64	   *v;				/* all values */
	ClmPeriod	pr;
	int64		c0;
	int			n;				/* cohorts */
	int			w;				/* columns */
	int			nb;				/* bracket bounds */
	int64	   *bounds;
	int64	   *sizes;
	int64	   *a;
	int64	   *rev;
	int			len;			/* total length */
} RtView;

/* the layout of state values v (checked) */
static void
rt_view(ArrayType *arr, RtView *rv)
{
	int			len;
	int64	   *v = clm_int8_array_values(arr, RT_FIXED, &len, RT_WHAT);
	int			i;

	rv->v = v;
	if (v[0] != 1)
		clm_bad_state(RT_WHAT, "unknown layout version");
	if (v[3] < CLM_PERIOD_DAY || v[3] > CLM_PERIOD_MONTH || v[4] < 1 || v[4] > 7 ||
		v[5] < RT_EXACT || v[5] > RT_BRACKETS ||
		v[1] < -2451545 || v[2] > 100000000 || v[1] > v[2])
		clm_bad_state(RT_WHAT, "parameters out of range");
	if (v[7] < 1 || v[8] < 1 || v[7] > RT_MAX_CELLS || v[8] > RT_MAX_CELLS ||
		v[7] * v[8] > RT_MAX_CELLS || v[9] < 0 || v[9] > RT_MAX_BOUNDS)
		clm_bad_state(RT_WHAT, "wrong dimensions");
	rv->pr.kind = (ClmPeriodKind) v[3];
	rv->pr.week_start = (int32) v[4];
	rv->c0 = v[6];
	rv->n = (int) v[7];
	rv->w = (int) v[8];
	rv->nb = (int) v[9];
	rv->len = RT_FIXED + rv->nb + rv->n + 2 * rv->n * rv->w;
	if (len != rv->len)
		clm_bad_state(RT_WHAT, "wrong length");
	if (clm_period_index(&rv->pr, (int32) v[1]) != rv->c0 ||
		clm_period_index(&rv->pr, (int32) v[2]) != rv->c0 + rv->n - 1)
		clm_bad_state(RT_WHAT, "cohorts do not match the range");
	rv->bounds = v + RT_FIXED;
	if (v[5] == RT_BRACKETS)
	{
		if (rv->nb < 2 || rv->w != rv->nb - 1 || rv->bounds[0] < 0)
			clm_bad_state(RT_WHAT, "wrong brackets");
		for (i = 1; i < rv->nb; i++)
			if (rv->bounds[i] <= rv->bounds[i - 1] || rv->bounds[i] > RT_MAX_CELLS)
				clm_bad_state(RT_WHAT, "wrong brackets");
	}
	else if (rv->nb != 0 || rv->w != rv->n)
		clm_bad_state(RT_WHAT, "wrong dimensions");
	rv->sizes = rv->bounds + rv->nb;
	rv->a = rv->sizes + rv->n;
	rv->rev = rv->a + rv->n * rv->w;
}

/*
 * What the transition function keeps between rows (fn_extra): the period
 * argument it last parsed, and the parameters (elements 0 .. RT_FIXED + nb)
 * and length of the last state rt_view accepted, with the view derived from
 * them.  rt_view's checks depend on nothing else, so a state with the same
 * parameters and length (in an aggregate, the state returned for the row
 * before) needs no new checks.  For months, starts[i] is the first day of
 * period c0 + i (i = 0 .. n): a day's month is found by walking that table
 * instead of a calendar conversion per day.
 */
typedef struct RtCache
{
	ClmPeriodArg period;		/* the last period argument */
	int64	   *params;			/* NULL, or RT_FIXED + view.nb elements */
	RtView		view;			/* its view; pointers unused */
	int32	   *starts;			/* month periods: n + 1 first days */
} RtCache;

/* the cache of this call site */
static RtCache *
rt_cache(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  sizeof(RtCache));
	return (RtCache *) fcinfo->flinfo->fn_extra;
}

/* rt_view, skipping the checks for a state with the cached parameters */
static void
rt_view_cached(RtCache *c, MemoryContext cxt, ArrayType *arr, RtView *rv)
{
	int			len;
	int64	   *v = clm_int8_array_values(arr, RT_FIXED, &len, RT_WHAT);
	int			i;

	if (c->params != NULL && len == c->view.len &&
		memcmp(v, c->params, sizeof(int64) * (RT_FIXED + c->view.nb)) == 0)
	{
		*rv = c->view;
		rv->v = v;
		rv->bounds = v + RT_FIXED;
		rv->sizes = rv->bounds + rv->nb;
		rv->a = rv->sizes + rv->n;
		rv->rev = rv->a + rv->n * rv->w;
		return;
	}
	rt_view(arr, rv);
	if (c->params != NULL)
		pfree(c->params);
	if (c->starts != NULL)
		pfree(c->starts);
	c->params = NULL;
	c->starts = NULL;
	if (rv->pr.kind == CLM_PERIOD_MONTH)
	{
		c->starts = (int32 *) MemoryContextAlloc(cxt, sizeof(int32) * (rv->n + 1));
		for (i = 0; i <= rv->n; i++)
			c->starts[i] = clm_period_start(&rv->pr, rv->c0 + i);
	}
	c->params = (int64 *) MemoryContextAlloc(cxt, sizeof(int64) * (RT_FIXED + rv->nb));
	memcpy(c->params, v, sizeof(int64) * (RT_FIXED + rv->nb));
	c->view = *rv;
}

/* parse a mode name */
static int
parse_mode(text *t)
{
	char	   *s = text_to_cstring(t);

	if (strcmp(s, "exact") == 0)
		return RT_EXACT;
	if (strcmp(s, "on_or_after") == 0)
		return RT_ON_OR_AFTER;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid retention mode \"%s\"", s),
			 errhint("Use 'exact' or 'on_or_after', or pass bracket bounds as an integer array.")));
	return 0;					/* keep compiler quiet */
}

/* add with an overflow check */
static inline void
add_checked(int64 *x, int64 y)
{
	if (pg_add_s64_overflow(*x, y, x))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("retention revenue out of range")));
}

/* a new state for the parameters of this call */
static ArrayType *
rt_new_state(FunctionCallInfo fcinfo, MemoryContext cxt)
{
	int32		from = clm_finite_date(PG_GETARG_DATEADT(2), "cohorts_from");
	int32		as_of = clm_finite_date(PG_GETARG_DATEADT(3), "as_of");
	ClmPeriod	pr;
	int			mode = RT_EXACT;
	ArrayType  *br = NULL;
	int			nb = 0;
	int32	   *bvals = NULL;
	int64		n,
				w;
	ArrayType  *state;
	int64	   *v;
	int			i;

	pr.kind = clm_parse_period(PG_GETARG_TEXT_PP(4));
	pr.week_start = 1;
	if (PG_NARGS() == 6 && clm_arg_type(fcinfo, 5) == INT4ARRAYOID)
		br = PG_GETARG_ARRAYTYPE_P(5);
	else if (PG_NARGS() >= 6)
		mode = parse_mode(PG_GETARG_TEXT_PP(5));
	if (PG_NARGS() >= 8)
	{
		if (!PG_ARGISNULL(6))
			br = PG_GETARG_ARRAYTYPE_P(6);
		pr.week_start = clm_check_week_start(PG_GETARG_INT32(7));
	}
	if (from > as_of)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohorts_from must not be after as_of")));
	if (br != NULL)
	{
		if (ARR_NDIM(br) != 1 || ARR_HASNULL(br) || ARR_DIMS(br)[0] < 2 ||
			ARR_DIMS(br)[0] > RT_MAX_BOUNDS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("brackets must be an array of 2 to %d bounds without NULLs", RT_MAX_BOUNDS),
					 errhint("ARRAY[0, 1, 4, 13] means the offsets 0, 1 to 3 and 4 to 12.")));
		nb = ARR_DIMS(br)[0];
		bvals = (int32 *) ARR_DATA_PTR(br);
		for (i = 0; i < nb; i++)
			if ((i == 0 && bvals[0] < 0) || (i > 0 && bvals[i] <= bvals[i - 1]) ||
				bvals[i] > RT_MAX_CELLS)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("bracket bounds must be increasing offsets from 0 to %d", RT_MAX_CELLS),
						 errhint("ARRAY[0, 1, 4, 13] means the offsets 0, 1 to 3 and 4 to 12.")));
		mode = RT_BRACKETS;
	}
	n = clm_period_index(&pr, as_of) - clm_period_index(&pr, from) + 1;
	w = (mode == RT_BRACKETS) ? nb - 1 : n;
	if (n > RT_MAX_CELLS || n * w > RT_MAX_CELLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many retention cells: %lld cohorts by %lld offsets, at most %d",
						(long long) n, (long long) w, RT_MAX_CELLS),
				 errhint("Use a later cohorts_from, a longer period or brackets.")));
	state = clm_int8_array_alloc(cxt, RT_FIXED + nb + (int) n + 2 * (int) (n * w));
	v = (int64 *) ARR_DATA_PTR(state);
	v[0] = 1;
	v[1] = from;
	v[2] = as_of;
	v[3] = pr.kind;
	v[4] = pr.week_start;
	v[5] = mode;
	v[6] = clm_period_index(&pr, from);
	v[7] = n;
	v[8] = w;
	v[9] = nb;
	for (i = 0; i < nb; i++)
		v[RT_FIXED + i] = bvals[i];
	return state;
}

/*
 * The index, counted from the first cohort period c0, of the period of day
 * d, for days from the start of period c0 to as_of given in increasing
 * order: with a table of month starts (see RtCache), *cur is the last index
 * returned (or 0) and the walk moves it forward; else the calendar.
 */
static inline int64
rt_rel_index(const RtView *rv, const int32 *starts, int64 *cur, int32 d)
{
	if (starts == NULL)
		return clm_period_index(&rv->pr, d) - rv->c0;
	while (d >= starts[*cur + 1])
		(*cur)++;
	return *cur;
}

/*
 * add one customer; starts: NULL or, for months, the first days of the
 * periods c0 .. c0 + n (see RtCache)
 */
static void
rt_add_profile(RtView *rv, const int32 *starts, const ClmProfile *p)
{
	const ClmDay *days = clm_profile_days(p);
	int32		n = clm_profile_prefix(p, (DateADT) rv->v[2]);
	int			mode = (int) rv->v[5];
	int32		i,
				f;
	int64		ci,
				cur = 0;
	int64	   *a;
	int64	   *rev;
	int64		last_col = -1;
	int64		last_off = -1;
	int			bj = 0;

	for (f = 0; f < n && days[f].orders <= 0; f++)
		;
	if (f == n)
		return;
	/* first purchases before the first cohort's period are left out */
	if (starts != NULL)
	{
		int64		lo = 0,
					hi = rv->n - 1;

		if (days[f].day < starts[0])
			return;
		/* the last period starting on or before the day (days <= as_of) */
		while (lo < hi)
		{
			int64		mid = lo + (hi - lo + 1) / 2;

			if (starts[mid] <= days[f].day)
				lo = mid;
			else
				hi = mid - 1;
		}
		cur = lo;
	}
	ci = rt_rel_index(rv, starts, &cur, days[f].day);
	if (ci < 0)
		return;
	rv->sizes[ci]++;
	a = rv->a + ci * rv->w;
	rev = rv->rev + ci * rv->w;
	for (i = f; i < n; i++)
	{
		int64		o = rt_rel_index(rv, starts, &cur, days[i].day) - ci;
		int64		col;

		if (mode == RT_BRACKETS)
		{
			while (bj < rv->w && o >= rv->bounds[bj + 1])
				bj++;
			if (bj >= rv->w)
				break;
			if (o < rv->bounds[bj])
				continue;
			col = bj;
		}
		else
			col = o;
		add_checked(&rev[col], days[i].spend);
		if (days[i].orders > 0)
		{
			if (mode != RT_ON_OR_AFTER && col != last_col)
				a[col]++;
			last_col = col;
			last_off = o;
		}
	}
	if (mode == RT_ON_OR_AFTER)
		a[last_off]++;
}

/*
 * transition: clm.retention(p, cohorts_from, as_of, period [, mode |
 * brackets] | [, mode, brackets, week_start])
 */
Datum
clm_retention_trans(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = clm_agg_context(fcinfo);
	RtCache    *cache = rt_cache(fcinfo);
	ArrayType  *state;
	RtView		rv;
	int			i;

	for (i = 2; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i) && !(PG_NARGS() == 8 && i == 6))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the parameters of clm.retention must not be NULL")));
	if (PG_ARGISNULL(0))
	{
		state = rt_new_state(fcinfo, cxt);
		rt_view_cached(cache, fcinfo->flinfo->fn_mcxt, state, &rv);
	}
	else
	{
		/* any state, also a user aggregate's initcond: checked before use */
		state = clm_state_arg(fcinfo, 0);
		rt_view_cached(cache, fcinfo->flinfo->fn_mcxt, state, &rv);
		if (rv.v[1] != PG_GETARG_DATEADT(2) || rv.v[2] != PG_GETARG_DATEADT(3) ||
			rv.v[3] != clm_parse_period_cached(&cache->period, fcinfo->flinfo->fn_mcxt,
											 PG_GETARG_TEXT_PP(4)) ||
			(PG_NARGS() == 8 && rv.v[4] != PG_GETARG_INT32(7)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the parameters of clm.retention must be the same for every row")));
	}
	if (!PG_ARGISNULL(1))
		rt_add_profile(&rv, cache->starts, PG_GETARG_CLM_PROFILE(1));
	PG_RETURN_ARRAYTYPE_P(state);
}

/* combine: add two states with the same parameters */
Datum
clm_retention_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = clm_agg_context(fcinfo);
	ArrayType  *a;
	RtView		ra,
				rb;
	int			i;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	rt_view(PG_GETARG_ARRAYTYPE_P(1), &rb);
	if (PG_ARGISNULL(0))
	{
		a = clm_int8_array_alloc(cxt, rb.len);
		memcpy(ARR_DATA_PTR(a), rb.v, sizeof(int64) * rb.len);
		PG_RETURN_ARRAYTYPE_P(a);
	}
	a = clm_state_arg(fcinfo, 0);
	rt_view(a, &ra);
	if (ra.len != rb.len ||
		memcmp(ra.v, rb.v, sizeof(int64) * (RT_FIXED + ra.nb)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine retention values with different parameters")));
	for (i = RT_FIXED + ra.nb; i < ra.len; i++)
		add_checked(&ra.v[i], rb.v[i]);
	PG_RETURN_ARRAYTYPE_P(a);
}

/* final: a copy of the state */
Datum
clm_retention_final(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(PG_GETARG_ARRAYTYPE_P_COPY(0));
}

/* emit one row */
static void
rt_put(ReturnSetInfo *rsinfo, bool all, int32 cohort, int64 off, int64 off_end,
	   bool open_end, int64 size, int64 retained, int64 revenue)
{
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	values[0] = DateADTGetDatum(cohort);
	nulls[0] = all;
	values[1] = Int32GetDatum((int32) off);
	values[2] = Int32GetDatum((int32) off_end);
	nulls[2] = open_end;
	values[3] = Int64GetDatum(size);
	values[4] = Int64GetDatum(retained);
	values[5] = Float8GetDatum((double) retained / (double) size);
	values[6] = clm_spend_numeric(revenue);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * clm.retention_rows(value): (cohort, period_offset, period_offset_end,
 * cohort_customers, retained_customers, retention_rate, revenue) for every
 * complete cell, then one row per column with cohort NULL summing the
 * cohorts complete for it.
 */
Datum
clm_retention_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RtView		rv;
	int			mode;
	int32		as_of;
	int64	   *tot_size;
	int64	   *tot_ret;
	int64	   *tot_rev;
	int			c,
				j;

	InitMaterializedSRF(fcinfo, 0);
	rt_view(PG_GETARG_ARRAYTYPE_P(0), &rv);
	mode = (int) rv.v[5];
	as_of = (int32) rv.v[2];
	tot_size = palloc0(sizeof(int64) * rv.w);
	tot_ret = palloc0(sizeof(int64) * rv.w);
	tot_rev = palloc0(sizeof(int64) * rv.w);
	for (c = 0; c < rv.n; c++)
	{
		int64	   *a = rv.a + (int64) c * rv.w;
		int64	   *rev = rv.rev + (int64) c * rv.w;
		int64		suffix_a = 0;
		int64		suffix_rev = 0;
		int64	   *cum_a = NULL;
		int64	   *cum_rev = NULL;

		if (rv.sizes[c] < 0)
			clm_bad_state(RT_WHAT, "negative count");
		if (rv.sizes[c] == 0)
			continue;
		if (mode == RT_ON_OR_AFTER)
		{
			cum_a = palloc(sizeof(int64) * rv.w);
			cum_rev = palloc(sizeof(int64) * rv.w);
			for (j = rv.w - 1; j >= 0; j--)
			{
				add_checked(&suffix_a, a[j]);
				add_checked(&suffix_rev, rev[j]);
				cum_a[j] = suffix_a;
				cum_rev[j] = suffix_rev;
			}
		}
		for (j = 0; j < rv.w; j++)
		{
			int64		off = (mode == RT_BRACKETS) ? rv.bounds[j] : j;
			int64		off_end = (mode == RT_BRACKETS) ? rv.bounds[j + 1] - 1 : j;
			int64		last_period = rv.c0 + c + off_end;
			int64		retained = cum_a ? cum_a[j] : a[j];
			int64		revenue = cum_rev ? cum_rev[j] : rev[j];

			if (last_period > rv.c0 + rv.n || clm_period_end(&rv.pr, last_period) > as_of)
				break;			/* incomplete: this and later columns */
			if (retained < 0 || retained > rv.sizes[c])
				clm_bad_state(RT_WHAT, "retained count out of range");
			rt_put(rsinfo, false, clm_period_start(&rv.pr, rv.c0 + c), off, off_end,
				   mode == RT_ON_OR_AFTER, rv.sizes[c], retained, revenue);
			add_checked(&tot_size[j], rv.sizes[c]);
			add_checked(&tot_ret[j], retained);
			add_checked(&tot_rev[j], revenue);
		}
	}
	for (j = 0; j < rv.w; j++)
	{
		if (tot_size[j] == 0)
			continue;
		rt_put(rsinfo, true, 0, (mode == RT_BRACKETS) ? rv.bounds[j] : j,
			   (mode == RT_BRACKETS) ? rv.bounds[j + 1] - 1 : j,
			   mode == RT_ON_OR_AFTER, tot_size[j], tot_ret[j], tot_rev[j]);
	}
	return (Datum) 0;
}
