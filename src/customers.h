/*-------------------------------------------------------------------------
 *
 * customers.h
 *	  Per-customer states of the one-pass aggregates (clm.customer_stages,
 *	  clm.customer_rfm): a bigint[] holding one fixed-width record per
 *	  customer, expanded to rows by the matching *_rows function.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_CUSTOMERS_H
#define CLM_CUSTOMERS_H

#include "fmgr.h"
#include "utils/array.h"

/*
 * Layout: [0] kind, [1] records, [2] as_of, [3] record width w, then the
 * records, w elements each, from element CS_HEADER.  The array's dimension
 * covers exactly the records it holds.  While aggregating, its allocation
 * (VARSIZE) may have room for more records past the dimension, so that a
 * row is appended in place; that room is not part of the value, so a partial
 * state printed by its text output (as Citus moves partial states between
 * nodes) carries no spare elements.  States written by 0.1 (a dimension
 * with zero records past the last one) are read as before.
 */
#define CS_HEADER		4
#define CS_KIND_STAGES	101
#define CS_KIND_RFM		102

/* what the aggregates and the *_rows functions call the state in errors */
typedef struct ClmCustState
{
	int64		kind;			/* CS_KIND_* */
	int			width;			/* elements per record, the key first */
	const char *aggname;		/* e.g. "clm.customer_stages" */
} ClmCustState;

extern Datum clm_cs_append(FunctionCallInfo fcinfo, const ClmCustState *cs,
						   int32 as_of, int64 **rec);
extern Datum clm_cs_combine(FunctionCallInfo fcinfo, const ClmCustState *cs);
extern Datum clm_cs_final(FunctionCallInfo fcinfo, const ClmCustState *cs);
extern int64 *clm_cs_records(ArrayType *a, const ClmCustState *cs, bool final,
							 int64 *n, int32 *as_of);

#endif							/* CLM_CUSTOMERS_H */
