/*-------------------------------------------------------------------------
 *
 * contact_scan.c
 *	  clm.contactable: the contact rules applied to every customer of a
 *	  tracked source, in one pass over its stored contact state.
 *
 * The checks of the arguments and the inputs (the day, the rule set
 * decomposed, the query reading the contact state) come from
 * clm.contactable_setup (PL/pgSQL, src/sql/87_contact_rules.sql); the query
 * runs by SPI as the caller (this function is SECURITY INVOKER: the caller's
 * rights on the contact state, and its row security, apply as to any query
 * of theirs), and its rows go to a receiver that applies the rules
 * (contact_evaluate, src/contact_rules.c) and writes each answer into the
 * function's result: no row of the state is copied, no record is formed and
 * taken apart again, and the rule set is decomposed once, where the query
 * calling clm.contact_blocks per row did all three for every customer.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/dest.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "compat.h"
#include "contact.h"

PG_FUNCTION_INFO_V1(clm_contactable);

#define CONTACT_FN "clm.contactable"

/* the columns of the setup's query: what it reads of each customer's state */
enum
{
	SCAN_ID, SCAN_STAGE, SCAN_LAST_PURCHASE, SCAN_SENT_DAYS, SCAN_CHANNELS, SCAN_RESPONDED,
	SCAN_NCOLS
};

/* The receiver of the state's rows: the rules, and where the answers go. */
typedef struct ContactReceiver
{
	DestReceiver pub;
	ContactRules rules;
	const char *channel;
	ContactKind kind;
	DateADT		at;
	ContactState st;			/* its arrays' room reused row after row */
	MemoryContext room;			/* the room of st's arrays */
	MemoryContext row;			/* reset after every row */
	Datum		ok;				/* the reason 'ok', made once */
	Tuplestorestate *out;
	TupleDesc	outdesc;
} ContactReceiver;

/* Checks that the state's query has the columns the receiver reads. */
static void
contact_receiver_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	static const Oid types[SCAN_NCOLS] = {TEXTOID, TEXTOID, DATEOID, DATEARRAYOID, TEXTARRAYOID,
	BOOLARRAYOID};
	int			i;

	if (typeinfo->natts != SCAN_NCOLS)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg(CONTACT_FN ": the contact state query returns %d columns, not %d",
						typeinfo->natts, SCAN_NCOLS)));
	for (i = 0; i < SCAN_NCOLS; i++)
		if (TupleDescAttr(typeinfo, i)->atttypid != types[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg(CONTACT_FN ": column %d of the contact state query has type %s, not %s",
							i + 1, format_type_be(TupleDescAttr(typeinfo, i)->atttypid),
							format_type_be(types[i]))));
}

/* An array column of the state's row, unpacked into its room (NULL: none). */
static void
contact_receiver_array(ContactReceiver *r, TupleTableSlot *slot, int col, Oid elmtype,
					   const char *what, ContactArray *out)
{
	contact_unpack(CONTACT_FN, what,
				   slot->tts_isnull[col] ? NULL : DatumGetArrayTypeP(slot->tts_values[col]),
				   elmtype, out, r->room);
}

/* One customer: the rules applied to its state, the answer written. */
static bool
contact_receiver_row(TupleTableSlot *slot, DestReceiver *self)
{
	ContactReceiver *r = (ContactReceiver *) self;
	ContactState *st = &r->st;
	ContactAnswer ans;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	MemoryContext old;

	CHECK_FOR_INTERRUPTS();
	slot_getallattrs(slot);
	old = MemoryContextSwitchTo(r->row);
	st->stage = slot->tts_isnull[SCAN_STAGE] ? NULL :
		text_to_cstring(DatumGetTextPP(slot->tts_values[SCAN_STAGE]));
	st->has_purchase = !slot->tts_isnull[SCAN_LAST_PURCHASE];
	st->last_purchase = st->has_purchase ? DatumGetDateADT(slot->tts_values[SCAN_LAST_PURCHASE]) : 0;
	if (st->has_purchase && DATE_NOT_FINITE(st->last_purchase))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(CONTACT_FN ": at and last_purchase must be finite dates")));
	contact_receiver_array(r, slot, SCAN_SENT_DAYS, DATEOID, "sent_days", &st->days);
	contact_receiver_array(r, slot, SCAN_CHANNELS, TEXTOID, "channels", &st->chans);
	if (r->rules.unresp > 0 && st->stage != NULL && strcmp(st->stage, "churned") == 0)
		contact_receiver_array(r, slot, SCAN_RESPONDED, BOOLOID, "responded", &st->resp);
	else
	{
		/*
		 * only the churned customers' responses are read (by the rule
		 * churned_unresponsive): of the others', the length is checked
		 */
		ArrayType  *a = slot->tts_isnull[SCAN_RESPONDED] ? NULL :
			DatumGetArrayTypeP(slot->tts_values[SCAN_RESPONDED]);

		st->resp.n = contact_array_length(CONTACT_FN, "responded", a, BOOLOID);
	}
	contact_check_messages(CONTACT_FN, st);
	contact_evaluate(&r->rules, st, r->channel, r->kind, r->at, &ans, CONTACT_FN);

	values[0] = slot->tts_values[SCAN_ID];
	nulls[0] = slot->tts_isnull[SCAN_ID];
	values[1] = BoolGetDatum(ans.reason == NULL);
	values[2] = ans.reason ? CStringGetTextDatum(ans.reason) : r->ok;
	if (ans.never)
		nulls[3] = true;
	else
		values[3] = DateADTGetDatum(ans.until);
	tuplestore_putvalues(r->out, r->outdesc, values, nulls);
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->row);
	return true;
}

/* Nothing to do at the end of the scan. */
static void
contact_receiver_shutdown(DestReceiver *self)
{
}

/* The receiver lives on the stack of clm_contactable: nothing to free. */
static void
contact_receiver_destroy(DestReceiver *self)
{
}

/* A text[] or int4[] column of the setup's row, unpacked (NULL: none). */
static void
contact_setup_array(HeapTuple tup, TupleDesc desc, int col, Oid elmtype, const char *what,
					ContactArray *out)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	contact_unpack(CONTACT_FN, what, isnull ? NULL : DatumGetArrayTypeP(d), elmtype, out, NULL);
}

/* An int4 column of the setup's row, or -1 when NULL (the rule is absent). */
static int
contact_setup_int(HeapTuple tup, TupleDesc desc, int col, int lo, int hi, const char *what)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);
	int			v;

	if (isnull)
		return -1;
	v = DatumGetInt32(d);
	if (v < lo || v > hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(CONTACT_FN ": %s must be from %d to %d, not %d", what, lo, hi, v)));
	return v;
}

/*
 * clm.contactable(source_name text, channel text, kind text, rule_set text,
 *	   at date) returns table (customer_id text, contactable boolean,
 *	   reason text, next_allowed date)
 *
 * For every customer of a tracked source with contacts, clm.contact_blocks's
 * answer for a message of kind on channel on day at under the rule set, from
 * the stored contact state (the reference is in docs/contacts.md).  Not
 * STRICT: clm.contactable_setup raises 22004 for NULL arguments (at NULL: the
 * as-of day of the last refresh).
 */
Datum
clm_contactable(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, DATEOID};
	Datum		args[5];
	char		argnulls[5];
	char	   *schema;
	char	   *setup;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	char	   *query;
	ContactReceiver r;
	SPIExecuteOptions options;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < 5; i++)
	{
		args[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		argnulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	schema = get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));
	if (schema == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg(CONTACT_FN ": the schema of the function is gone")));
	setup = psprintf("SELECT * FROM %s.contactable_setup($1, $2, $3, $4, $5)",
					 quote_identifier(schema));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* the checks (the errors of the PL/pgSQL clm.contactable), the day and the rules */
	if (SPI_execute_with_args(setup, 5, argtypes, args, argnulls, true, 1) != SPI_OK_SELECT
		|| SPI_processed != 1)
		elog(ERROR, "clm.contactable_setup returned no row");
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	if (desc->natts != 9)
		elog(ERROR, "clm.contactable_setup returned %d columns, not 9", desc->natts);

	memset(&r, 0, sizeof(r));
	r.channel = TextDatumGetCString(args[1]);
	r.kind = contact_kind(CONTACT_FN, TextDatumGetCString(args[2]));
	r.at = DatumGetDateADT(SPI_getbinval(tup, desc, 2, &isnull));
	if (isnull || DATE_NOT_FINITE(r.at))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(CONTACT_FN ": at must be a finite day")));
	contact_setup_array(tup, desc, 3, TEXTOID, "cap_channels", &r.rules.cap_ch);
	contact_setup_array(tup, desc, 4, INT4OID, "cap_days", &r.rules.cap_days);
	contact_setup_array(tup, desc, 5, INT4OID, "cap_max", &r.rules.cap_max);
	contact_check_caps(CONTACT_FN, &r.rules);
	r.rules.quiet = contact_setup_int(tup, desc, 6, 0, CONTACT_MAX_DAYS, "quiet_days");
	r.rules.promo = contact_setup_int(tup, desc, 7, 0, CONTACT_MAX_DAYS, "promotion_quiet_days");
	SPI_getbinval(tup, desc, 8, &isnull);
	r.rules.has_winback = !isnull;
	contact_setup_array(tup, desc, 8, TEXTOID, "winback_stages", &r.rules.winback);
	r.rules.unresp = contact_setup_int(tup, desc, 9, 1, CONTACT_MAX_DAYS, "churned_unresponsive");
	query = SPI_getvalue(tup, desc, 1);
	if (query == NULL)
		elog(ERROR, "clm.contactable_setup returned no query");

	/* every customer's state, as the caller, each row answered as it comes */
	r.pub.receiveSlot = contact_receiver_row;
	r.pub.rStartup = contact_receiver_startup;
	r.pub.rShutdown = contact_receiver_shutdown;
	r.pub.rDestroy = contact_receiver_destroy;
	r.pub.mydest = DestTuplestore;	/* into a tuplestore (DestNone: SPI would answer SPI_OK_UTILITY) */
	r.room = AllocSetContextCreate(CurrentMemoryContext, "clm.contactable state",
								   ALLOCSET_SMALL_SIZES);
	r.row = AllocSetContextCreate(CurrentMemoryContext, "clm.contactable row",
								  ALLOCSET_DEFAULT_SIZES);
	r.ok = CStringGetTextDatum("ok");
	r.out = rsinfo->setResult;
	r.outdesc = rsinfo->setDesc;
	memset(&options, 0, sizeof(options));
	options.read_only = true;
	options.dest = &r.pub;
	if (SPI_execute_extended(query, &options) != SPI_OK_SELECT)
		elog(ERROR, "the contact state query of clm.contactable failed");
	/* the contexts are SPI's: gone with it */
	SPI_finish();
	return (Datum) 0;
}
