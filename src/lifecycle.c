/*-------------------------------------------------------------------------
 *
 * lifecycle.c
 *	  Lifecycle counts per period: new, returning, resurrecting, dormant,
 *	  and the pulse ratio, as an aggregate over profiles.
 *
 * For one customer, call a period "active" when it holds at least one of
 * the customer's days (any event; only purchase days with purchases_only).
 * For each period P of the range:
 *
 *	 new			P is the customer's first active period ever (from the
 *					profile's whole history, not a row-creation time);
 *	 returning		P and P - 1 are active, P is not the first;
 *	 resurrecting	P is active, P - 1 is not, an earlier period is;
 *	 dormant		P - K is active and P - K + 1 .. P are all inactive
 *					(K = dormant_after, default 1), so
 *					a customer is counted dormant once per absence, in the
 *					K-th inactive period after the last active one;
 *	 active			new + returning + resurrecting;
 *	 pulse			(new + resurrecting) / dormant (NULL if dormant = 0).
 *
 * The range is every period that holds a day of [from, to] (whole periods,
 * so the first and last may extend past from and to).
 *
 * The state and result are a bigint[] (a real type with text and binary
 * I/O, so that partial aggregation can ship it between nodes):
 *	 [0] layout version 1, [1] from, [2] to, [3] period kind (1 day, 2 week,
 *	 3 month), [4] week_start, [5] K, [6] purchases_only (0/1), [7] index
 *	 of the first period, [8] number of periods n, then for period j
 *	 [9 + 4j ...] new, returning, resurrecting, dormant.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"

#include "compat.h"
#include "period.h"
#include "profile.h"

PG_FUNCTION_INFO_V1(clm_lifecycle_trans);
PG_FUNCTION_INFO_V1(clm_lifecycle_combine);
PG_FUNCTION_INFO_V1(clm_lifecycle_final);
PG_FUNCTION_INFO_V1(clm_lifecycle_rows);

#define LC_HEADER		9
#define LC_WIDTH		4
#define LC_MAX_PERIODS	100000
#define LC_WHAT			"clm.lifecycle value"

/* check a state's header and length; returns its values */
static int64 *
lc_values(ArrayType *a)
{
	int			len;
	int64	   *v = clm_int8_array_values(a, LC_HEADER, &len, LC_WHAT);
	ClmPeriod	pr;

	if (v[0] != 1)
		clm_bad_state(LC_WHAT, "unknown layout version");
	if (v[3] < CLM_PERIOD_DAY || v[3] > CLM_PERIOD_MONTH || v[4] < 1 || v[4] > 7 ||
		v[5] < 1 || v[5] > PG_INT32_MAX || v[6] < 0 || v[6] > 1 ||
		v[1] < -2451545 || v[2] > 100000000 || v[1] > v[2])
		clm_bad_state(LC_WHAT, "parameters out of range");
	if (v[8] < 1 || v[8] > LC_MAX_PERIODS || len != LC_HEADER + LC_WIDTH * v[8])
		clm_bad_state(LC_WHAT, "wrong length");
	pr.kind = (ClmPeriodKind) v[3];
	pr.week_start = (int32) v[4];
	if (clm_period_index(&pr, (int32) v[1]) != v[7] ||
		clm_period_index(&pr, (int32) v[2]) != v[7] + v[8] - 1)
		clm_bad_state(LC_WHAT, "periods do not match the range");
	return v;
}

/* add one customer's counts to the state values v */
static void
lc_add_profile(int64 *v, const ClmProfile *p)
{
	ClmPeriod	pr;
	int64		first = v[7];
	int64		last = v[7] + v[8] - 1;
	int64		k = v[5];
	bool		purchases_only = (v[6] != 0);
	int64	   *cnt = v + LC_HEADER;
	const ClmDay *days = clm_profile_days(p);
	bool		has_prev = false;
	int64		prev = 0;
	int32		i = 0;

	pr.kind = (ClmPeriodKind) v[3];
	pr.week_start = (int32) v[4];

	/*
	 * Skip the days before period lo = first - k - 1 (binary search).  Of
	 * them, the walk below would only keep whether one counts (has_prev) and
	 * the period of the last one that does (prev < lo); any prev < lo gives
	 * the same counts for the days from lo on (never equal to theirs, never
	 * the period just before one in the range, its dormant period prev + k
	 * before first), so prev = lo - 1 stands for it.  lo lies between two
	 * valid periods here (a profile day's and first), so its start is a
	 * valid day.
	 */
	if (p->n_days > 0 && first - k - 1 > clm_period_index(&pr, days[0].day))
	{
		int64		lo = first - k - 1;
		int32		lo_day = clm_period_start(&pr, lo);
		int32		hi = p->n_days;
		int32		j;

		while (i < hi)
		{
			int32		mid = i + (hi - i) / 2;

			if (days[mid].day < lo_day)
				i = mid + 1;
			else
				hi = mid;
		}
		for (j = i - 1; j >= 0 && !has_prev; j--)
			has_prev = !purchases_only || days[j].orders > 0;
		prev = lo - 1;
	}
	for (; i < p->n_days; i++)
	{
		int64		a;

		if (purchases_only && days[i].orders <= 0)
			continue;
		a = clm_period_index(&pr, days[i].day);
		if (has_prev && a == prev)
			continue;
		/* an absence of more than K periods after prev: dormant at prev + K */
		if (has_prev && a - prev > k && prev + k >= first && prev + k <= last)
			cnt[LC_WIDTH * (prev + k - first) + 3]++;
		if (a > last)
		{
			has_prev = false;	/* the rest is after the range */
			break;
		}
		if (a >= first)
		{
			int			col = !has_prev ? 0 : (a == prev + 1 ? 1 : 2);

			cnt[LC_WIDTH * (a - first) + col]++;
		}
		has_prev = true;
		prev = a;
	}
	if (has_prev && prev + k >= first && prev + k <= last)
		cnt[LC_WIDTH * (prev + k - first) + 3]++;
}

/*
 * transition: clm.lifecycle(p, from, to, period [, dormant_after,
 * purchases_only, week_start])
 */
Datum
clm_lifecycle_trans(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = clm_agg_context(fcinfo);
	ArrayType  *state;
	int64	   *v;
	int			i;

	for (i = 2; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the parameters of clm.lifecycle must not be NULL")));
	if (PG_ARGISNULL(0))
	{
		ClmPeriod	pr;
		int32		from = clm_finite_date(PG_GETARG_DATEADT(2), "from");
		int32		to = clm_finite_date(PG_GETARG_DATEADT(3), "to");
		int32		k = PG_NARGS() > 5 ? PG_GETARG_INT32(5) : 1;
		bool		purchases_only = PG_NARGS() > 6 ? PG_GETARG_BOOL(6) : false;
		int64		n;

		pr.kind = clm_parse_period(PG_GETARG_TEXT_PP(4));
		pr.week_start = clm_check_week_start(PG_NARGS() > 7 ? PG_GETARG_INT32(7) : 1);
		if (from > to)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the range start must not be after the range end")));
		if (k < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("dormant_after must be at least 1 period, got %d", k)));
		n = clm_period_index(&pr, to) - clm_period_index(&pr, from) + 1;
		if (n > LC_MAX_PERIODS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many periods: %lld, at most %d", (long long) n, LC_MAX_PERIODS)));
		state = clm_int8_array_alloc(cxt, LC_HEADER + LC_WIDTH * (int) n);
		v = (int64 *) ARR_DATA_PTR(state);
		v[0] = 1;
		v[1] = from;
		v[2] = to;
		v[3] = pr.kind;
		v[4] = pr.week_start;
		v[5] = k;
		v[6] = purchases_only ? 1 : 0;
		v[7] = clm_period_index(&pr, from);
		v[8] = n;
	}
	else
	{
		/* any state, also a user aggregate's initcond: checked before use */
		state = clm_state_arg(fcinfo, 0);
		v = lc_values(state);
		if (fcinfo->flinfo->fn_extra == NULL)
			fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
															  sizeof(ClmPeriodArg));
		if (v[1] != PG_GETARG_DATEADT(2) || v[2] != PG_GETARG_DATEADT(3) ||
			v[3] != clm_parse_period_cached((ClmPeriodArg *) fcinfo->flinfo->fn_extra,
											fcinfo->flinfo->fn_mcxt,
											PG_GETARG_TEXT_PP(4)) ||
			(PG_NARGS() > 5 && (v[5] != PG_GETARG_INT32(5) ||
								v[6] != (PG_GETARG_BOOL(6) ? 1 : 0) ||
								v[4] != PG_GETARG_INT32(7))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the parameters of clm.lifecycle must be the same for every row")));
	}
	if (!PG_ARGISNULL(1))
		lc_add_profile(v, PG_GETARG_CLM_PROFILE(1));
	PG_RETURN_ARRAYTYPE_P(state);
}

/* combine: add two states with the same parameters */
Datum
clm_lifecycle_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = clm_agg_context(fcinfo);
	ArrayType  *a;
	ArrayType  *b;
	int64	   *va;
	int64	   *vb;
	int			i,
				n;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = PG_GETARG_ARRAYTYPE_P(1);
	vb = lc_values(b);
	n = LC_HEADER + LC_WIDTH * (int) vb[8];
	if (PG_ARGISNULL(0))
	{
		a = clm_int8_array_alloc(cxt, n);
		memcpy(ARR_DATA_PTR(a), vb, sizeof(int64) * n);
		PG_RETURN_ARRAYTYPE_P(a);
	}
	a = clm_state_arg(fcinfo, 0);
	va = lc_values(a);
	if (memcmp(va, vb, sizeof(int64) * LC_HEADER) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine lifecycle counts with different parameters")));
	for (i = LC_HEADER; i < n; i++)
		if (pg_add_s64_overflow(va[i], vb[i], &va[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("cannot combine lifecycle counts: a count is out of range")));
	PG_RETURN_ARRAYTYPE_P(a);
}

/* final: a copy of the state */
Datum
clm_lifecycle_final(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(PG_GETARG_ARRAYTYPE_P_COPY(0));
}

/*
 * clm.lifecycle_rows(counts): (period_start, new_customers,
 * returning_customers, resurrecting_customers, dormant_customers,
 * active_customers, pulse)
 */
Datum
clm_lifecycle_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64	   *v;
	ClmPeriod	pr;
	int64		j;

	InitMaterializedSRF(fcinfo, 0);
	v = lc_values(PG_GETARG_ARRAYTYPE_P(0));
	pr.kind = (ClmPeriodKind) v[3];
	pr.week_start = (int32) v[4];
	for (j = 0; j < v[8]; j++)
	{
		int64	   *c = v + LC_HEADER + LC_WIDTH * j;
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};
		int			i;

		for (i = 0; i < LC_WIDTH; i++)
			if (c[i] < 0 || c[i] > PG_INT64_MAX / 4)
				clm_bad_state(LC_WHAT, "count out of range");
		values[0] = DateADTGetDatum(clm_period_start(&pr, v[7] + j));
		values[1] = Int64GetDatum(c[0]);
		values[2] = Int64GetDatum(c[1]);
		values[3] = Int64GetDatum(c[2]);
		values[4] = Int64GetDatum(c[3]);
		values[5] = Int64GetDatum(c[0] + c[1] + c[2]);
		if (c[3] == 0)
			nulls[6] = true;
		else
			values[6] = Float8GetDatum((double) (c[0] + c[2]) / (double) c[3]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
