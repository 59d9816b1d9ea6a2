/*-------------------------------------------------------------------------
 *
 * period.c
 *	  Parsing and checking of period parameters (see period.h).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "compat.h"
#include "period.h"

/* 'day', 'week' or 'month', or a 22023 error */
ClmPeriodKind
clm_parse_period(text *t)
{
	char	   *s = text_to_cstring(t);
	ClmPeriodKind k;

	if (strcmp(s, "day") == 0)
		k = CLM_PERIOD_DAY;
	else if (strcmp(s, "week") == 0)
		k = CLM_PERIOD_WEEK;
	else if (strcmp(s, "month") == 0)
		k = CLM_PERIOD_MONTH;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid period \"%s\"", s),
				 errhint("Use 'day', 'week' or 'month'.")));
	pfree(s);
	return k;
}

/*
 * clm_parse_period(t), remembered in c (allocated in cxt): an argument with
 * the bytes of the last one is not parsed again
 */
ClmPeriodKind
clm_parse_period_cached(ClmPeriodArg *c, MemoryContext cxt, text *t)
{
	Size		len = VARSIZE_ANY_EXHDR(t);

	if (c->arg == NULL || VARSIZE_ANY_EXHDR(c->arg) != len ||
		memcmp(VARDATA_ANY(c->arg), VARDATA_ANY(t), len) != 0)
	{
		ClmPeriodKind kind = clm_parse_period(t);

		if (c->arg != NULL)
			pfree(c->arg);
		c->arg = (text *) MemoryContextAlloc(cxt, VARSIZE_ANY(t));
		memcpy(c->arg, t, VARSIZE_ANY(t));
		c->kind = kind;
	}
	return c->kind;
}

/* the SQL spelling of a period kind */
const char *
clm_period_name(ClmPeriodKind kind)
{
	switch (kind)
	{
		case CLM_PERIOD_DAY:
			return "day";
		case CLM_PERIOD_WEEK:
			return "week";
		default:
			return "month";
	}
}

/* week_start must be an ISO day of week */
int32
clm_check_week_start(int32 ws)
{
	if (ws < 1 || ws > 7)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("week_start must be between 1 (Monday) and 7 (Sunday), got %d", ws)));
	return ws;
}

/* dates bounding a range must be finite */
int32
clm_finite_date(DateADT d, const char *what)
{
	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite date", what)));
	/* keeps every period computation far from integer overflow */
	if (d > CLM_MAX_DATE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is out of the supported range (up to year 100000)", what)));
	return d;
}

/* a one-dimensional bigint[] of n zeros, allocated in cxt */
ArrayType *
clm_int8_array_alloc(MemoryContext cxt, int n)
{
	Size		size = ARR_OVERHEAD_NONULLS(1) + sizeof(int64) * (Size) n;
	ArrayType  *a = (ArrayType *) MemoryContextAllocZero(cxt, size);

	SET_VARSIZE(a, size);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = INT8OID;
	ARR_DIMS(a)[0] = n;
	ARR_LBOUND(a)[0] = 1;
	return a;
}

/* the elements of a bigint[] state; 22023 unless 1-D, no NULLs, >= min_len */
int64 *
clm_int8_array_values(ArrayType *a, int min_len, int *len, const char *what)
{
	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != INT8OID ||
		ARR_DIMS(a)[0] < min_len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s", what),
				 errhint("Pass a value returned by the aggregate, unchanged.")));
	*len = ARR_DIMS(a)[0];
	return (int64 *) ARR_DATA_PTR(a);
}

/* raise the error for an inconsistent state value */
void
clm_bad_state(const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s: %s", what, detail),
			 errhint("Pass a value returned by the aggregate, unchanged.")));
}

/*
 * The type of argument argnum of this call: from the call's expression, or,
 * when the caller gave none, from the function's declaration.  Citus calls a
 * transition function through its worker_partial_agg with no expression;
 * clm's overloaded support functions are declared with exact types (none is
 * polymorphic), so the declaration names the type of the call.
 */
Oid
clm_arg_type(FunctionCallInfo fcinfo, int argnum)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, argnum);
	HeapTuple	tup;
	Form_pg_proc proc;

	if (OidIsValid(type))
		return type;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (argnum >= 0 && argnum < proc->pronargs)
		type = proc->proargtypes.values[argnum];
	ReleaseSysCache(tup);
	return type;
}

/*
 * The memory context of a new state: the aggregate's, or the current one
 * when a transition or combine function is called directly (it then works
 * on a copy of its state: see clm_state_arg).
 */
MemoryContext
clm_agg_context(FunctionCallInfo fcinfo)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		cxt = CurrentMemoryContext;
	return cxt;
}

/*
 * Argument argno, a bigint[] or float8[] state to update: in place inside an
 * aggregate, where the executor owns the state, else a copy, so that a
 * direct call (the argument may be a table's datum) never writes into its
 * input.
 */
ArrayType *
clm_state_arg(FunctionCallInfo fcinfo, int argno)
{
	if (AggCheckCallContext(fcinfo, NULL))
		return PG_GETARG_ARRAYTYPE_P(argno);
	return PG_GETARG_ARRAYTYPE_P_COPY(argno);
}
