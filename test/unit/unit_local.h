/*
 * unit_local.h
 *	  Minimal assertion framework used by test_models*.c until the shared
 *	  test/unit/unit.h lands; main_local.c holds the counters and main().
 */
#ifndef UNIT_LOCAL_H
#define UNIT_LOCAL_H

#include <math.h>
#include <stdio.h>

extern int	unit_passed;
extern int	unit_failed;

#define CHECK(cond) do { \
	if (cond) unit_passed++; \
	else { unit_failed++; fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

/* |got - want| <= tol */
#define CHECK_NEAR(got, want, tol) do { \
	double g_ = (got), w_ = (want); \
	if (fabs(g_ - w_) <= (tol)) unit_passed++; \
	else { unit_failed++; fprintf(stderr, "%s:%d: %s = %.10g, want %.10g +- %g\n", __FILE__, __LINE__, #got, g_, w_, (double) (tol)); } \
} while (0)

extern void test_models_run(void);
extern void test_models_recovery_run(void);

#endif
