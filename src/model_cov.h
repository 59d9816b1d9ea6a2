/*-------------------------------------------------------------------------
 *
 * model_cov.h
 *	  clm.cov_histogram, the state of the fits with covariates
 *	  (model_cov_hist.c), shared with their final functions (model_cov.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_MODEL_COV_H
#define CLM_MODEL_COV_H

#include "utils/array.h"

#include "models.h"

/* largest absolute value of a covariate */
#define CLM_COV_MAX_ABS 1e15

/*
 * clm.cov_histogram: weighted distinct (z, x, t_x, T) rows of a fit with
 * k covariates named names[0..k-1].  Row i is d[i * (k + 4) ...]: z[0..k-1],
 * then the three inputs of the kind (Gamma-Gamma: x, mean spend, 0), then
 * the weight.  As clm.model_histogram, it may carry spare capacity while
 * an aggregate builds it, rows unsorted and repeated; readers compact a
 * copy (sorted by z then inputs, so that rows sharing z are contiguous).
 */
typedef struct ClmCovHist
{
	int32		vl_len_;
	int32		kind;
	int32		k;
	int32		n;
	int32		compact;		/* 1 when sorted and distinct */
	int32		pad;
	char		names[CLM_MAX_COV][CLM_COV_NAMELEN];
	double		d[FLEXIBLE_ARRAY_MEMBER];
} ClmCovHist;

#define COVH_HDRSZ offsetof(ClmCovHist, d)
#define COVH_STRIDE(h) ((h)->k + 4)
#define COVH_CAP(h) ((int) ((VARSIZE(h) - COVH_HDRSZ) / (sizeof(double) * COVH_STRIDE(h))))
#define COVH_ROW(h, i) ((h)->d + (size_t) (i) * COVH_STRIDE(h))
#define DatumGetClmCovHist(d) ((ClmCovHist *) PG_DETOAST_DATUM(d))

extern void clm_cov_hist_check(const ClmCovHist *h);
extern void clm_cov_hist_check_rows(const ClmCovHist *h);
extern ClmCovHist *clm_cov_hist_copy_compact(const ClmCovHist *src);
extern const char *clm_cov_name_check(const char *name);
extern int	clm_cov_array_values(ArrayType *arr, double *z, int max);
extern void clm_cov_recv_names(StringInfo buf, int k, char (*names)[CLM_COV_NAMELEN],
							   const char *type);

#endif							/* CLM_MODEL_COV_H */
