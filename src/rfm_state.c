/*-------------------------------------------------------------------------
 *
 * rfm_state.c
 *	  RFM breakpoints aggregate: the clm.rfm_state histograms, their
 *	  transition, combine and final functions.
 *
 * Definitions and layouts: rfm.h.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "compat.h"
#include "period.h"
#include "profile.h"
#include "rfm.h"

PG_FUNCTION_INFO_V1(clm_rfm_state_trans);
PG_FUNCTION_INFO_V1(clm_rfm_state_combine);
PG_FUNCTION_INFO_V1(clm_rfm_state_final);

/* order entries by (dim, value) */
static inline int
entry_cmp(const RfmEntry *x, const RfmEntry *y)
{
	if (x->dim != y->dim)
		return x->dim < y->dim ? -1 : 1;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return 0;
}

/* rfm_entry_sort(RfmEntry *, size_t): a sort with the comparison inlined */
#define ST_SORT rfm_entry_sort
#define ST_ELEMENT_TYPE RfmEntry
#define ST_COMPARE(a, b) entry_cmp(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* add count c to run e, or fail */
static inline void
add_count(RfmEntry *e, int64 c)
{
	if (__builtin_add_overflow(e->count, c, &e->count))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("too many customers for clm.rfm_breakpoints")));
}

/* sort entries[from .. to) and merge equal runs in place; returns the new end */
static int32
sort_runs(RfmEntry *e, int32 from, int32 to)
{
	int32		i,
				out = from;

	rfm_entry_sort(e + from, to - from);
	for (i = from; i < to; i++)
	{
		if (out > from && entry_cmp(&e[out - 1], &e[i]) == 0)
			add_count(&e[out - 1], e[i].count);
		else
			e[out++] = e[i];
	}
	return out;
}

/*
 * Sort the unsorted tail, run-length code it and merge it with the sorted
 * prefix: O(t log t + p) for a tail of t and a prefix of p entries.
 */
void
clm_rfm_state_compact(RfmState *st)
{
	RfmEntry   *e = st->entries;
	int32		p = st->n_sorted;
	int32		end;
	RfmEntry   *merged;
	int32		i,
				j,
				out = 0;

	if (st->n_sorted == st->n_entries)
		return;
	end = sort_runs(e, p, st->n_entries);
	if (p == 0)
	{
		st->n_entries = st->n_sorted = end;
		return;
	}
	merged = palloc(sizeof(RfmEntry) * (end));
	i = 0;
	j = p;
	while (i < p || j < end)
	{
		const RfmEntry *next;

		if (j >= end || (i < p && entry_cmp(&e[i], &e[j]) <= 0))
			next = &e[i++];
		else
			next = &e[j++];
		if (out > 0 && entry_cmp(&merged[out - 1], next) == 0)
			add_count(&merged[out - 1], next->count);
		else
			merged[out++] = *next;
	}
	memcpy(e, merged, sizeof(RfmEntry) * out);
	pfree(merged);
	st->n_entries = st->n_sorted = out;
}

/* a state with room for cap entries, in context cxt */
RfmState *
clm_rfm_state_alloc(MemoryContext cxt, int n, DateADT as_of, int32 cap)
{
	RfmState   *st = MemoryContextAllocZero(cxt, RFM_STATE_HDR + (Size) cap * sizeof(RfmEntry));

	SET_VARSIZE(st, RFM_STATE_HDR + (Size) cap * sizeof(RfmEntry));
	st->version = RFM_VERSION;
	st->n = (uint8) n;
	st->as_of = as_of;
	return st;
}

/* make room for extra more entries, compacting first; may move the state */
RfmState *
clm_rfm_state_reserve(RfmState *st, int32 extra)
{
	int32		cap = RFM_STATE_CAP(st);
	int64		want;
	RfmState   *grown;

	if (st->n_entries + extra <= cap)
		return st;
	clm_rfm_state_compact(st);
	if (st->n_entries + extra <= cap && st->n_entries <= cap / 2)
		return st;
	want = Max((int64) cap * 2, (int64) st->n_entries + extra);
	if (want > RFM_MAX_ENTRIES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("clm.rfm_breakpoints state too large: at most %d distinct values",
						RFM_MAX_ENTRIES),
				 errhint("Split the customers into groups, or use clm.customer_rfm.")));
	/*
	 * A new block in the current context, the old one left alone: inside an
	 * aggregate the executor copies the new state into its own context and
	 * frees the old one itself.
	 */
	grown = clm_rfm_state_alloc(CurrentMemoryContext, st->n, st->as_of, (int32) want);
	memcpy(grown, st, RFM_STATE_HDR + (Size) st->n_entries * sizeof(RfmEntry));
	SET_VARSIZE(grown, RFM_STATE_HDR + (Size) want * sizeof(RfmEntry));
	return grown;
}

/* check the structure of a state (corrupt input must not crash) */
void
clm_rfm_state_check(const RfmState *st)
{
	if (VARSIZE(st) < RFM_STATE_HDR ||
		(VARSIZE(st) - RFM_STATE_HDR) % sizeof(RfmEntry) != 0 ||
		st->version != RFM_VERSION ||
		st->n < RFM_MIN_N || st->n > RFM_MAX_N ||
		st->n_entries < 0 || st->n_entries > RFM_STATE_CAP(st) ||
		st->n_sorted < 0 || st->n_sorted > st->n_entries ||
		st->excluded < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt clm.rfm_state value")));
}

/*
 * A writable state from argument argno, checked: inside an aggregate the
 * state itself (a detoasted copy if needed), else a copy, so that a direct
 * call never writes into its input.
 */
static RfmState *
state_writable(FunctionCallInfo fcinfo, int argno)
{
	Datum		d = PG_GETARG_DATUM(argno);
	struct varlena *v = (struct varlena *) DatumGetPointer(d);

	if (VARATT_IS_EXTENDED(v) || !AggCheckCallContext(fcinfo, NULL))
		v = (struct varlena *) PG_DETOAST_DATUM_COPY(d);
	clm_rfm_state_check((RfmState *) v);
	return (RfmState *) v;
}

/* error unless two states (or a state and a row) agree on n and as_of */
static void
state_same_params(const RfmState *st, int n, DateADT as_of)
{
	if (st->n != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be the same in every row of clm.rfm_breakpoints (%d and %d)",
						st->n, n)));
	if (st->as_of != as_of)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must be the same in every row of clm.rfm_breakpoints")));
}

/* transition: add one customer's R, F and M (or count it as excluded) */
Datum
clm_rfm_state_trans(PG_FUNCTION_ARGS)
{
	RfmState   *st;
	ClmProfile *p;
	DateADT		as_of;
	int32		n = 5;
	int64		r,
				f,
				m;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be NULL")));
	as_of = clm_rfm_as_of_arg(fcinfo, 2);
	if (PG_NARGS() > 3)
	{
		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("n must not be NULL")));
		n = PG_GETARG_INT32(3);
		if (n < RFM_MIN_N || n > RFM_MAX_N)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("n must be between %d and %d, not %d", RFM_MIN_N, RFM_MAX_N, n),
					 errhint("The three-digit code needs one digit per score.")));
	}
	if (PG_ARGISNULL(0))
		st = clm_rfm_state_alloc(CurrentMemoryContext, n, as_of, 64);
	else
	{
		st = state_writable(fcinfo, 0);
		state_same_params(st, n, as_of);
	}

	p = PG_GETARG_CLM_PROFILE(1);
	if (!clm_rfm_profile_values(p, as_of, &r, &f, &m))
	{
		if (__builtin_add_overflow(st->excluded, 1, &st->excluded))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("too many customers for clm.rfm_breakpoints")));
		PG_RETURN_POINTER(st);
	}
	st = clm_rfm_state_reserve(st, 3);
	st->entries[st->n_entries].dim = DIM_R;
	st->entries[st->n_entries].value = r;
	st->entries[st->n_entries++].count = 1;
	st->entries[st->n_entries].dim = DIM_F;
	st->entries[st->n_entries].value = f;
	st->entries[st->n_entries++].count = 1;
	st->entries[st->n_entries].dim = DIM_M;
	st->entries[st->n_entries].value = m;
	st->entries[st->n_entries++].count = 1;
	PG_RETURN_POINTER(st);
}

/* combine: the histogram of the union of two populations */
Datum
clm_rfm_state_combine(PG_FUNCTION_ARGS)
{
	RfmState   *a;
	RfmState   *b;

	a = state_writable(fcinfo, 0);
	b = (RfmState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	clm_rfm_state_check(b);
	state_same_params(a, b->n, b->as_of);
	if (__builtin_add_overflow(a->excluded, b->excluded, &a->excluded))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("too many customers for clm.rfm_breakpoints")));
	if (b->n_entries > 0)
	{
		int32		i;

		a = clm_rfm_state_reserve(a, b->n_entries);
		for (i = 0; i < b->n_entries; i++)
		{
			if (b->entries[i].dim < DIM_R || b->entries[i].dim > DIM_M ||
				b->entries[i].count <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("corrupt clm.rfm_state value")));
			a->entries[a->n_entries++] = b->entries[i];
		}
		clm_rfm_state_compact(a);
	}
	PG_RETURN_POINTER(a);
}

/* final: the breakpoints of the population (NULL if nobody has a purchase) */
Datum
clm_rfm_state_final(PG_FUNCTION_ARGS)
{
	RfmState   *st;
	RfmState   *copy;
	RfmBreakpoints *bp;
	int64	   *vals;
	int64	   *cnt;
	int64		total[3] = {0, 0, 0};
	int32		start[4];
	int32		i,
				dim;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (RfmState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	clm_rfm_state_check(st);
	/* compact a copy: the final function must not change the state */
	copy = palloc(VARSIZE(st));
	memcpy(copy, st, VARSIZE(st));
	clm_rfm_state_compact(copy);

	for (i = 0; i < copy->n_entries; i++)
	{
		dim = copy->entries[i].dim;
		if (dim < DIM_R || dim > DIM_M || copy->entries[i].count <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("corrupt clm.rfm_state value")));
		if (__builtin_add_overflow(total[dim], copy->entries[i].count, &total[dim]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("too many customers for clm.rfm_breakpoints")));
	}
	if (total[DIM_R] != total[DIM_F] || total[DIM_R] != total[DIM_M])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt clm.rfm_state value"),
				 errdetail("The r, f and m histograms count different numbers of customers.")));
	if (total[DIM_R] == 0)
		PG_RETURN_NULL();

	/* entries are sorted by dim: find each dimension's run */
	for (dim = DIM_R, i = 0; dim <= DIM_M; dim++)
	{
		start[dim] = i;
		while (i < copy->n_entries && copy->entries[i].dim == dim)
			i++;
	}
	start[3] = copy->n_entries;

	bp = clm_rfm_bp_alloc(copy->n, RFM_KIND_QUANTILE);
	bp->as_of = copy->as_of;
	bp->customers = total[DIM_R];
	bp->excluded = copy->excluded;
	vals = palloc(sizeof(int64) * Max(copy->n_entries, 1));
	cnt = palloc(sizeof(int64) * Max(copy->n_entries, 1));
	for (dim = DIM_R; dim <= DIM_M; dim++)
	{
		int32		k = start[dim + 1] - start[dim];

		for (i = 0; i < k; i++)
		{
			/* R: worst is the largest number of days, so walk it backwards */
			const RfmEntry *e = (dim == DIM_R) ?
				&copy->entries[start[dim + 1] - 1 - i] : &copy->entries[start[dim] + i];

			vals[i] = e->value;
			cnt[i] = e->count;
		}
		clm_rfm_quantile_cuts(vals, cnt, k, total[dim], copy->n, dim == DIM_R ? -1 : 1,
					  &bp->cuts[dim * (copy->n - 1)]);
	}
	PG_RETURN_POINTER(bp);
}
