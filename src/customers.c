/*-------------------------------------------------------------------------
 *
 * customers.c
 *	  Per-customer states of the one-pass aggregates: append a record,
 *	  combine two states, finish, and check a state handed to a *_rows
 *	  function (layout in customers.h).
 *
 * The aggregates keep one small record per customer (32 bytes) instead of
 * the profile, so that a population statistic (the population gap, the RFM
 * breakpoints) and every customer's result come out of one scan of the
 * profiles.  The state grows by doubling: a new, larger array is returned
 * and the executor adopts it (copying it into the aggregate's context and
 * freeing the old one), so a row costs amortised O(1).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/memutils.h"
#include "utils/array.h"

#include "compat.h"
#include "customers.h"
#include "period.h"

/* the most elements a bigint[] can hold (MaxAllocSize) */
#define CS_MAX_ELEMS	((int64) ((MaxAllocSize - ARR_OVERHEAD_NONULLS(1)) / sizeof(int64)))

/* the largest number of records a state of width w can hold */
static int64
cs_max_records(int width)
{
	return (CS_MAX_ELEMS - CS_HEADER) / width;
}

/*
 * A state holding no records with room for cap records, in cxt: the
 * dimension covers the header, the allocation the records (zeroed).
 */
static ArrayType *
cs_alloc(MemoryContext cxt, const ClmCustState *cs, int64 cap, int32 as_of)
{
	ArrayType  *a = clm_int8_array_alloc(cxt, (int) (CS_HEADER + cap * cs->width));
	int64	   *v = (int64 *) ARR_DATA_PTR(a);

	ARR_DIMS(a)[0] = CS_HEADER;
	v[0] = cs->kind;
	v[1] = 0;
	v[2] = as_of;
	v[3] = cs->width;
	return a;
}

/* records state a has room for: its allocation past the header */
static int64
cs_capacity(ArrayType *a, const ClmCustState *cs)
{
	return ((int64) (VARSIZE(a) - ARR_DATA_OFFSET(a)) / (int64) sizeof(int64) - CS_HEADER) /
		cs->width;
}

/* set the number of records of state a (within its capacity) */
static void
cs_set_count(ArrayType *a, const ClmCustState *cs, int64 n)
{
	((int64 *) ARR_DATA_PTR(a))[1] = n;
	ARR_DIMS(a)[0] = (int) (CS_HEADER + n * cs->width);
}

/*
 * The records of state a, checked: its kind, width and count must match
 * its length (exactly for a final value, at most for a state being built);
 * *n and *as_of are set.  A wrong value is 22023.
 */
int64 *
clm_cs_records(ArrayType *a, const ClmCustState *cs, bool final, int64 *n, int32 *as_of)
{
	int64	   *v;
	int64		len;

	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != INT8OID ||
		ARR_DIMS(a)[0] < CS_HEADER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s value", cs->aggname),
				 errhint("Pass the value returned by %s.", cs->aggname)));
	v = (int64 *) ARR_DATA_PTR(a);
	len = ARR_DIMS(a)[0];
	if (v[0] != cs->kind || v[3] != cs->width || v[1] < 0 ||
		v[1] > (len - CS_HEADER) / cs->width ||
		(final && len != CS_HEADER + v[1] * cs->width) ||
		v[2] < -2451545 || v[2] > 100000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s header", cs->aggname),
				 errhint("Pass the value returned by %s.", cs->aggname)));
	*n = v[1];
	*as_of = (int32) v[2];
	return v + CS_HEADER;
}

/* a state with room for at least want records holding a's records */
static ArrayType *
cs_grow(MemoryContext cxt, const ClmCustState *cs, ArrayType *a, int64 want)
{
	int64	   *v = (int64 *) ARR_DATA_PTR(a);
	int64		cap = cs_capacity(a, cs);
	ArrayType  *g;

	if (want > cs_max_records(cs->width))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many customers for %s: at most %lld", cs->aggname,
						(long long) cs_max_records(cs->width)),
				 errhint("Split the customers into groups, or use the per-customer functions.")));
	cap = Max(cap * 2, want);
	cap = Min(cap, cs_max_records(cs->width));
	g = cs_alloc(cxt, cs, cap, (int32) v[2]);
	memcpy(ARR_DATA_PTR(g), v, sizeof(int64) * (CS_HEADER + v[1] * cs->width));
	cs_set_count(g, cs, v[1]);
	return g;
}

/*
 * Append a zeroed record for this row to the state (argument 0, NULL on the
 * first row) and point *rec at it; the as_of of every row must be the same.
 * Returns the state to hand back to the executor (a new one when it grew).
 */
ArrayType *
clm_cs_append(FunctionCallInfo fcinfo, const ClmCustState *cs, int32 as_of, int64 **rec)
{
	ArrayType  *a;
	int64	   *v;
	int64		n;
	int32		state_as_of;

	if (PG_ARGISNULL(0))
		a = cs_alloc(CurrentMemoryContext, cs, 64, as_of);
	else
	{
		/* any state, also a user aggregate's initcond: checked before use */
		a = clm_state_arg(fcinfo, 0);
		(void) clm_cs_records(a, cs, false, &n, &state_as_of);
		if (state_as_of != as_of)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("as_of must be the same in every row of %s", cs->aggname)));
	}
	v = (int64 *) ARR_DATA_PTR(a);
	if (v[1] + 1 > cs_capacity(a, cs))
	{
		a = cs_grow(CurrentMemoryContext, cs, a, v[1] + 1);
		v = (int64 *) ARR_DATA_PTR(a);
	}
	*rec = v + CS_HEADER + v[1] * cs->width;
	memset(*rec, 0, sizeof(int64) * cs->width);
	cs_set_count(a, cs, v[1] + 1);
	return a;
}

/* combine: the records of both states, a's first */
Datum
clm_cs_combine(FunctionCallInfo fcinfo, const ClmCustState *cs)
{
	MemoryContext cxt = clm_agg_context(fcinfo);
	ArrayType  *a;
	ArrayType  *b;
	int64	   *ra;
	int64	   *rb;
	int64		na,
				nb;
	int32		as_of_a,
				as_of_b;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = PG_GETARG_ARRAYTYPE_P(1);
	rb = clm_cs_records(b, cs, false, &nb, &as_of_b);
	if (PG_ARGISNULL(0))
	{
		a = cs_alloc(cxt, cs, Max(nb, 1), as_of_b);
		memcpy(ARR_DATA_PTR(a), ARR_DATA_PTR(b), sizeof(int64) * (CS_HEADER + nb * cs->width));
		cs_set_count(a, cs, nb);
		PG_RETURN_ARRAYTYPE_P(a);
	}
	a = clm_state_arg(fcinfo, 0);
	ra = clm_cs_records(a, cs, false, &na, &as_of_a);
	if (as_of_a != as_of_b)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine %s values as of different days", cs->aggname)));
	if (na + nb > cs_capacity(a, cs))
	{
		a = cs_grow(cxt, cs, a, na + nb);
		ra = (int64 *) ARR_DATA_PTR(a) + CS_HEADER;
	}
	memcpy(ra + na * cs->width, rb, sizeof(int64) * nb * cs->width);
	cs_set_count(a, cs, na + nb);
	PG_RETURN_ARRAYTYPE_P(a);
}

/* final: a copy of the state trimmed to its records */
Datum
clm_cs_final(FunctionCallInfo fcinfo, const ClmCustState *cs)
{
	ArrayType  *a;
	ArrayType  *f;
	int64		n;
	int32		as_of;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	a = PG_GETARG_ARRAYTYPE_P(0);
	(void) clm_cs_records(a, cs, false, &n, &as_of);
	f = cs_alloc(CurrentMemoryContext, cs, n, as_of);
	memcpy(ARR_DATA_PTR(f), ARR_DATA_PTR(a), sizeof(int64) * (CS_HEADER + n * cs->width));
	cs_set_count(f, cs, n);
	PG_RETURN_ARRAYTYPE_P(f);
}
