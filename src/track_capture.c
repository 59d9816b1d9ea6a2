/*-------------------------------------------------------------------------
 *
 * track_capture.c
 *	  The two trigger functions of a tracked source (clm.track):
 *	  clm.track_capture queues the rows an INSERT statement added,
 *	  clm.track_invalidate records an UPDATE, DELETE or TRUNCATE.
 *
 * They are extension functions, so that the triggers depend on the extension
 * (DROP EXTENSION clm CASCADE removes them).  The trigger's arguments name
 * the target schema and the source's columns; from them each function builds
 * one INSERT into <target>.clm_pending, prepares it once per trigger and
 * backend (a plan kept in a hash table keyed by the trigger's OID, checked
 * against the statement text, so a trigger re-created with other arguments
 * gets a new plan) and runs it through SPI, reading the statement's
 * transition table.  They run as the writer and evaluate none of the
 * source owner's SQL: no filter, no cast to a user type, no domain check
 * (see src/sql/84_track_capture.sql and docs/tracked-sources-security.md).
 *
 *	 arguments (schema, customer, time, amount, channel or ''):
 *	   INSERT INTO schema.clm_pending (customer_id, occurred_at, amount, channel)
 *	   SELECT customer, time, amount, <channel as text> FROM clm_new_rows
 *	   WHERE customer IS NOT NULL AND time IS NOT NULL
 *	 argument (schema), a source with a filter:
 *	   INSERT INTO schema.clm_pending (source_row)
 *	   SELECT textin(record_out(n)) FROM clm_new_rows n
 *	 clm.track_invalidate, argument (schema):
 *	   INSERT INTO schema.clm_pending (op) VALUES ($1)		$1 = TG_OP
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "track_capture.h"

PG_FUNCTION_INFO_V1(clm_track_capture);
PG_FUNCTION_INFO_V1(clm_track_invalidate);

typedef struct CapturePlan
{
	Oid			tgoid;			/* hash key: the trigger */
	char	   *sql;			/* the statement planned (TopMemoryContext) */
	SPIPlanPtr	plan;			/* kept plan, or NULL */
} CapturePlan;

static HTAB *capture_plans = NULL;

/* The trigger data of a call, checked to be a statement-level AFTER trigger. */
TriggerData *
capture_trigger_data(FunctionCallInfo fcinfo, const char *fn)
{
	TriggerData *trigdata;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s: not called by trigger manager", fn)));
	trigdata = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s: must be fired AFTER ... FOR EACH STATEMENT", fn)));
	return trigdata;
}

/* Whether a column of the source is of a built-in string type (text, varchar, char, name). */
bool
capture_string_column(Relation rel, const char *col)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), col) == 0)
			return att->atttypid == TEXTOID || att->atttypid == VARCHAROID ||
				att->atttypid == BPCHAROID || att->atttypid == NAMEOID;
	}
	return false;
}

/* The kept plan of a trigger's statement sql, prepared on first use. */
static SPIPlanPtr
capture_plan(Oid tgoid, const char *sql, int nargs, Oid *argtypes)
{
	CapturePlan *entry;
	bool		found;

	if (capture_plans == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(CapturePlan);
		capture_plans = hash_create("clm capture plans", 16, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	entry = (CapturePlan *) hash_search(capture_plans, &tgoid, HASH_ENTER, &found);
	if (!found)
	{
		entry->sql = NULL;
		entry->plan = NULL;
	}
	if (entry->plan != NULL && strcmp(entry->sql, sql) == 0)
		return entry->plan;

	/* new trigger, or one re-created under this OID with other arguments */
	if (entry->plan != NULL)
	{
		SPI_freeplan(entry->plan);
		entry->plan = NULL;
	}
	if (entry->sql != NULL)
	{
		pfree(entry->sql);
		entry->sql = NULL;
	}
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		entry->sql = MemoryContextStrdup(TopMemoryContext, sql);
		entry->plan = plan;
	}
	return entry->plan;
}

/* Runs the trigger's statement with its transition table registered. */
void
capture_run(TriggerData *trigdata, const char *sql, int nargs, Oid *argtypes,
			Datum *values)
{
	SPIPlanPtr	plan;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "SPI_register_trigger_data failed");
	plan = capture_plan(trigdata->tg_trigger->tgoid, sql, nargs, argtypes);
	rc = SPI_execute_plan(plan, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "clm: queue insert failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}

/* clm.track_capture(): the AFTER INSERT statement trigger of a tracked source. */
Datum
clm_track_capture(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = capture_trigger_data(fcinfo, "clm.track_capture");
	Trigger    *tg = trigdata->tg_trigger;
	StringInfoData sql;

	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || trigdata->tg_newtable == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("clm.track_capture: must be fired by INSERT with REFERENCING NEW TABLE AS %s",
						CAPTURE_NEW_ROWS)));
	initStringInfo(&sql);
	if (tg->tgnargs == 1)
	{
		appendStringInfo(&sql,
						 "INSERT INTO %s.clm_pending (source_row)"
						 " SELECT pg_catalog.textin(pg_catalog.record_out(n)) FROM %s n",
						 quote_identifier(tg->tgargs[0]), CAPTURE_NEW_ROWS);
	}
	else if (tg->tgnargs == 5)
	{
		const char *cust = quote_identifier(tg->tgargs[1]);
		const char *tcol = quote_identifier(tg->tgargs[2]);

		appendStringInfo(&sql,
						 "INSERT INTO %s.clm_pending (customer_id, occurred_at, amount, channel)"
						 " SELECT %s, %s, %s, ",
						 quote_identifier(tg->tgargs[0]), cust, tcol,
						 quote_identifier(tg->tgargs[3]));
		/*
		 * the channel as text: a cast for the built-in string types, else
		 * through its type's output function (no user-defined cast is
		 * called); the rule of clm.track_channel_sql
		 */
		if (tg->tgargs[4][0] == '\0')
			appendStringInfoString(&sql, "NULL::pg_catalog.text");
		else
		{
			const char *ch = quote_identifier(tg->tgargs[4]);

			if (capture_string_column(trigdata->tg_relation, tg->tgargs[4]))
				appendStringInfo(&sql, "%s::pg_catalog.text", ch);
			else
				appendStringInfo(&sql, "CASE WHEN %s IS NOT NULL THEN pg_catalog.format('%%s', %s) END", ch, ch);
		}
		appendStringInfo(&sql, " FROM %s WHERE %s IS NOT NULL AND %s IS NOT NULL",
						 CAPTURE_NEW_ROWS, cust, tcol);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clm.track_capture: a trigger of clm.track takes 1 or 5 arguments, not %d",
						tg->tgnargs)));
	capture_run(trigdata, sql.data, 0, NULL, NULL);
	pfree(sql.data);
	return PointerGetDatum(NULL);
}

/*
 * Queues a marker row (op = the trigger's operation) in schema.queue, the
 * schema being the trigger's one argument: the invalidation triggers of
 * clm.track (queue clm_pending) and clm.track_contacts (clm_contacts_pending).
 */
void
capture_queue_op(FunctionCallInfo fcinfo, const char *fn, const char *queue)
{
	TriggerData *trigdata = capture_trigger_data(fcinfo, fn);
	Trigger    *tg = trigdata->tg_trigger;
	StringInfoData sql;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	const char *op;

	if (tg->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: its trigger takes 1 argument, not %d", fn, tg->tgnargs)));
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		op = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		op = "DELETE";
	else if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		op = "TRUNCATE";
	else
		op = "INSERT";
	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s.%s (op) VALUES ($1)",
					 quote_identifier(tg->tgargs[0]), quote_identifier(queue));
	values[0] = CStringGetTextDatum(op);
	capture_run(trigdata, sql.data, 1, argtypes, values);
	pfree(sql.data);
}

/* clm.track_invalidate(): records an UPDATE, DELETE or TRUNCATE of a tracked source. */
Datum
clm_track_invalidate(PG_FUNCTION_ARGS)
{
	capture_queue_op(fcinfo, "clm.track_invalidate", "clm_pending");
	return PointerGetDatum(NULL);
}
