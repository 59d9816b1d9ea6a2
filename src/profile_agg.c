/*-------------------------------------------------------------------------
 *
 * profile_agg.c
 *	  Building and merging clm.profile values: the profile aggregates.
 *
 * The aggregate's state type is clm.profile itself (not internal), so that
 * parallel query and Citus can move partial states between processes.  To
 * keep the transition function amortised O(1) per row without copying the
 * state on each row, a state is a "build state" (see profile.h): a profile
 * whose day array has spare slots and may be unsorted.  The transition
 * function changes the state in place and returns the same pointer, which the
 * executor keeps without a copy.  When the state is full it is compacted
 * (sorted, equal days merged) or grown to the next power-of-two size; the new
 * value is built in the per-row context and the executor copies it into the
 * aggregate context and frees the old one: two copies per doubling.
 *
 * That is the row-at-a-time path, for a user's aggregate on these functions.
 * clm's own aggregates queue the decoded row instead and apply the rows in
 * batches, customer by customer (profile_build.c), with the same code
 * (clm_profile_add_event), so the two give the same bytes.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "period.h"
#include "profile.h"
#include "profile_build.h"
#include "rowconv.h"

PG_FUNCTION_INFO_V1(clm_profile_trans);
PG_FUNCTION_INFO_V1(clm_profile_combine);
PG_FUNCTION_INFO_V1(clm_profile_final);
PG_FUNCTION_INFO_V1(clm_profile_merge);

/* the largest channel area: CLM_MAX_CHANNELS records of the longest name */
#define CHAN_AREA_MAX	((CLM_MAX_CHANNELS + 1) * CLM_CHANNEL_SIZE(CLM_MAX_CHANNEL_NAME))

/* argument types of one call site of the transition function */
typedef struct TransInfo
{
	Oid			time_type;		/* TIMESTAMPTZOID, TIMESTAMPOID or DATEOID */
	Oid			amount_type;	/* NUMERICOID or FLOAT8OID */
	bool		has_channel;
	bool		has_zone;		/* a time_zone argument follows channel */
	const pg_tz *zone;			/* the zone of the last time_zone seen */
	int			zone_len;		/* and its name (zone_len bytes) */
	char		zone_name[TZ_STRLEN_MAX];
	int			batched;		/* -1 not known yet; 1: profile_build.c's path */
	ClmBuildArena *arenas;		/* that path's arenas (profile_build.c) */
} TransInfo;

/* raise a 22003 error for a counter that would overflow */
static pg_noinline void
overflow_error(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("clm.profile %s out of range", what)));
}

/* checked int64 addition */
static inline int64
add64(int64 a, int64 b, const char *what)
{
	int64		r;

	if (unlikely(__builtin_add_overflow(a, b, &r)))
		overflow_error(what);
	return r;
}

/* allocate a zeroed profile with room for cap_days days and a channel area */
ClmProfile *
clm_profile_alloc(MemoryContext cxt, uint32 chan_bytes, int32 cap_days)
{
	Size		size = CLM_HEADER_SIZE + (Size) chan_bytes + (Size) cap_days * sizeof(ClmDay);
	ClmProfile *p;

	if (cap_days < 0 || size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("clm.profile would exceed the maximum size of 1 GB")));
	p = (ClmProfile *) MemoryContextAllocZero(cxt, size);
	SET_VARSIZE(p, size);
	p->version = CLM_PROFILE_VERSION;
	p->chan_bytes = chan_bytes;
	return p;
}

/* order days by date */
static int
day_cmp(const void *a, const void *b)
{
	int32		x = ((const ClmDay *) a)->day;
	int32		y = ((const ClmDay *) b)->day;

	return (x > y) - (x < y);
}

/*
 * Sort a day array and merge entries of the same day (orders and spends
 * added).  Returns the number of distinct days.
 */
int32
clm_days_sort_merge(ClmDay *days, int32 n)
{
	int32		i,
				out;
	bool		sorted = true;

	for (i = 1; i < n; i++)
	{
		if (days[i].day <= days[i - 1].day)
		{
			sorted = false;
			break;
		}
	}
	if (sorted)
		return n;

	qsort(days, n, sizeof(ClmDay), day_cmp);
	out = 0;
	for (i = 0; i < n; i++)
	{
		if (out > 0 && days[out - 1].day == days[i].day)
		{
			int32		o;

			if (__builtin_add_overflow(days[out - 1].orders, days[i].orders, &o))
				overflow_error("daily order count");
			days[out - 1].orders = o;
			days[out - 1].spend = add64(days[out - 1].spend, days[i].spend, "daily spend");
		}
		else
			days[out++] = days[i];
	}
	return out;
}

/* check that the sum of |spend| fits in int64 (the invariant of profile.h) */
static void
check_spend_total(const ClmDay *days, int32 n)
{
	int64		total = 0;
	int32		i;

	for (i = 0; i < n; i++)
	{
		int64		s = days[i].spend;

		if (s == PG_INT64_MIN)
			overflow_error("total spend");
		total = add64(total, s < 0 ? -s : s, "total spend");
	}
}

/* sort and merge the days of a build state in place */
void
clm_profile_tidy(ClmProfile *p)
{
	if (p->flags & CLM_PF_UNSORTED)
	{
		p->n_days = clm_days_sort_merge(clm_profile_days(p), p->n_days);
		p->flags &= ~CLM_PF_UNSORTED;
		if (p->n_days > 0)
			p->tail_day = clm_profile_days(p)[p->n_days - 1].day;
	}
}

/* copy the header fields other than the varlena length and the layout sizes */
static void
copy_header(ClmProfile *dst, const ClmProfile *src)
{
	dst->version = CLM_PROFILE_VERSION;
	dst->flags = src->flags;
	dst->n_channels = src->n_channels;
	dst->n_days = src->n_days;
	dst->n_events = src->n_events;
	dst->n_refunds = src->n_refunds;
	dst->other_events = src->other_events;
	dst->other_purchases = src->other_purchases;
	dst->other_last_day = src->other_last_day;
	dst->tail_day = src->tail_day;
	dst->first_event = src->first_event;
	dst->last_event = src->last_event;
}

/* a canonical copy of p (sorted, distinct days, exact size) in cxt */
ClmProfile *
clm_profile_canonical_copy(const ClmProfile *p, MemoryContext cxt)
{
	const ClmDay *src = clm_profile_days(p);
	ClmDay	   *tmp = NULL;
	int32		n = p->n_days;
	ClmProfile *r;

	if (p->flags & CLM_PF_UNSORTED)
	{
		tmp = palloc(sizeof(ClmDay) * Max(n, 1));
		memcpy(tmp, src, sizeof(ClmDay) * n);
		n = clm_days_sort_merge(tmp, n);
		src = tmp;
	}
	check_spend_total(src, n);

	r = clm_profile_alloc(cxt, p->chan_bytes, n);
	copy_header(r, p);
	r->flags = 0;
	r->tail_day = 0;
	r->n_days = n;
	memcpy(clm_profile_days(r), src, sizeof(ClmDay) * n);
	memcpy(clm_profile_channels(r), clm_profile_channels(p), p->chan_bytes);
	if (tmp)
		pfree(tmp);
	return r;
}

/*
 * A copy of p in the current context with room for at least need_days days
 * and a channel area of chan_bytes bytes (whose content the caller writes
 * if it differs from p's).  The total size is rounded up to a power of two,
 * the size class the allocator uses anyway, and the slack becomes day slots.
 */
static ClmProfile *
state_resize(const ClmProfile *p, int32 need_days, uint32 chan_bytes)
{
	Size		need = CLM_HEADER_SIZE + chan_bytes + (Size) need_days * sizeof(ClmDay);
	Size		size = 128;
	int32		cap;
	ClmProfile *r;

	while (size < need)
		size *= 2;
	if (size > MaxAllocSize)
		size = need;
	cap = (int32) ((size - CLM_HEADER_SIZE - chan_bytes) / sizeof(ClmDay));
	r = clm_profile_alloc(CurrentMemoryContext, chan_bytes, cap);
	copy_header(r, p);
	memcpy(clm_profile_days(r), clm_profile_days(p), sizeof(ClmDay) * p->n_days);
	if (chan_bytes == p->chan_bytes)
		memcpy(clm_profile_channels(r), clm_profile_channels(p), chan_bytes);
	return r;
}

/* make room for one more day, compacting or growing the state */
static ClmProfile *
state_make_room(ClmProfile *st, int32 extra)
{
	int32		cap = clm_profile_capacity(st);

	if (st->n_days + extra <= cap)
		return st;
	if (st->flags & CLM_PF_UNSORTED)
	{
		clm_profile_tidy(st);
		/* keep at least a quarter free so compaction stays amortised O(1) */
		if (st->n_days + extra <= cap - cap / 4)
			return st;
	}
	return state_resize(st, Max(st->n_days * 2, st->n_days + extra), st->chan_bytes);
}

/* add one event's contribution to a day of a build state */
static inline ClmProfile *
state_add_day(ClmProfile *st, int32 day, int32 orders, int64 spend)
{
	ClmDay	   *days = clm_profile_days(st);
	int32		n = st->n_days;

	/*
	 * tail_day mirrors days[n - 1].day in the header, so that an append (the
	 * common case) reads only the header's cache line and stores the entry:
	 * days[n - 1] is read only when the event falls on the tail day.  With
	 * many customers every row's state is a cache miss, and a second miss on
	 * the day array made the build twice as slow once its states outgrew the
	 * caches.
	 */
	if (n > 0 && st->tail_day == day)
	{
		if (likely(days[n - 1].day == day))
		{
			int32		o;

			if (unlikely(__builtin_add_overflow(days[n - 1].orders, orders, &o)))
				overflow_error("daily order count");
			days[n - 1].orders = o;
			days[n - 1].spend = add64(days[n - 1].spend, spend, "daily spend");
			return st;
		}
		st->tail_day = days[n - 1].day;
		return state_add_day(st, day, orders, spend);
	}

	/*
	 * A state this module did not build (a canonical profile: a user
	 * aggregate's initcond, or profile_merge's first value) has tail_day 0,
	 * and so may a build state whose last day is 2000-01-01: set tail_day
	 * from the days.  Every state this module built keeps it exact.
	 */
	if (unlikely(n > 0 && st->tail_day == 0 && days[n - 1].day != 0))
	{
		st->tail_day = days[n - 1].day;
		return state_add_day(st, day, orders, spend);
	}
	if (unlikely(n == clm_profile_capacity(st)))
	{
		st = state_make_room(st, 1);
		days = clm_profile_days(st);
		n = st->n_days;
	}
	/*
	 * "<=": the equal day was merged above, unless state_make_room just
	 * sorted the days and so put this day's entry at the end.
	 */
	if (n > 0 && day <= st->tail_day)
		st->flags |= CLM_PF_UNSORTED;
	days[n].day = day;
	days[n].orders = orders;
	days[n].spend = spend;
	st->n_days = n + 1;
	st->tail_day = day;
	return st;
}

/* byte order of channel names: memcmp, then shorter first */
static inline int
name_cmp(const char *a, int alen, const char *b, int blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/* fold channel counts into the "other" bucket */
static void
fold_other(ClmProfile *st, int64 events, int64 purchases, int32 last_day)
{
	if (st->other_events == 0 || last_day > st->other_last_day)
		st->other_last_day = last_day;
	st->other_events = add64(st->other_events, events, "channel event count");
	st->other_purchases = add64(st->other_purchases, purchases, "channel purchase count");
}

/*
 * Add counts to the channel called name.  At most CLM_MAX_CHANNELS channels
 * are kept: the ones whose names sort first.  A new channel that sorts after
 * all kept ones when the table is full goes to the "other" bucket; one that
 * sorts before evicts the last kept channel into "other".  Keeping the
 * smallest names (a rule on names alone, not on counts) makes merging
 * associative and commutative past the cap.
 */
static ClmProfile *
state_add_channel(ClmProfile *st, const char *name, int len,
				  int64 events, int64 purchases, int32 last_day)
{
	char	   *area = clm_profile_channels(st);
	ClmChannel *c = (ClmChannel *) area;
	int			i,
				pos;
	char		buf[CHAN_AREA_MAX];
	char	   *w;
	uint32		new_bytes;
	int			new_n;
	bool		evict;

	/* the common case: a channel already kept (equal lengths, then bytes) */
	for (i = 0; i < st->n_channels; i++, c = clm_channel_next(c))
	{
		if (c->name_len == len && memcmp(c->name, name, len) == 0)
		{
			c->events = add64(c->events, events, "channel event count");
			c->purchases = add64(c->purchases, purchases, "channel purchase count");
			if (last_day > c->last_day)
				c->last_day = last_day;
			return st;
		}
	}

	/* a new channel: its position in name order */
	c = (ClmChannel *) area;
	for (i = 0; i < st->n_channels; i++, c = clm_channel_next(c))
	{
		if (name_cmp(c->name, c->name_len, name, len) > 0)
			break;
	}
	pos = i;

	evict = false;
	if (st->n_channels >= CLM_MAX_CHANNELS)
	{
		if (pos >= st->n_channels)
		{
			fold_other(st, events, purchases, last_day);
			return st;
		}
		evict = true;
	}

	/* rebuild the channel area with the new record at pos */
	w = buf;
	c = (ClmChannel *) area;
	new_n = 0;
	for (i = 0; i <= st->n_channels; i++)
	{
		if (i == pos)
		{
			ClmChannel *nc = (ClmChannel *) w;

			memset(w, 0, CLM_CHANNEL_SIZE(len));
			nc->events = events;
			nc->purchases = purchases;
			nc->last_day = last_day;
			nc->name_len = (uint16) len;
			memcpy(nc->name, name, len);
			w += CLM_CHANNEL_SIZE(len);
			new_n++;
		}
		if (i == st->n_channels)
			break;
		if (evict && i == st->n_channels - 1)
		{
			fold_other(st, c->events, c->purchases, c->last_day);
			break;
		}
		memcpy(w, c, CLM_CHANNEL_SIZE(c->name_len));
		w += CLM_CHANNEL_SIZE(c->name_len);
		new_n++;
		c = clm_channel_next(c);
	}
	new_bytes = (uint32) (w - buf);

	/* the area may take spare day slots, or give some back */
	if (CLM_HEADER_SIZE + (Size) st->n_days * sizeof(ClmDay) + new_bytes > VARSIZE(st))
		st = state_resize(st, Max(st->n_days * 2, 4), new_bytes);
	else if (st->flags & CLM_PF_CHANFIRST)
	{
		/* the days follow the channel area: move them first */
		ClmDay	   *days = clm_profile_days(st);

		memmove((char *) st + CLM_HEADER_SIZE + new_bytes, days,
				sizeof(ClmDay) * st->n_days);
	}
	st->chan_bytes = new_bytes;
	st->n_channels = (uint16) new_n;
	memcpy(clm_profile_channels(st), buf, new_bytes);
	return st;
}

/* a build state from a datum that may be toasted or short-headed */
static ClmProfile *
state_writable(Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	ClmProfile *p;

	/*
	 * A state this module built is a plain 4-byte-header varlena; anything
	 * else (a stored profile that became the first state of profile_merge,
	 * or a partial state that arrived in a tuple) is copied and checked.
	 */
	if (likely(!VARATT_IS_EXTENDED(v)))
		return (ClmProfile *) v;
	p = (ClmProfile *) PG_DETOAST_DATUM_COPY(d);
	clm_profile_check_structure(p);
	return p;
}

/* the argument types of this call site, cached in fn_extra */
static TransInfo *
trans_info(FunctionCallInfo fcinfo)
{
	TransInfo  *info = (TransInfo *) fcinfo->flinfo->fn_extra;

	if (info == NULL)
	{
		info = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(TransInfo));
		info->time_type = clm_arg_type(fcinfo, 1);
		info->amount_type = clm_arg_type(fcinfo, 2);
		info->has_channel = PG_NARGS() > 3;
		info->has_zone = PG_NARGS() > 4;
		info->zone = NULL;
		info->zone_len = 0;
		info->batched = -1;
		info->arenas = NULL;
		if (info->has_zone && info->time_type != TIMESTAMPTZOID)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("clm.profile takes a time zone only with a timestamptz occurred_at")));
		if (info->time_type != TIMESTAMPTZOID && info->time_type != TIMESTAMPOID &&
			info->time_type != DATEOID)
			elog(ERROR, "clm.profile: unsupported occurred_at type %u", info->time_type);
		if (info->amount_type != NUMERICOID && info->amount_type != FLOAT8OID)
			elog(ERROR, "clm.profile: unsupported amount type %u", info->amount_type);
		fcinfo->flinfo->fn_extra = info;
	}
	return info;
}

/*
 * The zone named by the time_zone argument of this row, looked up again only
 * when the name changes (it is normally the same constant on every row).
 */
static const pg_tz *
trans_zone(FunctionCallInfo fcinfo, TransInfo *info)
{
	struct varlena *z;
	int			len;

	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("time_zone must not be null"),
				 errhint("Name the zone the profile's days are counted in, such as 'UTC'.")));
	z = (struct varlena *) PG_GETARG_POINTER(4);
	if (unlikely(VARATT_IS_COMPRESSED(z) || VARATT_IS_EXTERNAL(z)))
		z = pg_detoast_datum_packed(z);
	len = VARSIZE_ANY_EXHDR(z);
	if (info->zone == NULL || len != info->zone_len ||
		memcmp(VARDATA_ANY(z), info->zone_name, len) != 0)
	{
		info->zone = clm_zone_lookup(VARDATA_ANY(z), len);
		/* a name that was found is at most TZ_STRLEN_MAX bytes */
		memcpy(info->zone_name, VARDATA_ANY(z), len);
		info->zone_len = len;
	}
	return info->zone;
}

/*
 * Transition function of clm.profile(occurred_at, amount [, channel
 * [, time_zone]]).
 *
 * Row semantics: a NULL occurred_at is skipped; a NULL amount is an activity
 * event (not a purchase); an amount >= 0 is a purchase (also 0); a negative
 * amount is a refund, added to that day's spend and not a purchase.
 */
Datum
clm_profile_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	TransInfo  *info;
	ClmProfile *st;
	TimestampTz ts;
	int32		day;
	ClmEvent	ev;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("clm.profile_trans can only be called as part of an aggregate"),
				 errhint("Use the clm.profile aggregate, or clm.profile_merge(a, b) to merge two profiles.")));
	info = trans_info(fcinfo);

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}

	/* the event's instant and local calendar day */
	if (info->time_type == TIMESTAMPTZOID)
	{
		ts = PG_GETARG_TIMESTAMPTZ(1);
		if (TIMESTAMP_NOT_FINITE(ts))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("occurred_at must be finite"),
					 errdetail("clm.profile got an infinite timestamp.")));
		if (info->has_zone)
			day = clm_zone_day(ts, trans_zone(fcinfo, info));
		else
			day = clm_local_day(ts);
	}
	else if (info->time_type == TIMESTAMPOID)
	{
		ts = PG_GETARG_TIMESTAMP(1);
		if (TIMESTAMP_NOT_FINITE(ts))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("occurred_at must be finite"),
					 errdetail("clm.profile got an infinite timestamp.")));
		day = clm_timestamp_day(ts);
	}
	else
	{
		DateADT		d = PG_GETARG_DATEADT(1);

		if (DATE_NOT_FINITE(d))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("occurred_at must be finite"),
					 errdetail("clm.profile got an infinite date.")));
		if (d < (MIN_TIMESTAMP / USECS_PER_DAY) || d >= (END_TIMESTAMP / USECS_PER_DAY))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("occurred_at is out of range for clm.profile"),
					 errdetail("Dates must lie in the range of timestamp values.")));
		day = d;
		ts = (TimestampTz) d * USECS_PER_DAY;
	}

	/* the amount: purchase, refund or none */
	ev.ts = ts;
	ev.day = day;
	ev.orders = 0;
	ev.spend = 0;
	ev.refund = false;
	if (!PG_ARGISNULL(2))
	{
		if (info->amount_type == NUMERICOID)
			ev.spend = clm_numeric_units(PG_GETARG_DATUM(2), &ev.refund);
		else
			ev.spend = clm_float8_units(PG_GETARG_FLOAT8(2), &ev.refund);
		if (!ev.refund)
			ev.orders = 1;
	}

	/* the channel, if any */
	ev.chan_len = -1;
	ev.chan = NULL;
	if (info->has_channel && !PG_ARGISNULL(3))
	{
		struct varlena *ch = (struct varlena *) PG_GETARG_POINTER(3);

		if (unlikely(VARATT_IS_COMPRESSED(ch) || VARATT_IS_EXTERNAL(ch)))
			ch = pg_detoast_datum_packed(ch);
		ev.chan_len = VARSIZE_ANY_EXHDR(ch);
		ev.chan = VARDATA_ANY(ch);
		if (ev.chan_len > CLM_MAX_CHANNEL_NAME)
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("channel name is too long for clm.profile"),
					 errdetail("The channel name has %d bytes; the maximum is %d.",
							   ev.chan_len, CLM_MAX_CHANNEL_NAME)));
	}

	/* clm's own aggregates: queue the row (profile_build.c) */
	if (info->batched < 0)
		info->batched = clm_build_usable(fcinfo) ? 1 : 0;
	if (info->batched)
		PG_RETURN_DATUM(clm_build_add(&info->arenas, aggcxt, PG_GETARG_DATUM(0),
									  PG_ARGISNULL(0), &ev));

	/* otherwise row by row, on a flat build state */
	if (PG_ARGISNULL(0))
		st = NULL;
	else
	{
		if (clm_build_apply_in_place(PG_GETARG_DATUM(0), &ev))
			PG_RETURN_DATUM(PG_GETARG_DATUM(0));
		st = state_writable(PG_GETARG_DATUM(0));
		/*
		 * With many customers the state is not in the caches: start loading
		 * the day slot this row writes and the channel records it reads (in
		 * the states this function starts, right after the header), so that
		 * the misses overlap instead of following each other.
		 */
		__builtin_prefetch(clm_profile_days(st) + st->n_days, 1);
		if (info->has_channel)
			__builtin_prefetch(clm_profile_channels(st), 1);
	}
	PG_RETURN_POINTER(clm_profile_add_event(st, &ev));
}

/*
 * Add one event to a build state, or start one (st NULL).  Returns the
 * state, which may have moved (the new one is in the current context).
 */
ClmProfile *
clm_profile_add_event(ClmProfile *st, const ClmEvent *ev)
{
	if (st == NULL)
	{
		st = clm_profile_alloc(CurrentMemoryContext, 0,
							   (128 - CLM_HEADER_SIZE) / sizeof(ClmDay));
		st->flags = CLM_PF_CHANFIRST;
		st->first_event = ev->ts;
		st->last_event = ev->ts;
	}
	else
	{
		if (ev->ts < st->first_event)
			st->first_event = ev->ts;
		if (ev->ts > st->last_event)
			st->last_event = ev->ts;
	}

	st = state_add_day(st, ev->day, ev->orders, ev->spend);
	st->n_events = add64(st->n_events, 1, "event count");
	if (ev->refund)
		st->n_refunds++;
	if (ev->chan_len >= 0)
		st = state_add_channel(st, ev->chan, ev->chan_len, 1, ev->orders, ev->day);
	return st;
}

/*
 * Merge b into the build state a, which may be reallocated (in the current
 * context); *moved tells whether it was.  Days are appended and merged
 * lazily; counters added; first and last events widened; channels merged
 * under the cap rule of state_add_channel.
 */
ClmProfile *
clm_profile_merge_into(ClmProfile *a, const ClmProfile *b, bool *moved)
{
	ClmProfile *st = a;
	const ClmDay *bd = clm_profile_days(b);
	const ClmChannel *c;
	int			i;

	if (b->n_days > 0)
	{
		ClmDay	   *days;

		if (st->n_days + b->n_days > clm_profile_capacity(st))
			st = state_make_room(st, b->n_days);
		days = clm_profile_days(st);
		if ((b->flags & CLM_PF_UNSORTED) ||
			(st->n_days > 0 && bd[0].day <= days[st->n_days - 1].day))
			st->flags |= CLM_PF_UNSORTED;
		memcpy(days + st->n_days, bd, sizeof(ClmDay) * b->n_days);
		st->n_days += b->n_days;
		st->tail_day = days[st->n_days - 1].day;
	}

	st->n_events = add64(st->n_events, b->n_events, "event count");
	st->n_refunds = add64(st->n_refunds, b->n_refunds, "refund count");
	if (b->first_event < st->first_event)
		st->first_event = b->first_event;
	if (b->last_event > st->last_event)
		st->last_event = b->last_event;
	if (b->other_events > 0)
		fold_other(st, b->other_events, b->other_purchases, b->other_last_day);

	c = (const ClmChannel *) clm_profile_channels(b);
	for (i = 0; i < b->n_channels; i++)
	{
		/* state_add_channel may move st, but never b */
		st = state_add_channel(st, c->name, c->name_len, c->events, c->purchases, c->last_day);
		c = clm_channel_next(c);
	}

	*moved = (st != a);
	return st;
}

/* combine function of the profile aggregates, and transition of profile_merge(profile) */
Datum
clm_profile_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	ClmProfile *a;
	ClmProfile *b;
	bool		moved;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("clm.profile_combine can only be called as part of an aggregate"),
				 errhint("Use the clm.profile aggregate, or clm.profile_merge(a, b) to merge two profiles.")));

	/* the function is strict: both inputs are non-NULL here */
	b = (ClmProfile *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	clm_profile_check_structure(b);

	/* a state of profile_build.c is changed in place, never let go of */
	a = clm_build_state(PG_GETARG_DATUM(0));
	if (a != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(clm_build_context(PG_GETARG_DATUM(0)));
		ClmProfile *r = clm_profile_merge_into(a, b, &moved);

		MemoryContextSwitchTo(old);
		clm_build_set_state(PG_GETARG_DATUM(0), r);
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}

	a = state_writable(PG_GETARG_DATUM(0));
	a = clm_profile_merge_into(a, b, &moved);
	PG_RETURN_POINTER(a);
}

/* final function: the canonical form of the state */
Datum
clm_profile_final(PG_FUNCTION_ARGS)
{
	ClmProfile *st;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	/*
	 * A state of profile_build.c (its rows applied, read in place) was built
	 * here from checked rows; anything else is checked.
	 */
	st = clm_build_state(PG_GETARG_DATUM(0));
	if (st == NULL)
	{
		st = (ClmProfile *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
		clm_profile_check_structure(st);
	}
	PG_RETURN_POINTER(clm_profile_canonical_copy(st, CurrentMemoryContext));
}

/* clm.profile_merge(a, b): the profile of the union of both histories */
Datum
clm_profile_merge(PG_FUNCTION_ARGS)
{
	ClmProfile *a = PG_GETARG_CLM_PROFILE(0);
	ClmProfile *b = PG_GETARG_CLM_PROFILE(1);
	ClmProfile *st;
	bool		moved;

	st = state_resize(a, a->n_days + b->n_days, a->chan_bytes);
	st = clm_profile_merge_into(st, b, &moved);
	PG_RETURN_POINTER(clm_profile_canonical_copy(st, CurrentMemoryContext));
}
