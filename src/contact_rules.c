/*-------------------------------------------------------------------------
 *
 * contact_rules.c
 *	  The contact rules of a rule set (clm.contact_rule_set) applied to one
 *	  customer's stored contact state, as a comparison of stored values: no
 *	  scan of the messages; and clm.contact_blocks, which applies them to one
 *	  customer given as SQL arguments (clm.contactable applies them to every
 *	  customer, src/contact_scan.c).
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

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"

#include "compat.h"
#include "contact.h"

PG_FUNCTION_INFO_V1(clm_contact_blocks);

/*
 * What one call site of clm.contact_blocks keeps across rows (in fn_extra):
 * the result's tuple descriptor, and the caps as last deconstructed and
 * checked, with copies of the three array arguments they came from (a query
 * passes the same rule set on every row: compared byte for byte, they are
 * deconstructed once).
 */
typedef struct ContactCache
{
	TupleDesc	tupdesc;
	struct varlena *raw[3];		/* cap_channels, cap_days, cap_max; NULL: none yet */
	ContactArray caps[3];
} ContactCache;

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

/* The kind of message named kind, or error 22023. */
ContactKind
contact_kind(const char *fn, const char *kind)
{
	if (strcmp(kind, "message") == 0)
		return CONTACT_MESSAGE;
	if (strcmp(kind, "promotion") == 0)
		return CONTACT_PROMOTION;
	if (strcmp(kind, "winback") == 0)
		return CONTACT_WINBACK;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s: unknown kind \"%s\"", fn, kind),
			 errhint("The kinds are message, promotion and winback.")));
	return CONTACT_MESSAGE;		/* keep the compiler quiet */
}

/*
 * The number of elements of a one-dimensional array of elmtype (0: NULL or
 * empty), or an error if it is of another type or has more dimensions.
 */
int
contact_array_length(const char *fn, const char *what, ArrayType *a, Oid elmtype)
{
	if (a == NULL)
		return 0;
	if (ARR_ELEMTYPE(a) != elmtype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s: %s has elements of the wrong type", fn, what)));
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: %s must be a one-dimensional array", fn, what)));
	if (ARR_NDIM(a) == 0)
		return 0;
	return ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
}

/*
 * Deconstructs a one-dimensional array of elmtype (date, bool, text, int4,
 * int8 or float8; NULL a: none) into out, growing out's room in room when it
 * is too small (room NULL: new room in the current context).  The values of
 * a by-reference type point into a.
 */
void
contact_unpack(const char *fn, const char *what, ArrayType *a, Oid elmtype,
			   ContactArray *out, MemoryContext room)
{
	int16		typlen = elmtype == TEXTOID ? -1 : elmtype == BOOLOID ? 1 :
		(elmtype == INT8OID || elmtype == FLOAT8OID) ? 8 : 4;
	bool		typbyval = elmtype == TEXTOID ? false :
		(elmtype == INT8OID || elmtype == FLOAT8OID) ? FLOAT8PASSBYVAL : true;
	char		typalign = elmtype == BOOLOID ? TYPALIGN_CHAR :
		(elmtype == INT8OID || elmtype == FLOAT8OID) ? TYPALIGN_DOUBLE : TYPALIGN_INT;
	char	   *p;
	uint8	   *bitmap;
	int			bitmask = 1;
	int			n,
				i;

	out->n = 0;
	if (room == NULL)
		out->size = 0;
	n = contact_array_length(fn, what, a, elmtype);
	if (n == 0)
		return;
	if (n > out->size)
	{
		MemoryContext old = MemoryContextSwitchTo(room ? room : CurrentMemoryContext);
		int			size = Max(n, 2 * out->size);

		if (room != NULL && out->size > 0)
		{
			pfree(out->values);
			pfree(out->nulls);
		}
		out->values = palloc(size * sizeof(Datum));
		out->nulls = palloc(size * sizeof(bool));
		out->size = size;
		MemoryContextSwitchTo(old);
	}
	p = ARR_DATA_PTR(a);
	bitmap = ARR_NULLBITMAP(a);
	if (bitmap == NULL && elmtype == DATEOID)
	{
		/* the days of the messages: no NULL, a plain C array */
		const DateADT *d = (const DateADT *) p;

		for (i = 0; i < n; i++)
		{
			out->values[i] = DateADTGetDatum(d[i]);
			out->nulls[i] = false;
		}
		out->n = n;
		return;
	}
	/* as deconstruct_array(), into the room at hand */
	for (i = 0; i < n; i++)
	{
		if (bitmap && (*bitmap & bitmask) == 0)
		{
			out->values[i] = (Datum) 0;
			out->nulls[i] = true;
		}
		else
		{
			out->values[i] = fetch_att(p, typbyval, typlen);
			out->nulls[i] = false;
			p = att_addlength_pointer(p, typlen, p);
			p = (char *) att_align_nominal(p, typalign);
		}
		if (bitmap)
		{
			bitmask <<= 1;
			if (bitmask == 0x100)
			{
				bitmap++;
				bitmask = 1;
			}
		}
	}
	out->n = n;
}

/* Checks the caps of a rule set: as many days and maxima as channels, each in range. */
void
contact_check_caps(const char *fn, ContactRules *rules)
{
	ContactArray *d = &rules->cap_days;
	ContactArray *m = &rules->cap_max;
	int			i;

	if (d->n != rules->cap_ch.n || m->n != rules->cap_ch.n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: cap_channels, cap_days and cap_max must have the same length", fn)));
	for (i = 0; i < rules->cap_ch.n; i++)
	{
		if (d->nulls[i] || m->nulls[i]
			|| DatumGetInt32(d->values[i]) < 1 || DatumGetInt32(d->values[i]) > CONTACT_MAX_DAYS
			|| DatumGetInt32(m->values[i]) < 1 || DatumGetInt32(m->values[i]) > CONTACT_MAX_CAP)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: a cap's days must be from 1 to %d and its max from 1 to %d",
							fn, CONTACT_MAX_DAYS, CONTACT_MAX_CAP)));
	}
}

/*
 * Checks one customer's messages: three parallel arrays, the days finite,
 * not NULL, and latest first.
 */
void
contact_check_messages(const char *fn, const ContactState *st)
{
	int			i;

	if (st->chans.n != st->days.n || st->resp.n != st->days.n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: sent_days, channels and responded must have the same length", fn)));
	for (i = 0; i < st->days.n; i++)
	{
		DateADT		d;

		if (st->days.nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s: sent_days must not contain NULL", fn)));
		d = DatumGetDateADT(st->days.values[i]);
		if (DATE_NOT_FINITE(d))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: sent_days must be finite", fn)));
		if (i > 0 && d > DatumGetDateADT(st->days.values[i - 1]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: sent_days must be sorted latest first", fn)));
	}
}

/* A date plus a number of days (at most CONTACT_MAX_DAYS), or error 22008 out of range. */
static DateADT
contact_add_days(const char *fn, DateADT d, int days)
{
	int64		r = (int64) d + days;

	if (!IS_VALID_DATE(r))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s: date out of range", fn)));
	return (DateADT) r;
}

/* A date as text, in the session's DateStyle (as format('%s', d) writes it). */
static char *
contact_date_text(DateADT d)
{
	return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(d)));
}

/*
 * Whether text datum t, an array element (never toasted: arrays hold their
 * elements plain), equals the len bytes at s.
 */
static inline bool
contact_text_eq(Datum t, const char *s, size_t len)
{
	const char *x = DatumGetPointer(t);

	return VARSIZE_ANY_EXHDR(x) == len && memcmp(VARDATA_ANY(x), s, len) == 0;
}

/*
 * Applies a rule set to one customer's state (messages checked by
 * contact_check_messages) for a message of kind on channel on day at (finite,
 * as the last purchase): the rules in the order of the file's head comment,
 * the first that blocks is the reason.  Reasons are allocated in the current
 * context.  fn names the caller in errors.
 */
void
contact_evaluate(const ContactRules *rules, const ContactState *st, const char *channel,
				 ContactKind kind, DateADT at, ContactAnswer *ans, const char *fn)
{
	const ContactArray *days = &st->days;
	const ContactArray *chans = &st->chans;
	const ContactArray *resp = &st->resp;
	size_t		chlen = strlen(channel);
	int			i;

	ans->reason = NULL;
	ans->never = false;
	ans->until = at;

	/* stage rules: churned and unresponsive on the channel */
	if (rules->unresp > 0 && st->stage != NULL && strcmp(st->stage, "churned") == 0)
	{
		int			seen = 0;
		bool		answered = false;

		for (i = 0; i < days->n && seen < rules->unresp; i++)
		{
			if (chans->nulls[i] || resp->nulls[i] || !contact_text_eq(chans->values[i], channel, chlen))
				continue;
			seen++;
			answered = answered || DatumGetBool(resp->values[i]);
		}
		if (seen == rules->unresp && !answered)
			CONTACT_BLOCK(ans, DATEVAL_NOEND, "churned and no response to the last %d messages on %s",
						  rules->unresp, channel);
	}
	/* win-back only to the listed stages */
	if (kind == CONTACT_WINBACK && rules->has_winback)
	{
		bool		listed = false;

		for (i = 0; i < rules->winback.n && !listed; i++)
			listed = !rules->winback.nulls[i] && st->stage != NULL
				&& contact_text_eq(rules->winback.values[i], st->stage, strlen(st->stage));
		if (!listed)
		{
			StringInfoData names;

			initStringInfo(&names);
			for (i = 0; i < rules->winback.n; i++)
			{
				if (rules->winback.nulls[i])
					continue;
				if (names.len > 0)
					appendStringInfoString(&names, ", ");
				appendStringInfoString(&names, TextDatumGetCString(rules->winback.values[i]));
			}
			CONTACT_BLOCK(ans, DATEVAL_NOEND, "win-back only to %s customers, not %s",
						  names.data, st->stage ? st->stage : "");
		}
	}
	/* quiet periods after the last purchase */
	if (rules->quiet >= 0 && st->has_purchase
		&& contact_add_days(fn, st->last_purchase, rules->quiet) > at)
		CONTACT_BLOCK(ans, contact_add_days(fn, st->last_purchase, rules->quiet),
					  "quiet period: %d days after the purchase of %s",
					  rules->quiet, contact_date_text(st->last_purchase));
	if (rules->promo >= 0 && st->has_purchase && kind == CONTACT_PROMOTION
		&& contact_add_days(fn, st->last_purchase, rules->promo) > at)
		CONTACT_BLOCK(ans, contact_add_days(fn, st->last_purchase, rules->promo),
					  "no promotion within %d days after the purchase of %s",
					  rules->promo, contact_date_text(st->last_purchase));
	/* caps: the m-th latest message on the cap's channel(s) */
	for (i = 0; i < rules->cap_ch.n; i++)
	{
		int			d = DatumGetInt32(rules->cap_days.values[i]);
		int			m = DatumGetInt32(rules->cap_max.values[i]);
		bool		all = rules->cap_ch.nulls[i];
		int			seen = 0;
		int			j;

		if (!all && !contact_text_eq(rules->cap_ch.values[i], channel, chlen))
			continue;
		for (j = 0; j < days->n; j++)
		{
			if (!all && (chans->nulls[j] || !contact_text_eq(chans->values[j], channel, chlen)))
				continue;
			if (++seen == m)
				break;
		}
		if (seen == m)
		{
			DateADT		frees = contact_add_days(fn, DatumGetDateADT(days->values[j]), d);

			if (frees > at)
				CONTACT_BLOCK(ans, frees, "cap: %d per %d days on %s", m, d,
							  all ? "all channels" : channel);
		}
	}
}

/* Deconstructs argument argno, a one-dimensional array of elmtype or NULL. */
void
contact_array_arg(FunctionCallInfo fcinfo, int argno, Oid elmtype, const char *fn,
				  const char *what, ContactArray *out)
{
	contact_unpack(fn, what, PG_ARGISNULL(argno) ? NULL : PG_GETARG_ARRAYTYPE_P(argno),
				   elmtype, out, NULL);
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

/*
 * The caps (arguments 8, 9, 10) of clm.contact_blocks, deconstructed and
 * checked into rules, from the cache when the arguments are those of the
 * previous row.
 */
static void
contact_caps(FunctionCallInfo fcinfo, ContactCache *cache, ContactRules *rules)
{
	static const Oid types[3] = {TEXTOID, INT4OID, INT4OID};
	static const char *const names[3] = {"cap_channels", "cap_days", "cap_max"};
	struct varlena *arg[3];
	bool		same = true;
	int			k;

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
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		/* forgotten until the new ones pass every check */
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
			contact_unpack("clm.contact_blocks", names[k], (ArrayType *) copy[k], types[k],
						   &cache->caps[k], NULL);
		MemoryContextSwitchTo(old);
		rules->cap_ch = cache->caps[0];
		rules->cap_days = cache->caps[1];
		rules->cap_max = cache->caps[2];
		contact_check_caps("clm.contact_blocks", rules);
		for (k = 0; k < 3; k++)
			cache->raw[k] = copy[k];
	}
	rules->cap_ch = cache->caps[0];
	rules->cap_days = cache->caps[1];
	rules->cap_max = cache->caps[2];
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
	const char *fn = "clm.contact_blocks";
	ContactState st;
	ContactRules rules;
	ContactKind kind;
	char	   *channel;
	DateADT		at;
	ContactAnswer ans;
	ContactCache *cache = (ContactCache *) fcinfo->flinfo->fn_extra;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	st.has_purchase = !PG_ARGISNULL(4);
	st.last_purchase = st.has_purchase ? PG_GETARG_DATEADT(4) : 0;
	st.stage = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (PG_ARGISNULL(5) || PG_ARGISNULL(6) || PG_ARGISNULL(7))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("clm.contact_blocks: channel, kind and at must not be NULL")));
	channel = text_to_cstring(PG_GETARG_TEXT_PP(5));
	kind = contact_kind(fn, text_to_cstring(PG_GETARG_TEXT_PP(6)));
	at = PG_GETARG_DATEADT(7);
	if (DATE_NOT_FINITE(at) || (st.has_purchase && DATE_NOT_FINITE(st.last_purchase)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clm.contact_blocks: at and last_purchase must be finite dates")));
	contact_array_arg(fcinfo, 0, DATEOID, fn, "sent_days", &st.days);
	contact_array_arg(fcinfo, 1, TEXTOID, fn, "channels", &st.chans);
	contact_array_arg(fcinfo, 2, BOOLOID, fn, "responded", &st.resp);
	contact_check_messages(fn, &st);

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
	contact_caps(fcinfo, cache, &rules);
	rules.quiet = contact_int_arg(fcinfo, 11, 0, CONTACT_MAX_DAYS, "quiet_days");
	rules.promo = contact_int_arg(fcinfo, 12, 0, CONTACT_MAX_DAYS, "promotion_quiet_days");
	rules.has_winback = !PG_ARGISNULL(13);
	contact_array_arg(fcinfo, 13, TEXTOID, fn, "winback_stages", &rules.winback);
	rules.unresp = contact_int_arg(fcinfo, 14, 1, CONTACT_MAX_DAYS, "churned_unresponsive");

	contact_evaluate(&rules, &st, channel, kind, at, &ans, fn);

	values[0] = BoolGetDatum(ans.reason == NULL);
	values[1] = CStringGetTextDatum(ans.reason ? ans.reason : "ok");
	if (ans.never)
		nulls[2] = true;
	else
		values[2] = DateADTGetDatum(ans.until);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(cache->tupdesc, values, nulls)));
}
