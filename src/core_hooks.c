/*-------------------------------------------------------------------------
 *
 * core_hooks.c
 *	  The services the numerical core (src/core) asks of its host: interrupt
 *	  checks and memory.
 *
 * The core has no PostgreSQL headers; its long loops call
 * clm_core_check_interrupts, which here is CHECK_FOR_INTERRUPTS, so a
 * statement_timeout or pg_cancel_backend unwinds out of an optimiser or a
 * quadrature by the usual longjmp.  Its scratch memory is palloc'd in the
 * current memory context, so nothing leaks when that happens.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "clm_models.h"
#include "compat.h"

/* interrupt check of the core's long loops */
void
clm_core_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

/* scratch memory of the core: NULL when it cannot be had */
void *
clm_core_alloc(size_t size)
{
	return palloc_extended(size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

/* free scratch memory of the core */
void
clm_core_free(void *p)
{
	if (p)
		pfree(p);
}
