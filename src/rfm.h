/*-------------------------------------------------------------------------
 *
 * rfm.h
 *	  RFM: definitions shared by rfm_*.c (breakpoints, scores, the aggregate
 *	  state, segments, text and binary forms, the one-pass form).
 *
 * For a customer with at least one purchase day on or before as_of:
 *	 R = days_since_last_purchase = as_of - last purchase day (fewer is better)
 *	 F = orders = number of purchase days on or before as_of (more is better;
 *		 ranks exactly like frequency = orders - 1)
 *	 M = total_spend = net spend of every day on or before as_of, refunds
 *		 subtracted, in units of 1/10000 (more is better)
 * A customer with no purchase day on or before as_of has no RFM values: it
 * is counted as "excluded" by the breakpoints and scores NULL.
 *
 * Breakpoints for n scores (2 <= n <= 9) are three lists of n - 1 thresholds,
 * one per score 2..n:
 *	 r_score = 1 + #{s : R <= r_cut[s]}		(r_cut non-increasing)
 *	 f_score = 1 + #{s : F >= f_cut[s]}		(f_cut non-decreasing)
 *	 m_score = 1 + #{s : M >= m_cut[s]}		(m_cut non-decreasing)
 * so a score depends on the value alone: equal values get equal scores.
 *
 * Text form of clm.rfm_breakpoints (round-trips exactly):
 *	 quantile: "n=5 as_of=2025-01-01 customers=8 excluded=2 r<=90,30,10,3 f>=2,2,3,5 m>=10,25.5,100,250"
 *	 fixed:    "n=5 r<=180,90,30,7 f>=2,3,5,8 m>=50,100,250,1000"
 *
 * The aggregate state clm.rfm_state holds three exact run-length histograms
 * of (value, count), one per dimension; its text form is
 *	 "n=5 as_of=2025-01-01 excluded=2 r=3:1,10:2 f=1:2,2:1 m=100000:1,255000:2"
 * (values and counts as integers, M in 1/10000 units).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_RFM_H
#define CLM_RFM_H

#include "postgres.h"
#include "access/tupdesc.h"
#include "fmgr.h"
#include "utils/date.h"

#include "profile.h"

#define RFM_MIN_N			2
#define RFM_MAX_N			9
#define RFM_VERSION			1

#define RFM_KIND_FIXED		0
#define RFM_KIND_QUANTILE	1

#define DIM_R	0
#define DIM_F	1
#define DIM_M	2

/* the breakpoints value: cuts[dim * (n - 1) + (s - 2)] is the cut of score s */
typedef struct RfmBreakpoints
{
	int32		vl_len_;
	uint8		version;
	uint8		kind;			/* RFM_KIND_* */
	uint8		n;				/* number of scores */
	uint8		reserved;
	int32		as_of;			/* quantile: the as-of date; fixed: 0 */
	int64		customers;		/* quantile: customers with a purchase */
	int64		excluded;		/* quantile: customers without one */
	int64		cuts[FLEXIBLE_ARRAY_MEMBER];
} RfmBreakpoints;

#define RFM_BP_SIZE(n)	(offsetof(RfmBreakpoints, cuts) + 3 * ((n) - 1) * sizeof(int64))

/* one run of the histogram state */
typedef struct RfmEntry
{
	int32		dim;			/* DIM_* */
	int32		reserved;
	int64		value;
	int64		count;
} RfmEntry;

/* the aggregate state: entries[0 .. n_sorted) sorted and run-length coded */
typedef struct RfmState
{
	int32		vl_len_;
	uint8		version;
	uint8		n;
	uint16		reserved;
	int32		as_of;
	int32		n_entries;
	int32		n_sorted;
	int64		excluded;
	RfmEntry	entries[FLEXIBLE_ARRAY_MEMBER];
} RfmState;

#define RFM_STATE_HDR		offsetof(RfmState, entries)
#define RFM_STATE_CAP(st)	((int32) ((VARSIZE(st) - RFM_STATE_HDR) / sizeof(RfmEntry)))
#define RFM_MAX_ENTRIES		((int32) ((MaxAllocSize - RFM_STATE_HDR) / sizeof(RfmEntry)))

/* the cut of score s (2..n) in dimension dim */
static inline int64
clm_rfm_bp_cut(const RfmBreakpoints *bp, int dim, int s)
{
	return bp->cuts[dim * (bp->n - 1) + (s - 2)];
}

#define RFM_CELLS	(RFM_MAX_N * RFM_MAX_N * RFM_MAX_N)

/* a map loaded for one call site: the winning rule of every cell */
typedef struct RfmMapCache
{
	text	   *map_name;		/* the map this cache holds */
	int			n_rules;
	Datum	   *segment;		/* per rule: segment (text) */
	int32	   *rule_id;		/* per rule */
	int32	   *priority;		/* per rule */
	int16		winner[RFM_CELLS];	/* rule index per cell, -1 for a gap */
	TupleDesc	tupdesc;		/* blessed clm.rfm_segment_match */
} RfmMapCache;

/* the rule index of cell (r, f, m) in a loaded map, -1 for none */
static inline int
clm_rfm_map_winner(const RfmMapCache *cache, int32 r, int32 f, int32 m)
{
	if (r < 1 || r > RFM_MAX_N || f < 1 || f > RFM_MAX_N || m < 1 || m > RFM_MAX_N)
		return -1;
	return cache->winner[((r - 1) * RFM_MAX_N + (f - 1)) * RFM_MAX_N + (m - 1)];
}

/* rfm_breakpoints.c */
extern const char *clm_rfm_bp_check_order(const RfmBreakpoints *bp);
extern RfmBreakpoints *clm_rfm_bp_alloc(int n, int kind);
extern RfmBreakpoints *clm_rfm_bp_read(Datum d);
extern int64 clm_rfm_numeric_units(Datum num);
extern void clm_rfm_quantile_cuts(const int64 *vals, const int64 *cnt, int32 k, int64 N, int n,
								  int64 step, int64 *cuts);

/* rfm_score.c */
extern void clm_rfm_scores_of(const RfmBreakpoints *bp, int64 r, int64 f, int64 m, int *sc);
extern DateADT clm_rfm_as_of_arg(FunctionCallInfo fcinfo, int argno);
extern bool clm_rfm_profile_values(const ClmProfile *p, DateADT as_of, int64 *r, int64 *f, int64 *m);

/* rfm_state.c */
extern RfmState *clm_rfm_state_alloc(MemoryContext cxt, int n, DateADT as_of, int32 cap);
extern RfmState *clm_rfm_state_reserve(RfmState *st, int32 extra);
extern void clm_rfm_state_check(const RfmState *st);
extern void clm_rfm_state_compact(RfmState *st);

/* rfm_segment.c */
extern RfmMapCache *clm_rfm_map_cached(FunctionCallInfo fcinfo, text *map_name, bool match_type);
extern RfmMapCache *clm_rfm_map_load(FunctionCallInfo fcinfo, text *map_name, MemoryContext cxt);

#endif							/* CLM_RFM_H */
