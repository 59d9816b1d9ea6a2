/*-------------------------------------------------------------------------
 *
 * clm.c
 *	  Module entry of the clm extension.
 *
 * clm needs no preload library, no background worker and no GUC: it is
 * loaded on first use of one of its functions.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "compat.h"

PG_MODULE_MAGIC;
