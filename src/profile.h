/*-------------------------------------------------------------------------
 *
 * profile.h
 *	  The clm.profile type: one customer's mergeable history.
 *
 * A profile is a varlena with a fixed 72-byte header, a day array and a
 * channel area at the very end:
 *
 *	 ClmProfile header	(72 bytes)
 *	 ClmDay[n_days]		(16 bytes each, sorted by day, distinct)
 *	 [spare day slots]	(build states only)
 *	 channel area		(chan_bytes; n_channels records sorted by name)
 *
 * Keeping the channel area last lets a build state grow its day array into
 * spare slots without moving the channels, and change its channels (at most
 * CLM_MAX_CHANNELS of them) without moving the days.
 *
 * The states the clm.profile aggregate starts (flag CLM_PF_CHANFIRST) put
 * the channel area right after the header instead:
 *
 *	 ClmProfile header | channel area | ClmDay[n_days] | [spare day slots]
 *
 * Every input row reads the header and a channel record; with many
 * customers each state is a cache miss, and with the channels at the end of
 * a state of a few hundred bytes or more the channel record was a second
 * miss that could only start once the header had arrived.  Right after the
 * header, both are in one or two adjacent cache lines.  Adding a channel
 * (rare: at most CLM_MAX_CHANNELS times) moves the days.  The accessors
 * below serve both layouts; clm_profile_read turns either into the
 * canonical (stored) layout.
 *
 * Every calendar day with at least one event has one ClmDay.  A day is a
 * "purchase day" when orders > 0.  spend is the day's net amount (purchases
 * minus refunds) in units of 1/10000 of the currency (CLM_SPEND_SCALE).
 *
 * While an aggregate builds a profile, the same layout is used with two
 * relaxations (a "build state"): the day array may be unsorted and may hold
 * duplicate days (flag CLM_PF_UNSORTED), and the varlena may carry spare
 * capacity after the last day.  Every function that reads a profile from SQL
 * goes through clm_profile_read(), which turns a build state into the
 * canonical form, so a build state is never visible to users.
 *
 * Invariants of the canonical form (checked by clm_profile_validate):
 *	 - days strictly increasing, each a finite date;
 *	 - orders >= 0 per day; the sum of |spend| over all days fits in int64,
 *	   so every partial sum of spends fits as well;
 *	 - n_events >= n_days and >= sum(orders) + n_refunds;
 *	 - first_event <= last_event, both finite;
 *	 - channels sorted by name (byte order), at most CLM_MAX_CHANNELS, names
 *	   at most CLM_MAX_CHANNEL_NAME bytes, events >= purchases >= 0,
 *	   events >= 1, last_day an activity day;
 *	 - other_* non-zero only when all CLM_MAX_CHANNELS slots are used.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_PROFILE_H
#define CLM_PROFILE_H

#include "postgres.h"
#include "fmgr.h"
#include "utils/date.h"
#include "utils/timestamp.h"

#include "compat.h"

#define CLM_PROFILE_VERSION		1

/* flags */
#define CLM_PF_UNSORTED			0x01	/* build state: days unsorted/dup */
#define CLM_PF_CHANFIRST		0x02	/* build state: channels before days */
#define CLM_PF_KNOWN_FLAGS		0x03

/* amounts are stored as int64 in units of 1/CLM_SPEND_SCALE */
#define CLM_SPEND_SCALE			10000
#define CLM_SPEND_DIGITS		4

/* channel cap: the CLM_MAX_CHANNELS names that sort first are kept */
#define CLM_MAX_CHANNELS		16
#define CLM_MAX_CHANNEL_NAME	64

typedef struct ClmDay
{
	int32		day;			/* DateADT: days since 2000-01-01 */
	int32		orders;			/* purchase rows (amount >= 0) that day */
	int64		spend;			/* net amount that day, 1/10000 units */
} ClmDay;

/* fixed part of a channel record; name bytes follow, padded to 8 */
typedef struct ClmChannel
{
	int64		events;			/* rows with this channel */
	int64		purchases;		/* purchase rows with this channel */
	int32		last_day;		/* last day with an event on this channel */
	uint16		name_len;		/* bytes of name, no terminator */
	uint16		reserved;		/* zero */
	char		name[FLEXIBLE_ARRAY_MEMBER];
} ClmChannel;

#define CLM_CHANNEL_FIXED		offsetof(ClmChannel, name)
#define CLM_CHANNEL_SIZE(len)	CLM_ALIGN8(CLM_CHANNEL_FIXED + (len))
#define CLM_ALIGN8(x)			TYPEALIGN(8, (x))

typedef struct ClmProfile
{
	/* fields every input row touches come first (one cache line) */
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* CLM_PROFILE_VERSION */
	uint8		flags;			/* CLM_PF_* */
	uint16		n_channels;		/* channel records */
	uint32		chan_bytes;		/* size of the channel area, multiple of 8 */
	int32		n_days;			/* day entries in use */
	int64		n_events;		/* rows aggregated */
	TimestampTz first_event;	/* earliest occurred_at */
	TimestampTz last_event;		/* latest occurred_at */
	int64		n_refunds;		/* rows with a negative amount */
	int32		tail_day;		/* build states: days[n_days - 1].day; else 0 */
	/* channels past the cap */
	int32		other_last_day; /* last day of those rows (0 if none) */
	int64		other_events;	/* rows of channels beyond the cap */
	int64		other_purchases;	/* purchase rows of those channels */
} ClmProfile;

#define CLM_HEADER_SIZE			((Size) sizeof(ClmProfile))

StaticAssertDecl(sizeof(ClmProfile) == 72, "ClmProfile header must be 72 bytes");
StaticAssertDecl(sizeof(ClmDay) == 16, "ClmDay must be 16 bytes");

/* the day array: after the header, or after the channel area */
static inline ClmDay *
clm_profile_days(const ClmProfile *p)
{
	if (p->flags & CLM_PF_CHANFIRST)
		return (ClmDay *) ((char *) p + CLM_HEADER_SIZE + p->chan_bytes);
	return (ClmDay *) ((char *) p + CLM_HEADER_SIZE);
}

/* the channel area: after the header, or the last chan_bytes bytes */
static inline char *
clm_profile_channels(const ClmProfile *p)
{
	if (p->flags & CLM_PF_CHANFIRST)
		return (char *) p + CLM_HEADER_SIZE;
	return (char *) p + VARSIZE(p) - p->chan_bytes;
}

/* capacity of the day array given the varlena size */
static inline int32
clm_profile_capacity(const ClmProfile *p)
{
	return (int32) ((VARSIZE(p) - CLM_HEADER_SIZE - p->chan_bytes) / sizeof(ClmDay));
}

/* next channel record in the channel area */
static inline ClmChannel *
clm_channel_next(const ClmChannel *c)
{
	return (ClmChannel *) ((char *) c + CLM_CHANNEL_SIZE(c->name_len));
}

/*
 * Reading: detoast a datum and return a canonical profile (sorted, distinct,
 * no spare capacity).  The result may point into the datum or be a copy.
 */
extern ClmProfile *clm_profile_read(Datum d);

#define PG_GETARG_CLM_PROFILE(n)	clm_profile_read(PG_GETARG_DATUM(n))
#define PG_RETURN_CLM_PROFILE(p)	PG_RETURN_POINTER(p)

/*
 * Number of days in p with day <= as_of (binary search): the days of the
 * profile "as of" that date are days[0 .. result-1].
 */
extern int32 clm_profile_prefix(const ClmProfile *p, DateADT as_of);

/* model inputs (summary.c) */
extern double clm_unit_days(text *unit_text);
extern void clm_check_calibration_end(DateADT cal_end);
extern bool clm_btyd_values(const ClmProfile *p, DateADT cal_end, double u,
							bool with_spend, double out[4]);

/* one input row of the profile aggregates, decoded */
typedef struct ClmEvent
{
	TimestampTz ts;				/* occurred_at */
	int64		spend;			/* amount in 1/CLM_SPEND_SCALE units, or 0 */
	int32		day;			/* its calendar day */
	int32		orders;			/* 1 for a purchase, else 0 */
	bool		refund;			/* a negative amount */
	int			chan_len;		/* bytes of the channel name; -1: none */
	const char *chan;			/* the channel name (not terminated) */
} ClmEvent;

/* build states and merging (profile_agg.c) */
extern ClmProfile *clm_profile_add_event(ClmProfile *st, const ClmEvent *ev);
extern ClmProfile *clm_profile_alloc(MemoryContext cxt, uint32 chan_bytes, int32 cap_days);
extern void clm_profile_tidy(ClmProfile *p);
extern ClmProfile *clm_profile_canonical_copy(const ClmProfile *p, MemoryContext cxt);
extern ClmProfile *clm_profile_merge_into(ClmProfile *a, const ClmProfile *b, bool *moved);

/* validation (profile_io.c): returns NULL if valid, else a static message */
extern const char *clm_profile_check(const ClmProfile *p, Size size);

/* spend formatting: appends the decimal form of v/CLM_SPEND_SCALE */
struct StringInfoData;
extern void clm_append_spend(struct StringInfoData *buf, int64 v);

/* date formatting: appends -?YYYY-MM-DD with an astronomical year */
extern void clm_append_date(struct StringInfoData *buf, int32 day);

/* parse a signed integer within [lo, hi]; NULL or what is wrong */
extern const char *clm_parse_int64(const char **sp, int64 lo, int64 hi, int64 *result);

/* parse -?digits(.digits{1,4})? as 1/10000 units; NULL or what is wrong */
extern const char *clm_parse_spend(const char **sp, int64 *result);

/* a numeric Datum for v/CLM_SPEND_SCALE, at least 2 decimals, exact */
extern Datum clm_spend_numeric(int64 v);

/* sorting and merging of a day array; returns the new length */
extern int32 clm_days_sort_merge(ClmDay *days, int32 n);

/* raise "corrupt clm.profile" (XX001) if p's structure is inconsistent */
extern void clm_profile_check_structure(const ClmProfile *p);

#endif							/* CLM_PROFILE_H */
