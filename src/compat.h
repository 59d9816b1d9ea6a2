/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every difference between the PostgreSQL versions clm supports, behind
 *	  PG_VERSION_NUM, and nowhere else.
 *
 * Every source file includes this header (after postgres.h); the code writes
 * the newest spelling and this header maps it onto the older versions.  What
 * each version needed:
 *
 * 15	the oldest supported version: the code uses \getenv in tests and
 *		InitMaterializedSRF(), both new in 15 (14 reached end of life in
 *		November 2026).
 * 16	the varlena macros (VARSIZE, VARDATA, VARATT_IS_COMPRESSED, ...) moved
 *		from postgres.h into varatt.h, which postgres.h no longer includes:
 *		without it the macros that are not also functions compile as implicit
 *		declarations and the library fails to load ("undefined symbol:
 *		VARATT_IS_COMPRESSED").  The tests' force_parallel_mode was renamed
 *		debug_parallel_query: the tests take its name from
 *		sql/include/parallel.psql (not a C matter).
 * 17	nothing.
 * 18	pg_attribute_noreturn(), written after a declaration, is gone; its
 *		replacement pg_noreturn is written before it.  clm writes pg_noreturn,
 *		defined here before 18 as pg_attribute_noreturn(), which GCC and
 *		clang accept in front of a declaration too.
 * 19	(19beta2) nothing beyond 18.
 *
 * src/core/ is plain C without PostgreSQL headers and needs none of this.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_COMPAT_H
#define CLM_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "clm needs PostgreSQL 15 or later"
#endif

/* 16: the varlena macros live in varatt.h */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/* 18: pg_noreturn (a prefix) replaces pg_attribute_noreturn() (a suffix) */
#if PG_VERSION_NUM < 180000 && !defined(pg_noreturn)
#define pg_noreturn pg_attribute_noreturn()
#endif

#endif							/* CLM_COMPAT_H */
