/*-------------------------------------------------------------------------
 *
 * model_metrics.c
 *	  The score-metric aggregates clm.roc_auc and clm.brier_score: their
 *	  state is a clm.model_histogram of kind scores (probability, outcome).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"

#include "compat.h"
#include "models.h"

PG_FUNCTION_INFO_V1(clm_scores_trans);
/* clm.roc_auc / clm.brier_score transition: (state, probability, outcome) */
Datum
clm_scores_trans(PG_FUNCTION_ARGS)
{
	double		v[3] = {0, 0, 0};

	if (!clm_arg_f8(fcinfo, 1, &v[0]) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	v[1] = PG_GETARG_BOOL(2) ? 1.0 : 0.0;
	return clm_hist_add(fcinfo, CLM_HIST_SCORES, v, 1.0);
}

/* compacted score histogram of the aggregate state, or NULL */
static ClmHist *
scores_state(FunctionCallInfo fcinfo)
{
	ClmHist    *h;

	if (PG_ARGISNULL(0))
		return NULL;
	h = DatumGetClmHist(PG_GETARG_DATUM(0));
	clm_hist_check(h);
	if (h->kind != CLM_HIST_SCORES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histogram of kind %s given to a score metric", clm_hist_kind_name(h->kind))));
	clm_hist_check_tuples(h);
	return clm_hist_copy_compact(h);
}

PG_FUNCTION_INFO_V1(clm_roc_auc_final);
/*
 * ROC AUC = P(score of a churner > score of a non-churner) + 1/2 P(tie),
 * the Mann-Whitney statistic over the sorted distinct scores; NULL when
 * one class is empty.
 */
Datum
clm_roc_auc_final(PG_FUNCTION_ARGS)
{
	ClmHist    *h = scores_state(fcinfo);
	double		neg_below = 0,
				npos = 0,
				nneg = 0,
				acc = 0;
	int			i = 0;

	if (h == NULL)
		PG_RETURN_NULL();
	while (i < h->n)
	{
		/* the tuples of one distinct score: (p, 0) then (p, 1) */
		double		p = h->tuples[i].v[0],
					pos = 0,
					neg = 0;

		for (; i < h->n && h->tuples[i].v[0] == p; i++)
		{
			if (h->tuples[i].v[1] > 0.5)
				pos += h->tuples[i].w;
			else
				neg += h->tuples[i].w;
		}
		acc += pos * (neg_below + 0.5 * neg);
		neg_below += neg;
		npos += pos;
		nneg += neg;
	}
	if (npos == 0 || nneg == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(acc / (npos * nneg));
}

PG_FUNCTION_INFO_V1(clm_brier_score_final);
/* Brier score = mean of (probability - outcome)^2 */
Datum
clm_brier_score_final(PG_FUNCTION_ARGS)
{
	ClmHist    *h = scores_state(fcinfo);
	double		s = 0,
				w = 0;
	int			i;

	if (h == NULL)
		PG_RETURN_NULL();
	for (i = 0; i < h->n; i++)
	{
		double		d = h->tuples[i].v[0] - h->tuples[i].v[1];

		s += h->tuples[i].w * d * d;
		w += h->tuples[i].w;
	}
	/* no scored row (an empty histogram, e.g. 'scores:'): NULL, as the aggregate */
	if (!(w > 0))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s / w);
}
