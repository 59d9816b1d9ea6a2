/*-------------------------------------------------------------------------
 *
 * rfm_segment.c
 *	  RFM segments: segment maps (clm.rfm_segment_map) loaded per call site,
 *	  and clm.rfm_segment.
 *
 * Definitions and layouts: rfm.h.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "period.h"
#include "profile.h"
#include "rfm.h"

PG_FUNCTION_INFO_V1(clm_rfm_segment);
PG_FUNCTION_INFO_V1(clm_rfm_segment_scores);

/* load map_name from clm.rfm_segment_map into a cache in fcxt */
static RfmMapCache *
load_map(FunctionCallInfo fcinfo, text *map_name, bool match_type, MemoryContext fcxt)
{
	RfmMapCache *cache;
	char	   *nsp = get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));
	char	   *query;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	uint64		i;
	int			c;

	query = psprintf("SELECT segment, rule_id, priority, r_min, r_max, f_min, f_max, m_min, m_max "
					 "FROM %s.rfm_segment_map WHERE map_name OPERATOR(pg_catalog.=) $1 "
					 "ORDER BY priority, rule_id",
					 quote_identifier(nsp));
	args[0] = PointerGetDatum(map_name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(query, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the rfm segment map");

	cache = MemoryContextAllocZero(fcxt, sizeof(RfmMapCache));
	cache->map_name = (text *) MemoryContextAlloc(fcxt, VARSIZE_ANY(map_name));
	memcpy(cache->map_name, map_name, VARSIZE_ANY(map_name));
	cache->n_rules = (int) Min(SPI_processed, (uint64) PG_INT16_MAX);
	cache->segment = MemoryContextAllocZero(fcxt, sizeof(Datum) * Max(cache->n_rules, 1));
	cache->rule_id = MemoryContextAllocZero(fcxt, sizeof(int32) * Max(cache->n_rules, 1));
	cache->priority = MemoryContextAllocZero(fcxt, sizeof(int32) * Max(cache->n_rules, 1));
	for (c = 0; c < RFM_CELLS; c++)
		cache->winner[c] = -1;

	/* rules come in firing order: the first rule to cover a cell wins it */
	for (i = 0; i < (uint64) cache->n_rules; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		int32		lim[6];
		int			k,
					r,
					f,
					m;
		MemoryContext old;

		old = MemoryContextSwitchTo(fcxt);
		cache->segment[i] = PointerGetDatum(DatumGetTextPCopy(SPI_getbinval(tup, td, 1, &isnull)));
		MemoryContextSwitchTo(old);
		cache->rule_id[i] = DatumGetInt32(SPI_getbinval(tup, td, 2, &isnull));
		cache->priority[i] = DatumGetInt32(SPI_getbinval(tup, td, 3, &isnull));
		for (k = 0; k < 6; k++)
			lim[k] = DatumGetInt32(SPI_getbinval(tup, td, 4 + k, &isnull));
		for (r = Max(lim[0], 1); r <= Min(lim[1], RFM_MAX_N); r++)
			for (f = Max(lim[2], 1); f <= Min(lim[3], RFM_MAX_N); f++)
				for (m = Max(lim[4], 1); m <= Min(lim[5], RFM_MAX_N); m++)
				{
					int			cell = ((r - 1) * RFM_MAX_N + (f - 1)) * RFM_MAX_N + (m - 1);

					if (cache->winner[cell] < 0)
						cache->winner[cell] = (int16) i;
				}
	}
	SPI_finish();

	if (!match_type)
		return cache;
	if (get_call_result_type(fcinfo, NULL, &cache->tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (cache->tupdesc->natts != 3)
		elog(ERROR, "clm.rfm_segment_match has %d attributes, expected 3", cache->tupdesc->natts);
	{
		MemoryContext old = MemoryContextSwitchTo(fcxt);

		cache->tupdesc = BlessTupleDesc(CreateTupleDescCopy(cache->tupdesc));
		MemoryContextSwitchTo(old);
	}
	return cache;
}

/*
 * map_name loaded into memory context cxt, for a caller that cannot keep it
 * in fn_extra (a set-returning function one row a call, whose fn_extra is
 * its FuncCallContext): loaded once per set
 */
RfmMapCache *
clm_rfm_map_load(FunctionCallInfo fcinfo, text *map_name, MemoryContext cxt)
{
	return load_map(fcinfo, map_name, false, cxt);
}

/*
 * The segment of cell (r, f, m) under map_name and the rule that fired
 * (lowest priority, then lowest rule_id), or NULL.  The map is read once per
 * call site and query and kept in fn_extra, so labelling a million
 * customers reads the map table once.
 */
RfmMapCache *
clm_rfm_map_cached(FunctionCallInfo fcinfo, text *map_name, bool match_type)
{
	RfmMapCache *cache = (RfmMapCache *) fcinfo->flinfo->fn_extra;

	if (cache == NULL ||
		VARSIZE_ANY_EXHDR(cache->map_name) != VARSIZE_ANY_EXHDR(map_name) ||
		memcmp(VARDATA_ANY(cache->map_name), VARDATA_ANY(map_name),
			   VARSIZE_ANY_EXHDR(map_name)) != 0)
	{
		if (cache != NULL)
		{
			/* another map at this call site: drop the old one */
			int			i;

			for (i = 0; i < cache->n_rules; i++)
				pfree(DatumGetPointer(cache->segment[i]));
			pfree(cache->segment);
			pfree(cache->rule_id);
			pfree(cache->priority);
			pfree(cache->map_name);
			if (cache->tupdesc)
				FreeTupleDesc(cache->tupdesc);
			pfree(cache);
			fcinfo->flinfo->fn_extra = NULL;
		}
		cache = load_map(fcinfo, map_name, match_type, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = cache;
	}
	return cache;
}

/*
 * The segment of cell (r, f, m) under map_name and the rule that fired
 * (lowest priority, then lowest rule_id), or NULL.  The map is read once per
 * call site and query and kept in fn_extra, so labelling a million
 * customers reads the map table once.
 */
static Datum
segment_lookup(FunctionCallInfo fcinfo, int32 r, int32 f, int32 m, text *map_name)
{
	RfmMapCache *cache = clm_rfm_map_cached(fcinfo, map_name, true);
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int			w = clm_rfm_map_winner(cache, r, f, m);

	if (w < 0)
		PG_RETURN_NULL();
	values[0] = cache->segment[w];
	values[1] = Int32GetDatum(cache->rule_id[w]);
	values[2] = Int32GetDatum(cache->priority[w]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(cache->tupdesc, values, nulls)));
}

/* clm.rfm_segment(r, f, m, map_name) */
Datum
clm_rfm_segment(PG_FUNCTION_ARGS)
{
	return segment_lookup(fcinfo, PG_GETARG_INT32(0), PG_GETARG_INT32(1),
						  PG_GETARG_INT32(2), PG_GETARG_TEXT_PP(3));
}

/* clm.rfm_segment(scores clm.rfm_scores, map_name): NULL if a score is NULL */
Datum
clm_rfm_segment_scores(PG_FUNCTION_ARGS)
{
	HeapTupleHeader t = PG_GETARG_HEAPTUPLEHEADER(0);
	int32		sc[3];
	int			i;

	for (i = 0; i < 3; i++)
	{
		bool		isnull;
		Datum		d = GetAttributeByNum(t, (AttrNumber) (i + 1), &isnull);

		if (isnull)
			PG_RETURN_NULL();
		sc[i] = DatumGetInt32(d);
	}
	return segment_lookup(fcinfo, sc[0], sc[1], sc[2], PG_GETARG_TEXT_PP(1));
}
