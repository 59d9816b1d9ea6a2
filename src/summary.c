/*-------------------------------------------------------------------------
 *
 * summary.c
 *	  Reading a profile as of a date: clm.summary and the accessors.
 *
 * Every reader takes an as-of date and looks only at the days on or before
 * it (a binary search gives that prefix of the day array), so the same
 * stored profile answers for any date without future leakage.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/numeric.h"

#include "compat.h"
#include "profile.h"

PG_FUNCTION_INFO_V1(clm_summary);
PG_FUNCTION_INFO_V1(clm_profile_days_srf);
PG_FUNCTION_INFO_V1(clm_profile_channels_srf);
PG_FUNCTION_INFO_V1(clm_profile_first_event);
PG_FUNCTION_INFO_V1(clm_profile_last_event);
PG_FUNCTION_INFO_V1(clm_profile_event_count);

#define SUMMARY_NATTS 16

/* the purchase days among days[0 .. n-1]: their count, first, last, repeat spend */
typedef struct PurchaseScan
{
	int32		orders;			/* purchase days */
	int32		first_day;		/* first purchase day */
	int32		last_day;		/* last purchase day */
	int64		transactions;	/* purchase rows */
	int64		repeat_spend;	/* net spend of purchase days after the first */
	int64		total;			/* net spend of all n days */
} PurchaseScan;

/* scan the first n days of a profile for its purchase days */
static void
scan_purchases(const ClmProfile *p, int32 n, PurchaseScan *ps)
{
	const ClmDay *days = clm_profile_days(p);
	int32		i;

	memset(ps, 0, sizeof(*ps));
	for (i = 0; i < n; i++)
	{
		ps->total += days[i].spend;
		if (days[i].orders <= 0)
			continue;
		if (ps->orders == 0)
			ps->first_day = days[i].day;
		else
			ps->repeat_spend += days[i].spend;
		ps->last_day = days[i].day;
		ps->orders++;
		ps->transactions += days[i].orders;
	}
}

/* the mean net spend of the repeat purchase days (0 if there are none) */
static Datum
repeat_mean(const PurchaseScan *ps)
{
	if (ps->orders > 1)
		return DirectFunctionCall2(numeric_div,
								   clm_spend_numeric(ps->repeat_spend),
								   NumericGetDatum(int64_to_numeric(ps->orders - 1)));
	return NumericGetDatum(int64_to_numeric(0));
}

/* the as-of date argument: finite, or an error */
static DateADT
as_of_arg(FunctionCallInfo fcinfo, int n)
{
	DateADT		d = PG_GETARG_DATEADT(n);

	if (DATE_IS_NOBEGIN(d))
		return PG_INT32_MIN;	/* -infinity: nothing is on or before it */
	if (DATE_IS_NOEND(d))
		return PG_INT32_MAX;	/* infinity: everything is */
	return d;
}

/*
 * clm.summary(profile, as_of): the customer's history up to as_of.
 *
 * With purchase days d_1 < ... < d_k (k = orders) on or before as_of and
 * s_i the net spend of day d_i:
 *	 frequency = k - 1 (repeat purchase days), recency_days = d_k - d_1,
 *	 tenure_days = as_of - d_1, days_since_last_purchase = as_of - d_k,
 *	 monetary = (s_2 + ... + s_k) / (k - 1) (0 when k <= 1),
 *	 mean_gap_days = recency_days / frequency (NULL when frequency = 0),
 *	 total_spend = sum of the net spend of every day on or before as_of
 *	 (refund-only days included).
 */
Datum
clm_summary(PG_FUNCTION_ARGS)
{
	ClmProfile *p = PG_GETARG_CLM_PROFILE(0);
	DateADT		as_of = as_of_arg(fcinfo, 1);
	const ClmDay *days = clm_profile_days(p);
	int32		n = clm_profile_prefix(p, as_of);
	bool		finite = !DATE_NOT_FINITE(PG_GETARG_DATEADT(1));
	TupleDesc	tupdesc;
	Datum		values[SUMMARY_NATTS];
	bool		nulls[SUMMARY_NATTS];
	PurchaseScan ps;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	if (tupdesc->natts != SUMMARY_NATTS)
		elog(ERROR, "clm.profile_summary has %d attributes, expected %d",
			 tupdesc->natts, SUMMARY_NATTS);

	scan_purchases(p, n, &ps);

	memset(nulls, 0, sizeof(nulls));
	/* 1 first_purchase, 2 last_purchase */
	values[0] = DateADTGetDatum(ps.first_day);
	values[1] = DateADTGetDatum(ps.last_day);
	nulls[0] = nulls[1] = (ps.orders == 0);
	/* 3 orders, 4 frequency, 5 transactions */
	values[2] = Int32GetDatum(ps.orders);
	values[3] = Int32GetDatum(ps.orders > 0 ? ps.orders - 1 : 0);
	values[4] = Int64GetDatum(ps.transactions);
	/* 6 recency_days, 7 tenure_days, 8 days_since_last_purchase */
	values[5] = Int32GetDatum(ps.last_day - ps.first_day);
	values[6] = Int32GetDatum(finite ? (int32) ((int64) as_of - ps.first_day) : 0);
	values[7] = Int32GetDatum(finite ? (int32) ((int64) as_of - ps.last_day) : 0);
	nulls[5] = (ps.orders == 0);
	nulls[6] = nulls[7] = (ps.orders == 0 || !finite);
	/* 9 monetary: mean net spend of the repeat purchase days */
	values[8] = repeat_mean(&ps);
	/* 10 total_spend */
	values[9] = clm_spend_numeric(ps.total);
	/* 11 first_seen, 12 last_seen, 13 active_days */
	values[10] = DateADTGetDatum(n > 0 ? days[0].day : 0);
	values[11] = DateADTGetDatum(n > 0 ? days[n - 1].day : 0);
	nulls[10] = nulls[11] = (n == 0);
	values[12] = Int32GetDatum(n);
	/* 14 days_since_last_seen */
	values[13] = Int32GetDatum(n > 0 && finite ? (int32) ((int64) as_of - days[n - 1].day) : 0);
	nulls[13] = (n == 0 || !finite);
	/* 15 mean_gap_days */
	values[14] = Float8GetDatum(ps.orders > 1 ? (double) (ps.last_day - ps.first_day) / (ps.orders - 1) : 0.0);
	nulls[14] = (ps.orders <= 1);
	/* 16 as_of */
	values[15] = PG_GETARG_DATUM(1);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* clm.profile_days(profile): one row per active day */
Datum
clm_profile_days_srf(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ClmProfile *p;
	const ClmDay *days;
	int32		i;

	InitMaterializedSRF(fcinfo, 0);
	p = PG_GETARG_CLM_PROFILE(0);
	days = clm_profile_days(p);
	for (i = 0; i < p->n_days; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = DateADTGetDatum(days[i].day);
		values[1] = Int32GetDatum(days[i].orders);
		values[2] = clm_spend_numeric(days[i].spend);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* clm.profile_channels(profile): one row per kept channel, then "other" */
Datum
clm_profile_channels_srf(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ClmProfile *p;
	const ClmChannel *c;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	p = PG_GETARG_CLM_PROFILE(0);
	c = (const ClmChannel *) clm_profile_channels(p);
	for (i = 0; i <= p->n_channels; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		if (i == p->n_channels)
		{
			if (p->other_events == 0)
				break;
			nulls[0] = true;
			values[1] = Int64GetDatum(p->other_events);
			values[2] = Int64GetDatum(p->other_purchases);
			values[3] = DateADTGetDatum(p->other_last_day);
		}
		else
		{
			values[0] = PointerGetDatum(cstring_to_text_with_len(c->name, c->name_len));
			values[1] = Int64GetDatum(c->events);
			values[2] = Int64GetDatum(c->purchases);
			values[3] = DateADTGetDatum(c->last_day);
			c = clm_channel_next(c);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* clm.first_event(profile) */
Datum
clm_profile_first_event(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(PG_GETARG_CLM_PROFILE(0)->first_event);
}

/* clm.last_event(profile) */
Datum
clm_profile_last_event(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(PG_GETARG_CLM_PROFILE(0)->last_event);
}

/* clm.event_count(profile) */
Datum
clm_profile_event_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(PG_GETARG_CLM_PROFILE(0)->n_events);
}

/* days per model time unit: 'day' 1, 'week' 7, 'month' 365.25 / 12 */
double
clm_unit_days(text *unit_text)
{
	char	   *unit = text_to_cstring(unit_text);
	double		u;

	if (strcmp(unit, "day") == 0)
		u = 1.0;
	else if (strcmp(unit, "week") == 0)
		u = 7.0;
	else if (strcmp(unit, "month") == 0)
		u = 365.25 / 12.0;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown time unit \"%s\"", unit),
				 errhint("Use 'day', 'week' or 'month'.")));
	pfree(unit);
	return u;
}

/* error unless the calibration end is a finite date */
void
clm_check_calibration_end(DateADT cal_end)
{
	if (DATE_NOT_FINITE(cal_end))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("calibration_end must be a finite date")));
}

/*
 * The model inputs of clm.btyd_inputs as doubles, for the fit aggregates
 * that read profiles directly: out = {x, t_x, T, mean repeat spend in
 * currency units; 0 if x = 0 or not with_spend)}.  False if no purchase by
 * cal_end.  The mean is clm.btyd_inputs' numeric mean cast to float8, so
 * that a fit over profiles equals the fit over clm.btyd_inputs bit for bit.
 */
bool
clm_btyd_values(const ClmProfile *p, DateADT cal_end, double u, bool with_spend,
				double out[4])
{
	PurchaseScan ps;

	scan_purchases(p, clm_profile_prefix(p, cal_end), &ps);
	if (ps.orders == 0)
		return false;
	out[0] = ps.orders - 1;
	out[1] = (double) (ps.last_day - ps.first_day) / u;
	out[2] = (double) ((int64) cal_end - ps.first_day) / u;
	out[3] = 0.0;
	if (with_spend && ps.orders > 1)
		out[3] = DatumGetFloat8(DirectFunctionCall1(numeric_float8, repeat_mean(&ps)));
	return true;
}

PG_FUNCTION_INFO_V1(clm_btyd_inputs);

/*
 * clm.btyd_inputs(profile, calibration_end, unit): the inputs of the
 * buy-till-you-die models, as the literature defines them, from the purchase
 * days d_1 < ... < d_k on or before calibration_end:
 *	 x = k - 1 (same-day orders merged, first purchase not counted),
 *	 t_x = (d_k - d_1) / u, T = (calibration_end - d_1) / u,
 *	 mean_spend = mean net spend of the repeat purchase days (0 if x = 0),
 * with u = 1 (day), 7 (week) or 365.25 / 12 (month) days.  NULL when the
 * customer has no purchase on or before calibration_end (not yet acquired).
 */
Datum
clm_btyd_inputs(PG_FUNCTION_ARGS)
{
	ClmProfile *p = PG_GETARG_CLM_PROFILE(0);
	DateADT		cal_end = PG_GETARG_DATEADT(1);
	double		u = clm_unit_days(PG_GETARG_TEXT_PP(2));
	PurchaseScan ps;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	clm_check_calibration_end(cal_end);

	scan_purchases(p, clm_profile_prefix(p, cal_end), &ps);
	if (ps.orders == 0)
		PG_RETURN_NULL();

	/* the blessed result descriptor, looked up once per call site */
	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	if (tupdesc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = tupdesc;
	}
	values[0] = Int32GetDatum(ps.orders - 1);
	values[1] = Float8GetDatum((double) (ps.last_day - ps.first_day) / u);
	values[2] = Float8GetDatum((double) ((int64) cal_end - ps.first_day) / u);
	values[3] = repeat_mean(&ps);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
