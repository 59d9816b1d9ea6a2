/*-------------------------------------------------------------------------
 *
 * contact_rules.c
 *	  clm.contact_blocks: the contact rules of a rule set (clm.contact_rule_set)
 *	  applied to one customer's stored contact state, as a comparison of stored
 *	  values: no scan of the messages.
 *
 * A tracked source with contacts keeps, per customer, the days of its
 * messages (latest first), their channels and responses (<target>.contact_state,
 * src/sql/87_contact_state.sql).  For a message of a kind on a channel on a
 * day `at`, the rules are checked in the rule set's order; the first that
 * blocks is the reason, and the message may be sent from the day the last
 * blocking rule stops blocking (never while a stage rule blocks: those wait for
 * the customer rather than for a day):
 *
 *	 churned_unresponsive n: stage 'churned' and the n latest messages on the
 *		channel with a known response all unanswered		-> infinity
 *	 winback_stages S: kind 'winback' and the stage not in S	-> infinity
 *	 quiet_days_after_purchase q: at < last_purchase + q		-> last_purchase + q
 *	 promotion_quiet_days p: kind 'promotion', at < last_purchase + p
 *																-> last_purchase + p
 *	 caps (channel c or all, days d, max m), each in order:
 *
 * A cap counts the messages of the d days ending on `at` and every message
 * dated after `at` (scheduled): with the days sorted latest first, let s be
 * the m-th latest message on the cap's channel(s).  The cap blocks iff
 * s > at - d, and until s + d: from then on at most m - 1 messages remain
 * in any window.  Counting the messages after `at` makes the answer monotone
 * in `at` (a day that is allowed stays allowed while nothing more is sent),
 * and makes a message sent on an allowed day safe for every later window: a
 * window ending on D >= at holds at most the messages after D - d >= at - d,
 * which are fewer than m.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include <math.h>
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"

#include "compat.h"

PG_FUNCTION_INFO_V1(clm_contact_blocks);

/* the longest window and quiet period a rule set may name (clm.contact_rules_check) */
#define CONTACT_MAX_DAYS 3650
#define CONTACT_MAX_CAP 1000000

/* A one-dimensional array argument, deconstructed (n = 0 for NULL). */
typedef struct ContactArray
{
	int			n;
	Datum	   *values;
	bool	   *nulls;
} ContactArray;

/*
 * What one call site keeps across rows (in fn_extra): the result's tuple
 * descriptor, and the caps as last deconstructed and checked, with copies of
 * the three array arguments they came from (a query passes the same rule set
 * on every row: compared byte for byte, they are deconstructed once).
 */
typedef struct ContactCache
{
	TupleDesc	tupdesc;
	struct varlena *raw[3];		/* cap_channels, cap_days, cap_max; NULL: none yet */
	ContactArray caps[3];
} ContactCache;

/* The answer being built: the first blocking rule's reason, the last day blocked. */
typedef struct ContactAnswer
{
	char	   *reason;			/* NULL: nothing blocks (yet) */
	bool		never;			/* a stage rule blocks */
	DateADT		until;			/* the latest day a time rule stops blocking */
} ContactAnswer;

/* Records a blocking rule (until: DATEVAL_NOEND for a stage rule); reason made only if first. */
#define CONTACT_BLOCK(ans, u, ...) \
	do { \
		if ((ans)->reason == NULL) \
			(ans)->reason = psprintf(__VA_ARGS__); \
		if ((u) == DATEVAL_NOEND) \
			(ans)->never = true; \
		else if ((u) > (ans)->until) \
			(ans)->until = (u); \
	} while (0)

/* Deconstructs argument argno, a one-dimensional array of elmtype or NULL. */
static void
contact_array_arg(FunctionCallInfo fcinfo, int argno, Oid elmtype, const char *what,
				  ContactArray *out)
{
	ArrayType  *a;
	int16		typlen = elmtype == TEXTOID ? -1 : elmtype == BOOLOID ? 1 :
		(elmtype == INT8OID || elmtype == FLOAT8OID) ? 8 : 4;
	bool		typbyval = elmtype == TEXTOID ? false :
		(elmtype == INT8OID || elmtype == FLOAT8OID) ? FLOAT8PASSBYVAL : true;
	char		typalign = elmtype == BOOLOID ? TYPALIGN_CHAR :
		(elmtype == INT8OID || elmtype == FLOAT8OID) ? TYPALIGN_DOUBLE : TYPALIGN_INT;

	out->n = 0;
	out->values = NULL;
	out->nulls = NULL;
	if (PG_ARGISNULL(argno))
		return;
	a = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_ELEMTYPE(a) != elmtype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("clm.contact_blocks: %s has elements of the wrong type", what)));
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clm.contact_blocks: %s must be a one-dimensional array", what)));
	if (ARR_NDIM(a) == 0)
		return;
	deconstruct_array(a, elmtype, typlen, typbyval, typalign, &out->values, &out->nulls, &out->n);
}

/* An int4 argument that must lie in lo..hi, or -1 when NULL (the rule is absent). */
static int
contact_int_arg(FunctionCallInfo fcinfo, int argno, int lo, int hi, const char *what)
{
	int			v;

	if (PG_ARGISNULL(argno))
		return -1;
	v = PG_GETARG_INT32(argno);
	if (v < lo || v > hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clm.contact_blocks: %s must be from %d to %d, not %d", what, lo, hi, v)));
	return v;
}

/* A date plus a number of days (at most CONTACT_MAX_DAYS), or error 22008 out of range. */
static DateADT
contact_add_days(DateADT d, int days)
{
	int64		r = (int64) d + days;

	if (!IS_VALID_DATE(r))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("clm.contact_blocks: date out of range")));
	return (DateADT) r;
}

/* A date as text, in the session's DateStyle (as format('%s', d) writes it). */
static char *
contact_date_text(DateADT d)
{
	return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(d)));
}

/* Whether text datum t equals the C string s. */
static bool
contact_text_eq(Datum t, const char *s)
{
	text	   *x = DatumGetTextPP(t);
	size_t		len = strlen(s);

	return VARSIZE_ANY_EXHDR(x) == len && memcmp(VARDATA_ANY(x), s, len) == 0;
}

/*
 * The caps (arguments 8, 9, 10), deconstructed and checked, from the cache
 * when the arguments are those of the previous row.
 */
static void
contact_caps(FunctionCallInfo fcinfo, ContactCache *cache, ContactArray *cap_ch,
			 ContactArray *cap_days, ContactArray *cap_max)
{
	static const Oid types[3] = {TEXTOID, INT4OID, INT4OID};
	static const char *const names[3] = {"cap_channels", "cap_days", "cap_max"};
	struct varlena *arg[3];
	bool		same = true;
	MemoryContext old;
	int			k,
				i;

	for (k = 0; k < 3; k++)
	{
		arg[k] = PG_ARGISNULL(8 + k) ? NULL : PG_DETOAST_DATUM(PG_GETARG_DATUM(8 + k));
		if (arg[k] == NULL || cache->raw[k] == NULL || VARSIZE(arg[k]) != VARSIZE(cache->raw[k])
			|| memcmp(arg[k], cache->raw[k], VARSIZE(arg[k])) != 0)
			same = false;
	}
	if (!same)
	{
		/* deconstructed into the call's memory, where they stay until the next change */
		struct varlena *copy[3];

		/* forgotten until the new ones pass every check */
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		for (k = 0; k < 3; k++)
		{
			cache->raw[k] = NULL;
			copy[k] = NULL;
			if (arg[k] != NULL)
			{
				copy[k] = palloc(VARSIZE(arg[k]));
				memcpy(copy[k], arg[k], VARSIZE(arg[k]));
			}
		}
		for (k = 0; k < 3; k++)
		{
			ArrayType  *a = (ArrayType *) copy[k];

			cache->caps[k].n = 0;
			if (a == NULL)
				continue;
			if (ARR_ELEMTYPE(a) != types[k])
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("clm.contact_blocks: %s has elements of the wrong type", names[k])));
			if (ARR_NDIM(a) > 1)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("clm.contact_blocks: %s must be a one-dimensional array", names[k])));
			if (ARR_NDIM(a) == 1)
				deconstruct_array(a, types[k], types[k] == TEXTOID ? -1 : 4, types[k] != TEXTOID,
								  TYPALIGN_INT, &cache->caps[k].values, &cache->caps[k].nulls,
								  &cache->caps[k].n);
		}
		MemoryContextSwitchTo(old);
		if (cache->caps[1].n != cache->caps[0].n || cache->caps[2].n != cache->caps[0].n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("clm.contact_blocks: cap_channels, cap_days and cap_max must have the same length")));
		for (i = 0; i < cache->caps[0].n; i++)
		{
			ContactArray *d = &cache->caps[1];
			ContactArray *m = &cache->caps[2];

			if (d->nulls[i] || m->nulls[i]
				|| DatumGetInt32(d->values[i]) < 1 || DatumGetInt32(d->values[i]) > CONTACT_MAX_DAYS
				|| DatumGetInt32(m->values[i]) < 1 || DatumGetInt32(m->values[i]) > CONTACT_MAX_CAP)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("clm.contact_blocks: a cap's days must be from 1 to %d and its max from 1 to %d",
								CONTACT_MAX_DAYS, CONTACT_MAX_CAP)));
		}
		for (k = 0; k < 3; k++)
			cache->raw[k] = copy[k];
	}
	*cap_ch = cache->caps[0];
	*cap_days = cache->caps[1];
	*cap_max = cache->caps[2];
}

/*
 * clm.contact_blocks(sent_days date[], channels text[], responded boolean[],
 *	   stage text, last_purchase date, channel text, kind text, at date,
 *	   cap_channels text[], cap_days int[], cap_max int[], quiet_days int,
 *	   promotion_quiet_days int, winback_stages text[], churned_unresponsive int,
 *	   OUT contactable boolean, OUT reason text, OUT next_allowed date)
 *
 * Whether a message of kind may be sent on channel on day at, the first rule
 * that blocks ('ok' if none), and the first day it may be sent if nothing
 * more is sent (at itself when it may; NULL when a stage rule blocks).  The
 * three message arrays are parallel, latest first (NULL: no message); a rule
 * argument that is NULL is a rule the set does not have (cap arrays NULL: no
 * caps).  Not STRICT: a customer without messages or purchases has NULLs.
 */
Datum
clm_contact_blocks(PG_FUNCTION_ARGS)
{
	ContactArray days,
				chans,
				resp,
				cap_ch,
				cap_days,
				cap_max,
				winback;
	char	   *channel;
	char	   *kind;
	DateADT		at;
	bool		has_purchase = !PG_ARGISNULL(4);
	DateADT		last_purchase = has_purchase ? PG_GETARG_DATEADT(4) : 0;
	char	   *stage = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	int			quiet,
				promo,
				unresp;
	ContactAnswer ans;
	ContactCache *cache = (ContactCache *) fcinfo->flinfo->fn_extra;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int			i;

	if (PG_ARGISNULL(5) || PG_ARGISNULL(6) || PG_ARGISNULL(7))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("clm.contact_blocks: channel, kind and at must not be NULL")));
	channel = text_to_cstring(PG_GETARG_TEXT_PP(5));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(6));
	at = PG_GETARG_DATEADT(7);
	if (strcmp(kind, "message") != 0 && strcmp(kind, "promotion") != 0 && strcmp(kind, "winback") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clm.contact_blocks: unknown kind \"%s\"", kind),
				 errhint("The kinds are message, promotion and winback.")));
	if (DATE_NOT_FINITE(at) || (has_purchase && DATE_NOT_FINITE(last_purchase)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clm.contact_blocks: at and last_purchase must be finite dates")));
	contact_array_arg(fcinfo, 0, DATEOID, "sent_days", &days);
	contact_array_arg(fcinfo, 1, TEXTOID, "channels", &chans);
	contact_array_arg(fcinfo, 2, BOOLOID, "responded", &resp);
	if (chans.n != days.n || resp.n != days.n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clm.contact_blocks: sent_days, channels and responded must have the same length")));
	for (i = 0; i < days.n; i++)
	{
		DateADT		d;

		if (days.nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("clm.contact_blocks: sent_days must not contain NULL")));
		d = DatumGetDateADT(days.values[i]);
		if (DATE_NOT_FINITE(d))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("clm.contact_blocks: sent_days must be finite")));
		if (i > 0 && d > DatumGetDateADT(days.values[i - 1]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("clm.contact_blocks: sent_days must be sorted latest first")));
	}

	if (cache == NULL)
	{
		TupleDesc	tupdesc;
		MemoryContext old;

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE || tupdesc->natts != 3)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("clm.contact_blocks: called in a context that cannot accept its record")));
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		cache = palloc0(sizeof(ContactCache));
		cache->tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = cache;
	}
	contact_caps(fcinfo, cache, &cap_ch, &cap_days, &cap_max);
	quiet = contact_int_arg(fcinfo, 11, 0, CONTACT_MAX_DAYS, "quiet_days");
	promo = contact_int_arg(fcinfo, 12, 0, CONTACT_MAX_DAYS, "promotion_quiet_days");
	contact_array_arg(fcinfo, 13, TEXTOID, "winback_stages", &winback);
	unresp = contact_int_arg(fcinfo, 14, 1, CONTACT_MAX_DAYS, "churned_unresponsive");

	ans.reason = NULL;
	ans.never = false;
	ans.until = at;

	/* stage rules: churned and unresponsive on the channel */
	if (unresp > 0 && stage != NULL && strcmp(stage, "churned") == 0)
	{
		int			seen = 0;
		bool		answered = false;

		for (i = 0; i < days.n && seen < unresp; i++)
		{
			if (chans.nulls[i] || resp.nulls[i] || !contact_text_eq(chans.values[i], channel))
				continue;
			seen++;
			answered = answered || DatumGetBool(resp.values[i]);
		}
		if (seen == unresp && !answered)
			CONTACT_BLOCK(&ans, DATEVAL_NOEND, "churned and no response to the last %d messages on %s",
						  unresp, channel);
	}
	/* win-back only to the listed stages */
	if (strcmp(kind, "winback") == 0 && !PG_ARGISNULL(13))
	{
		bool		listed = false;
		StringInfoData names;

		initStringInfo(&names);
		for (i = 0; i < winback.n; i++)
		{
			if (winback.nulls[i])
				continue;
			if (stage != NULL && contact_text_eq(winback.values[i], stage))
				listed = true;
			if (names.len > 0)
				appendStringInfoString(&names, ", ");
			appendStringInfoString(&names, TextDatumGetCString(winback.values[i]));
		}
		if (!listed)
			CONTACT_BLOCK(&ans, DATEVAL_NOEND, "win-back only to %s customers, not %s",
						  names.data, stage ? stage : "");
	}
	/* quiet periods after the last purchase */
	if (quiet >= 0 && has_purchase && contact_add_days(last_purchase, quiet) > at)
		CONTACT_BLOCK(&ans, contact_add_days(last_purchase, quiet),
					  "quiet period: %d days after the purchase of %s",
					  quiet, contact_date_text(last_purchase));
	if (promo >= 0 && has_purchase && strcmp(kind, "promotion") == 0
		&& contact_add_days(last_purchase, promo) > at)
		CONTACT_BLOCK(&ans, contact_add_days(last_purchase, promo),
					  "no promotion within %d days after the purchase of %s",
					  promo, contact_date_text(last_purchase));
	/* caps: the m-th latest message on the cap's channel(s) */
	for (i = 0; i < cap_ch.n; i++)
	{
		int			d = DatumGetInt32(cap_days.values[i]);
		int			m = DatumGetInt32(cap_max.values[i]);
		bool		all = cap_ch.nulls[i];
		int			seen = 0;
		int			j;

		if (!all && !contact_text_eq(cap_ch.values[i], channel))
			continue;
		CHECK_FOR_INTERRUPTS();
		for (j = 0; j < days.n; j++)
		{
			if (!all && (chans.nulls[j] || !contact_text_eq(chans.values[j], channel)))
				continue;
			if (++seen == m)
				break;
		}
		if (seen == m)
		{
			DateADT		frees = contact_add_days(DatumGetDateADT(days.values[j]), d);

			if (frees > at)
				CONTACT_BLOCK(&ans, frees, "cap: %d per %d days on %s", m, d,
							  all ? "all channels" : channel);
		}
	}

	values[0] = BoolGetDatum(ans.reason == NULL);
	values[1] = CStringGetTextDatum(ans.reason ? ans.reason : "ok");
	if (ans.never)
		nulls[2] = true;
	else
		values[2] = DateADTGetDatum(ans.until);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(cache->tupdesc, values, nulls)));
}

/*
 * clm.contact_best_value(own_values text[], own_messages bigint[],
 *	   own_responses bigint[], pop_values text[], pop_rates float8[],
 *	   numeric_order boolean) returns text
 *
 * The customer's best value of one dimension (channel, hour): among the
 * population's values, the one with the highest response rate shrunk toward
 * the population's with a prior of 5 messages,
 *
 *	   (r + 5 p) / (n + 5)
 *
 * n and r the customer's messages and responses with that value (0 if the
 * value is not among own_values), p the population's rate; ties go to the
 * smallest value (as integers when numeric_order, else in the database's
 * collation).  NULL when the population has no value.  One pass over the
 * population's values, each looked up among the customer's few own values:
 * no join of every customer with every value.
 */
PG_FUNCTION_INFO_V1(clm_contact_best_value);

Datum
clm_contact_best_value(PG_FUNCTION_ARGS)
{
	ContactArray ov,
				on,
				orr,
				pv,
				pr;
	bool		numeric_order = PG_ARGISNULL(5) ? false : PG_GETARG_BOOL(5);
	int			best = -1;
	double		best_rate = 0;
	int			i,
				j;

	contact_array_arg(fcinfo, 0, TEXTOID, "own_values", &ov);
	contact_array_arg(fcinfo, 1, INT8OID, "own_messages", &on);
	contact_array_arg(fcinfo, 2, INT8OID, "own_responses", &orr);
	contact_array_arg(fcinfo, 3, TEXTOID, "pop_values", &pv);
	contact_array_arg(fcinfo, 4, FLOAT8OID, "pop_rates", &pr);
	if (on.n != ov.n || orr.n != ov.n || pr.n != pv.n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clm.contact_best_value: the own arrays, and the population's, must have the same lengths")));
	for (i = 0; i < pv.n; i++)
	{
		double		p,
					n = 0,
					r = 0,
					rate;
		text	   *v;

		if (pv.nulls[i] || pr.nulls[i])
			continue;
		p = DatumGetFloat8(pr.values[i]);
		if (isnan(p) || p < 0 || p > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("clm.contact_best_value: a population rate must be from 0 to 1")));
		v = DatumGetTextPP(pv.values[i]);
		for (j = 0; j < ov.n; j++)
		{
			text	   *o;

			if (ov.nulls[j] || on.nulls[j] || orr.nulls[j])
				continue;
			o = DatumGetTextPP(ov.values[j]);
			if (VARSIZE_ANY_EXHDR(o) == VARSIZE_ANY_EXHDR(v)
				&& memcmp(VARDATA_ANY(o), VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v)) == 0)
			{
				n = (double) DatumGetInt64(on.values[j]);
				r = (double) DatumGetInt64(orr.values[j]);
				if (n < 0 || r < 0 || r > n)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("clm.contact_best_value: responses must be from 0 to the messages")));
				break;
			}
		}
		rate = (r + 5 * p) / (n + 5);
		if (best >= 0 && rate == best_rate)
		{
			text	   *b = DatumGetTextPP(pv.values[best]);
			int			cmp;

			if (numeric_order)
				cmp = pg_strtoint32(text_to_cstring(v)) - pg_strtoint32(text_to_cstring(b));
			else
				cmp = varstr_cmp(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), VARDATA_ANY(b),
								 VARSIZE_ANY_EXHDR(b), DEFAULT_COLLATION_OID);
			if (cmp < 0)
				best = i;
		}
		else if (best < 0 || rate > best_rate)
		{
			best = i;
			best_rate = rate;
		}
	}
	if (best < 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(DatumGetTextPP(pv.values[best]));
}
