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
#include "utils/array.h"
#include "utils/expandeddatum.h"
#include "utils/memutils.h"

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
 * Check the len elements v of a state: its kind, width and count must match
 * its length (exactly for a final value, at most for a state being built);
 * *n and *as_of are set.  A wrong value is 22023.
 */
static void
cs_check(const int64 *v, int64 len, const ClmCustState *cs, bool final,
		 int64 *n, int32 *as_of)
{
	if (len < CS_HEADER || v[0] != cs->kind || v[3] != cs->width || v[1] < 0 ||
		v[1] > (len - CS_HEADER) / cs->width ||
		(final && len != CS_HEADER + v[1] * cs->width) ||
		v[2] < -2451545 || v[2] > 100000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s header", cs->aggname),
				 errhint("Pass the value returned by %s.", cs->aggname)));
	*n = v[1];
	*as_of = (int32) v[2];
}

/*
 * The records of state a, checked (cs_check); *n and *as_of are set.  A
 * wrong value is 22023.
 */
int64 *
clm_cs_records(ArrayType *a, const ClmCustState *cs, bool final, int64 *n, int32 *as_of)
{
	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != INT8OID ||
		ARR_DIMS(a)[0] < CS_HEADER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s value", cs->aggname),
				 errhint("Pass the value returned by %s.", cs->aggname)));
	cs_check((int64 *) ARR_DATA_PTR(a), ARR_DIMS(a)[0], cs, final, n, as_of);
	return (int64 *) ARR_DATA_PTR(a) + CS_HEADER;
}

/*
 * The elements of expanded state d as int64 (an int8 element is its Datum:
 * callers check FLOAT8PASSBYVAL), or NULL when d is not an expanded bigint[]
 * of one dimension without NULLs deconstructed into Datums; *len is set.
 */
static int64 *
cs_expanded_values(Datum d, ExpandedArrayHeader **eahp, int64 *len)
{
	ExpandedArrayHeader *eah;

	if (!VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(d)))
		return NULL;
	eah = (ExpandedArrayHeader *) DatumGetEOHP(d);
	if (eah->ea_magic != EA_MAGIC || eah->element_type != INT8OID ||
		eah->ndims != 1 || eah->dvalues == NULL || eah->dnulls != NULL ||
		eah->dims[0] != eah->nelems)
		return NULL;
	*eahp = eah;
	*len = eah->nelems;
	return (int64 *) eah->dvalues;
}

/* the error for more records than a state holds */
static void
cs_too_many(const ClmCustState *cs)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("too many customers for %s: at most %lld", cs->aggname,
					(long long) cs_max_records(cs->width)),
			 errhint("Split the customers into groups, or use the per-customer functions.")));
}

/* a state with room for at least want records holding a's records */
static ArrayType *
cs_grow(MemoryContext cxt, const ClmCustState *cs, ArrayType *a, int64 want)
{
	int64	   *v = (int64 *) ARR_DATA_PTR(a);
	int64		cap = cs_capacity(a, cs);
	ArrayType  *g;

	if (want > cs_max_records(cs->width))
		cs_too_many(cs);
	cap = Max(cap * 2, want);
	cap = Min(cap, cs_max_records(cs->width));
	g = cs_alloc(cxt, cs, cap, (int32) v[2]);
	memcpy(ARR_DATA_PTR(g), v, sizeof(int64) * (CS_HEADER + v[1] * cs->width));
	cs_set_count(g, cs, v[1]);
	return g;
}

/*
 * The expanded state of an aggregate (see clm_cs_append) from argument 0:
 * the state itself when it is one (checked), else a new one in aggcxt
 * holding the records of the flat state (checked: also a user aggregate's
 * initcond) or none (a NULL state).
 */
static ExpandedArrayHeader *
cs_expanded_arg(FunctionCallInfo fcinfo, const ClmCustState *cs, MemoryContext aggcxt,
				int32 as_of, int64 **v)
{
	ExpandedArrayHeader *eah = NULL;
	int64		len;
	int64		n;
	int32		state_as_of;

	if (PG_ARGISNULL(0) ||
		!VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(PG_GETARG_DATUM(0))) ||
		(*v = cs_expanded_values(PG_GETARG_DATUM(0), &eah, &len)) == NULL)
	{
		ArrayType  *a;

		if (PG_ARGISNULL(0))
			a = cs_alloc(CurrentMemoryContext, cs, 0, as_of);
		else
		{
			/* flat (or some other array: flattened by the fetch) */
			a = PG_GETARG_ARRAYTYPE_P(0);
			(void) clm_cs_records(a, cs, false, &n, &state_as_of);
		}
		eah = (ExpandedArrayHeader *) DatumGetEOHP(expand_array(PointerGetDatum(a), aggcxt, NULL));
		deconstruct_expanded_array(eah);
		*v = cs_expanded_values(EOHPGetRWDatum(&eah->hdr), &eah, &len);
		Assert(*v != NULL);
	}
	cs_check(*v, len, cs, false, &n, &state_as_of);
	if (state_as_of != as_of)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must be the same in every row of %s", cs->aggname)));
	return eah;
}

/*
 * Append a zeroed record for this row to the state (argument 0, NULL on the
 * first row) and point *rec at it; the as_of of every row must be the same.
 * Returns the state to hand back to the executor.
 *
 * Inside an aggregate (where an int8 is a Datum) the state is an expanded
 * bigint[] (utils/array.h) in a child of the aggregate's memory, its
 * elements the Datums of dvalues, which are the int64 values themselves.  A
 * record is appended in place and the same state returned, so the executor
 * keeps it without copying; dvalues grows by doubling with repalloc, which
 * for a block this large moves no data on Linux (realloc remaps the pages).
 * A flat state is copied at every growth, and then copied again by the
 * executor into its memory: for a million customers some 160 MB of fresh
 * memory, against the 32 MB of the records.  The expanded state is flattened
 * wherever a flat value is needed (by the final function, or when a partial
 * state leaves a worker) and is a valid bigint[] to any function.  Outside
 * an aggregate the state is flat and copied.
 */
Datum
clm_cs_append(FunctionCallInfo fcinfo, const ClmCustState *cs, int32 as_of, int64 **rec)
{
	MemoryContext aggcxt;
	ArrayType  *a;
	int64	   *v;
	int64		n;
	int32		state_as_of;

	if (FLOAT8PASSBYVAL && AggCheckCallContext(fcinfo, &aggcxt))
	{
		ExpandedArrayHeader *eah = cs_expanded_arg(fcinfo, cs, aggcxt, as_of, &v);
		int64		need;

		n = v[1];
		if (n + 1 > cs_max_records(cs->width))
			cs_too_many(cs);
		need = CS_HEADER + (n + 1) * cs->width;
		if (need > eah->dvalueslen)
		{
			int64		len = Max(need, Max((int64) eah->dvalueslen * 2,
											CS_HEADER + 64 * cs->width));

			len = Min(len, CS_HEADER + cs_max_records(cs->width) * cs->width);
			eah->dvalues = (Datum *) repalloc(eah->dvalues, len * sizeof(Datum));
			eah->dvalueslen = (int) len;
			v = (int64 *) eah->dvalues;
		}
		*rec = v + CS_HEADER + n * cs->width;
		memset(*rec, 0, sizeof(int64) * cs->width);
		v[1] = n + 1;
		eah->nelems = (int) need;
		eah->dims[0] = (int) need;
		/* the flat copy expand_array kept, and its size, are out of date */
		eah->fvalue = NULL;
		eah->flat_size = 0;
		return EOHPGetRWDatum(&eah->hdr);
	}

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
	return PointerGetDatum(a);
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

	const int64 *v = NULL;
	ExpandedArrayHeader *eah;
	int64		len;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	/* an aggregate's expanded state: read in place, else flattened */
	if (FLOAT8PASSBYVAL)
		v = cs_expanded_values(PG_GETARG_DATUM(0), &eah, &len);
	if (v != NULL)
		cs_check(v, len, cs, false, &n, &as_of);
	else
	{
		a = PG_GETARG_ARRAYTYPE_P(0);
		(void) clm_cs_records(a, cs, false, &n, &as_of);
		v = (const int64 *) ARR_DATA_PTR(a);
	}
	f = cs_alloc(CurrentMemoryContext, cs, n, as_of);
	memcpy(ARR_DATA_PTR(f), v, sizeof(int64) * (CS_HEADER + n * cs->width));
	cs_set_count(f, cs, n);
	PG_RETURN_ARRAYTYPE_P(f);
}
