/*-------------------------------------------------------------------------
 *
 * rowconv.h
 *	  Per-row conversions of the profile aggregate (see rowconv.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_ROWCONV_H
#define CLM_ROWCONV_H

#include "postgres.h"
#include "pgtime.h"
#include "utils/timestamp.h"

#include "compat.h"

extern int32 clm_local_day(TimestampTz ts);
extern int32 clm_zone_day(TimestampTz ts, const pg_tz *tz);
extern const pg_tz *clm_zone_lookup(const char *name, int len);
extern int32 clm_timestamp_day(Timestamp ts);
extern int64 clm_numeric_units(Datum d, bool *negative);
extern int64 clm_float8_units(float8 x, bool *negative);

#endif							/* CLM_ROWCONV_H */
