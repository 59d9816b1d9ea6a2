/*-------------------------------------------------------------------------
 *
 * contact_capture.c
 *	  The two trigger functions of a tracked contacts table
 *	  (clm.track_contacts): clm.contact_capture queues the messages an INSERT
 *	  statement added, clm.contact_invalidate records an UPDATE, DELETE or
 *	  TRUNCATE (after which clm.refresh reloads the contacts).
 *
 * The same mechanism as the events' triggers (src/track_capture.c, whose
 * plan cache and SPI call they share): the statement is built from the
 * trigger's arguments, planned once per trigger and backend, and reads the
 * statement's transition table.  They run as the writer and evaluate none of
 * the source owner's SQL: the columns are queued in their base types (the
 * response columns are boolean, checked by clm.track_contacts; channel and
 * campaign as text through a cast for the built-in string types, else their
 * type's output function).
 *
 *	 arguments (schema, customer, time, channel, campaign, delivered, opened,
 *	 clicked, converted; '' for a column not given):
 *	   INSERT INTO schema.clm_contacts_pending (customer_id, sent_at, channel,
 *	       campaign, delivered, opened, clicked, converted)
 *	   SELECT customer, time, <channel>, <campaign>, delivered, ... FROM clm_new_rows
 *	   WHERE customer IS NOT NULL AND time IS NOT NULL
 *	 clm.contact_invalidate, argument (schema), through capture_queue_op:
 *	   INSERT INTO schema.clm_contacts_pending (op) VALUES ($1)	$1 = TG_OP
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "compat.h"
#include "track_capture.h"

PG_FUNCTION_INFO_V1(clm_contact_capture);
PG_FUNCTION_INFO_V1(clm_contact_invalidate);

#define CONTACT_CAPTURE_NARGS 9

/* Appends a text column of the source (or NULL::text when not given). */
static void
contact_append_text(StringInfo sql, Relation rel, const char *col)
{
	if (col[0] == '\0')
		appendStringInfoString(sql, "NULL::pg_catalog.text");
	else if (capture_string_column(rel, col))
		appendStringInfo(sql, "%s::pg_catalog.text", quote_identifier(col));
	else
	{
		const char *q = quote_identifier(col);

		appendStringInfo(sql, "CASE WHEN %s IS NOT NULL THEN pg_catalog.format('%%s', %s) END", q, q);
	}
}

/* clm.contact_capture(): the AFTER INSERT statement trigger of a contacts table. */
Datum
clm_contact_capture(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = capture_trigger_data(fcinfo, "clm.contact_capture");
	Trigger    *tg = trigdata->tg_trigger;
	Relation	rel = trigdata->tg_relation;
	StringInfoData sql;
	const char *cust;
	const char *tcol;
	int			i;

	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || trigdata->tg_newtable == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("clm.contact_capture: must be fired by INSERT with REFERENCING NEW TABLE AS %s",
						CAPTURE_NEW_ROWS)));
	if (tg->tgnargs != CONTACT_CAPTURE_NARGS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clm.contact_capture: a trigger of clm.track_contacts takes %d arguments, not %d",
						CONTACT_CAPTURE_NARGS, tg->tgnargs)));
	if (tg->tgargs[1][0] == '\0' || tg->tgargs[2][0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clm.contact_capture: the customer and time columns are required")));
	cust = quote_identifier(tg->tgargs[1]);
	tcol = quote_identifier(tg->tgargs[2]);
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO %s.clm_contacts_pending (customer_id, sent_at, channel, campaign,"
					 " delivered, opened, clicked, converted) SELECT %s, %s, ",
					 quote_identifier(tg->tgargs[0]), cust, tcol);
	contact_append_text(&sql, rel, tg->tgargs[3]);
	appendStringInfoString(&sql, ", ");
	contact_append_text(&sql, rel, tg->tgargs[4]);
	/* the response columns: boolean (or a domain over it), read as boolean */
	for (i = 5; i < CONTACT_CAPTURE_NARGS; i++)
	{
		if (tg->tgargs[i][0] == '\0')
			appendStringInfoString(&sql, ", NULL::pg_catalog.bool");
		else
			appendStringInfo(&sql, ", %s", quote_identifier(tg->tgargs[i]));
	}
	appendStringInfo(&sql, " FROM %s WHERE %s IS NOT NULL AND %s IS NOT NULL",
					 CAPTURE_NEW_ROWS, cust, tcol);
	capture_run(trigdata, sql.data, 0, NULL, NULL);
	pfree(sql.data);
	return PointerGetDatum(NULL);
}

/* clm.contact_invalidate(): records an UPDATE, DELETE or TRUNCATE of a contacts table. */
Datum
clm_contact_invalidate(PG_FUNCTION_ARGS)
{
	capture_queue_op(fcinfo, "clm.contact_invalidate", "clm_contacts_pending");
	return PointerGetDatum(NULL);
}
