/*-------------------------------------------------------------------------
 *
 * stage.h
 *	  Lifecycle stages of a customer (see stage.c for the definitions).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_STAGE_H
#define CLM_STAGE_H

#include "postgres.h"
#include "fmgr.h"

#include "compat.h"
#include "profile.h"

typedef enum ClmStage
{
	CLM_STAGE_NONE = 0,			/* no event yet: SQL NULL */
	CLM_STAGE_PROSPECT,
	CLM_STAGE_NEW,
	CLM_STAGE_ACTIVE,
	CLM_STAGE_AT_RISK,
	CLM_STAGE_LAPSED,
	CLM_STAGE_CHURNED,
	CLM_STAGE_REACTIVATED
} ClmStage;

#define CLM_N_STAGES 8

/*
 * The smallest population gap accepted (days): days since a purchase (under
 * 4e7) divided by it stays below DBL_MAX, so every gap ratio is finite.
 */
#define CLM_MIN_POPULATION_GAP	1e-300

typedef struct ClmStageRules
{
	double		population_gap; /* g_pop, days, > 0 */
	double		prior_strength; /* k >= 0 */
	int32		new_days;		/* >= 0 */
	double		active_ratio;	/* 0 < active <= at_risk <= lapsed */
	double		at_risk_ratio;
	double		lapsed_ratio;
	bool		fixed_days;		/* expected gap = g_pop for everyone */
} ClmStageRules;

/* a customer's history as of a day, maintained incrementally */
typedef struct ClmStageHist
{
	int32		n_seen;			/* activity days on or before the day */
	int32		first_seen;
	int32		last_seen;
	int32		k;				/* purchase days on or before the day */
	int32		first_p;
	int32		last_p;
	int32		prev_p;			/* purchase day before last_p (k >= 2) */
} ClmStageHist;

typedef struct ClmStageResult
{
	ClmStage	stage;
	double		expected_gap;	/* days (purchasers only) */
	int32		since_last;		/* days since last purchase */
	double		ratio;			/* since_last / expected_gap */
	int32		winback_gap;	/* reactivated: days without purchase before it */
	double		winback_ratio;	/* reactivated: ratio on the day before the win-back */
	double		winback_expected;	/* reactivated: expected gap that day */
} ClmStageResult;

/* a customer's own mean gap between purchase days (k >= 2) */
static inline double
clm_own_mean_gap(const ClmStageHist *h)
{
	return (double) (h->last_p - h->first_p) / (h->k - 1);
}

extern const char *clm_stage_name(ClmStage s);
extern bool clm_stage_rules_read(FunctionCallInfo fcinfo, int first, ClmStageRules *r,
								 bool gap_nullable);
extern void clm_stage_values(const ClmStageRules *r, const ClmStageHist *h, int32 day,
							 const ClmStageResult *res, Datum *values, bool *nulls);
extern void clm_stage_rules_check(const ClmStageRules *r);
extern void clm_stage_hist_init(ClmStageHist *h);
extern int32 clm_stage_hist_advance(ClmStageHist *h, const ClmDay *days, int32 n,
									int32 i, int32 day);
extern void clm_stage_hist_of(ClmStageHist *h, const ClmProfile *p, int32 day);
extern void clm_stage_eval(const ClmStageRules *r, const ClmStageHist *h,
						   int32 day, ClmStageResult *res);
extern ClmStage clm_stage_at(const ClmStageRules *r, const ClmProfile *p, int32 day);

#endif							/* CLM_STAGE_H */
