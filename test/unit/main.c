/*-------------------------------------------------------------------------
 *
 * main.c
 *	  Runs every C unit test of the numerical core (make unittest).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "unit.h"

int			unit_passed = 0;
int			unit_failed = 0;

/* run one registered test and say how many checks it added */
static void
run(const char *name, void (*fn) (void))
{
	int			p0 = unit_passed;
	int			f0 = unit_failed;

	fn();
	fprintf(stderr, "%-24s %d passed, %d failed\n", name,
			unit_passed - p0, unit_failed - f0);
}

/* entry point: final line is exactly "N passed, M failed" */
int
main(void)
{
	run("test_rng", test_rng);
	run("test_models", test_models_run);
	run("test_models_recovery", test_models_recovery_run);
	run("test_optim", test_optim_run);
	run("test_cov", test_cov_run);
	run("test_interval", test_interval_run);

	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed == 0 ? 0 : 1;
}
