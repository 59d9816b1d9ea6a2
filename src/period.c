/*-------------------------------------------------------------------------
 *
 * period.c
 *	  Parsing and checking of period parameters (see period.h).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "period.h"

/* 'day', 'week' or 'month', or a 22023 error */
ClmPeriodKind
clm_parse_period(text *t)
{
	char	   *s = text_to_cstring(t);
	ClmPeriodKind k;

	if (strcmp(s, "day") == 0)
		k = CLM_PERIOD_DAY;
	else if (strcmp(s, "week") == 0)
		k = CLM_PERIOD_WEEK;
	else if (strcmp(s, "month") == 0)
		k = CLM_PERIOD_MONTH;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid period \"%s\"", s),
				 errhint("Use 'day', 'week' or 'month'.")));
	pfree(s);
	return k;
}

/* the SQL spelling of a period kind */
const char *
clm_period_name(ClmPeriodKind kind)
{
	switch (kind)
	{
		case CLM_PERIOD_DAY:
			return "day";
		case CLM_PERIOD_WEEK:
			return "week";
		default:
			return "month";
	}
}

/* week_start must be an ISO day of week */
int32
clm_check_week_start(int32 ws)
{
	if (ws < 1 || ws > 7)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("week_start must be between 1 (Monday) and 7 (Sunday), got %d", ws)));
	return ws;
}

/* dates bounding a range must be finite */
int32
clm_finite_date(DateADT d, const char *what)
{
	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite date", what)));
	return d;
}
