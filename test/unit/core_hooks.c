/*
 * core_hooks.c: the host services of the numerical core for the unit tests:
 * malloc'd memory, and an interrupt check that counts its calls (so a test
 * can assert that a long loop checks for interrupts).
 */
#include <stdlib.h>

#include "clm_models.h"
#include "unit.h"

long		unit_interrupt_checks = 0;

/* count the interrupt checks */
void
clm_core_check_interrupts(void)
{
	unit_interrupt_checks++;
}

/* scratch memory */
void *
clm_core_alloc(size_t size)
{
	return malloc(size);
}

/* free scratch memory */
void
clm_core_free(void *p)
{
	free(p);
}
