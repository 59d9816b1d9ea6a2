/*-------------------------------------------------------------------------
 *
 * profile_io.c
 *	  Text and binary input/output of clm.profile, and its validation.
 *
 * Text form (JSON, keys in this order, whitespace allowed between tokens):
 *
 *	 {"v":1,"events":5,"refunds":0,
 *	  "first_event":"2025-01-03 10:00:00+00","last_event":"2025-02-01 09:30:00.25+00",
 *	  "days":[["2025-01-03",1,29.33],["2025-01-04",0,0]],
 *	  "channels":[["web",4,1,"2025-01-04"]],
 *	  "other":[0,0,null]}
 *
 * Instants are written in UTC; days as ISO dates (astronomical years, so a
 * year before 1 is written -YYYY); spends as exact decimals with at most 4
 * fractional digits.  Each day is [date, orders, spend]; each channel is
 * [name, events, purchases, last_day]; "other" holds the events, purchases
 * and last day of channels past the cap.  Output followed by input gives
 * back the same value, byte for byte.
 *
 * Input (text and binary) is validated completely: a value that breaks any
 * invariant of profile.h is rejected with 22P02 (text) or 22P03 (binary).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "compat.h"
#include "profile.h"

PG_FUNCTION_INFO_V1(clm_profile_in);
PG_FUNCTION_INFO_V1(clm_profile_out);
PG_FUNCTION_INFO_V1(clm_profile_recv);
PG_FUNCTION_INFO_V1(clm_profile_send);

/* raise XX001 if the layout of p cannot be walked safely */
void
clm_profile_check_structure(const ClmProfile *p)
{
	Size		size = VARSIZE(p);

	if (size < CLM_HEADER_SIZE ||
		p->version != CLM_PROFILE_VERSION ||
		(p->flags & ~CLM_PF_KNOWN_FLAGS) != 0 ||
		p->chan_bytes % 8 != 0 ||
		p->chan_bytes > size - CLM_HEADER_SIZE ||
		p->n_days < 0 ||
		p->n_days > clm_profile_capacity(p) ||
		p->n_channels > CLM_MAX_CHANNELS)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt clm.profile value"),
				 errdetail("The header is inconsistent (version %d, size %zu).",
						   (int) p->version, size)));
}

/* a canonical profile from a datum (see profile.h) */
ClmProfile *
clm_profile_read(Datum d)
{
	ClmProfile *p = (ClmProfile *) PG_DETOAST_DATUM(d);

	clm_profile_check_structure(p);
	if ((p->flags & (CLM_PF_UNSORTED | CLM_PF_CHANFIRST)) ||
		clm_profile_capacity(p) != p->n_days)
		p = clm_profile_canonical_copy(p, CurrentMemoryContext);
	return p;
}

/* number of days <= as_of */
int32
clm_profile_prefix(const ClmProfile *p, DateADT as_of)
{
	const ClmDay *days = clm_profile_days(p);
	int32		lo = 0,
				hi = p->n_days;

	if (hi == 0 || days[hi - 1].day <= as_of)
		return hi;
	while (lo < hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (days[mid].day <= as_of)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* append v / 10000 as an exact decimal, trailing zeros trimmed */
void
clm_append_spend(StringInfo buf, int64 v)
{
	uint64		mag = v < 0 ? (uint64) (-(v + 1)) + 1 : (uint64) v;
	uint64		ipart = mag / CLM_SPEND_SCALE;
	int			frac = (int) (mag % CLM_SPEND_SCALE);

	if (v < 0)
		appendStringInfoChar(buf, '-');
	appendStringInfo(buf, UINT64_FORMAT, ipart);
	if (frac != 0)
	{
		char		f[8];
		int			len = 4;

		snprintf(f, sizeof(f), "%04d", frac);
		while (len > 0 && f[len - 1] == '0')
			len--;
		appendStringInfoChar(buf, '.');
		appendBinaryStringInfo(buf, f, len);
	}
}

/* v / 10000 as a numeric with as many decimals as needed, at least 2 */
Datum
clm_spend_numeric(int64 v)
{
	int			scale = CLM_SPEND_DIGITS;
	int64		x = v;

	while (scale > 2 && x % 10 == 0)
	{
		x /= 10;
		scale--;
	}
	return NumericGetDatum(int64_div_fast_to_numeric(x, scale));
}

/* append a day as an ISO date with an astronomical year (-?YYYY-MM-DD) */
void
clm_append_date(StringInfo buf, int32 day)
{
	int			y,
				m,
				d;

	j2date(day + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	if (y < 0)
		appendStringInfo(buf, "-%04d-%02d-%02d", -y, m, d);
	else
		appendStringInfo(buf, "%04d-%02d-%02d", y, m, d);
}

/* append an instant in UTC: YYYY-MM-DD HH:MM:SS[.ffffff]+00 */
static void
append_timestamp(StringInfo buf, TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	if (tm.tm_year < 0)
		appendStringInfo(buf, "-%04d", -tm.tm_year);
	else
		appendStringInfo(buf, "%04d", tm.tm_year);
	appendStringInfo(buf, "-%02d-%02d %02d:%02d:%02d",
					 tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (fsec != 0)
	{
		char		f[8];
		int			len = 6;

		snprintf(f, sizeof(f), "%06d", (int) fsec);
		while (len > 0 && f[len - 1] == '0')
			len--;
		appendStringInfoChar(buf, '.');
		appendBinaryStringInfo(buf, f, len);
	}
	appendStringInfoString(buf, "+00");
}

/* append a JSON string */
static void
append_json_string(StringInfo buf, const char *s, int len)
{
	int			i;

	appendStringInfoChar(buf, '"');
	for (i = 0; i < len; i++)
	{
		unsigned char ch = (unsigned char) s[i];

		if (ch == '"' || ch == '\\')
		{
			appendStringInfoChar(buf, '\\');
			appendStringInfoChar(buf, ch);
		}
		else if (ch < 0x20 || ch == 0x7f)
			appendStringInfo(buf, "\\u%04x", ch);
		else
			appendStringInfoChar(buf, ch);
	}
	appendStringInfoChar(buf, '"');
}

/* profile -> text */
Datum
clm_profile_out(PG_FUNCTION_ARGS)
{
	ClmProfile *p = PG_GETARG_CLM_PROFILE(0);
	const ClmDay *days = clm_profile_days(p);
	const ClmChannel *c = (const ClmChannel *) clm_profile_channels(p);
	StringInfoData buf;
	int32		i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"v\":%d,\"events\":" INT64_FORMAT ",\"refunds\":" INT64_FORMAT ",\"first_event\":\"",
					 (int) p->version, p->n_events, p->n_refunds);
	append_timestamp(&buf, p->first_event);
	appendStringInfoString(&buf, "\",\"last_event\":\"");
	append_timestamp(&buf, p->last_event);
	appendStringInfoString(&buf, "\",\"days\":[");
	for (i = 0; i < p->n_days; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, "[\"");
		clm_append_date(&buf, days[i].day);
		appendStringInfo(&buf, "\",%d,", days[i].orders);
		clm_append_spend(&buf, days[i].spend);
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoString(&buf, "],\"channels\":[");
	for (i = 0; i < p->n_channels; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoChar(&buf, '[');
		append_json_string(&buf, c->name, c->name_len);
		appendStringInfo(&buf, "," INT64_FORMAT "," INT64_FORMAT ",\"", c->events, c->purchases);
		clm_append_date(&buf, c->last_day);
		appendStringInfoString(&buf, "\"]");
		c = clm_channel_next(c);
	}
	appendStringInfo(&buf, "],\"other\":[" INT64_FORMAT "," INT64_FORMAT ",",
					 p->other_events, p->other_purchases);
	if (p->other_events > 0)
	{
		appendStringInfoChar(&buf, '"');
		clm_append_date(&buf, p->other_last_day);
		appendStringInfoString(&buf, "\"]}");
	}
	else
		appendStringInfoString(&buf, "null]}");
	PG_RETURN_CSTRING(buf.data);
}

/*
 * Validation of a complete profile (input functions).  Returns NULL when p
 * satisfies every invariant of profile.h, else a description of the first
 * violation.  size is the number of bytes p occupies.
 */
const char *
clm_profile_check(const ClmProfile *p, Size size)
{
	const ClmDay *days;
	const char *area;
	const char *end;
	const ClmChannel *c;
	int64		orders = 0;
	int64		abs_total = 0;
	int64		chan_events = 0;
	int32		i;
	int32		first_day,
				last_day;
	const char *prev_name = NULL;
	int			prev_len = 0;

	if (size < CLM_HEADER_SIZE || VARSIZE(p) != size)
		return "size does not match";
	if (p->version != CLM_PROFILE_VERSION)
		return "unknown version";
	if (p->flags != 0 || p->tail_day != 0)
		return "unknown flags";
	if (p->chan_bytes % 8 != 0 || p->chan_bytes > size - CLM_HEADER_SIZE)
		return "channel area size is invalid";
	if (p->n_days < 0 || (Size) p->n_days * sizeof(ClmDay) != size - CLM_HEADER_SIZE - p->chan_bytes)
		return "day count does not match the size";
	if (p->n_days == 0)
		return "a profile has at least one day";
	if (p->n_channels > CLM_MAX_CHANNELS)
		return "too many channels";
	if (TIMESTAMP_NOT_FINITE(p->first_event) || TIMESTAMP_NOT_FINITE(p->last_event) ||
		!IS_VALID_TIMESTAMP(p->first_event) || !IS_VALID_TIMESTAMP(p->last_event))
		return "first_event and last_event must be finite timestamps";
	if (p->first_event > p->last_event)
		return "first_event is after last_event";
	if (p->n_events < 1 || p->n_refunds < 0 || p->other_events < 0 || p->other_purchases < 0)
		return "negative or zero counts";

	days = clm_profile_days(p);
	for (i = 0; i < p->n_days; i++)
	{
		if (!IS_VALID_DATE(days[i].day))
			return "day out of range";
		if (i > 0 && days[i].day <= days[i - 1].day)
			return "days are not strictly increasing";
		if (days[i].orders < 0)
			return "negative order count";
		orders += days[i].orders;
		if (days[i].spend == PG_INT64_MIN ||
			__builtin_add_overflow(abs_total, days[i].spend < 0 ? -days[i].spend : days[i].spend, &abs_total))
			return "total spend out of range";
	}
	/* the local day of an instant is within one day of its UTC day */
	first_day = (int32) (p->first_event / USECS_PER_DAY) - (p->first_event % USECS_PER_DAY < 0 ? 1 : 0);
	last_day = (int32) (p->last_event / USECS_PER_DAY) - (p->last_event % USECS_PER_DAY < 0 ? 1 : 0);
	if (days[0].day < first_day - 1 || days[0].day > first_day + 1 ||
		days[p->n_days - 1].day < last_day - 1 || days[p->n_days - 1].day > last_day + 1)
		return "days lie outside first_event .. last_event";
	if (p->n_events < p->n_days || p->n_events < orders + p->n_refunds)
		return "event count is smaller than the days, orders and refunds it covers";

	/* channels: sorted by name, counts consistent, last day an activity day */
	area = (const char *) p + size - p->chan_bytes;
	end = (const char *) p + size;
	c = (const ClmChannel *) area;
	for (i = 0; i < p->n_channels; i++)
	{
		int			cmp;

		if ((const char *) c + CLM_CHANNEL_FIXED > end)
			return "channel area is truncated";
		if (c->name_len > CLM_MAX_CHANNEL_NAME || c->reserved != 0)
			return "channel name too long";
		if ((const char *) c + CLM_CHANNEL_SIZE(c->name_len) > end)
			return "channel area is truncated";
		if (c->events < 1 || c->purchases < 0 || c->purchases > c->events)
			return "channel counts are invalid";
		if (!pg_verify_mbstr(GetDatabaseEncoding(), c->name, c->name_len, true) ||
			memchr(c->name, '\0', c->name_len) != NULL)
			return "channel name is not valid text";
		if (prev_name != NULL)
		{
			cmp = memcmp(prev_name, c->name, Min(prev_len, c->name_len));
			if (cmp > 0 || (cmp == 0 && prev_len >= c->name_len))
				return "channels are not sorted by name";
		}
		/* in range first: last_day - 1 must not wrap around */
		if (!IS_VALID_DATE(c->last_day) ||
			clm_profile_prefix(p, c->last_day) == clm_profile_prefix(p, c->last_day - 1))
			return "channel last day is not an activity day";
		if (__builtin_add_overflow(chan_events, c->events, &chan_events))
			return "channel counts are invalid";
		prev_name = c->name;
		prev_len = c->name_len;
		c = clm_channel_next(c);
	}
	if ((const char *) c != end)
		return "channel area size does not match its records";
	if (p->other_events > 0)
	{
		if (p->n_channels < CLM_MAX_CHANNELS)
			return "other channels are counted while the channel table is not full";
		if (p->other_purchases > p->other_events)
			return "channel counts are invalid";
		if (!IS_VALID_DATE(p->other_last_day) ||
			clm_profile_prefix(p, p->other_last_day) == clm_profile_prefix(p, p->other_last_day - 1))
			return "other channels' last day is not an activity day";
	}
	else if (p->other_purchases != 0 || p->other_last_day != 0)
		return "other channel counts are invalid";
	if (__builtin_add_overflow(chan_events, p->other_events, &chan_events) ||
		chan_events > p->n_events)
		return "channel events exceed the event count";
	return NULL;
}

/*
 * Builder shared by text and binary input: collects days and channels,
 * then lays out and validates the profile.
 */
typedef struct ProfileParts
{
	ClmProfile	head;			/* header fields (sizes filled at the end) */
	ClmDay	   *days;
	int32		ndays;
	int32		daycap;
	StringInfoData chan;		/* channel records, already laid out */
	int			nchan;
} ProfileParts;

/* start collecting */
static void
parts_init(ProfileParts *pp)
{
	memset(pp, 0, sizeof(*pp));
	pp->daycap = 16;
	pp->days = palloc(sizeof(ClmDay) * pp->daycap);
	initStringInfo(&pp->chan);
}

/* add a day */
static void
parts_day(ProfileParts *pp, int32 day, int32 orders, int64 spend)
{
	if (pp->ndays == pp->daycap)
	{
		if (pp->daycap >= (int32) (MaxAllocSize / sizeof(ClmDay) / 2))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("clm.profile would exceed the maximum size of 1 GB")));
		pp->daycap *= 2;
		pp->days = repalloc(pp->days, sizeof(ClmDay) * pp->daycap);
	}
	pp->days[pp->ndays].day = day;
	pp->days[pp->ndays].orders = orders;
	pp->days[pp->ndays].spend = spend;
	pp->ndays++;
}

/* add a channel; returns false if the name is too long */
static bool
parts_channel(ProfileParts *pp, const char *name, int len, int64 events,
			  int64 purchases, int32 last_day)
{
	ClmChannel	rec;
	static const char zeros[8] = {0};
	int			pad;

	if (len < 0 || len > CLM_MAX_CHANNEL_NAME || pp->nchan >= CLM_MAX_CHANNELS)
		return false;
	memset(&rec, 0, sizeof(rec));
	rec.events = events;
	rec.purchases = purchases;
	rec.last_day = last_day;
	rec.name_len = (uint16) len;
	appendBinaryStringInfo(&pp->chan, (const char *) &rec, CLM_CHANNEL_FIXED);
	appendBinaryStringInfo(&pp->chan, name, len);
	pad = (int) (CLM_CHANNEL_SIZE(len) - CLM_CHANNEL_FIXED - len);
	appendBinaryStringInfo(&pp->chan, zeros, pad);
	pp->nchan++;
	return true;
}

/* lay out the collected parts; returns the profile or NULL with *why set */
static ClmProfile *
parts_finish(ProfileParts *pp, const char **why)
{
	ClmProfile *p;

	p = clm_profile_alloc(CurrentMemoryContext, pp->chan.len, pp->ndays);
	p->n_channels = (uint16) pp->nchan;
	p->n_days = pp->ndays;
	p->n_events = pp->head.n_events;
	p->n_refunds = pp->head.n_refunds;
	p->other_events = pp->head.other_events;
	p->other_purchases = pp->head.other_purchases;
	p->other_last_day = pp->head.other_last_day;
	p->first_event = pp->head.first_event;
	p->last_event = pp->head.last_event;
	memcpy(clm_profile_days(p), pp->days, sizeof(ClmDay) * pp->ndays);
	memcpy(clm_profile_channels(p), pp->chan.data, pp->chan.len);
	*why = clm_profile_check(p, VARSIZE(p));
	return *why ? NULL : p;
}

/*
 * Text parser: a cursor over the input with strict token readers.  Every
 * reader raises 22P02 with the position on a mismatch.
 */
typedef struct Cursor
{
	const char *start;
	const char *s;
} Cursor;

pg_noreturn static void syntax_error(struct Cursor *cur, const char *what);

/* raise the text input error */
static void
syntax_error(Cursor *cur, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type clm.profile"),
			 errdetail("%c%s at character %d.", toupper((unsigned char) what[0]), what + 1,
					   (int) (cur->s - cur->start) + 1)));
}

/* skip JSON whitespace */
static void
skip_ws(Cursor *cur)
{
	while (*cur->s == ' ' || *cur->s == '\t' || *cur->s == '\n' || *cur->s == '\r')
		cur->s++;
}

/* expect one punctuation character */
static void
expect_char(Cursor *cur, char ch)
{
	char		msg[32];

	skip_ws(cur);
	if (*cur->s != ch)
	{
		snprintf(msg, sizeof(msg), "expected \"%c\"", ch);
		syntax_error(cur, msg);
	}
	cur->s++;
}

/* true (and consumed) if the next token is ch */
static bool
accept_char(Cursor *cur, char ch)
{
	skip_ws(cur);
	if (*cur->s == ch)
	{
		cur->s++;
		return true;
	}
	return false;
}

/* expect "key": */
static void
expect_key(Cursor *cur, const char *key)
{
	size_t		len = strlen(key);
	char		msg[64];

	skip_ws(cur);
	if (cur->s[0] != '"' || strncmp(cur->s + 1, key, len) != 0 || cur->s[len + 1] != '"')
	{
		snprintf(msg, sizeof(msg), "expected key \"%s\"", key);
		syntax_error(cur, msg);
	}
	cur->s += len + 2;
	expect_char(cur, ':');
}

/*
 * Parse a signed decimal integer at *sp within [lo, hi].  Returns NULL and
 * advances *sp past it, or returns what is wrong with *sp at the offending
 * character (shared by the text input functions).
 */
const char *
clm_parse_int64(const char **sp, int64 lo, int64 hi, int64 *result)
{
	const char *s = *sp;
	bool		neg = false;
	uint64		v = 0;
	int			ndig = 0;
	int64		r;
	const char *err = NULL;

	if (*s == '-')
	{
		neg = true;
		s++;
	}
	while (isdigit((unsigned char) *s))
	{
		if (__builtin_mul_overflow(v, (uint64) 10, &v) ||
			__builtin_add_overflow(v, (uint64) (*s - '0'), &v) ||
			v > (uint64) PG_INT64_MAX)
		{
			err = "integer out of range";
			goto done;
		}
		s++;
		ndig++;
	}
	if (ndig == 0)
	{
		err = "expected an integer";
		goto done;
	}
	r = neg ? -(int64) v : (int64) v;
	if (r < lo || r > hi)
	{
		err = "integer out of range";
		goto done;
	}
	*result = r;
done:
	*sp = s;
	return err;
}

/* read a signed integer within [lo, hi] (see clm_parse_int64) */
static int64
read_int(Cursor *cur, int64 lo, int64 hi)
{
	int64		v = 0;
	const char *err;

	skip_ws(cur);
	err = clm_parse_int64(&cur->s, lo, hi, &v);
	if (err)
		syntax_error(cur, err);
	return v;
}

/*
 * Parse an amount -?digits(.digits{1,4})? at *sp as units of 1/10000.
 * Returns NULL and advances *sp past it, or returns what is wrong with *sp
 * at the offending character (shared by the text input functions).
 */
const char *
clm_parse_spend(const char **sp, int64 *result)
{
	const char *s = *sp;
	bool		neg = false;
	uint64		v = 0;
	int			ndig = 0;
	int			nfrac = 0;
	const char *err = NULL;

	if (*s == '-')
	{
		neg = true;
		s++;
	}
	while (isdigit((unsigned char) *s))
	{
		if (__builtin_mul_overflow(v, (uint64) 10, &v) ||
			__builtin_add_overflow(v, (uint64) (*s - '0'), &v) ||
			v > (uint64) PG_INT64_MAX / CLM_SPEND_SCALE)
		{
			err = "amount out of range";
			goto done;
		}
		s++;
		ndig++;
	}
	if (ndig == 0)
	{
		err = "expected an amount";
		goto done;
	}
	v *= CLM_SPEND_SCALE;
	if (*s == '.')
	{
		uint64		f = 0;

		s++;
		while (isdigit((unsigned char) *s))
		{
			if (nfrac == CLM_SPEND_DIGITS)
			{
				err = "amount has more than 4 decimals";
				goto done;
			}
			f = f * 10 + (uint64) (*s - '0');
			nfrac++;
			s++;
		}
		if (nfrac == 0)
		{
			err = "expected decimals";
			goto done;
		}
		while (nfrac++ < CLM_SPEND_DIGITS)
			f *= 10;
		v += f;
		if (v > (uint64) PG_INT64_MAX)
		{
			err = "amount out of range";
			goto done;
		}
	}
	*result = neg ? -(int64) v : (int64) v;
done:
	*sp = s;
	return err;
}

/* read a spend (see clm_parse_spend) */
static int64
read_spend(Cursor *cur)
{
	int64		v = 0;
	const char *err;

	skip_ws(cur);
	err = clm_parse_spend(&cur->s, &v);
	if (err)
		syntax_error(cur, err);
	return v;
}

/* read -?YYYY-MM-DD (without quotes) into a julian day */
static int
read_ymd(Cursor *cur, int *y, int *m, int *d)
{
	bool		neg = false;
	int64		year;
	int			ndig = 0;

	if (*cur->s == '-')
	{
		neg = true;
		cur->s++;
	}
	year = 0;
	while (isdigit((unsigned char) *cur->s))
	{
		year = year * 10 + (*cur->s - '0');
		if (year > 10000000)
			syntax_error(cur, "year out of range");
		cur->s++;
		ndig++;
	}
	if (ndig < 4 || *cur->s != '-')
		syntax_error(cur, "expected a date YYYY-MM-DD");
	cur->s++;
	if (!isdigit((unsigned char) cur->s[0]) || !isdigit((unsigned char) cur->s[1]) || cur->s[2] != '-' ||
		!isdigit((unsigned char) cur->s[3]) || !isdigit((unsigned char) cur->s[4]))
		syntax_error(cur, "expected a date YYYY-MM-DD");
	*m = (cur->s[0] - '0') * 10 + (cur->s[1] - '0');
	*d = (cur->s[3] - '0') * 10 + (cur->s[4] - '0');
	cur->s += 5;
	*y = (int) (neg ? -year : year);
	if (*m < 1 || *m > 12 || *d < 1 || *d > day_tab[isleap(*y)][*m - 1])
		syntax_error(cur, "invalid date");
	if (!IS_VALID_JULIAN(*y, *m, *d))
		syntax_error(cur, "date out of range");
	return date2j(*y, *m, *d);
}

/* read a quoted date */
static int32
read_date(Cursor *cur)
{
	int			y,
				m,
				d,
				jd;

	expect_char(cur, '"');
	jd = read_ymd(cur, &y, &m, &d);
	if (*cur->s != '"')
		syntax_error(cur, "expected a date YYYY-MM-DD");
	cur->s++;
	if (!IS_VALID_DATE(jd - POSTGRES_EPOCH_JDATE))
		syntax_error(cur, "date out of range");
	return jd - POSTGRES_EPOCH_JDATE;
}

/* read a quoted UTC instant: YYYY-MM-DD HH:MM:SS[.f{1,6}]+00 */
static TimestampTz
read_timestamp(Cursor *cur)
{
	struct pg_tm tm;
	fsec_t		fsec = 0;
	Timestamp	ts;
	const char *s;

	memset(&tm, 0, sizeof(tm));
	expect_char(cur, '"');
	(void) read_ymd(cur, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	s = cur->s;
	if (s[0] != ' ' || !isdigit((unsigned char) s[1]) || !isdigit((unsigned char) s[2]) || s[3] != ':' ||
		!isdigit((unsigned char) s[4]) || !isdigit((unsigned char) s[5]) || s[6] != ':' ||
		!isdigit((unsigned char) s[7]) || !isdigit((unsigned char) s[8]))
		syntax_error(cur, "expected a time HH:MM:SS");
	tm.tm_hour = (s[1] - '0') * 10 + (s[2] - '0');
	tm.tm_min = (s[4] - '0') * 10 + (s[5] - '0');
	tm.tm_sec = (s[7] - '0') * 10 + (s[8] - '0');
	cur->s += 9;
	if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		syntax_error(cur, "invalid time");
	if (*cur->s == '.')
	{
		int			n = 0;
		int			scale = 100000;

		cur->s++;
		while (isdigit((unsigned char) *cur->s) && n < 6)
		{
			fsec += (*cur->s - '0') * scale;
			scale /= 10;
			n++;
			cur->s++;
		}
		if (n == 0 || isdigit((unsigned char) *cur->s))
			syntax_error(cur, "expected 1 to 6 fractional digits");
	}
	if (strncmp(cur->s, "+00\"", 4) != 0)
		syntax_error(cur, "expected a UTC instant ending in +00");
	cur->s += 4;
	if (tm2timestamp(&tm, fsec, NULL, &ts) != 0 || !IS_VALID_TIMESTAMP(ts))
		syntax_error(cur, "timestamp out of range");
	return (TimestampTz) ts;
}

/* read a quoted JSON string into buf (at most CLM_MAX_CHANNEL_NAME bytes) */
static int
read_string(Cursor *cur, char *buf)
{
	int			len = 0;

	expect_char(cur, '"');
	for (;;)
	{
		unsigned char ch = (unsigned char) *cur->s;

		if (ch == '\0')
			syntax_error(cur, "unterminated string");
		if (ch == '"')
		{
			cur->s++;
			break;
		}
		if (ch < 0x20)
			syntax_error(cur, "control character in string");
		if (ch == '\\')
		{
			ch = (unsigned char) cur->s[1];
			if (ch == '"' || ch == '\\' || ch == '/')
				cur->s += 2;
			else if (ch == 'u')
			{
				int			v = 0,
							k;

				for (k = 2; k < 6; k++)
				{
					char		h = cur->s[k];

					if (!isxdigit((unsigned char) h))
						syntax_error(cur, "invalid \\u escape");
					v = v * 16 + (isdigit((unsigned char) h) ? h - '0' : (tolower((unsigned char) h) - 'a' + 10));
				}
				if (v == 0 || v > 0x7f)
					syntax_error(cur, "only \\u0001 to \\u007f escapes are accepted");
				ch = (unsigned char) v;
				cur->s += 6;
			}
			else
				syntax_error(cur, "invalid escape");
		}
		else
			cur->s++;
		if (len >= CLM_MAX_CHANNEL_NAME)
			syntax_error(cur, "channel name longer than 64 bytes");
		buf[len++] = (char) ch;
	}
	return len;
}

/* text -> profile */
Datum
clm_profile_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	Cursor		cur;
	ProfileParts pp;
	ClmProfile *p;
	const char *why;
	int64		version;

	cur.start = cur.s = str;
	parts_init(&pp);

	expect_char(&cur, '{');
	expect_key(&cur, "v");
	version = read_int(&cur, 0, 255);
	if (version != CLM_PROFILE_VERSION)
		syntax_error(&cur, "unsupported version");
	expect_char(&cur, ',');
	expect_key(&cur, "events");
	pp.head.n_events = read_int(&cur, 0, PG_INT64_MAX);
	expect_char(&cur, ',');
	expect_key(&cur, "refunds");
	pp.head.n_refunds = read_int(&cur, 0, PG_INT64_MAX);
	expect_char(&cur, ',');
	expect_key(&cur, "first_event");
	pp.head.first_event = read_timestamp(&cur);
	expect_char(&cur, ',');
	expect_key(&cur, "last_event");
	pp.head.last_event = read_timestamp(&cur);
	expect_char(&cur, ',');

	expect_key(&cur, "days");
	expect_char(&cur, '[');
	if (!accept_char(&cur, ']'))
	{
		do
		{
			int32		day;
			int32		orders;
			int64		spend;

			expect_char(&cur, '[');
			day = read_date(&cur);
			expect_char(&cur, ',');
			orders = (int32) read_int(&cur, 0, PG_INT32_MAX);
			expect_char(&cur, ',');
			spend = read_spend(&cur);
			expect_char(&cur, ']');
			parts_day(&pp, day, orders, spend);
		} while (accept_char(&cur, ','));
		expect_char(&cur, ']');
	}
	expect_char(&cur, ',');

	expect_key(&cur, "channels");
	expect_char(&cur, '[');
	if (!accept_char(&cur, ']'))
	{
		do
		{
			char		name[CLM_MAX_CHANNEL_NAME];
			int			len;
			int64		events,
						purchases;
			int32		last_day;

			expect_char(&cur, '[');
			len = read_string(&cur, name);
			expect_char(&cur, ',');
			events = read_int(&cur, 0, PG_INT64_MAX);
			expect_char(&cur, ',');
			purchases = read_int(&cur, 0, PG_INT64_MAX);
			expect_char(&cur, ',');
			last_day = read_date(&cur);
			expect_char(&cur, ']');
			if (!parts_channel(&pp, name, len, events, purchases, last_day))
				syntax_error(&cur, "more than 16 channels");
		} while (accept_char(&cur, ','));
		expect_char(&cur, ']');
	}
	expect_char(&cur, ',');

	expect_key(&cur, "other");
	expect_char(&cur, '[');
	pp.head.other_events = read_int(&cur, 0, PG_INT64_MAX);
	expect_char(&cur, ',');
	pp.head.other_purchases = read_int(&cur, 0, PG_INT64_MAX);
	expect_char(&cur, ',');
	skip_ws(&cur);
	if (strncmp(cur.s, "null", 4) == 0)
		cur.s += 4;
	else
		pp.head.other_last_day = read_date(&cur);
	expect_char(&cur, ']');
	expect_char(&cur, '}');
	skip_ws(&cur);
	if (*cur.s != '\0')
		syntax_error(&cur, "unexpected text after the profile");

	p = parts_finish(&pp, &why);
	if (p == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type clm.profile"),
				 errdetail("The value is inconsistent: %s.", why)));
	PG_RETURN_POINTER(p);
}

/*
 * Binary form: version (int8), events, refunds, other_events,
 * other_purchases (int8 each), other_last_day (int4), first_event,
 * last_event (int8), n_days (int4) then per day: day (int4), orders (int4),
 * spend (int8); n_channels (int4) then per channel: name length (int4),
 * name bytes, events (int8), purchases (int8), last_day (int4).
 */
Datum
clm_profile_send(PG_FUNCTION_ARGS)
{
	ClmProfile *p = PG_GETARG_CLM_PROFILE(0);
	const ClmDay *days = clm_profile_days(p);
	const ClmChannel *c = (const ClmChannel *) clm_profile_channels(p);
	StringInfoData buf;
	int32		i;

	pq_begintypsend(&buf);
	pq_sendint8(&buf, p->version);
	pq_sendint64(&buf, p->n_events);
	pq_sendint64(&buf, p->n_refunds);
	pq_sendint64(&buf, p->other_events);
	pq_sendint64(&buf, p->other_purchases);
	pq_sendint32(&buf, p->other_last_day);
	pq_sendint64(&buf, p->first_event);
	pq_sendint64(&buf, p->last_event);
	pq_sendint32(&buf, p->n_days);
	for (i = 0; i < p->n_days; i++)
	{
		pq_sendint32(&buf, days[i].day);
		pq_sendint32(&buf, days[i].orders);
		pq_sendint64(&buf, days[i].spend);
	}
	pq_sendint32(&buf, p->n_channels);
	for (i = 0; i < p->n_channels; i++)
	{
		pq_sendint32(&buf, c->name_len);
		pq_sendbytes(&buf, c->name, c->name_len);
		pq_sendint64(&buf, c->events);
		pq_sendint64(&buf, c->purchases);
		pq_sendint32(&buf, c->last_day);
		c = clm_channel_next(c);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

pg_noreturn static void binary_error(const char *what);

/* raise the binary input error */
static void
binary_error(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid binary representation of clm.profile"),
			 errdetail("%c%s.", toupper((unsigned char) what[0]), what + 1)));
}

/* ensure n more bytes are in the message */
static inline void
need_bytes(StringInfo buf, int n)
{
	if (buf->len - buf->cursor < n)
		binary_error("the value is truncated");
}

/* binary -> profile */
Datum
clm_profile_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	ProfileParts pp;
	ClmProfile *p;
	const char *why;
	int32		n,
				i;

	parts_init(&pp);
	need_bytes(buf, 1 + 8 * 4 + 4 + 8 * 2 + 4);
	if (pq_getmsgint(buf, 1) != CLM_PROFILE_VERSION)
		binary_error("unsupported version");
	pp.head.n_events = pq_getmsgint64(buf);
	pp.head.n_refunds = pq_getmsgint64(buf);
	pp.head.other_events = pq_getmsgint64(buf);
	pp.head.other_purchases = pq_getmsgint64(buf);
	pp.head.other_last_day = (int32) pq_getmsgint(buf, 4);
	pp.head.first_event = pq_getmsgint64(buf);
	pp.head.last_event = pq_getmsgint64(buf);
	n = (int32) pq_getmsgint(buf, 4);
	if (n < 0 || n > (buf->len - buf->cursor) / 16)
		binary_error("the day count does not match the data");
	for (i = 0; i < n; i++)
	{
		int32		day = (int32) pq_getmsgint(buf, 4);
		int32		orders = (int32) pq_getmsgint(buf, 4);
		int64		spend = pq_getmsgint64(buf);

		parts_day(&pp, day, orders, spend);
	}
	need_bytes(buf, 4);
	n = (int32) pq_getmsgint(buf, 4);
	if (n < 0 || n > CLM_MAX_CHANNELS)
		binary_error("too many channels");
	for (i = 0; i < n; i++)
	{
		int32		len;
		const char *name;
		int64		events,
					purchases;
		int32		last_day;

		need_bytes(buf, 4);
		len = (int32) pq_getmsgint(buf, 4);
		if (len < 0 || len > CLM_MAX_CHANNEL_NAME)
			binary_error("channel name too long");
		need_bytes(buf, len + 20);
		name = pq_getmsgbytes(buf, len);
		events = pq_getmsgint64(buf);
		purchases = pq_getmsgint64(buf);
		last_day = (int32) pq_getmsgint(buf, 4);
		parts_channel(&pp, name, len, events, purchases, last_day);
	}
	if (buf->cursor != buf->len)
		binary_error("unexpected data after the profile");

	p = parts_finish(&pp, &why);
	if (p == NULL)
		binary_error(why);
	PG_RETURN_POINTER(p);
}

PG_FUNCTION_INFO_V1(clm_profile_eq);
PG_FUNCTION_INFO_V1(clm_profile_ne);

/* true if the canonical forms of two profiles are identical */
static bool
profile_equal(Datum a, Datum b)
{
	ClmProfile *x = clm_profile_read(a);
	ClmProfile *y = clm_profile_read(b);

	return VARSIZE(x) == VARSIZE(y) && memcmp(x, y, VARSIZE(x)) == 0;
}

/* profile = profile: the same history */
Datum
clm_profile_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(profile_equal(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)));
}

/* profile <> profile */
Datum
clm_profile_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!profile_equal(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)));
}
