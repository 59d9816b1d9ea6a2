/*-------------------------------------------------------------------------
 *
 * stage.c
 *	  Lifecycle stage of a customer as of a day, stage history, stage
 *	  changes and the transition-matrix aggregate.
 *
 * Definitions (docs/journey.md has the reference text).  Let d_1 < ... <
 * d_k be the customer's purchase days on or before the day D, and g the
 * population gap (days), kappa the prior strength.
 *
 *	 expected gap E = (kappa * g + (d_k - d_1)) / (kappa + k - 1)
 *
 * which is the mean of the customer's k - 1 own gaps, (d_k - d_1)/(k - 1),
 * shrunk toward g as if kappa extra gaps of length g had been seen (the
 * posterior mean of the gap under a conjugate prior).  With k = 1, or when
 * kappa + k - 1 = 0, or with fixed_days, E = g.  Then with t = D - d_k and
 * the ratio r = t / E:
 *
 *	 no event on or before D				-> NULL (no stage)
 *	 events but k = 0						-> prospect
 *	 D - d_1 < new_days						-> new
 *	 r <= active_ratio and the stage on d_k - 1 was lapsed or churned
 *											-> reactivated
 *	 r <= active_ratio						-> active
 *	 r <= at_risk_ratio						-> at_risk
 *	 r <= lapsed_ratio						-> lapsed
 *	 otherwise								-> churned
 *
 * "The stage on d_k - 1 was lapsed or churned" uses the same rules on the
 * history before the last purchase: d_k - 1 - d_1 >= new_days and
 * (d_k - 1 - d_{k-1}) > at_risk_ratio * E', E' the expected gap from
 * d_1 .. d_{k-1}.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "compat.h"
#include "customers.h"
#include "period.h"
#include "profile.h"
#include "stage.h"

PG_FUNCTION_INFO_V1(clm_stage);
PG_FUNCTION_INFO_V1(clm_stage_only);
PG_FUNCTION_INFO_V1(clm_stage_history);
PG_FUNCTION_INFO_V1(clm_stage_changes);
PG_FUNCTION_INFO_V1(clm_transitions_trans);
PG_FUNCTION_INFO_V1(clm_transitions_combine);
PG_FUNCTION_INFO_V1(clm_transitions_final);
PG_FUNCTION_INFO_V1(clm_transition_rows);
PG_FUNCTION_INFO_V1(clm_population_gap_trans);
PG_FUNCTION_INFO_V1(clm_stage_counts_trans);
PG_FUNCTION_INFO_V1(clm_stage_counts_combine);
PG_FUNCTION_INFO_V1(clm_stage_counts_final);
PG_FUNCTION_INFO_V1(clm_stage_count_rows);

static const char *const stage_names[CLM_N_STAGES] = {
	NULL, "prospect", "new", "active", "at_risk", "lapsed", "churned", "reactivated"
};

/* the SQL name of a stage (NULL for none) */
const char *
clm_stage_name(ClmStage s)
{
	return stage_names[s];
}

/* reject rules that cannot define ordered stages */
void
clm_stage_rules_check(const ClmStageRules *r)
{
	if (!(r->population_gap > 0) || isinf(r->population_gap))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("population_gap_days must be a positive finite number of days"),
				 errhint("Compute it with percentile_cont(0.5) WITHIN GROUP (ORDER BY (clm.summary(p, as_of)).mean_gap_days).")));
	/* below it, days since the last purchase / the gap could overflow to infinity */
	if (r->population_gap < CLM_MIN_POPULATION_GAP)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("population_gap_days must be at least %g days, got %g",
						CLM_MIN_POPULATION_GAP, r->population_gap),
				 errhint("Compute it with percentile_cont(0.5) WITHIN GROUP (ORDER BY (clm.summary(p, as_of)).mean_gap_days).")));
	if (!(r->prior_strength >= 0) || isinf(r->prior_strength))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prior_strength must be a finite number >= 0")));
	if (r->new_days < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("new_days must be >= 0")));
	if (!(r->active_ratio > 0) || !(r->at_risk_ratio >= r->active_ratio) ||
		!(r->lapsed_ratio >= r->at_risk_ratio) || isinf(r->lapsed_ratio))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stage ratios must satisfy 0 < active_ratio <= at_risk_ratio <= lapsed_ratio < infinity")));
}

/*
 * Read the rules from a clm.stage_rules value, argument arg: a composite of
 * the seven rules in the order of the scalar arguments.  The value may come
 * from anywhere (a table, a ROW() cast), so its row type is checked field by
 * field; a NULL field is an error, except the population gap with
 * gap_nullable.  Returns whether the population gap was given.
 */
static bool
rules_from_row(FunctionCallInfo fcinfo, int arg, ClmStageRules *r, bool gap_nullable)
{
	static const Oid field_types[7] = {FLOAT8OID, FLOAT8OID, INT4OID, FLOAT8OID,
	FLOAT8OID, FLOAT8OID, BOOLOID};
	HeapTupleHeader th = PG_GETARG_HEAPTUPLEHEADER(arg);
	TupleDesc	desc;
	HeapTupleData tuple;
	Datum		values[7];
	bool		nulls[7];
	int			i;
	bool		ok;

	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(th), HeapTupleHeaderGetTypMod(th));
	ok = desc->natts == 7;
	for (i = 0; ok && i < 7; i++)
		ok = !TupleDescAttr(desc, i)->attisdropped &&
			TupleDescAttr(desc, i)->atttypid == field_types[i];
	if (!ok)
	{
		ReleaseTupleDesc(desc);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stage rules must be a clm.stage_rules value"),
				 errhint("Make one with clm.stage_rules(...).")));
	}
	tuple.t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = th;
	heap_deform_tuple(&tuple, desc, values, nulls);
	ReleaseTupleDesc(desc);
	for (i = gap_nullable ? 1 : 0; i < 7; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("stage rules must not be NULL"),
					 gap_nullable ?
					 errhint("Only population_gap_days may be NULL: it is then computed from the customers.") : 0));
	r->population_gap = nulls[0] ? 30.0 : DatumGetFloat8(values[0]);
	r->prior_strength = DatumGetFloat8(values[1]);
	r->new_days = DatumGetInt32(values[2]);
	r->active_ratio = DatumGetFloat8(values[3]);
	r->at_risk_ratio = DatumGetFloat8(values[4]);
	r->lapsed_ratio = DatumGetFloat8(values[5]);
	r->fixed_days = DatumGetBool(values[6]);
	clm_stage_rules_check(r);
	return !nulls[0];
}

/*
 * The population gap in argument arg (not NULL): a double precision, or the
 * text of one in the forms that take it quoted (63_stage_quoted.sql: a
 * literal '30' resolves to them); text that is no number is 22P02, as the
 * cast of 0.1 made it.
 */
static double
gap_arg(FunctionCallInfo fcinfo, int arg)
{
	if (get_fn_expr_argtype(fcinfo->flinfo, arg) == TEXTOID)
		return DatumGetFloat8(DirectFunctionCall1(float8in,
												  CStringGetDatum(text_to_cstring(PG_GETARG_TEXT_PP(arg)))));
	return PG_GETARG_FLOAT8(arg);
}

/*
 * Read the rules from arguments first .. first+6 (defaults for missing
 * ones), or from one clm.stage_rules value in argument first (the forms that
 * take a rules value), and check them.  With gap_nullable, a NULL population
 * gap leaves the default 30 and returns false (the caller computes it);
 * every other NULL rule is an error.  Returns whether the population gap was
 * given.  The defaults here are those of clm.stage_rules() and of the SQL
 * signatures.
 */
bool
clm_stage_rules_read(FunctionCallInfo fcinfo, int first, ClmStageRules *r, bool gap_nullable)
{
	int			i;
	bool		gap_given;

	if (PG_NARGS() == first + 1)
	{
		Oid			t = get_fn_expr_argtype(fcinfo->flinfo, first);

		if (OidIsValid(t) && t != FLOAT8OID && type_is_rowtype(t))
		{
			if (PG_ARGISNULL(first))
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("stage rules must not be NULL")));
			return rules_from_row(fcinfo, first, r, gap_nullable);
		}
	}
	r->population_gap = 30.0;
	r->prior_strength = 2.0;
	r->new_days = 30;
	r->active_ratio = 2.0;
	r->at_risk_ratio = 4.0;
	r->lapsed_ratio = 8.0;
	r->fixed_days = false;
	for (i = first + (gap_nullable ? 1 : 0); i < PG_NARGS() && i < first + 7; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("stage rules must not be NULL"),
					 gap_nullable ?
					 errhint("Only population_gap_days may be NULL: it is then computed from the customers.") : 0));
	gap_given = PG_NARGS() > first && !PG_ARGISNULL(first);
	if (gap_given)
		r->population_gap = gap_arg(fcinfo, first);
	if (PG_NARGS() > first + 1)
		r->prior_strength = PG_GETARG_FLOAT8(first + 1);
	if (PG_NARGS() > first + 2)
		r->new_days = PG_GETARG_INT32(first + 2);
	if (PG_NARGS() > first + 3)
		r->active_ratio = PG_GETARG_FLOAT8(first + 3);
	if (PG_NARGS() > first + 4)
		r->at_risk_ratio = PG_GETARG_FLOAT8(first + 4);
	if (PG_NARGS() > first + 5)
		r->lapsed_ratio = PG_GETARG_FLOAT8(first + 5);
	if (PG_NARGS() > first + 6)
		r->fixed_days = PG_GETARG_BOOL(first + 6);
	clm_stage_rules_check(r);
	return gap_given;
}

/* read the rules from arguments first .. first+6, none of them NULL */
static void
rules_from_args(FunctionCallInfo fcinfo, int first, ClmStageRules *r)
{
	(void) clm_stage_rules_read(fcinfo, first, r, false);
}

/* empty history */
void
clm_stage_hist_init(ClmStageHist *h)
{
	memset(h, 0, sizeof(*h));
}

/* add days[i ..] with day <= day to h; returns the new i */
int32
clm_stage_hist_advance(ClmStageHist *h, const ClmDay *days, int32 n,
					   int32 i, int32 day)
{
	while (i < n && days[i].day <= day)
	{
		if (h->n_seen == 0)
			h->first_seen = days[i].day;
		h->last_seen = days[i].day;
		h->n_seen++;
		if (days[i].orders > 0)
		{
			if (h->k == 0)
				h->first_p = days[i].day;
			h->prev_p = h->last_p;
			h->last_p = days[i].day;
			h->k++;
		}
		i++;
	}
	return i;
}

/*
 * h := the history of profile p as of day, as clm_stage_hist_advance from an
 * empty history over every day of p gives it, without the per-day branches:
 * the days on or before day by binary search, the purchase days counted, and
 * the first, last and second-last purchase days found from either end.
 */
void
clm_stage_hist_of(ClmStageHist *h, const ClmProfile *p, int32 day)
{
	const ClmDay *days = clm_profile_days(p);
	int32		m = clm_profile_prefix(p, day);
	int32		i,
				k = 0;

	clm_stage_hist_init(h);
	if (m == 0)
		return;
	h->n_seen = m;
	h->first_seen = days[0].day;
	h->last_seen = days[m - 1].day;
	for (i = 0; i < m; i++)
		k += (days[i].orders > 0);
	h->k = k;
	if (k == 0)
		return;
	for (i = 0; days[i].orders <= 0; i++)
		;
	h->first_p = days[i].day;
	for (i = m - 1; days[i].orders <= 0; i--)
		;
	h->last_p = days[i].day;
	if (k >= 2)
	{
		for (i--; days[i].orders <= 0; i--)
			;
		h->prev_p = days[i].day;
	}
}

/* expected gap from k purchase days spanning first .. last */
static double
expected_gap(const ClmStageRules *r, int32 k, int32 first, int32 last)
{
	double		denom = r->prior_strength + (k - 1);

	if (r->fixed_days || k <= 1 || denom <= 0)
		return r->population_gap;
	return (r->prior_strength * r->population_gap + (double) (last - first)) / denom;
}

/* the stage on day given the history as of that day (see the file header) */
void
clm_stage_eval(const ClmStageRules *r, const ClmStageHist *h, int32 day,
			   ClmStageResult *res)
{
	double		e;
	double		t;

	memset(res, 0, sizeof(*res));
	if (h->n_seen == 0)
	{
		res->stage = CLM_STAGE_NONE;
		return;
	}
	if (h->k == 0)
	{
		res->stage = CLM_STAGE_PROSPECT;
		return;
	}
	e = expected_gap(r, h->k, h->first_p, h->last_p);
	res->expected_gap = e;
	res->since_last = day - h->last_p;
	t = (double) res->since_last;
	res->ratio = t / e;
	if ((int64) day - h->first_p < r->new_days)
		res->stage = CLM_STAGE_NEW;
	else if (t <= r->active_ratio * e)
	{
		res->stage = CLM_STAGE_ACTIVE;
		if (h->k >= 2)
		{
			int32		before = h->last_p - 1;
			double		e_prev = expected_gap(r, h->k - 1, h->first_p, h->prev_p);
			double		t_prev = (double) (before - h->prev_p);

			if ((int64) before - h->first_p >= r->new_days &&
				t_prev > r->at_risk_ratio * e_prev)
			{
				res->stage = CLM_STAGE_REACTIVATED;
				res->winback_gap = before - h->prev_p;
				res->winback_expected = e_prev;
				res->winback_ratio = t_prev / e_prev;
			}
		}
	}
	else if (t <= r->at_risk_ratio * e)
		res->stage = CLM_STAGE_AT_RISK;
	else if (t <= r->lapsed_ratio * e)
		res->stage = CLM_STAGE_LAPSED;
	else
		res->stage = CLM_STAGE_CHURNED;
}

/* the stage of profile p on day (no reason) */
ClmStage
clm_stage_at(const ClmStageRules *r, const ClmProfile *p, int32 day)
{
	ClmStageHist h;
	ClmStageResult res;

	clm_stage_hist_of(&h, p, day);
	clm_stage_eval(r, &h, day, &res);
	return res.stage;
}

/*
 * The reason text is built in place, without printf: a million customers'
 * reasons are a large part of the cost of clm.stage over a table.  The
 * longest reason (reactivated, two 10-digit day counts and two numbers of at
 * most 54 characters) is far below REASON_MAX.
 */
#define REASON_MAX 256

typedef struct ReasonBuf
{
	text	   *t;				/* palloc'd, REASON_MAX bytes of data */
	int			len;			/* bytes of data written */
} ReasonBuf;

/* room for n more bytes, or an error (cannot happen with the texts below) */
static char *
rb_room(ReasonBuf *b, int n)
{
	if (b->len + n > REASON_MAX)
		elog(ERROR, "clm.stage reason longer than %d bytes", REASON_MAX);
	return VARDATA(b->t) + b->len;
}

/* append a string */
static void
rb_str(ReasonBuf *b, const char *s)
{
	int			n = (int) strlen(s);

	memcpy(rb_room(b, n), s, n);
	b->len += n;
}

/* append an integer */
static void
rb_int(ReasonBuf *b, int64 v)
{
	b->len += pg_lltoa(v, rb_room(b, MAXINT8LEN + 1));
}

/*
 * append x rounded to two decimals, without trailing zeros: integer
 * arithmetic for the usual range, printf beyond it, and scientific notation
 * for magnitudes from 1e50 (a population gap near zero gives such ratios)
 */
static void
rb_num(ReasonBuf *b, double x)
{
	char		tmp[80];
	size_t		len;

	if (x >= 0 && x < 1e15)
	{
		int64		v = (int64) llround(x * 100.0);
		int			frac = (int) (v % 100);

		rb_int(b, v / 100);
		if (frac != 0)
		{
			char	   *d = rb_room(b, 3);

			d[0] = '.';
			d[1] = (char) ('0' + frac / 10);
			if (frac % 10 != 0)
			{
				d[2] = (char) ('0' + frac % 10);
				b->len += 3;
			}
			else
				b->len += 2;
		}
		return;
	}
	if (!(fabs(x) < 1e50))
	{
		snprintf(tmp, sizeof(tmp), "%.3e", x);
		rb_str(b, tmp);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.2f", x);
	len = strlen(tmp);
	while (len > 0 && tmp[len - 1] == '0')
		tmp[--len] = '\0';
	if (len > 0 && tmp[len - 1] == '.')
		tmp[--len] = '\0';
	rb_str(b, tmp);
}

/* the human-readable reason for a stage, as a text datum */
static Datum
stage_reason(const ClmStageRules *r, const ClmStageHist *h, int32 day,
			 const ClmStageResult *res)
{
	ReasonBuf	b;

	b.t = (text *) palloc(VARHDRSZ + REASON_MAX);
	b.len = 0;
	switch (res->stage)
	{
		case CLM_STAGE_NONE:
			rb_str(&b, "no event on or before this day");
			break;
		case CLM_STAGE_PROSPECT:
			rb_str(&b, "activity on ");
			rb_int(&b, h->n_seen);
			rb_str(&b, h->n_seen == 1 ? " day but no purchase, last seen " :
				   " days but no purchase, last seen ");
			rb_int(&b, (int64) day - h->last_seen);
			rb_str(&b, " days ago");
			break;
		case CLM_STAGE_NEW:
			rb_str(&b, "first purchase ");
			rb_int(&b, (int64) day - h->first_p);
			rb_str(&b, " days ago, new for ");
			rb_int(&b, r->new_days);
			rb_str(&b, " days");
			break;
		case CLM_STAGE_REACTIVATED:
			rb_str(&b, "bought again ");
			rb_int(&b, res->since_last);
			rb_str(&b, " days ago after ");
			rb_int(&b, res->winback_gap);
			rb_str(&b, " days without a purchase (");
			rb_num(&b, res->winback_ratio);
			rb_str(&b, " times the expected gap of ");
			rb_num(&b, res->winback_expected);
			rb_str(&b, " days)");
			break;
		default:
			rb_int(&b, res->since_last);
			rb_str(&b, " days since last purchase, ");
			rb_num(&b, res->ratio);
			rb_str(&b, " times the expected gap of ");
			rb_num(&b, res->expected_gap);
			rb_str(&b, " days");
			break;
	}
	SET_VARSIZE(b.t, VARHDRSZ + b.len);
	return PointerGetDatum(b.t);
}

/* the stage names as text datums, made once per backend */
static Datum
stage_name_datum(ClmStage s)
{
	static Datum names[CLM_N_STAGES];

	if (names[s] == (Datum) 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		names[s] = CStringGetTextDatum(clm_stage_name(s));
		MemoryContextSwitchTo(old);
	}
	return names[s];
}

/* fill the five columns of clm.stage_result */
void
clm_stage_values(const ClmStageRules *r, const ClmStageHist *h, int32 day,
			 const ClmStageResult *res, Datum *values, bool *nulls)
{
	bool		purchaser = (res->stage >= CLM_STAGE_NEW);

	memset(nulls, 0, 5 * sizeof(bool));
	if (res->stage == CLM_STAGE_NONE)
		nulls[0] = true;
	else
		values[0] = stage_name_datum(res->stage);
	values[1] = stage_reason(r, h, day, res);
	values[2] = Float8GetDatum(res->expected_gap);
	values[3] = Int32GetDatum(res->since_last);
	values[4] = Float8GetDatum(res->ratio);
	nulls[2] = nulls[3] = nulls[4] = !purchaser;
}

/*
 * clm.stage(p, as_of, population_gap_days, prior_strength, new_days,
 *			 active_ratio, at_risk_ratio, lapsed_ratio, fixed_days)
 */
Datum
clm_stage(PG_FUNCTION_ARGS)
{
	ClmProfile *p = PG_GETARG_CLM_PROFILE(0);
	int32		as_of = clm_finite_date(PG_GETARG_DATEADT(1), "as_of");
	ClmStageRules r;
	ClmStageHist h;
	ClmStageResult res;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5];

	rules_from_args(fcinfo, 2, &r);
	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	if (tupdesc == NULL)
	{
		/* look the row type up once per query, not once per row */
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = tupdesc;
	}
	clm_stage_hist_of(&h, p, as_of);
	clm_stage_eval(&r, &h, as_of, &res);
	clm_stage_values(&r, &h, as_of, &res, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * clm.stage_name(p, as_of, rules...): the stage alone (no reason), for
 * queries over every customer
 */
Datum
clm_stage_only(PG_FUNCTION_ARGS)
{
	ClmProfile *p = PG_GETARG_CLM_PROFILE(0);
	int32		as_of = clm_finite_date(PG_GETARG_DATEADT(1), "as_of");
	ClmStageRules r;
	ClmStage	st;

	rules_from_args(fcinfo, 2, &r);
	st = clm_stage_at(&r, p, as_of);
	if (st == CLM_STAGE_NONE)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(clm_stage_name(st)));
}

/* check a [from, to] range */
static void
check_range(int32 from, int32 to)
{
	if (from > to)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the range start must not be after the range end")));
	if ((int64) to - from > 1000000)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("date range too long: %lld days, at most 1000000",
						(long long) ((int64) to - from))));
}

/*
 * clm.stage_history(p, from, to, period, week_start, rules...): one row per
 * period start in [from, to]: (period_start, stage, reason,
 * expected_gap_days, days_since_last_purchase, gap_ratio).
 */
Datum
clm_stage_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ClmProfile *p;
	int32		from = clm_finite_date(PG_GETARG_DATEADT(1), "from");
	int32		to = clm_finite_date(PG_GETARG_DATEADT(2), "to");
	ClmPeriod	pr;
	ClmStageRules r;
	ClmStageHist h;
	const ClmDay *days;
	int64		idx;
	int32		i = 0;

	pr.kind = clm_parse_period(PG_GETARG_TEXT_PP(3));
	pr.week_start = clm_check_week_start(PG_GETARG_INT32(4));
	rules_from_args(fcinfo, 5, &r);
	check_range(from, to);
	InitMaterializedSRF(fcinfo, 0);
	p = PG_GETARG_CLM_PROFILE(0);
	days = clm_profile_days(p);
	clm_stage_hist_init(&h);

	idx = clm_period_index(&pr, from);
	if (clm_period_start(&pr, idx) < from)
		idx++;
	for (;; idx++)
	{
		int32		s = clm_period_start(&pr, idx);
		ClmStageResult res;
		Datum		values[6];
		bool		nulls[6];

		if (s > to)
			break;
		i = clm_stage_hist_advance(&h, days, p->n_days, i, s);
		clm_stage_eval(&r, &h, s, &res);
		values[0] = DateADTGetDatum(s);
		nulls[0] = false;
		clm_stage_values(&r, &h, s, &res, values + 1, nulls + 1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * clm.stage_changes(p, from, to, rules...): every day D in [from, to] whose
 * stage differs from the stage on D - 1: (changed_on, from_stage, to_stage,
 * reason, days_in_previous_stage, days_dormant).  The days in the previous
 * stage count from the day that stage began (possibly before from) to D;
 * days_dormant, for a change from lapsed or churned, counts the days of the
 * uninterrupted run of lapsed and churned that ends on D - 1.
 */
Datum
clm_stage_changes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ClmProfile *p;
	int32		from = clm_finite_date(PG_GETARG_DATEADT(1), "from");
	int32		to = clm_finite_date(PG_GETARG_DATEADT(2), "to");
	ClmStageRules r;
	ClmStageHist h;
	const ClmDay *days;
	ClmStage	prev = CLM_STAGE_NONE;
	int32		prev_since = 0;
	int32		dormant_since = 0;
	int32		i = 0;
	int32		d;

	rules_from_args(fcinfo, 3, &r);
	check_range(from, to);
	InitMaterializedSRF(fcinfo, 0);
	p = PG_GETARG_CLM_PROFILE(0);
	days = clm_profile_days(p);
	if (p->n_days == 0 || days[0].day > to)
		return (Datum) 0;
	if ((int64) to - days[0].day > 1000000)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("history too long: more than 1000000 days from the first event to the range end")));
	clm_stage_hist_init(&h);

	for (d = days[0].day; d <= to; d++)
	{
		ClmStageResult res;

		i = clm_stage_hist_advance(&h, days, p->n_days, i, d);
		clm_stage_eval(&r, &h, d, &res);
		if (res.stage == prev)
			continue;
		if (d >= from)
		{
			Datum		values[6];
			bool		nulls[6];
			bool		was_dormant = (prev == CLM_STAGE_LAPSED || prev == CLM_STAGE_CHURNED);

			memset(nulls, 0, sizeof(nulls));
			values[0] = DateADTGetDatum(d);
			if (prev == CLM_STAGE_NONE)
				nulls[1] = true;
			else
				values[1] = stage_name_datum(prev);
			values[2] = stage_name_datum(res.stage);
			values[3] = stage_reason(&r, &h, d, &res);
			values[4] = Int32GetDatum(d - prev_since);
			nulls[4] = (prev == CLM_STAGE_NONE);
			values[5] = Int32GetDatum(d - dormant_since);
			nulls[5] = !(was_dormant && res.stage != CLM_STAGE_LAPSED &&
						 res.stage != CLM_STAGE_CHURNED);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		if ((res.stage == CLM_STAGE_LAPSED || res.stage == CLM_STAGE_CHURNED) &&
			prev != CLM_STAGE_LAPSED && prev != CLM_STAGE_CHURNED)
			dormant_since = d;
		prev = res.stage;
		prev_since = d;
	}
	return (Datum) 0;
}

/*
 * Transition matrix state: a bigint[] (a real type, so partial aggregation
 * can ship it as text or binary) laid out as
 *	 [0] layout version (1), [1] from, [2] to,
 *	 [3 + 8 * a + b] customers whose stage was a on from and b on to,
 * stage codes as in ClmStage (0 = no event yet).
 */
#define TM_HEADER	3
#define TM_CELLS	(CLM_N_STAGES * CLM_N_STAGES)
#define TM_LEN		(TM_HEADER + TM_CELLS)

/* stage counts (layout: see clm_stage_counts_trans's section below) */
#define SC_HEADER	3
#define SC_MAX_DAYS 36600		/* a century; the state is 64 bytes a day */

/* the transition-matrix array in d, checked; errcode for a bad one */
static int64 *
tm_values(ArrayType *a)
{
	int64	   *v;

	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != INT8OID ||
		ARR_DIMS(a)[0] != TM_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid transition matrix"),
				 errhint("Pass the value returned by clm.stage_transitions.")));
	v = (int64 *) ARR_DATA_PTR(a);
	if (v[0] != 1 || v[1] > v[2] || v[1] < -2451545 || v[2] > 100000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid transition matrix header"),
				 errhint("Pass the value returned by clm.stage_transitions.")));
	return v;
}

/* checks an aggregate state array and returns its values */
typedef int64 *(*range_state_check) (ArrayType *a);

/*
 * The state of a range aggregate for this row: read the range (arguments 2
 * and 3) and the rules (from 4), and return the state (argument 0, checked
 * by check: it may be any initcond of a user's aggregate) or, on the first
 * row, a new one of fixed_len + len_per_day * days elements with header
 * [1, from, to]; the range must be the same on every row.
 */
static int64 *
range_state(FunctionCallInfo fcinfo, range_state_check check, const char *aggname,
			int len_per_day, int fixed_len, ClmStageRules *r, int32 *from, int32 *to,
			ArrayType **state)
{
	MemoryContext cxt = clm_agg_context(fcinfo);
	int64	   *v;

	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the range of %s must not be NULL", aggname)));
	*from = clm_finite_date(PG_GETARG_DATEADT(2), "from");
	*to = clm_finite_date(PG_GETARG_DATEADT(3), "to");
	rules_from_args(fcinfo, 4, r);
	check_range(*from, *to);
	if (len_per_day > 0 && (int64) *to - *from + 1 > SC_MAX_DAYS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s range too long: %lld days, at most %d", aggname,
						(long long) ((int64) *to - *from + 1), SC_MAX_DAYS)));
	if (PG_ARGISNULL(0))
	{
		*state = clm_int8_array_alloc(cxt, fixed_len + len_per_day * (*to - *from + 1));
		v = (int64 *) ARR_DATA_PTR(*state);
		v[0] = 1;
		v[1] = *from;
		v[2] = *to;
		return v;
	}
	*state = clm_state_arg(fcinfo, 0);
	v = check(*state);
	if (v[1] != *from || v[2] != *to)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the range of %s must be the same for every row", aggname)));
	return v;
}

/* transition: add one customer's (stage on from, stage on to) */
Datum
clm_transitions_trans(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	int64	   *v;
	ClmProfile *p;
	ClmStageRules r;
	int32		from,
				to;

	v = range_state(fcinfo, tm_values, "clm.stage_transitions", 0, TM_LEN,
					&r, &from, &to, &state);
	if (PG_ARGISNULL(1))
		PG_RETURN_ARRAYTYPE_P(state);
	p = PG_GETARG_CLM_PROFILE(1);
	v[TM_HEADER + CLM_N_STAGES * clm_stage_at(&r, p, from) + clm_stage_at(&r, p, to)]++;
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * Combine of the range aggregates (stage_transitions, stage_counts): states
 * are bigint[] whose elements 1 and 2 are the range, which must agree, and
 * whose elements from header on are added.
 */
static Datum
combine_range_states(FunctionCallInfo fcinfo, range_state_check check, int header,
					 const char *what)
{
	MemoryContext cxt = clm_agg_context(fcinfo);
	ArrayType  *a;
	ArrayType  *b;
	int64	   *va;
	int64	   *vb;
	int			len,
				i;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = PG_GETARG_ARRAYTYPE_P(1);
	vb = check(b);
	len = ARR_DIMS(b)[0];
	if (PG_ARGISNULL(0))
	{
		a = clm_int8_array_alloc(cxt, len);
		memcpy(ARR_DATA_PTR(a), vb, sizeof(int64) * len);
		PG_RETURN_ARRAYTYPE_P(a);
	}
	a = clm_state_arg(fcinfo, 0);
	va = check(a);
	if (va[1] != vb[1] || va[2] != vb[2])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine %s over different ranges", what)));
	for (i = header; i < len; i++)
		if (pg_add_s64_overflow(va[i], vb[i], &va[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("cannot combine %s: a count is out of range", what)));
	PG_RETURN_ARRAYTYPE_P(a);
}

/* combine: add two matrices over the same range */
Datum
clm_transitions_combine(PG_FUNCTION_ARGS)
{
	return combine_range_states(fcinfo, tm_values, TM_HEADER, "transition matrices");
}

/* final: a copy of the state, so that later in-place updates cannot leak */
Datum
clm_transitions_final(PG_FUNCTION_ARGS)
{
	ArrayType  *a;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	a = PG_GETARG_ARRAYTYPE_P_COPY(0);
	PG_RETURN_ARRAYTYPE_P(a);
}

/* clm.transition_rows(matrix): (from_stage, to_stage, customers), non-zero cells */
Datum
clm_transition_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64	   *v;
	int			a,
				b;

	InitMaterializedSRF(fcinfo, 0);
	v = tm_values(PG_GETARG_ARRAYTYPE_P(0));
	for (a = 0; a < CLM_N_STAGES; a++)
		for (b = 0; b < CLM_N_STAGES; b++)
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};
			int64		c = v[TM_HEADER + CLM_N_STAGES * a + b];

			if (c == 0)
				continue;
			if (c < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid transition matrix: negative count")));
			if (a == 0)
				nulls[0] = true;
			else
				values[0] = CStringGetTextDatum(clm_stage_name(a));
			if (b == 0)
				nulls[1] = true;
			else
				values[1] = CStringGetTextDatum(clm_stage_name(b));
			values[2] = Int64GetDatum(c);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	return (Datum) 0;
}

/*
 * Population gap: transition of clm.population_gap(p, as_of), the mean
 * over customers with at least two purchase days on or before as_of of
 * their mean gap (last - first purchase day) / (purchase days - 1).  The
 * state is float8[3] {N, sum, sum of squares} as for the built-in avg(float8),
 * whose combine (float8_combine) and final (float8_avg) functions are used.
 */
Datum
clm_population_gap_trans(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *tv;
	ClmProfile *p;
	ClmStageHist h;
	int32		as_of;
	double		g;

	/* a NULL state (a user's aggregate without initcond) is an empty one */
	if (PG_ARGISNULL(0))
	{
		state = construct_array((Datum[]) {Float8GetDatum(0), Float8GetDatum(0),
				Float8GetDatum(0)}, 3, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
								TYPALIGN_DOUBLE);
	}
	else
		state = clm_state_arg(fcinfo, 0);
	if (ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] != 3 || ARR_HASNULL(state) ||
		ARR_ELEMTYPE(state) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid clm.population_gap state"),
				 errdetail("Expected a float8 array of 3 elements without NULLs: {count, sum, sum of squares}.")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_ARRAYTYPE_P(state);
	as_of = clm_finite_date(PG_GETARG_DATEADT(2), "as_of");
	p = PG_GETARG_CLM_PROFILE(1);
	clm_stage_hist_of(&h, p, as_of);
	if (h.k < 2)
		PG_RETURN_ARRAYTYPE_P(state);
	g = clm_own_mean_gap(&h);
	/* in place inside an aggregate, else on the copy clm_state_arg made */
	tv = (float8 *) ARR_DATA_PTR(state);
	tv[0] += 1.0;
	tv[1] += g;
	tv[2] += g * g;
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * Stage counts per day: the state is a bigint[] (as for the transition
 * matrix) laid out as
 *	 [0] layout (1: deltas while aggregating, 2: counts, the final value),
 *	 [1] from, [2] to,
 *	 [3 + 8 * j + s] for day from + j (0 <= j <= to - from) and stage code s:
 *		 layout 1: the change on that day of the customers in stage s (the
 *		 day from holds the stages on from, each later day +1 for the stage
 *		 entered and -1 for the stage left), so that a customer costs O(its
 *		 stage changes), not O(days);
 *		 layout 2: the customers in stage s on that day (prefix sums of 1).
 * Stage code 0 (no event yet) is kept so that every customer is counted on
 * every day, and left out by clm.stage_count_rows.
 */

/* the stage-counts array a (layout 1 or 2 as asked), checked; its values */
static int64 *
sc_values(ArrayType *a, int layout)
{
	int64	   *v;
	int64		n;

	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != INT8OID ||
		ARR_DIMS(a)[0] < SC_HEADER + CLM_N_STAGES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid stage counts"),
				 errhint("Pass the value returned by clm.stage_counts.")));
	v = (int64 *) ARR_DATA_PTR(a);
	n = v[2] - v[1] + 1;
	if (v[0] != layout || v[1] > v[2] || v[1] < -2451545 || v[2] > 100000000 ||
		n > SC_MAX_DAYS || ARR_DIMS(a)[0] != SC_HEADER + CLM_N_STAGES * n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid stage counts header"),
				 errhint("Pass the value returned by clm.stage_counts.")));
	return v;
}

/*
 * Add one customer's stages on every day of [from, to] to the deltas c
 * (c[8 * j + s], j = day - from).  After the stage on "from", the days are
 * walked one by one, except where the stage cannot change before the next
 * event day: no event yet, prospect (no purchase) and churned (the gap only
 * grows) jump straight to it.
 */
static void
sc_add_customer(int64 *c, int32 from, int32 to, const ClmStageRules *r,
				const ClmProfile *p)
{
	const ClmDay *days = clm_profile_days(p);
	int32		n = p->n_days;
	ClmStageHist h;
	ClmStageResult res;
	ClmStage	prev;
	int32		i;
	int32		d = from;

	clm_stage_hist_init(&h);
	i = clm_stage_hist_advance(&h, days, n, 0, from);
	clm_stage_eval(r, &h, from, &res);
	prev = res.stage;
	c[prev]++;
	while (d < to)
	{
		if (prev == CLM_STAGE_NONE || prev == CLM_STAGE_PROSPECT ||
			prev == CLM_STAGE_CHURNED)
		{
			if (i >= n || days[i].day > to)
				break;
			d = days[i].day;
		}
		else
			d++;
		i = clm_stage_hist_advance(&h, days, n, i, d);
		clm_stage_eval(r, &h, d, &res);
		if (res.stage != prev)
		{
			int64	   *cd = c + (int64) CLM_N_STAGES * (d - from);

			cd[prev]--;
			cd[res.stage]++;
			prev = res.stage;
		}
	}
}

/* a stage-counts state (layout 1), checked */
static int64 *
sc_state_values(ArrayType *a)
{
	return sc_values(a, 1);
}

/* transition: add one customer's stage on every day of the range */
Datum
clm_stage_counts_trans(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	int64	   *v;
	ClmStageRules r;
	int32		from,
				to;

	v = range_state(fcinfo, sc_state_values, "clm.stage_counts", CLM_N_STAGES,
					SC_HEADER, &r, &from, &to, &state);
	if (!PG_ARGISNULL(1))
		sc_add_customer(v + SC_HEADER, from, to, &r, PG_GETARG_CLM_PROFILE(1));
	PG_RETURN_ARRAYTYPE_P(state);
}

/* combine: add two states over the same range */
Datum
clm_stage_counts_combine(PG_FUNCTION_ARGS)
{
	return combine_range_states(fcinfo, sc_state_values, SC_HEADER, "stage counts");
}

/* final: the counts per day and stage (running sums of the deltas) */
Datum
clm_stage_counts_final(PG_FUNCTION_ARGS)
{
	ArrayType  *a;
	int64	   *v;
	int64		n,
				j;
	int			s;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	a = PG_GETARG_ARRAYTYPE_P_COPY(0);
	v = sc_values(a, 1);
	n = v[2] - v[1] + 1;
	v[0] = 2;
	for (j = 1; j < n; j++)
		for (s = 0; s < CLM_N_STAGES; s++)
			v[SC_HEADER + CLM_N_STAGES * j + s] += v[SC_HEADER + CLM_N_STAGES * (j - 1) + s];
	PG_RETURN_ARRAYTYPE_P(a);
}

/* clm.stage_count_rows(counts): (day, stage, customers) for the 7 stages on every day */
Datum
clm_stage_count_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64	   *v;
	int64		n,
				j;
	int			s;

	InitMaterializedSRF(fcinfo, 0);
	v = sc_values(PG_GETARG_ARRAYTYPE_P(0), 2);
	n = v[2] - v[1] + 1;
	for (j = 0; j < n; j++)
		for (s = 1; s < CLM_N_STAGES; s++)
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};
			int64		c = v[SC_HEADER + CLM_N_STAGES * j + s];

			if (c < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid stage counts: negative count")));
			values[0] = DateADTGetDatum((DateADT) (v[1] + j));
			values[1] = CStringGetTextDatum(clm_stage_name(s));
			values[2] = Int64GetDatum(c);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	return (Datum) 0;
}
