/*
 * main_local.c
 *	  Stand-in main() for the model unit tests; to be replaced by the shared
 *	  test/unit/main.c, which must call test_models_run().
 */
#include "unit_local.h"

int			unit_passed = 0;
int			unit_failed = 0;

int
main(void)
{
	test_models_run();
	test_models_recovery_run();
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}
