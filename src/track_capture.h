/*-------------------------------------------------------------------------
 *
 * track_capture.h
 *	  What the capture triggers of tracked sources share (src/track_capture.c):
 *	  the events' triggers (clm.track) and the contacts' (src/contact_capture.c).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_TRACK_CAPTURE_H
#define CLM_TRACK_CAPTURE_H

#include "fmgr.h"
#include "commands/trigger.h"
#include "utils/rel.h"

/* the transition table's name in the triggers clm creates */
#define CAPTURE_NEW_ROWS "clm_new_rows"

extern TriggerData *capture_trigger_data(FunctionCallInfo fcinfo, const char *fn);
extern bool capture_string_column(Relation rel, const char *col);
extern void capture_run(TriggerData *trigdata, const char *sql, int nargs,
						Oid *argtypes, Datum *values);
extern void capture_queue_op(FunctionCallInfo fcinfo, const char *fn, const char *queue);

#endif							/* CLM_TRACK_CAPTURE_H */
