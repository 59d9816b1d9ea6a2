/*-------------------------------------------------------------------------
 *
 * rowconv.c
 *	  Per-row conversions of the profile aggregate: an instant to a local
 *	  calendar day, and an amount to fixed-point units.
 *
 * Both run once per input row, so they avoid the general-purpose paths
 * (timestamp2tm, numeric arithmetic) in the common case and fall back to
 * them where the fast path does not apply.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "datatype/timestamp.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "compat.h"
#include "profile.h"
#include "rowconv.h"

/*
 * Time-zone segments.
 *
 * A time zone's UTC offset is piecewise constant.  For the zone in use (the
 * session's, or one named in the aggregate's call) we list the pieces
 * between 1900 and 2100 once, with pg_next_dst_boundary (the
 * function PostgreSQL's own date/time code uses), and then find the offset of
 * an instant by binary search.  The local day of an instant t (seconds since
 * the Unix epoch) with offset g is floor((t + g) / 86400), which is what
 * timestamptz::date computes through pg_localtime.  Outside the listed range,
 * or if the zone changes, pg_localtime is called directly.
 */
#define TZSEG_MAX		4096
#define TZSEG_LO		((pg_time_t) -2208988800)	/* 1900-01-01 UTC */
#define TZSEG_HI		((pg_time_t) 4102444800)	/* 2100-01-01 UTC */
#define UNIX_TO_PG_SECS ((pg_time_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

typedef struct TzSeg
{
	pg_time_t	start;			/* first second of the piece */
	long		gmtoff;			/* UTC offset in seconds */
} TzSeg;

static const pg_tz *seg_tz = NULL;
static TzSeg *segs = NULL;
static int	nsegs = 0;
static pg_time_t seg_hi = 0;	/* pieces cover [TZSEG_LO, seg_hi) */
static int	seg_last = 0;		/* index of the last piece found */

/* list the offset pieces of tz between TZSEG_LO and TZSEG_HI */
static void
tzseg_build(const pg_tz *tz)
{
	pg_time_t	t = TZSEG_LO;

	if (segs == NULL)
		segs = MemoryContextAlloc(TopMemoryContext, sizeof(TzSeg) * TZSEG_MAX);
	nsegs = 0;
	seg_hi = TZSEG_LO;
	seg_last = 0;
	seg_tz = tz;

	for (;;)
	{
		long		before_gmtoff,
					after_gmtoff;
		int			before_isdst,
					after_isdst;
		pg_time_t	boundary;
		int			r;

		r = pg_next_dst_boundary(&t, &before_gmtoff, &before_isdst,
								 &boundary, &after_gmtoff, &after_isdst, tz);
		if (r < 0)
		{
			nsegs = 0;			/* unusable: always take the slow path */
			seg_hi = TZSEG_LO;
			return;
		}
		if (nsegs == 0 || segs[nsegs - 1].gmtoff != before_gmtoff)
		{
			if (nsegs == TZSEG_MAX)
			{
				seg_hi = t;		/* cover what we have */
				return;
			}
			segs[nsegs].start = t;
			segs[nsegs].gmtoff = before_gmtoff;
			nsegs++;
		}
		if (r == 0 || boundary >= TZSEG_HI)
		{
			seg_hi = (r == 0) ? PG_INT64_MAX : TZSEG_HI;
			return;
		}
		t = boundary;
	}
}

/* UTC offset (seconds) of the time zone tz at Unix time t */
static inline long
tz_offset(pg_time_t t, const pg_tz *tz)
{
	int			lo,
				hi;

	if (unlikely(tz != seg_tz))
		tzseg_build(tz);

	if (likely(nsegs > 0 && t >= TZSEG_LO && t < seg_hi))
	{
		/* most rows fall in the piece of the previous row */
		if (t >= segs[seg_last].start &&
			(seg_last + 1 == nsegs || t < segs[seg_last + 1].start))
			return segs[seg_last].gmtoff;

		lo = 0;
		hi = nsegs - 1;
		while (lo < hi)
		{
			int			mid = (lo + hi + 1) / 2;

			if (segs[mid].start <= t)
				lo = mid;
			else
				hi = mid - 1;
		}
		seg_last = lo;
		return segs[lo].gmtoff;
	}
	else
	{
		struct pg_tm *tm = pg_localtime(&t, tz);

		if (tm == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		return tm->tm_gmtoff;
	}
}

/* floor division for the negative side of the epoch */
static inline int64
floor_div(int64 a, int64 b)
{
	int64		q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/*
 * The last local day computed, as the half-open range of instants that fall
 * on it: rows of a table in time order mostly hit it, which saves the
 * divisions and the offset lookup.  The range is cut at the offset piece's
 * bounds so that a DST change within the day is honoured.
 */
static const pg_tz *day_tz = NULL;
static TimestampTz day_lo = 1;
static TimestampTz day_hi = 0;
static int32 day_val = 0;

/* the local calendar day (DateADT) of a finite timestamptz in the zone tz */
int32
clm_zone_day(TimestampTz ts, const pg_tz *tz)
{
	pg_time_t	t;
	long		off;
	int32		day;
	TimestampTz lo,
				hi;

	if (likely(ts >= day_lo && ts < day_hi && day_tz == tz))
		return day_val;

	t = (pg_time_t) floor_div(ts, USECS_PER_SEC) + UNIX_TO_PG_SECS;
	off = tz_offset(t, tz);
	day = (int32) floor_div(ts + (int64) off * USECS_PER_SEC, USECS_PER_DAY);

	/* instants of this local day under this offset ... */
	lo = (TimestampTz) day * USECS_PER_DAY - (int64) off * USECS_PER_SEC;
	hi = lo + USECS_PER_DAY;
	/* ... within the offset piece that t lies in (cached only there) */
	if (nsegs > 0 && t >= TZSEG_LO && t < seg_hi && seg_tz == tz)
	{
		TimestampTz seg_lo_ts = (segs[seg_last].start - UNIX_TO_PG_SECS) * USECS_PER_SEC;
		TimestampTz seg_hi_ts = (seg_last + 1 < nsegs) ?
			(segs[seg_last + 1].start - UNIX_TO_PG_SECS) * USECS_PER_SEC :
			(seg_hi == PG_INT64_MAX ? PG_INT64_MAX : (seg_hi - UNIX_TO_PG_SECS) * USECS_PER_SEC);

		day_lo = Max(lo, seg_lo_ts);
		day_hi = Min(hi, seg_hi_ts);
		day_val = day;
		day_tz = tz;
	}
	return day;
}

/* the local calendar day (DateADT) of a finite timestamptz in the session zone */
int32
clm_local_day(TimestampTz ts)
{
	return clm_zone_day(ts, session_timezone);
}

/*
 * The time zone of a name, as SET TimeZone accepts it by name: a zone of the
 * IANA database (pg_timezone_names) or a POSIX zone specification.  Numeric
 * offsets and abbreviations are refused: their meaning depends on settings
 * (the sign convention, timezone_abbreviations) that may differ between the
 * nodes that compute a result.
 */
const pg_tz *
clm_zone_lookup(const char *name, int len)
{
	char		buf[TZ_STRLEN_MAX + 1];
	pg_tz	   *tz;

	if (len <= 0 || len > TZ_STRLEN_MAX || memchr(name, '\0', len) != NULL ||
		name[0] == '+' || name[0] == '-' || (name[0] >= '0' && name[0] <= '9'))
		tz = NULL;			/* empty, too long, or a numeric offset */
	else
	{
		memcpy(buf, name, len);
		buf[len] = '\0';
		tz = pg_tzset(buf);
	}
	if (tz == NULL || !pg_tz_acceptable(tz))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%.*s\" not recognized",
						Min(len, TZ_STRLEN_MAX), name),
				 errhint("Name a zone of pg_timezone_names, such as 'UTC' or 'Europe/Paris'.")));
	return tz;
}

/* the calendar day (DateADT) of a finite timestamp without time zone */
int32
clm_timestamp_day(Timestamp ts)
{
	return (int32) floor_div(ts, USECS_PER_DAY);
}

/*
 * Numeric to fixed-point units.
 *
 * A numeric is stored as a sign, a weight and base-10000 digits d[0..n-1]:
 *	 value = sign * sum_i d[i] * 10000^(weight - i)
 * so value * 10000 (our units) is the sum over the digits of weight >= -1,
 * rounded half away from zero by the digit of weight -2 (the 5th to 8th
 * decimals): that digit >= 5000 means the remainder is >= 0.5 units.
 * This is the stable on-disk format that pg_upgrade relies on; any header
 * we do not recognise is handled by the slow path (numeric arithmetic).
 */
#define NUM_SIGN_MASK		0xC000
#define NUM_POS				0x0000
#define NUM_NEG				0x4000
#define NUM_SHORT			0x8000
#define NUM_SPECIAL			0xC000
#define NUM_SHORT_SIGN		0x2000
#define NUM_SHORT_WSIGN		0x0040
#define NUM_SHORT_WMASK		0x003F

/* slow path: round(value * 10000) through numeric arithmetic */
static int64
amount_units_slow(Numeric num)
{
	bool		err = false;
	Numeric		scaled;
	Numeric		rounded;

	scaled = clm_numeric_mul_checked(num, int64_to_numeric(CLM_SPEND_SCALE), &err);
	if (err)
		goto overflow;
	rounded = DatumGetNumeric(DirectFunctionCall2(numeric_round,
												  NumericGetDatum(scaled),
												  Int32GetDatum(0)));
	{
		/* numeric_int8 raises its own error; test the range first */
		Numeric		lim = int64_to_numeric(PG_INT64_MAX);
		Numeric		neglim = int64_to_numeric(-PG_INT64_MAX);

		if (DatumGetBool(DirectFunctionCall2(numeric_gt, NumericGetDatum(rounded), NumericGetDatum(lim))) ||
			DatumGetBool(DirectFunctionCall2(numeric_lt, NumericGetDatum(rounded), NumericGetDatum(neglim))))
			goto overflow;
	}
	return DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(rounded)));

overflow:
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("amount is out of range for clm.profile"),
			 errhint("Amounts are kept to 4 decimal places; their absolute value must be below 922337203685477.")));
	return 0;					/* keep compiler quiet */
}

/* the amount as units of 1/10000, rounded half away from zero; *negative set */
int64
clm_numeric_units(Datum d, bool *negative)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	Numeric		num;
	const char *data;
	Size		len;
	uint16		head;
	int			weight;
	int			ndigits;
	const char *digits;
	bool		neg;
	uint64		acc = 0;
	int			i,
				pos;

	if (VARATT_IS_COMPRESSED(v) || VARATT_IS_EXTERNAL(v))
		v = pg_detoast_datum_packed(v);

	data = VARDATA_ANY(v);
	len = VARSIZE_ANY_EXHDR(v);
	if (len < sizeof(uint16))
		goto slow;
	memcpy(&head, data, sizeof(uint16));

	if ((head & NUM_SIGN_MASK) == NUM_SPECIAL)
	{
		num = DatumGetNumeric(PointerGetDatum(v));
		if (numeric_is_nan(num))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("amount must not be NaN")));
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("amount must be finite")));
	}
	else if ((head & NUM_SIGN_MASK) == NUM_SHORT)
	{
		neg = (head & NUM_SHORT_SIGN) != 0;
		if (head & NUM_SHORT_WSIGN)
			weight = (int) ((int16) (head | ~(uint16) NUM_SHORT_WMASK));
		else
			weight = (int) (head & NUM_SHORT_WMASK);
		digits = data + sizeof(uint16);
		ndigits = (int) ((len - sizeof(uint16)) / sizeof(int16));
	}
	else
	{
		int16		w;

		if (len < 2 * sizeof(uint16))
			goto slow;
		neg = (head & NUM_SIGN_MASK) == NUM_NEG;
		memcpy(&w, data + sizeof(uint16), sizeof(int16));
		weight = w;
		digits = data + 2 * sizeof(uint16);
		ndigits = (int) ((len - 2 * sizeof(uint16)) / sizeof(int16));
	}

	/* a non-zero value has ndigits > 0; zero is stored with no digits */
	if (weight > 3)
		goto slow;				/* >= 10^16: let the slow path decide */
	for (pos = weight; pos >= -1; pos--)
	{
		int16		dg = 0;

		i = weight - pos;
		if (i >= 0 && i < ndigits)
			memcpy(&dg, digits + i * sizeof(int16), sizeof(int16));
		if (dg < 0 || dg >= 10000)
			goto slow;
		if (__builtin_mul_overflow(acc, (uint64) 10000, &acc) ||
			__builtin_add_overflow(acc, (uint64) dg, &acc))
			goto slow;
	}
	/* rounding digit: weight -2 */
	i = weight + 2;
	if (i >= 0 && i < ndigits)
	{
		int16		dg;

		memcpy(&dg, digits + i * sizeof(int16), sizeof(int16));
		if (dg >= 5000)
			acc++;
	}
	if (acc >= (uint64) PG_INT64_MAX)
		goto slow;
	*negative = neg && ndigits > 0;
	return neg ? -(int64) acc : (int64) acc;

slow:
	num = DatumGetNumeric(PointerGetDatum(pg_detoast_datum((struct varlena *) DatumGetPointer(d))));
	if (numeric_is_nan(num))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amount must not be NaN")));
	if (numeric_is_inf(num))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("amount must be finite")));
	*negative = DatumGetBool(DirectFunctionCall2(numeric_lt, NumericGetDatum(num),
												 NumericGetDatum(int64_to_numeric(0))));
	return amount_units_slow(num);
}

/* a float8 amount as units of 1/10000, rounded half away from zero */
int64
clm_float8_units(float8 x, bool *negative)
{
	double		v;

	if (isnan(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amount must not be NaN")));
	if (isinf(x))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("amount must be finite")));
	v = round(x * (double) CLM_SPEND_SCALE);
	if (!(v > -9.2e18 && v < 9.2e18))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("amount is out of range for clm.profile"),
				 errhint("Amounts are kept to 4 decimal places; their absolute value must be below 922337203685477.")));
	*negative = x < 0;
	return (int64) v;
}
