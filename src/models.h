/*-------------------------------------------------------------------------
 *
 * models.h
 *	  The clm model value and histogram state types shared by the model
 *	  glue files: model_hist.c (clm.model_histogram: the fit aggregates'
 *	  state), model_fit.c (transition and final functions of the fits),
 *	  model_value.c (clm.model), model_predict.c (the predictions) and
 *	  model_metrics.c (ROC AUC, Brier score).
 *
 * The numerical work is in src/core (plain C); these files translate its
 * results and messages into datums and ereport()s.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_MODELS_GLUE_H
#define CLM_MODELS_GLUE_H

#include "fmgr.h"
#include "lib/stringinfo.h"

#include "clm_cov.h"
#include "clm_models.h"

/* histogram kind for the score-metric aggregates (not a model) */
#define CLM_HIST_SCORES 100
/*
 * Largest histogram (54000 beyond): the state is a varlena, at most 1 GB
 * (MaxAllocSize), 32 bytes a tuple.  (0.1 promised 50,000,000 but failed
 * with XX000 "invalid memory alloc request size" from about 33.5 million.)
 */
#define CLM_HIST_MAX_TUPLES 33000000
#define CLM_HIST_INIT_CAP 64

/*
 * clm.model_histogram: weighted distinct input tuples of a fit.  The
 * varlena may carry spare capacity after the n used tuples while an
 * aggregate builds it (the size covers the capacity, so that the
 * executor's copies keep it); tuples may then be unsorted and repeated.
 * Every reader compacts a copy (sorted, distinct, weights summed).
 */
typedef struct ClmHist
{
	int32		vl_len_;
	int32		kind;
	int32		n;
	int32		compact;		/* 1 when sorted and distinct */
	clm_obs		tuples[FLEXIBLE_ARRAY_MEMBER];
} ClmHist;

#define HIST_HDRSZ offsetof(ClmHist, tuples)
#define HIST_CAP(h) ((int) ((VARSIZE(h) - HIST_HDRSZ) / sizeof(clm_obs)))

/*
 * clm.model: a fitted (or user-made) model value.
 *
 * Format versions (docs/upgrading.md): the stored value carries its format in
 * version.  Format 1 is this layout; clm 0.1 wrote it with version 0 (the
 * field was padding, always zero), so 0 reads as format 1.  The binary form
 * keeps its format in the upper 16 bits of the kind word: 0 there is binary
 * format 1 (the form of 0.1, unchanged).  The text form is key=value pairs,
 * so a later format adds keys, and a missing key keeps its format-1 meaning.
 */
#define CLM_MODEL_VERSION 1

typedef struct ClmModel
{
	int32		vl_len_;
	int32		kind;
	int32		converged;
	int32		iterations;
	int32		n_distinct;
	int32		version;		/* CLM_MODEL_VERSION (0 from clm 0.1) */
	double		n_customers;
	double		ll;
	double		par[CLM_MAX_PAR];
	double		se[CLM_MAX_PAR];	/* NaN when not available */
	char		message[64];
} ClmModel;

/*
 * Format 2 (models with covariates, clm 0.3): the format-1 layout followed
 * by ClmModelCov; version is 2.  Models without covariates keep format 1
 * (the values, text and binary forms of 0.1 and 0.2, unchanged).  The
 * binary form of format 2 has 1 in the upper 16 bits of the kind word and
 * the covariates after the message.
 */
#define CLM_MODEL_VERSION_COV 2
#define CLM_COV_NAMELEN 64

typedef struct ClmModelCov
{
	int32		ncov;
	int32		ngroups;
	/* effects g[group][covariate] (k = ncov), and their standard errors (NaN: none) */
	double		gamma[CLM_COV_MAX_GROUPS * CLM_MAX_COV];
	double		gamma_se[CLM_COV_MAX_GROUPS * CLM_MAX_COV];
	char		names[CLM_MAX_COV][CLM_COV_NAMELEN];
} ClmModelCov;

#define CLM_MODEL_COV_SIZE (sizeof(ClmModel) + sizeof(ClmModelCov))
/* the covariates of a model value, NULL for a model without them */
#define CLM_MODEL_HAS_COV(m) (VARSIZE(m) == CLM_MODEL_COV_SIZE)
#define CLM_MODEL_COV(m) (CLM_MODEL_HAS_COV(m) ? \
	(ClmModelCov *) ((char *) (m) + sizeof(ClmModel)) : (ClmModelCov *) NULL)

/*
 * Format 3 (models with the correlations of their parameters, clm 0.3): the
 * format-1 layout followed by ClmModelCorr; version is 3.  A fit without
 * covariates writes it when its Hessian gave the correlations (the
 * prediction intervals need them); models without (made from parameters,
 * fitted by 0.1 or 0.2, fits whose Hessian failed) keep format 1.  Text
 * form: keys corr_<a>_<b> (parameter a before b) after the standard
 * errors; binary form: 2 in the upper 16 bits of the kind word (binary
 * format 3) and the npar (npar - 1) / 2 correlations after the message.
 * A model has covariates (format 2) or correlations (format 3), not both.
 */
#define CLM_MODEL_VERSION_CORR 3

typedef struct ClmModelCorr
{
	double		corr[CLM_NCORR];	/* CLM_CORR_INDEX; NaN when not known */
} ClmModelCorr;

#define CLM_MODEL_CORR_SIZE (sizeof(ClmModel) + sizeof(ClmModelCorr))
#define CLM_MODEL_HAS_CORR(m) (VARSIZE(m) == CLM_MODEL_CORR_SIZE)
#define CLM_MODEL_CORR(m) (CLM_MODEL_HAS_CORR(m) ? \
	(ClmModelCorr *) ((char *) (m) + sizeof(ClmModel)) : (ClmModelCorr *) NULL)

#define DatumGetClmHist(d) ((ClmHist *) PG_DETOAST_DATUM(d))
#define DatumGetClmModel(d) ((ClmModel *) PG_DETOAST_DATUM(d))

/* model_hist.c */
extern const char *clm_hist_kind_name(int kind);
extern ClmHist *clm_hist_new(int kind, int cap);
extern ClmHist *clm_hist_copy_compact(const ClmHist *src);
extern void clm_hist_check(const ClmHist *h);
extern void clm_hist_check_tuples(const ClmHist *h);
extern Datum clm_hist_add(FunctionCallInfo fcinfo, int kind, const double *v, double w);
extern bool clm_arg_f8(FunctionCallInfo fcinfo, int i, double *out);
extern bool clm_parse_f8(char **p, double *out);
extern int32 clm_recv_int4(StringInfo buf, const char *type);
extern double clm_recv_float8(StringInfo buf, const char *type);

/* model_fit.c: the time unit of the last row a fit over profiles read, and its days */
typedef struct ClmUnitCache
{
	double		days;
	int			len;			/* -1: nothing cached */
	char		name[16];
} ClmUnitCache;
extern bool clm_profile_fit_inputs(FunctionCallInfo fcinfo, int kind,
								   ClmUnitCache *uc, double *v);
extern ClmModel *clm_model_from_fit(int kind, const clm_fit_result *r);

/* model_predict.c: argument checks shared by the predictions */
extern void clm_require_kind(const ClmModel *m, clm_prediction what, const char *fname);
extern void clm_check_customer(const ClmModel *m, double x, double t_x, double T);
extern void clm_check_horizon(double t);
extern void clm_check_clv(const ClmModel *m, int32 horizon, double disc, double margin,
						  double spend, double x, double t_x, double T, const char *fname);

/* model_value.c: the correlations (NaN when unknown), a copy of format 3 */
extern void clm_model_corr_get(const ClmModel *m, double *corr);
extern ClmModel *clm_model_with_corr(const ClmModel *m, const double *corr);

/* model_value.c */
extern ClmModel *clm_model_new(int kind);
extern ClmModel *clm_model_get(Datum d);

/* model_cov.c: the covariates of a model value (format 2) */
extern void clm_model_cov_check(const ClmModel *m);
extern int	clm_model_cov_effect(const ClmModel *m, const char *key);
extern bool clm_model_cov_in_key(ClmModel **mp, const char *key, const char *val,
								 const char *str);
extern void clm_model_cov_in_finish(const ClmModel *m, const char *str);
extern void clm_model_cov_out(const ClmModel *m, StringInfo buf);
extern void clm_model_cov_send(const ClmModel *m, StringInfo buf);
extern ClmModel *clm_model_cov_recv(ClmModel *m, StringInfo buf);

#endif							/* CLM_MODELS_GLUE_H */
