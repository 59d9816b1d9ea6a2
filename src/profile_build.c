/*-------------------------------------------------------------------------
 *
 * profile_build.c
 *	  The profile build with many customers: rows applied in batches, in
 *	  the order of their customers' states.
 *
 * With many customers in one hash aggregate every input row touches a random
 * customer's build state (profile.h): a header, a channel record and a day
 * slot, a few hundred bytes to a few kB from the last row's, so with a large
 * work_mem (all states in memory, far beyond the caches) each row waits for
 * two or three cache misses one after the other, and the build took two to
 * two and a half times the count(*) GROUP BY floor at 64MB and 1GB against
 * 1.1 times at 4MB (where the hash aggregate spills and each batch's states
 * fit in the caches).
 *
 * Here the transition function of clm's own profile aggregates does not
 * touch the state at all.  The state is a PostgreSQL expanded object
 * (utils/expandeddatum.h) of 64 bytes, a BuildObj, whose Datum is a pointer
 * into it that stays the same for the whole build; the row's decoded event
 * is appended to a buffer of pending rows (PendRow) of the call site's
 * arena, and the transition returns the same pointer, which the executor
 * keeps without looking at it.  When the buffer is full, and before anyone
 * reads a state (the final function, the combine function, the flattening
 * of a state into a tuple for a parallel or partial aggregate), the buffer
 * is sorted by state (a stable radix sort: each state's rows keep their
 * order) and applied: each state's rows one after the other, the states in
 * the order of their addresses.  The rows of a state then cost one miss per
 * batch instead of two or three per row, and the misses of the next states
 * are started early (prefetch).  A BuildObj's build state (the flat varlena
 * of profile.h, built by exactly the code of the row-at-a-time path,
 * clm_profile_add_event) is what the expanded object flattens to, so every
 * reader sees what it saw before, byte for byte.
 *
 * Whether a Datum is one of this arena's objects is decided from its
 * address alone (the arena's blocks, sorted by address): reading the object
 * would be the cache miss the batching avoids.
 *
 * Memory: the objects, the build states and the pending rows live in the
 * arena, a memory context whose parent is the aggregate context, so the hash
 * aggregate counts them against work_mem and the arena goes when the
 * aggregate context is reset (between hash batches, grouping sets or
 * rescans); a reset callback then unlinks it from the call site.  The
 * pending buffer holds at most four rows per state and a sixteenth of the
 * hash memory limit.
 *
 * Safety: an expanded object's memory context is deleted when its owner
 * lets go of a read-write pointer to it (DeleteExpandedObject), and all of
 * an arena's objects share the arena.  A read-write pointer to a BuildObj is
 * therefore only ever handed to this module's functions: the batched path
 * is taken only in a plain aggregate (AggState, not a window aggregate) of
 * one of clm's own aggregates, and in a partial aggregate (whose output
 * keeps the read-write pointer) only when every aggregate sharing the
 * transition state is clm's; every function here that receives a BuildObj
 * returns the same pointer.  A user's aggregate built on clm.profile_trans
 * (any initial state, any combine or final function, as a window
 * aggregate) takes the row-at-a-time path of profile_agg.c.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/pg_proc.h"
#include "executor/nodeAgg.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "utils/expandeddatum.h"
#include "utils/memutils.h"

#include "compat.h"
#include "profile.h"
#include "profile_build.h"

/* objects per block of an arena */
#define BLOCK_OBJS		4096

/* radix sort digits */
#define RADIX_BITS		11
#define RADIX_SIZE		(1 << RADIX_BITS)

/* how far ahead the apply loop starts loading states */
#define PREFETCH_OBJ	24
#define PREFETCH_STATE	16
#define PREFETCH_DAY	8

/* one customer's state during a batched build: 64 bytes */
typedef struct BuildObj
{
	ExpandedObjectHeader hdr;
	ClmProfile *flat;			/* the build state; NULL until a row is applied */
	struct ClmBuildArena *arena;	/* the arena the object lives in */
} BuildObj;

/* one row waiting to be applied */
typedef struct PendRow
{
	BuildObj   *obj;
	TimestampTz ts;
	int64		spend;
	uint32		key;			/* the object's number in the arena: sort key */
	int32		day;
	uint32		name_off;		/* channel name: offset into names */
	int16		name_len;		/* -1: no channel */
	uint8		orders;
	bool		refund;
} PendRow;

/* the objects and pending rows of one call site in one aggregate context */
struct ClmBuildArena
{
	MemoryContext cxt;			/* child of aggcxt: everything below */
	MemoryContext aggcxt;		/* the aggregate context it belongs to */
	ClmBuildArena **list;		/* the call site's list of arenas */
	ClmBuildArena *next;
	MemoryContextCallback cb;

	/* object blocks: by address (for lookups) and by number (sort keys) */
	char	  **blocks;			/* sorted by address */
	uint32	   *block_no;		/* number of blocks[i] in allocation order */
	int			nblocks;
	int			maxblocks;
	BuildObj   *cur;			/* the newest block */
	uint32		cur_used;		/* objects used in it */
	uint32		nobjs;

	/* pending rows */
	PendRow    *pend;
	PendRow    *tmp;			/* radix sort scratch */
	uint32		npend;
	uint32		cap_pend;
	char	   *names;			/* channel names of the pending rows */
	uint32		names_used;
	uint32		names_cap;
};

static Size build_get_flat_size(ExpandedObjectHeader *eohptr);
static void build_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size);

static const ExpandedObjectMethods build_methods = {
	build_get_flat_size,
	build_flatten_into
};

/* the BuildObj d points to (read-write or read-only), or NULL */
static BuildObj *
build_obj(Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	ExpandedObjectHeader *eoh;

	if (!VARATT_IS_EXTERNAL_EXPANDED(v))
		return NULL;
	eoh = DatumGetEOHP(d);
	if (eoh->eoh_methods != &build_methods)
		return NULL;
	return (BuildObj *) eoh;
}

/* the arena's context is going away: forget the arena */
static void
arena_reset_callback(void *arg)
{
	ClmBuildArena *a = (ClmBuildArena *) arg;
	ClmBuildArena **p;

	for (p = a->list; *p != NULL; p = &(*p)->next)
	{
		if (*p == a)
		{
			*p = a->next;
			break;
		}
	}
}

/* the call site's arena for the aggregate context aggcxt, made on first use */
static ClmBuildArena *
arena_get(ClmBuildArena **list, MemoryContext aggcxt)
{
	ClmBuildArena *a;
	MemoryContext cxt;

	for (a = *list; a != NULL; a = a->next)
	{
		if (a->aggcxt == aggcxt)
			return a;
	}
	cxt = AllocSetContextCreate(aggcxt, "clm profile build", ALLOCSET_DEFAULT_SIZES);
	a = MemoryContextAllocZero(cxt, sizeof(ClmBuildArena));
	a->cxt = cxt;
	a->aggcxt = aggcxt;
	a->list = list;
	a->cb.func = arena_reset_callback;
	a->cb.arg = a;
	MemoryContextRegisterResetCallback(cxt, &a->cb);
	a->next = *list;
	*list = a;
	return a;
}

/* a new object in the arena (no build state yet) */
static BuildObj *
arena_new_obj(ClmBuildArena *a)
{
	BuildObj   *o;

	if (a->cur == NULL || a->cur_used == BLOCK_OBJS)
	{
		char	   *blk;
		int			i;

		if (a->nobjs > PG_UINT32_MAX - BLOCK_OBJS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many groups for one clm.profile build")));
		if (a->nblocks == a->maxblocks)
		{
			int			n = Max(16, a->maxblocks * 2);

			if (a->blocks == NULL)
			{
				a->blocks = MemoryContextAlloc(a->cxt, n * sizeof(char *));
				a->block_no = MemoryContextAlloc(a->cxt, n * sizeof(uint32));
			}
			else
			{
				a->blocks = repalloc(a->blocks, n * sizeof(char *));
				a->block_no = repalloc(a->block_no, n * sizeof(uint32));
			}
			a->maxblocks = n;
		}
		blk = MemoryContextAlloc(a->cxt, (Size) BLOCK_OBJS * sizeof(BuildObj));
		/* insert by address */
		for (i = a->nblocks; i > 0 && a->blocks[i - 1] > blk; i--)
		{
			a->blocks[i] = a->blocks[i - 1];
			a->block_no[i] = a->block_no[i - 1];
		}
		a->blocks[i] = blk;
		a->block_no[i] = a->nobjs / BLOCK_OBJS;
		a->nblocks++;
		a->cur = (BuildObj *) blk;
		a->cur_used = 0;
	}
	o = a->cur + a->cur_used++;
	a->nobjs++;
	EOH_init_header(&o->hdr, &build_methods, a->cxt);
	o->flat = NULL;
	o->arena = a;
	return o;
}

/*
 * Is d a read-write pointer to one of a's objects?  Decided from the address
 * alone: in one of the arena's blocks, at an object's read-write pointer, an
 * object in use.  Sets *obj and *key (the object's number).
 */
static bool
arena_lookup(ClmBuildArena *a, Datum d, BuildObj **obj, uint32 *key)
{
	char	   *p = (char *) DatumGetPointer(d) - offsetof(BuildObj, hdr.eoh_rw_ptr);
	int			lo = 0,
				hi = a->nblocks;
	char	   *blk;
	Size		off;
	uint32		slot;

	/* the last block starting at or below p */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (a->blocks[mid] <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	blk = a->blocks[lo - 1];
	off = (Size) (p - blk);
	if (off >= (Size) BLOCK_OBJS * sizeof(BuildObj) || off % sizeof(BuildObj) != 0)
		return false;
	slot = (uint32) (off / sizeof(BuildObj));
	*key = a->block_no[lo - 1] * BLOCK_OBJS + slot;
	if (*key >= a->nobjs)
		return false;
	*obj = (BuildObj *) p;
	return true;
}

/* apply one pending row to its object's build state */
static inline void
apply_row(const PendRow *r, const char *names)
{
	ClmEvent	ev;
	ClmProfile *old = r->obj->flat;

	ev.ts = r->ts;
	ev.day = r->day;
	ev.orders = r->orders;
	ev.spend = r->spend;
	ev.refund = r->refund;
	ev.chan = r->name_len >= 0 ? names + r->name_off : NULL;
	ev.chan_len = r->name_len;
	r->obj->flat = clm_profile_add_event(old, &ev);
	if (old != NULL && r->obj->flat != old)
		pfree(old);
}

/* stable LSD radix sort of the pending rows by key; returns the sorted array */
static PendRow *
sort_pending(ClmBuildArena *a)
{
	uint32		count[RADIX_SIZE];
	PendRow    *src = a->pend;
	PendRow    *dst = a->tmp;
	uint32		maxkey = a->nobjs;
	int			shift;

	for (shift = 0; shift == 0 || (maxkey >> shift) != 0; shift += RADIX_BITS)
	{
		uint32		i,
					sum = 0;
		PendRow    *t;

		memset(count, 0, sizeof(count));
		for (i = 0; i < a->npend; i++)
			count[(src[i].key >> shift) & (RADIX_SIZE - 1)]++;
		for (i = 0; i < RADIX_SIZE; i++)
		{
			uint32		c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < a->npend; i++)
			dst[count[(src[i].key >> shift) & (RADIX_SIZE - 1)]++] = src[i];
		t = src;
		src = dst;
		dst = t;
		CHECK_FOR_INTERRUPTS();
		if (shift + RADIX_BITS >= 32)
			break;
	}
	return src;
}

/* apply the arena's pending rows, state by state */
static void
arena_flush(ClmBuildArena *a)
{
	PendRow    *rows;
	uint32		n = a->npend;
	uint32		i;
	MemoryContext old;

	if (n == 0)
		return;
	rows = sort_pending(a);
	old = MemoryContextSwitchTo(a->cxt);
	for (i = 0; i < n; i++)
	{
		/*
		 * Three stages ahead of the row applied: the object, then its build
		 * state's first four lines (header and channel records), then the
		 * day slot the state's next new day goes to.
		 */
		if (i + PREFETCH_OBJ < n)
			__builtin_prefetch(rows[i + PREFETCH_OBJ].obj, 0);
		if (i + PREFETCH_STATE < n && rows[i + PREFETCH_STATE].obj->flat != NULL)
		{
			const char *f = (const char *) rows[i + PREFETCH_STATE].obj->flat;

			__builtin_prefetch(f, 1);
			__builtin_prefetch(f + 64, 1);
			__builtin_prefetch(f + 128, 1);
			__builtin_prefetch(f + 192, 1);
		}
		if (i + PREFETCH_DAY < n && rows[i + PREFETCH_DAY].obj->flat != NULL)
		{
			const ClmProfile *f = rows[i + PREFETCH_DAY].obj->flat;

			__builtin_prefetch(clm_profile_days(f) + f->n_days, 1);
		}
		apply_row(&rows[i], a->names);
		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
	}
	MemoryContextSwitchTo(old);
	a->npend = 0;
	a->names_used = 0;
}

/* make room for one more pending row (and len name bytes), flushing if full */
static void
arena_reserve(ClmBuildArena *a, int len)
{
	if (a->npend == a->cap_pend)
	{
		/*
		 * Up to four rows per state, and a sixteenth of the hash memory limit
		 * for the two arrays; at least 1024 rows.
		 */
		Size		limit = get_hash_memory_limit() / 16 / (2 * sizeof(PendRow));
		Size		want = Min((Size) a->nobjs * 4, limit);

		want = Max(want, 1024);
		want = Min(want, MaxAllocSize / sizeof(PendRow));
		if (a->cap_pend >= want)
			arena_flush(a);
		else
		{
			Size		ncap = Max(Min((Size) a->cap_pend * 2, want), 1024);

			arena_flush(a);
			if (a->pend != NULL)
			{
				pfree(a->pend);
				pfree(a->tmp);
			}
			a->pend = MemoryContextAlloc(a->cxt, ncap * sizeof(PendRow));
			a->tmp = MemoryContextAlloc(a->cxt, ncap * sizeof(PendRow));
			a->cap_pend = (uint32) ncap;
		}
	}
	if (len > 0 && a->names_used + len > a->names_cap)
	{
		uint32		ncap = Max(a->names_cap * 2, 8192);

		while (ncap < a->names_used + len)
			ncap *= 2;
		if (a->names == NULL)
			a->names = MemoryContextAlloc(a->cxt, ncap);
		else
			a->names = repalloc(a->names, ncap);
		a->names_cap = ncap;
	}
}

/* queue ev for obj (number key) */
static void
arena_queue(ClmBuildArena *a, BuildObj *obj, uint32 key, const ClmEvent *ev)
{
	PendRow    *r;

	arena_reserve(a, Max(ev->chan_len, 0));
	r = &a->pend[a->npend++];
	r->obj = obj;
	r->key = key;
	r->ts = ev->ts;
	r->day = ev->day;
	r->spend = ev->spend;
	r->orders = (uint8) ev->orders;
	r->refund = ev->refund;
	r->name_len = (int16) ev->chan_len;
	r->name_off = a->names_used;
	if (ev->chan_len > 0)
	{
		memcpy(a->names + a->names_used, ev->chan, ev->chan_len);
		a->names_used += ev->chan_len;
	}
}

/*
 * May this call of the transition function use the batched path?  Only in a
 * plain aggregate of one of clm's own aggregates; in a partial aggregate
 * only if every aggregate sharing the transition state is clm's (the
 * partial aggregate's output keeps the read-write pointer, and another
 * aggregate's combine function would receive it).
 */
bool
clm_build_usable(FunctionCallInfo fcinfo)
{
	AggState   *as;
	Aggref	   *aggref;
	Oid			ext;
	int			transno;
	int			i;

	if (fcinfo->context == NULL || !IsA(fcinfo->context, AggState))
		return false;
	as = (AggState *) fcinfo->context;
	aggref = AggGetAggref(fcinfo);
	if (aggref == NULL || as->curpertrans == NULL)
		return false;
	ext = getExtensionOfObject(ProcedureRelationId, fcinfo->flinfo->fn_oid);
	if (!OidIsValid(ext) ||
		getExtensionOfObject(ProcedureRelationId, aggref->aggfnoid) != ext)
		return false;
	if (!DO_AGGSPLIT_SKIPFINAL(aggref->aggsplit))
		return true;
	transno = (int) (as->curpertrans - as->pertrans);
	for (i = 0; i < as->numaggs; i++)
	{
		if (as->peragg[i].transno == transno &&
			getExtensionOfObject(ProcedureRelationId, as->peragg[i].aggref->aggfnoid) != ext)
			return false;
	}
	return true;
}

/*
 * The batched transition: queue ev for the state d (isnull: a new group) of
 * the call site whose arenas are *list, in the aggregate context aggcxt.
 * Returns the new state: the same pointer for one of this module's objects.
 */
Datum
clm_build_add(ClmBuildArena **list, MemoryContext aggcxt, Datum d, bool isnull,
			  const ClmEvent *ev)
{
	ClmBuildArena *a = arena_get(list, aggcxt);
	BuildObj   *obj;
	uint32		key;

	if (!isnull)
	{
		if (arena_lookup(a, d, &obj, &key))
		{
			arena_queue(a, obj, key, ev);
			return d;
		}
		obj = build_obj(d);
		if (clm_build_apply_in_place(d, ev))
			return d;	/* another arena's object (not expected) */
	}

	/* a new group, or a flat profile (or read-only object) to start from */
	obj = arena_new_obj(a);
	key = a->nobjs - 1;
	if (!isnull)
	{
		MemoryContext old = MemoryContextSwitchTo(a->cxt);

		obj->flat = (ClmProfile *) PG_DETOAST_DATUM_COPY(d);
		MemoryContextSwitchTo(old);
		clm_profile_check_structure(obj->flat);
	}
	arena_queue(a, obj, key, ev);
	return EOHPGetRWDatum(&obj->hdr);
}

/*
 * If d points to one of this module's objects, apply its pending rows and
 * return its build state (in the arena: the caller may change it in place,
 * and must store a moved state with clm_build_set_state); else NULL.
 */
ClmProfile *
clm_build_state(Datum d)
{
	BuildObj   *obj = build_obj(d);

	if (obj == NULL)
		return NULL;
	arena_flush(obj->arena);
	if (obj->flat == NULL)
		elog(ERROR, "clm.profile build state without rows");
	return obj->flat;
}

/* replace the build state of the object d points to by st (in its arena) */
void
clm_build_set_state(Datum d, ClmProfile *st)
{
	BuildObj   *obj = build_obj(d);

	Assert(obj != NULL);
	obj->flat = st;
}

/* the memory context of the arena of the object d points to */
MemoryContext
clm_build_context(Datum d)
{
	BuildObj   *obj = build_obj(d);

	Assert(obj != NULL);
	return obj->arena->cxt;
}

/*
 * If d is a read-write pointer to one of this module's objects, apply ev to
 * it at once (after its arena's pending rows) and return true: the caller
 * returns d itself, so that its owner never lets go of the object.
 */
bool
clm_build_apply_in_place(Datum d, const ClmEvent *ev)
{
	BuildObj   *obj = build_obj(d);
	PendRow		r;
	MemoryContext old;

	if (obj == NULL || !VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)))
		return false;
	arena_flush(obj->arena);
	r.obj = obj;
	r.ts = ev->ts;
	r.day = ev->day;
	r.spend = ev->spend;
	r.orders = (uint8) ev->orders;
	r.refund = ev->refund;
	r.name_len = (int16) ev->chan_len;
	r.name_off = 0;
	old = MemoryContextSwitchTo(obj->arena->cxt);
	apply_row(&r, ev->chan);
	MemoryContextSwitchTo(old);
	return true;
}

/* expanded object method: size of the flat form (the build state) */
static Size
build_get_flat_size(ExpandedObjectHeader *eohptr)
{
	BuildObj   *obj = (BuildObj *) eohptr;

	Assert(eohptr->eoh_methods == &build_methods);
	arena_flush(obj->arena);
	if (obj->flat == NULL)
		elog(ERROR, "clm.profile build state without rows");
	return VARSIZE(obj->flat);
}

/* expanded object method: write the flat form */
static void
build_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	BuildObj   *obj = (BuildObj *) eohptr;

	Assert(allocated_size == VARSIZE(obj->flat));
	memcpy(result, obj->flat, VARSIZE(obj->flat));
}
