/*-------------------------------------------------------------------------
 *
 * period.h
 *	  Calendar periods (day, week, month) over DateADT days.
 *
 * A period is identified by an integer index on a global scale, so that
 * the difference of two indexes is the number of periods between them:
 *	 day:	the DateADT itself;
 *	 week:	floor((d - week_origin) / 7), where week_origin is a day with
 *			ISO day of week week_start (1 = Monday ... 7 = Sunday);
 *	 month: year * 12 + month - 1.
 * Days are calendar days fixed when the profile was built, so nothing here
 * depends on the session time zone (a DST change cannot shift a period).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_PERIOD_H
#define CLM_PERIOD_H

#include "postgres.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "fmgr.h"
#include "utils/array.h"

#include "compat.h"

/* largest date accepted as a parameter: 100000-01-01 */
#define CLM_MAX_DATE		35793765

typedef enum ClmPeriodKind
{
	CLM_PERIOD_DAY = 1,
	CLM_PERIOD_WEEK = 2,
	CLM_PERIOD_MONTH = 3
} ClmPeriodKind;

typedef struct ClmPeriod
{
	ClmPeriodKind kind;
	int32		week_start;		/* ISO day of week, 1 = Monday */
} ClmPeriod;

/* floor division for possibly negative numerators */
static inline int64
clm_floor_div(int64 a, int64 b)
{
	int64		q = a / b;

	if ((a % b) != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* ISO day of week (1 = Monday ... 7 = Sunday); 2000-01-01 was a Saturday */
static inline int32
clm_iso_dow(int32 d)
{
	return (int32) (((int64) d + 5) - 7 * clm_floor_div((int64) d + 5, 7)) + 1;
}

/* period index of day d */
static inline int64
clm_period_index(const ClmPeriod *pr, int32 d)
{
	switch (pr->kind)
	{
		case CLM_PERIOD_DAY:
			return d;
		case CLM_PERIOD_WEEK:
			/* day 0 has ISO dow 6; a week starting on week_start begins at origin */
			return clm_floor_div((int64) d - (pr->week_start - 6), 7);
		case CLM_PERIOD_MONTH:
		default:
			{
				int			y,
							m,
							dd;

				j2date((int) d + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
				return (int64) y * 12 + (m - 1);
			}
	}
}

/* first day of the period with index idx */
static inline int32
clm_period_start(const ClmPeriod *pr, int64 idx)
{
	switch (pr->kind)
	{
		case CLM_PERIOD_DAY:
			return (int32) idx;
		case CLM_PERIOD_WEEK:
			return (int32) (idx * 7 + (pr->week_start - 6));
		case CLM_PERIOD_MONTH:
		default:
			{
				int			y = (int) clm_floor_div(idx, 12);
				int			m = (int) (idx - (int64) y * 12) + 1;

				return date2j(y, m, 1) - POSTGRES_EPOCH_JDATE;
			}
	}
}

/* last day of the period with index idx */
static inline int32
clm_period_end(const ClmPeriod *pr, int64 idx)
{
	return clm_period_start(pr, idx + 1) - 1;
}

/* a period argument parsed once for equal arguments (per call site) */
typedef struct ClmPeriodArg
{
	text	   *arg;			/* copy of the last argument parsed, or NULL */
	ClmPeriodKind kind;			/* its value */
} ClmPeriodArg;

/* period.c */
extern ClmPeriodKind clm_parse_period(text *t);
extern ClmPeriodKind clm_parse_period_cached(ClmPeriodArg *c, MemoryContext cxt, text *t);
extern const char *clm_period_name(ClmPeriodKind kind);
extern int32 clm_check_week_start(int32 ws);
extern int32 clm_finite_date(DateADT d, const char *what);
extern ArrayType *clm_int8_array_alloc(MemoryContext cxt, int n);
extern int64 *clm_int8_array_values(ArrayType *a, int min_len, int *len, const char *what);
pg_noreturn extern void clm_bad_state(const char *what, const char *detail);
extern MemoryContext clm_agg_context(FunctionCallInfo fcinfo);
extern ArrayType *clm_state_arg(FunctionCallInfo fcinfo, int argno);
extern Oid	clm_arg_type(FunctionCallInfo fcinfo, int argnum);

#endif							/* CLM_PERIOD_H */
