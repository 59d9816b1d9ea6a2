/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every difference between the PostgreSQL versions clm supports, behind
 *	  PG_VERSION_NUM, and nowhere else.
 *
 * Every source file includes this header (after postgres.h); the code writes
 * the newest spelling and this header maps it onto the older versions, or,
 * where the newest cannot be had on the older versions, the code calls a
 * clm_ wrapper defined here.  What each version needed:
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
 * 19	(19beta2) funcapi.h (through executor/executor.h) no longer brings in
 *		utils/tuplestore.h (tuplestore_putvalues) nor access/htup_details.h
 *		(heap_form_tuple): included here.  numeric_mul_opt_error(a, b, bool *)
 *		became numeric_mul_safe(a, b, Node *escontext) with a soft-error
 *		context, which 15 has not: the code calls clm_numeric_mul_checked().
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

/* 19: headers funcapi.h no longer includes */
#if PG_VERSION_NUM >= 190000
#include "access/htup_details.h"
#include "utils/tuplestore.h"
#endif

/*
 * clm_numeric_mul_checked: a * b, or NULL with *overflow set when the product
 * is out of numeric's range (19: numeric_mul_safe with a soft-error context;
 * before: numeric_mul_opt_error).
 */
#include "utils/numeric.h"
#if PG_VERSION_NUM >= 190000
#include "nodes/miscnodes.h"

static inline Numeric
clm_numeric_mul_checked(Numeric a, Numeric b, bool *overflow)
{
	ErrorSaveContext escontext = {T_ErrorSaveContext};
	Numeric		result = numeric_mul_safe(a, b, (Node *) &escontext);

	*overflow = escontext.error_occurred;
	return *overflow ? NULL : result;
}
#else
static inline Numeric
clm_numeric_mul_checked(Numeric a, Numeric b, bool *overflow)
{
	Numeric		result;

	*overflow = false;
	result = numeric_mul_opt_error(a, b, overflow);
	return *overflow ? NULL : result;
}
#endif

#endif							/* CLM_COMPAT_H */
