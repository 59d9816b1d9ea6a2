/*-------------------------------------------------------------------------
 *
 * unit.h
 *	  A tiny assertion framework for the C unit tests of the numerical core.
 *
 * Each test file defines one or more functions "void test_xxx(void)" and
 * registers them in main.c.  Checks count passes and failures; main() prints
 * the final line "N passed, M failed" and exits non-zero on any failure.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_UNIT_H
#define CLM_UNIT_H

#include <math.h>
#include <stdio.h>

extern int	unit_passed;
extern int	unit_failed;

/* record one check; prints the failing expression and location */
#define UNIT_CHECK(cond) \
	do { \
		if (cond) \
			unit_passed++; \
		else \
		{ \
			unit_failed++; \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		} \
	} while (0)

/* check |got - want| <= tol, printing both values on failure */
#define UNIT_CHECK_NEAR(got, want, tol) \
	do { \
		double	unit_g_ = (got), unit_w_ = (want), unit_t_ = (tol); \
		if (fabs(unit_g_ - unit_w_) <= unit_t_) \
			unit_passed++; \
		else \
		{ \
			unit_failed++; \
			fprintf(stderr, "FAIL %s:%d: %s = %.17g, want %.17g +- %g\n", \
					__FILE__, __LINE__, #got, unit_g_, unit_w_, unit_t_); \
		} \
	} while (0)

/* the test functions, one per file or topic; register new ones in main.c */
extern void test_rng(void);
extern void test_models_run(void);
extern void test_models_recovery_run(void);
extern void test_optim_run(void);
extern void test_cov_run(void);
extern void test_interval_run(void);

#endif							/* CLM_UNIT_H */
