/*-------------------------------------------------------------------------
 *
 * profile_build.h
 *	  The batched profile build (profile_build.c): build states as expanded
 *	  objects whose rows are applied in batches, state by state.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_PROFILE_BUILD_H
#define CLM_PROFILE_BUILD_H

#include "fmgr.h"

#include "profile.h"

/* the objects and pending rows of one call site in one aggregate context */
typedef struct ClmBuildArena ClmBuildArena;

extern bool clm_build_usable(FunctionCallInfo fcinfo);
extern Datum clm_build_add(ClmBuildArena **list, MemoryContext aggcxt, Datum d,
						   bool isnull, const ClmEvent *ev);
extern bool clm_build_apply_in_place(Datum d, const ClmEvent *ev);
extern ClmProfile *clm_build_state(Datum d);
extern void clm_build_set_state(Datum d, ClmProfile *st);
extern MemoryContext clm_build_context(Datum d);

#endif							/* CLM_PROFILE_BUILD_H */
