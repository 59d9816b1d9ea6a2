/*-------------------------------------------------------------------------
 *
 * models.c
 *	  PostgreSQL glue of the CLV and churn models: the histogram state type
 *	  (clm.model_histogram), the model value type (clm.model), the fit
 *	  aggregates' support functions, the prediction functions and the
 *	  score-metric aggregates (ROC AUC, Brier score).
 *
 * The numerical work is in src/core (plain C); this file translates its
 * results and messages into datums and ereport()s.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "clm_models.h"
#include "compat.h"
#include "profile.h"


/* histogram kind for the score-metric aggregates (not a model) */
#define CLM_HIST_SCORES 100
/* largest histogram accepted from outside (54000 beyond) */
#define CLM_HIST_MAX_TUPLES 50000000
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

/* clm.model: a fitted (or user-made) model value */
typedef struct ClmModel
{
	int32		vl_len_;
	int32		kind;
	int32		converged;
	int32		iterations;
	int32		n_distinct;
	int32		pad;
	double		n_customers;
	double		ll;
	double		par[CLM_MAX_PAR];
	double		se[CLM_MAX_PAR];	/* NaN when not available */
	char		message[64];
} ClmModel;

#define DatumGetClmHist(d) ((ClmHist *) PG_DETOAST_DATUM(d))
#define DatumGetClmModel(d) ((ClmModel *) PG_DETOAST_DATUM(d))

/* name of a histogram kind */
static const char *
hist_kind_name(int kind)
{
	if (kind == CLM_HIST_SCORES)
		return "scores";
	return clm_kind_name(kind);
}

/* histogram kind from a name, 0 if unknown */
static int
hist_kind_from_name(const char *s)
{
	if (strcmp(s, "scores") == 0)
		return CLM_HIST_SCORES;
	return clm_kind_from_name(s);
}

/* validate a histogram tuple: NULL or a message */
static const char *
hist_tuple_check(int kind, const clm_obs *o)
{
	if (!(o->w > 0) || !isfinite(o->w) || o->w > 1e15)
		return "weights must be finite, > 0 and at most 1e15";
	if (kind == CLM_HIST_SCORES)
	{
		if (!(o->v[0] >= 0 && o->v[0] <= 1))
			return "probabilities must be between 0 and 1";
		if (o->v[1] != 0 && o->v[1] != 1)
			return "outcomes must be 0 or 1";
		if (o->v[2] != 0)
			return "score tuples have two values";
		return NULL;
	}
	if (o->v[2] != 0 && (kind == CLM_KIND_GG || kind == CLM_KIND_SBG))
		return "this model kind has two input values";
	return clm_obs_check(kind, o->v);
}

/* order of tuples: lexicographic on (v0, v1, v2) */
static int
obs_cmp(const void *a, const void *b)
{
	const clm_obs *x = (const clm_obs *) a;
	const clm_obs *y = (const clm_obs *) b;
	int			i;

	for (i = 0; i < 3; i++)
	{
		if (x->v[i] < y->v[i])
			return -1;
		if (x->v[i] > y->v[i])
			return 1;
	}
	return 0;
}

/* an inlined sort of the tuples by obs_cmp (PostgreSQL's sort template) */
#define ST_SORT obs_sort
#define ST_ELEMENT_TYPE clm_obs
#define ST_COMPARE(a, b) obs_cmp(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* sort and merge equal tuples in place */
static void
hist_compact(ClmHist *h)
{
	int			i,
				j = 0;

	if (h->compact)
		return;
	if (h->n > 1)
	{
		obs_sort(h->tuples, h->n);
		for (i = 1; i < h->n; i++)
		{
			if (obs_cmp(&h->tuples[i], &h->tuples[j]) == 0)
				h->tuples[j].w += h->tuples[i].w;
			else
				h->tuples[++j] = h->tuples[i];
		}
		h->n = j + 1;
	}
	h->compact = 1;
}

/* new empty histogram with room for cap tuples, in CurrentMemoryContext */
static ClmHist *
hist_new(int kind, int cap)
{
	Size		sz = HIST_HDRSZ + (Size) cap * sizeof(clm_obs);
	ClmHist    *h;

	if (cap > CLM_HIST_MAX_TUPLES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model histogram would exceed %d distinct tuples", CLM_HIST_MAX_TUPLES),
				 errhint("Round the inputs (for example to whole days) to reduce the number of distinct tuples.")));
	h = (ClmHist *) palloc0(sz);
	SET_VARSIZE(h, sz);
	h->kind = kind;
	h->n = 0;
	h->compact = 1;
	return h;
}

/* compacted copy of a histogram with no spare capacity */
static ClmHist *
hist_copy_compact(const ClmHist *src)
{
	ClmHist    *h = hist_new(src->kind, Max(src->n, 1));

	memcpy(h->tuples, src->tuples, sizeof(clm_obs) * src->n);
	h->n = src->n;
	h->compact = src->compact;
	hist_compact(h);
	SET_VARSIZE(h, HIST_HDRSZ + sizeof(clm_obs) * h->n);
	return h;
}

/* basic structural check of a histogram datum from disk or the network */
static void
hist_check_struct(const ClmHist *h)
{
	if (VARSIZE(h) < HIST_HDRSZ || h->n < 0 || h->n > HIST_CAP(h) ||
		hist_kind_name(h->kind) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt clm.model_histogram value")));
}

/*
 * Add one tuple to the aggregate state.  The state lives in the
 * aggregate's memory context and is grown in place; when it is full it is
 * first compacted, and only if it is still more than half full a copy
 * with twice the capacity is made in the per-call context (the executor
 * copies it into the aggregate context and frees the old one), so each row
 * costs amortised O(1).
 */
static Datum
hist_add(FunctionCallInfo fcinfo, int kind, const double *v, double w)
{
	ClmHist    *h;
	clm_obs		o;
	const char *err;

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model fit transition function called in non-aggregate context")));
	o.v[0] = v[0];
	o.v[1] = v[1];
	o.v[2] = v[2];
	o.w = w;
	err = hist_tuple_check(kind, &o);
	if (err)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid input to %s fit: %s", hist_kind_name(kind), err),
				 errdetail("Input (%g, %g, %g) with weight %g.", v[0], v[1], v[2], w)));
	if (PG_ARGISNULL(0))
		h = hist_new(kind, CLM_HIST_INIT_CAP);
	else
		h = (ClmHist *) PG_GETARG_POINTER(0);
	if (h->n >= HIST_CAP(h))
	{
		int			cap = HIST_CAP(h);

		hist_compact(h);
		if (h->n > cap / 2)
		{
			ClmHist    *g = hist_new(kind, cap * 2);

			memcpy(g->tuples, h->tuples, sizeof(clm_obs) * h->n);
			g->n = h->n;
			h = g;
		}
	}
	if (h->compact && h->n > 0 && obs_cmp(&h->tuples[h->n - 1], &o) >= 0)
	{
		if (obs_cmp(&h->tuples[h->n - 1], &o) == 0)
		{
			h->tuples[h->n - 1].w += w;
			PG_RETURN_POINTER(h);
		}
		h->compact = 0;
	}
	h->tuples[h->n++] = o;
	PG_RETURN_POINTER(h);
}

/* argument i as float8, or false when it is NULL */
static bool
arg_f8(FunctionCallInfo fcinfo, int i, double *out)
{
	if (PG_ARGISNULL(i))
		return false;
	*out = PG_GETARG_FLOAT8(i);
	return true;
}

/* transition for the three-input continuous-time models (x, t_x, T) */
static Datum
cont_trans(FunctionCallInfo fcinfo, int kind)
{
	double		v[3];

	if (!arg_f8(fcinfo, 1, &v[0]) || !arg_f8(fcinfo, 2, &v[1]) || !arg_f8(fcinfo, 3, &v[2]))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	return hist_add(fcinfo, kind, v, 1.0);
}

/* the time unit of the last row a fit over profiles read, and its days */
typedef struct UnitCache
{
	double		days;
	int			len;			/* -1: nothing cached */
	char		name[16];
} UnitCache;

/*
 * Transition for the fits over profiles: (state, profile, calibration_end,
 * unit).  The inputs come straight from the profile (clm_btyd_values), with
 * no composite row in between; the unit is parsed again only when it
 * differs from the previous row's (fn_extra).  Skipped: customers without a purchase by
 * calibration_end; for the purchase models those whose first purchase is on
 * calibration_end (T = 0: the likelihood of no purchase in no time is 1, so
 * they add nothing to the fit); for Gamma-Gamma those without a repeat
 * purchase or with a non-positive mean repeat spend.
 */
static Datum
profile_trans(FunctionCallInfo fcinfo, int kind)
{
	double		in[4];
	double		v[3];
	UnitCache  *uc;
	text	   *unit;
	DateADT		cal_end;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	cal_end = PG_GETARG_DATEADT(2);
	clm_check_calibration_end(cal_end);
	unit = PG_GETARG_TEXT_PP(3);
	uc = (UnitCache *) fcinfo->flinfo->fn_extra;
	if (uc == NULL)
	{
		uc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(UnitCache));
		uc->len = -1;
		fcinfo->flinfo->fn_extra = uc;
	}
	if (VARSIZE_ANY_EXHDR(unit) != uc->len ||
		memcmp(VARDATA_ANY(unit), uc->name, uc->len) != 0)
	{
		/* parse (and check) the unit whenever it differs from the last row's */
		uc->days = clm_unit_days(unit);
		uc->len = -1;
		if (VARSIZE_ANY_EXHDR(unit) < (int) sizeof(uc->name))
		{
			uc->len = VARSIZE_ANY_EXHDR(unit);
			memcpy(uc->name, VARDATA_ANY(unit), uc->len);
		}
	}
	if (!clm_btyd_values(PG_GETARG_CLM_PROFILE(1), cal_end, uc->days,
						 kind == CLM_KIND_GG, in) ||
		(kind == CLM_KIND_GG ? (in[0] == 0 || !(in[3] > 0)) : in[2] == 0))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (kind == CLM_KIND_GG)
	{
		v[0] = in[0];
		v[1] = in[3];
		v[2] = 0;
	}
	else
	{
		v[0] = in[0];
		v[1] = in[1];
		v[2] = in[2];
	}
	return hist_add(fcinfo, kind, v, 1.0);
}

PG_FUNCTION_INFO_V1(clm_bgnbd_fit_profile_trans);
/* clm.bgnbd_fit(profile, calibration_end, unit) transition */
Datum
clm_bgnbd_fit_profile_trans(PG_FUNCTION_ARGS)
{
	return profile_trans(fcinfo, CLM_KIND_BGNBD);
}

PG_FUNCTION_INFO_V1(clm_mbgnbd_fit_profile_trans);
/* clm.mbgnbd_fit(profile, calibration_end, unit) transition */
Datum
clm_mbgnbd_fit_profile_trans(PG_FUNCTION_ARGS)
{
	return profile_trans(fcinfo, CLM_KIND_MBGNBD);
}

PG_FUNCTION_INFO_V1(clm_paretonbd_fit_profile_trans);
/* clm.paretonbd_fit(profile, calibration_end, unit) transition */
Datum
clm_paretonbd_fit_profile_trans(PG_FUNCTION_ARGS)
{
	return profile_trans(fcinfo, CLM_KIND_PARETONBD);
}

PG_FUNCTION_INFO_V1(clm_gg_fit_profile_trans);
/* clm.gg_fit(profile, calibration_end, unit) transition */
Datum
clm_gg_fit_profile_trans(PG_FUNCTION_ARGS)
{
	return profile_trans(fcinfo, CLM_KIND_GG);
}

PG_FUNCTION_INFO_V1(clm_bgnbd_fit_trans);
/* clm.bgnbd_fit transition: (state, x, t_x, T) */
Datum
clm_bgnbd_fit_trans(PG_FUNCTION_ARGS)
{
	return cont_trans(fcinfo, CLM_KIND_BGNBD);
}

PG_FUNCTION_INFO_V1(clm_mbgnbd_fit_trans);
/* clm.mbgnbd_fit transition: (state, x, t_x, T) */
Datum
clm_mbgnbd_fit_trans(PG_FUNCTION_ARGS)
{
	return cont_trans(fcinfo, CLM_KIND_MBGNBD);
}

PG_FUNCTION_INFO_V1(clm_paretonbd_fit_trans);
/* clm.paretonbd_fit transition: (state, x, t_x, T) */
Datum
clm_paretonbd_fit_trans(PG_FUNCTION_ARGS)
{
	return cont_trans(fcinfo, CLM_KIND_PARETONBD);
}

PG_FUNCTION_INFO_V1(clm_gg_fit_trans);
/* clm.gg_fit transition: (state, x, mean_spend); rows with x = 0 are skipped */
Datum
clm_gg_fit_trans(PG_FUNCTION_ARGS)
{
	double		v[3] = {0, 0, 0};

	if (!arg_f8(fcinfo, 1, &v[0]) || !arg_f8(fcinfo, 2, &v[1]) || v[0] == 0)
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	return hist_add(fcinfo, CLM_KIND_GG, v, 1.0);
}

PG_FUNCTION_INFO_V1(clm_bgbb_fit_trans);
/* clm.bgbb_fit transition: (state, x, t_x, n [, weight]) */
Datum
clm_bgbb_fit_trans(PG_FUNCTION_ARGS)
{
	double		v[3],
				w = 1.0;

	if (!arg_f8(fcinfo, 1, &v[0]) || !arg_f8(fcinfo, 2, &v[1]) || !arg_f8(fcinfo, 3, &v[2]) ||
		(PG_NARGS() > 4 && !arg_f8(fcinfo, 4, &w)))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	return hist_add(fcinfo, CLM_KIND_BGBB, v, w);
}

PG_FUNCTION_INFO_V1(clm_sbg_fit_trans);
/* clm.sbg_fit transition: (state, periods, churned [, weight]) */
Datum
clm_sbg_fit_trans(PG_FUNCTION_ARGS)
{
	double		v[3] = {0, 0, 0},
				w = 1.0;

	if (!arg_f8(fcinfo, 1, &v[0]) || PG_ARGISNULL(2) ||
		(PG_NARGS() > 3 && !arg_f8(fcinfo, 3, &w)))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	v[1] = PG_GETARG_BOOL(2) ? 1.0 : 0.0;
	return hist_add(fcinfo, CLM_KIND_SBG, v, w);
}

PG_FUNCTION_INFO_V1(clm_scores_trans);
/* clm.roc_auc / clm.brier_score transition: (state, probability, outcome) */
Datum
clm_scores_trans(PG_FUNCTION_ARGS)
{
	double		v[3] = {0, 0, 0};

	if (!arg_f8(fcinfo, 1, &v[0]) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	v[1] = PG_GETARG_BOOL(2) ? 1.0 : 0.0;
	return hist_add(fcinfo, CLM_HIST_SCORES, v, 1.0);
}

PG_FUNCTION_INFO_V1(clm_model_histogram_merge);
/* combine function of every fit aggregate: the merge of two histograms */
Datum
clm_model_histogram_merge(PG_FUNCTION_ARGS)
{
	ClmHist    *a,
			   *b,
			   *h;

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model histogram combine function called in non-aggregate context")));
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = DatumGetClmHist(PG_GETARG_DATUM(1));
	hist_check_struct(b);
	if (PG_ARGISNULL(0))
		PG_RETURN_POINTER(hist_copy_compact(b));
	a = (ClmHist *) PG_GETARG_POINTER(0);
	hist_check_struct(a);
	if (a->kind != b->kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot merge a %s histogram with a %s histogram",
						hist_kind_name(a->kind), hist_kind_name(b->kind))));
	if ((int64) a->n + b->n > CLM_HIST_MAX_TUPLES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model histogram would exceed %d distinct tuples", CLM_HIST_MAX_TUPLES)));
	h = hist_new(a->kind, Max(a->n + b->n, CLM_HIST_INIT_CAP));
	memcpy(h->tuples, a->tuples, sizeof(clm_obs) * a->n);
	memcpy(h->tuples + a->n, b->tuples, sizeof(clm_obs) * b->n);
	h->n = a->n + b->n;
	h->compact = 0;
	hist_compact(h);
	PG_RETURN_POINTER(h);
}

/* parse one double; false on syntax error */
static bool
parse_f8(char **p, double *out)
{
	char	   *end;

	errno = 0;
	*out = strtod(*p, &end);
	if (end == *p)
		return false;
	*p = end;
	return true;
}

PG_FUNCTION_INFO_V1(clm_model_histogram_in);
/*
 * Text input of clm.model_histogram: "kind:" followed by tuples
 * "v0,v1,v2,w" separated by ";" (e.g. "bgnbd:0,0,38.86,1;2,30.43,38.86,1").
 */
Datum
clm_model_histogram_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	char	   *colon = strchr(str, ':');
	char	   *p;
	char		kname[32];
	int			kind,
				cap = 16;
	ClmHist    *h;

	if (!colon || colon - str >= (int) sizeof(kname))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type clm.model_histogram: \"%s\"", str),
				 errhint("The form is kind:x,t_x,T,weight;... with kind one of bgnbd, mbgnbd, paretonbd, gg, bgbb, sbg, scores.")));
	memcpy(kname, str, colon - str);
	kname[colon - str] = '\0';
	kind = hist_kind_from_name(kname);
	if (kind == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("unknown model histogram kind \"%s\"", kname)));
	h = hist_new(kind, cap);
	p = colon + 1;
	while (*p == ' ')
		p++;
	while (*p != '\0')
	{
		clm_obs		o;
		const char *err;
		int			i;

		for (i = 0; i < 4; i++)
		{
			double		d;

			while (*p == ' ')
				p++;
			if (!parse_f8(&p, &d) || (i < 3 && *p != ','))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid input syntax for type clm.model_histogram: \"%s\"", str),
						 errdetail("Each tuple is four numbers separated by commas.")));
			if (i < 3)
			{
				o.v[i] = d;
				p++;
			}
			else
				o.w = d;
		}
		while (*p == ' ')
			p++;
		if (*p == ';')
			p++;
		else if (*p != '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type clm.model_histogram: \"%s\"", str),
					 errdetail("Tuples are separated by semicolons.")));
		while (*p == ' ')
			p++;
		err = hist_tuple_check(kind, &o);
		if (err)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid clm.model_histogram tuple: %s", err)));
		if (h->n >= HIST_CAP(h))
		{
			ClmHist    *g = hist_new(kind, HIST_CAP(h) * 2);

			memcpy(g->tuples, h->tuples, sizeof(clm_obs) * h->n);
			g->n = h->n;
			pfree(h);
			h = g;
		}
		h->tuples[h->n++] = o;
	}
	h->compact = 0;
	PG_RETURN_POINTER(hist_copy_compact(h));
}

PG_FUNCTION_INFO_V1(clm_model_histogram_out);
/* text output of clm.model_histogram (compacted, shortest exact floats) */
Datum
clm_model_histogram_out(PG_FUNCTION_ARGS)
{
	ClmHist    *h = DatumGetClmHist(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			i;

	hist_check_struct(h);
	h = hist_copy_compact(h);
	initStringInfo(&buf);
	appendStringInfo(&buf, "%s:", hist_kind_name(h->kind));
	for (i = 0; i < h->n; i++)
	{
		clm_obs    *o = &h->tuples[i];

		appendStringInfo(&buf, "%s%s,%s,%s,%s", i ? ";" : "",
						 float8out_internal(o->v[0]), float8out_internal(o->v[1]),
						 float8out_internal(o->v[2]), float8out_internal(o->w));
	}
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(clm_model_histogram_send);
/* binary output: int4 kind, int4 n, then n times four float8 */
Datum
clm_model_histogram_send(PG_FUNCTION_ARGS)
{
	ClmHist    *h = DatumGetClmHist(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			i,
				k;

	hist_check_struct(h);
	h = hist_copy_compact(h);
	pq_begintypsend(&buf);
	pq_sendint32(&buf, h->kind);
	pq_sendint32(&buf, h->n);
	for (i = 0; i < h->n; i++)
	{
		for (k = 0; k < 3; k++)
			pq_sendfloat8(&buf, h->tuples[i].v[k]);
		pq_sendfloat8(&buf, h->tuples[i].w);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(clm_model_histogram_recv);
/* binary input, validated like the text input */
Datum
clm_model_histogram_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			kind = pq_getmsgint(buf, 4);
	int			n = pq_getmsgint(buf, 4);
	ClmHist    *h;
	int			i,
				k;

	if (hist_kind_name(kind) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid model histogram kind %d in binary input", kind)));
	if (n < 0 || n > CLM_HIST_MAX_TUPLES || (int64) n * 32 != buf->len - buf->cursor)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid model histogram length %d in binary input", n)));
	h = hist_new(kind, Max(n, 1));
	for (i = 0; i < n; i++)
	{
		const char *err;

		for (k = 0; k < 3; k++)
			h->tuples[i].v[k] = pq_getmsgfloat8(buf);
		h->tuples[i].w = pq_getmsgfloat8(buf);
		err = hist_tuple_check(kind, &h->tuples[i]);
		if (err)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid clm.model_histogram tuple in binary input: %s", err)));
	}
	h->n = n;
	h->compact = 0;
	PG_RETURN_POINTER(hist_copy_compact(h));
}

/* fit the model of a histogram and build a clm.model */
static Datum
fit_final(FunctionCallInfo fcinfo, int kind)
{
	ClmHist    *h;
	clm_fit_result r;
	const char *hint = NULL;
	const char *err;
	ClmModel   *m;
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	h = DatumGetClmHist(PG_GETARG_DATUM(0));
	hist_check_struct(h);
	if (h->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histogram of kind %s given to the %s fit",
						hist_kind_name(h->kind), clm_kind_name(kind))));
	h = hist_copy_compact(h);
	err = clm_fit(kind, h->tuples, h->n, &r, &hint);
	if (err)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s fit: %s", clm_kind_name(kind), err),
				 hint ? errhint("%s", hint) : 0));
	m = (ClmModel *) palloc0(sizeof(ClmModel));
	SET_VARSIZE(m, sizeof(ClmModel));
	m->kind = kind;
	m->converged = r.converged ? 1 : 0;
	m->iterations = r.iterations;
	m->n_distinct = r.n_distinct;
	m->n_customers = r.n_customers;
	m->ll = r.ll;
	for (i = 0; i < CLM_MAX_PAR; i++)
	{
		m->par[i] = i < r.npar ? r.par[i] : 0.0;
		m->se[i] = (i < r.npar && r.se[i] >= 0) ? r.se[i] : (i < r.npar ? NAN : 0.0);
	}
	strlcpy(m->message, r.message, sizeof(m->message));
	if (!r.converged)
		ereport(WARNING,
				(errmsg("%s fit did not converge: %s", clm_kind_name(kind), r.message),
				 errhint("The returned model has converged = false; check the inputs and the time unit.")));
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(clm_bgnbd_fit_final);
/* clm.bgnbd_fit final function */
Datum
clm_bgnbd_fit_final(PG_FUNCTION_ARGS)
{
	return fit_final(fcinfo, CLM_KIND_BGNBD);
}

PG_FUNCTION_INFO_V1(clm_mbgnbd_fit_final);
/* clm.mbgnbd_fit final function */
Datum
clm_mbgnbd_fit_final(PG_FUNCTION_ARGS)
{
	return fit_final(fcinfo, CLM_KIND_MBGNBD);
}

PG_FUNCTION_INFO_V1(clm_paretonbd_fit_final);
/* clm.paretonbd_fit final function */
Datum
clm_paretonbd_fit_final(PG_FUNCTION_ARGS)
{
	return fit_final(fcinfo, CLM_KIND_PARETONBD);
}

PG_FUNCTION_INFO_V1(clm_gg_fit_final);
/* clm.gg_fit final function */
Datum
clm_gg_fit_final(PG_FUNCTION_ARGS)
{
	return fit_final(fcinfo, CLM_KIND_GG);
}

PG_FUNCTION_INFO_V1(clm_bgbb_fit_final);
/* clm.bgbb_fit final function */
Datum
clm_bgbb_fit_final(PG_FUNCTION_ARGS)
{
	return fit_final(fcinfo, CLM_KIND_BGBB);
}

PG_FUNCTION_INFO_V1(clm_sbg_fit_final);
/* clm.sbg_fit final function */
Datum
clm_sbg_fit_final(PG_FUNCTION_ARGS)
{
	return fit_final(fcinfo, CLM_KIND_SBG);
}

/* check a model value read from disk */
static ClmModel *
get_model(Datum d)
{
	ClmModel   *m = DatumGetClmModel(d);
	int			i;

	if (VARSIZE(m) != sizeof(ClmModel) || clm_kind_name(m->kind) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt clm.model value")));
	for (i = 0; i < clm_kind_npar(m->kind); i++)
		if (!(m->par[i] > 0) || !isfinite(m->par[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("corrupt clm.model value")));
	return m;
}

/* text-input error helper */
static void
model_syntax_error(const char *str, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type clm.model: \"%s\"", str),
			 errdetail("%s", detail)));
}

PG_FUNCTION_INFO_V1(clm_model_in);
/*
 * Text input of clm.model: the kind, then key=value pairs separated by
 * spaces: the parameters by name (required), se_<name>, loglik, n,
 * distinct, converged, iterations, and last message='...'.
 */
Datum
clm_model_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	char	   *s = pstrdup(str);
	char	   *p = s;
	char	   *tok;
	ClmModel   *m = (ClmModel *) palloc0(sizeof(ClmModel));
	bool		have[CLM_MAX_PAR] = {false, false, false, false};
	int			npar,
				i;

	SET_VARSIZE(m, sizeof(ClmModel));
	while (*p == ' ')
		p++;
	tok = p;
	while (*p && *p != ' ')
		p++;
	if (*p)
		*p++ = '\0';
	m->kind = clm_kind_from_name(tok);
	if (m->kind == 0)
		model_syntax_error(str, "It must start with a model kind: bgnbd, mbgnbd, paretonbd, gg, bgbb or sbg.");
	npar = clm_kind_npar(m->kind);
	for (i = 0; i < CLM_MAX_PAR; i++)
		m->se[i] = i < npar ? NAN : 0.0;
	m->ll = NAN;
	while (*p)
	{
		char	   *key,
				   *eq,
				   *val;
		double		d;
		bool		found = false;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		key = p;
		eq = strchr(p, '=');
		if (!eq)
			model_syntax_error(str, "Expected key=value.");
		*eq = '\0';
		val = eq + 1;
		if (strcmp(key, "message") == 0)
		{
			char	   *end;

			if (*val != '\'' || (end = strrchr(val + 1, '\'')) == NULL || end[1] != '\0')
				model_syntax_error(str, "message='...' must come last.");
			*end = '\0';
			if (strlen(val + 1) >= sizeof(m->message) || strchr(val + 1, '\''))
				model_syntax_error(str, "The message is at most 63 bytes without quotes.");
			strlcpy(m->message, val + 1, sizeof(m->message));
			break;
		}
		p = val;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
		if (strcmp(key, "converged") == 0)
		{
			if (strcmp(val, "true") == 0)
				m->converged = 1;
			else if (strcmp(val, "false") == 0)
				m->converged = 0;
			else
				model_syntax_error(str, "converged must be true or false.");
			continue;
		}
		{
			char	   *v2 = val;

			if (!parse_f8(&v2, &d) || *v2 != '\0')
				model_syntax_error(str, "A value is not a number.");
		}
		if (strcmp(key, "loglik") == 0)
		{
			m->ll = d;
			continue;
		}
		if (strcmp(key, "n") == 0)
		{
			if (!(d >= 0) || !isfinite(d))
				model_syntax_error(str, "n must be >= 0.");
			m->n_customers = d;
			continue;
		}
		if (strcmp(key, "distinct") == 0 || strcmp(key, "iterations") == 0)
		{
			if (!(d >= 0 && d <= PG_INT32_MAX) || d != floor(d))
				model_syntax_error(str, "distinct and iterations are whole numbers >= 0.");
			if (key[0] == 'd')
				m->n_distinct = (int32) d;
			else
				m->iterations = (int32) d;
			continue;
		}
		for (i = 0; i < npar; i++)
		{
			const char *pn = clm_kind_par_name(m->kind, i);

			if (strcmp(key, pn) == 0)
			{
				if (!(d > 0) || !isfinite(d))
					model_syntax_error(str, "Parameters must be finite and > 0.");
				m->par[i] = d;
				have[i] = true;
				found = true;
			}
			else if (strncmp(key, "se_", 3) == 0 && strcmp(key + 3, pn) == 0)
			{
				if (!(d >= 0) && !isnan(d))
					model_syntax_error(str, "Standard errors must be >= 0 or NaN.");
				m->se[i] = d;
				found = true;
			}
		}
		if (!found)
			model_syntax_error(str, "Unknown key.");
	}
	for (i = 0; i < npar; i++)
		if (!have[i])
			model_syntax_error(str, "Every parameter of the kind must be given.");
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(clm_model_out);
/* text output of clm.model (shortest exact floats, so it round-trips) */
Datum
clm_model_out(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			npar = clm_kind_npar(m->kind),
				i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, clm_kind_name(m->kind));
	for (i = 0; i < npar; i++)
		appendStringInfo(&buf, " %s=%s", clm_kind_par_name(m->kind, i),
						 float8out_internal(m->par[i]));
	for (i = 0; i < npar; i++)
		appendStringInfo(&buf, " se_%s=%s", clm_kind_par_name(m->kind, i),
						 float8out_internal(m->se[i]));
	appendStringInfo(&buf, " loglik=%s n=%s distinct=%d converged=%s iterations=%d message='%s'",
					 float8out_internal(m->ll), float8out_internal(m->n_customers),
					 m->n_distinct, m->converged ? "true" : "false", m->iterations,
					 m->message);
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(clm_model_send);
/* binary output of clm.model: kind, converged, iterations, distinct, n, ll, npar x (par, se), message */
Datum
clm_model_send(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, m->kind);
	pq_sendint32(&buf, m->converged);
	pq_sendint32(&buf, m->iterations);
	pq_sendint32(&buf, m->n_distinct);
	pq_sendfloat8(&buf, m->n_customers);
	pq_sendfloat8(&buf, m->ll);
	for (i = 0; i < clm_kind_npar(m->kind); i++)
	{
		pq_sendfloat8(&buf, m->par[i]);
		pq_sendfloat8(&buf, m->se[i]);
	}
	pq_sendstring(&buf, m->message);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(clm_model_recv);
/* binary input of clm.model, validated like the text input */
Datum
clm_model_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	ClmModel   *m = (ClmModel *) palloc0(sizeof(ClmModel));
	const char *msg;
	int			i;

	SET_VARSIZE(m, sizeof(ClmModel));
	m->kind = pq_getmsgint(buf, 4);
	if (clm_kind_name(m->kind) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid model kind %d in binary input", m->kind)));
	m->converged = pq_getmsgint(buf, 4) ? 1 : 0;
	m->iterations = pq_getmsgint(buf, 4);
	m->n_distinct = pq_getmsgint(buf, 4);
	m->n_customers = pq_getmsgfloat8(buf);
	m->ll = pq_getmsgfloat8(buf);
	if (m->iterations < 0 || m->n_distinct < 0 || !(m->n_customers >= 0) ||
		!isfinite(m->n_customers))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid counts in binary clm.model")));
	for (i = 0; i < clm_kind_npar(m->kind); i++)
	{
		m->par[i] = pq_getmsgfloat8(buf);
		m->se[i] = pq_getmsgfloat8(buf);
		if (!(m->par[i] > 0) || !isfinite(m->par[i]) || (!(m->se[i] >= 0) && !isnan(m->se[i])))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid parameter in binary clm.model")));
	}
	msg = pq_getmsgstring(buf);
	if (strlen(msg) >= sizeof(m->message) || strchr(msg, '\''))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid message in binary clm.model")));
	strlcpy(m->message, msg, sizeof(m->message));
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(clm_model_make);
/* clm.make_model(kind, parameters): a model from known parameters */
Datum
clm_model_make(PG_FUNCTION_ARGS)
{
	char	   *kname = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	int			kind = clm_kind_from_name(kname);
	Datum	   *elems;
	bool	   *nulls;
	int			nel,
				i;
	ClmModel   *m;

	if (kind == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown model kind \"%s\"", kname),
				 errhint("Use bgnbd, mbgnbd, paretonbd, gg, bgbb or sbg.")));
	deconstruct_array(arr, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &nel);
	if (ARR_NDIM(arr) > 1 || nel != clm_kind_npar(kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s model has %d parameters", kname, clm_kind_npar(kind))));
	m = (ClmModel *) palloc0(sizeof(ClmModel));
	SET_VARSIZE(m, sizeof(ClmModel));
	m->kind = kind;
	m->ll = NAN;
	for (i = 0; i < nel; i++)
	{
		double		d = nulls[i] ? NAN : DatumGetFloat8(elems[i]);

		if (!(d > 0) || !isfinite(d))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("model parameters must be finite and > 0")));
		m->par[i] = d;
		m->se[i] = NAN;
	}
	strlcpy(m->message, "made from parameters", sizeof(m->message));
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(clm_model_info);
/* clm.model_info(model): the model as a row */
Datum
clm_model_info(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	TupleDesc	tupdesc;
	Datum		values[10];
	bool		nulls[10] = {false};
	Datum		names[CLM_MAX_PAR],
				pars[CLM_MAX_PAR],
				ses[CLM_MAX_PAR];
	bool		senull[CLM_MAX_PAR];
	int			dims[1],
				lbs[1] = {1};
	int			npar = clm_kind_npar(m->kind),
				i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	for (i = 0; i < npar; i++)
	{
		names[i] = CStringGetTextDatum(clm_kind_par_name(m->kind, i));
		pars[i] = Float8GetDatum(m->par[i]);
		ses[i] = Float8GetDatum(isnan(m->se[i]) ? 0.0 : m->se[i]);
		senull[i] = isnan(m->se[i]);
	}
	dims[0] = npar;
	values[0] = CStringGetTextDatum(clm_kind_name(m->kind));
	values[1] = PointerGetDatum(construct_array(names, npar, TEXTOID, -1, false, TYPALIGN_INT));
	values[2] = PointerGetDatum(construct_array(pars, npar, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[3] = PointerGetDatum(construct_md_array(ses, senull, 1, dims, lbs, FLOAT8OID, 8,
												   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[4] = Float8GetDatum(m->ll);
	nulls[4] = isnan(m->ll);
	values[5] = Float8GetDatum(m->n_customers);
	values[6] = Int32GetDatum(m->n_distinct);
	values[7] = BoolGetDatum(m->converged != 0);
	values[8] = Int32GetDatum(m->iterations);
	values[9] = CStringGetTextDatum(m->message);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(clm_model_parameter);
/* clm.model_parameter(model, name): one parameter by name */
Datum
clm_model_parameter(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			i;

	for (i = 0; i < clm_kind_npar(m->kind); i++)
		if (strcmp(name, clm_kind_par_name(m->kind, i)) == 0)
			PG_RETURN_FLOAT8(m->par[i]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("a %s model has no parameter \"%s\"", clm_kind_name(m->kind), name)));
	PG_RETURN_NULL();
}

/* error unless the prediction applies to the model's kind */
static void
require_kind(const ClmModel *m, clm_prediction what, const char *fname)
{
	if (!clm_predict_applies(m->kind, what))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s does not apply to a %s model", fname, clm_kind_name(m->kind)),
				 errhint("See the table of predictions per model kind in the README (CLV and churn models, Predictions).")));
}

/* validate a customer's (x, t_x, T) for the model's kind */
static void
check_customer(const ClmModel *m, double x, double t_x, double T)
{
	double		v[3] = {x, t_x, T};
	const char *err;

	/*
	 * A customer whose first purchase is on the calibration end (x = t_x =
	 * T = 0) is a valid customer to predict for: alpha + T > 0 keeps every
	 * formula finite (the fits skip such customers: they add nothing).
	 */
	if ((m->kind == CLM_KIND_BGNBD || m->kind == CLM_KIND_MBGNBD ||
		 m->kind == CLM_KIND_PARETONBD) && x == 0 && t_x == 0 && T == 0)
		return;
	err = clm_obs_check(m->kind, v);

	if (err)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid customer input for a %s model: %s", clm_kind_name(m->kind), err)));
}

/* validate a horizon t */
static void
check_horizon(double t)
{
	if (!(t >= 0) || t > 1e9)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the prediction horizon must be between 0 and 1e9")));
}

/* return a result, or 22003 when it is not finite */
static Datum
finite_result(double v, const char *what)
{
	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s is not finite for this model", what)));
	return Float8GetDatum(v);
}

/*
 * Per-call-site memo of the BG/NBD and MBG/NBD quantities "given alive"
 * (the expected purchases in the next t, the discounted sum of a CLV): they
 * depend on the customer through (x, T) only, not t_x, and customers share
 * (x, T) far more often than (x, t_x, T) (every one-purchase customer
 * acquired on the same day has the same pair).  A direct-mapped table in
 * fn_mcxt, keyed by (x, T, k) with k the horizon t of expected_purchases or
 * the discount rate of clv; its entries are for one model (kind and
 * parameters) and one CLV horizon, and are dropped in O(1) (a new
 * generation) when those change, so a model or horizon that varies from row
 * to row costs a miss, never a sweep of the table.  A hit returns the value
 * the computation returned, so results are the same to the bit.
 */
#define GA_MEMO_SIZE 65536		/* 2.5 MB per call site, allocated on first use */
typedef struct GaMemoEntry
{
	double		x;
	double		T;
	double		k;
	double		val;
	uint32		gen;			/* 0: never filled */
} GaMemoEntry;

typedef struct GaMemo
{
	int32		kind;
	double		par[CLM_MAX_PAR];
	int32		horizon;
	uint32		gen;
	GaMemoEntry e[GA_MEMO_SIZE];
} GaMemo;

/* the memo entry for (x, T, k) of model m: hit if its gen is the current one */
static GaMemoEntry *
ga_memo_entry(FunctionCallInfo fcinfo, const ClmModel *m, int horizon,
			  double x, double T, double k, bool *hit)
{
	GaMemo	   *memo = (GaMemo *) fcinfo->flinfo->fn_extra;
	uint64		hx,
				hT,
				hk,
				h;
	GaMemoEntry *e;

	if (memo == NULL)
	{
		memo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(GaMemo));
		memo->kind = -1;
		fcinfo->flinfo->fn_extra = memo;
	}
	if (memo->kind != m->kind || memo->horizon != horizon ||
		memcmp(memo->par, m->par, sizeof(memo->par)) != 0)
	{
		memo->kind = m->kind;
		memcpy(memo->par, m->par, sizeof(memo->par));
		memo->horizon = horizon;
		if (++memo->gen == 0)
		{
			/* wrapped after 2^32 changes: start over from an empty table */
			memset(memo->e, 0, sizeof(memo->e));
			memo->gen = 1;
		}
	}
	memcpy(&hx, &x, sizeof(hx));
	memcpy(&hT, &T, sizeof(hT));
	memcpy(&hk, &k, sizeof(hk));
	/* murmur3's 64-bit finaliser: integral doubles have all-zero low bits */
	h = hx ^ ((hT << 31) | (hT >> 33)) ^ hT ^ ((hk << 17) | (hk >> 47));
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	e = &memo->e[h & (GA_MEMO_SIZE - 1)];
	*hit = (e->gen == memo->gen && e->x == x && e->T == T && e->k == k);
	if (!*hit)
	{
		/* invalid until ga_memo_fill: an error while computing leaves no entry */
		e->gen = 0;
		e->x = x;
		e->T = T;
		e->k = k;
	}
	return e;
}

/* store the value computed for a missed entry and return it */
static double
ga_memo_fill(FunctionCallInfo fcinfo, GaMemoEntry *e, double val)
{
	e->val = val;
	e->gen = ((GaMemo *) fcinfo->flinfo->fn_extra)->gen;
	return val;
}

PG_FUNCTION_INFO_V1(clm_p_alive_sql);
/* clm.p_alive(model, x, t_x, T) */
Datum
clm_p_alive_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	double		x = PG_GETARG_FLOAT8(1),
				t_x = PG_GETARG_FLOAT8(2),
				T = PG_GETARG_FLOAT8(3);

	require_kind(m, CLM_PRED_P_ALIVE, "p_alive");
	check_customer(m, x, t_x, T);
	return finite_result(clm_p_alive(m->kind, m->par, x, t_x, T), "p_alive");
}

PG_FUNCTION_INFO_V1(clm_churn_probability_sql);
/* clm.churn_probability(model, x, t_x, T) = 1 - p_alive */
Datum
clm_churn_probability_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	double		x = PG_GETARG_FLOAT8(1),
				t_x = PG_GETARG_FLOAT8(2),
				T = PG_GETARG_FLOAT8(3);

	require_kind(m, CLM_PRED_P_ALIVE, "churn_probability");
	check_customer(m, x, t_x, T);
	return finite_result(1.0 - clm_p_alive(m->kind, m->par, x, t_x, T), "churn_probability");
}

PG_FUNCTION_INFO_V1(clm_expected_purchases_sql);
/* clm.expected_purchases(model, t, x, t_x, T) */
Datum
clm_expected_purchases_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1),
				x = PG_GETARG_FLOAT8(2),
				t_x = PG_GETARG_FLOAT8(3),
				T = PG_GETARG_FLOAT8(4);

	require_kind(m, CLM_PRED_EXPECTED, "expected_purchases");
	check_customer(m, x, t_x, T);
	check_horizon(t);
	if (m->kind == CLM_KIND_BGBB && (t != floor(t) || t > 100000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("for a bgbb model t is a whole number of opportunities up to 100000")));
	if (m->kind == CLM_KIND_BGNBD || m->kind == CLM_KIND_MBGNBD)
	{
		/*
		 * P(alive) times the expectation given alive: the series where it
		 * applies (a fraction of a microsecond, cheaper than a memo lookup
		 * that misses the cache), else the quadrature memoised on (x, T, t).
		 * The same operations as clm_bg_expected (its method 0 is exactly
		 * this choice), so the same result.
		 */
		int			mm = (m->kind == CLM_KIND_MBGNBD) ? 1 : 0;
		double		pa = clm_bg_p_alive(mm, m->par, x, t_x, T);
		double		g;
		bool		hit;
		GaMemoEntry *e;

		if (t <= 0 || pa <= 0)
			return finite_result(0.0, "expected_purchases");
		g = clm_bg_expected_given_alive(mm, m->par, t, x, T, 1);
		if (isnan(g))
		{
			e = ga_memo_entry(fcinfo, m, 0, x, T, t, &hit);
			g = hit ? e->val :
				ga_memo_fill(fcinfo, e, clm_bg_expected_given_alive(mm, m->par, t, x, T, 2));
		}
		return finite_result(pa * g, "expected_purchases");
	}
	return finite_result(clm_expected_purchases(m->kind, m->par, t, x, t_x, T), "expected_purchases");
}

PG_FUNCTION_INFO_V1(clm_p_purchases_sql);
/* clm.p_purchases(model, n, t, x, t_x, T) */
Datum
clm_p_purchases_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	int32		k = PG_GETARG_INT32(1);
	double		t = PG_GETARG_FLOAT8(2),
				x = PG_GETARG_FLOAT8(3),
				t_x = PG_GETARG_FLOAT8(4),
				T = PG_GETARG_FLOAT8(5);

	require_kind(m, CLM_PRED_P_N, "p_purchases");
	check_customer(m, x, t_x, T);
	check_horizon(t);
	if (k < 0 || k > 1000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the number of purchases must be between 0 and 1000000")));
	return finite_result(clm_p_purchases(m->kind, m->par, k, t, x, t_x, T), "p_purchases");
}

PG_FUNCTION_INFO_V1(clm_p_no_purchase_sql);
/* clm.p_no_purchase(model, t, x, t_x, T) */
Datum
clm_p_no_purchase_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1),
				x = PG_GETARG_FLOAT8(2),
				t_x = PG_GETARG_FLOAT8(3),
				T = PG_GETARG_FLOAT8(4);

	require_kind(m, CLM_PRED_P_NONE, "p_no_purchase");
	check_customer(m, x, t_x, T);
	check_horizon(t);
	return finite_result(clm_p_no_purchase(m->kind, m->par, t, x, t_x, T), "p_no_purchase");
}

PG_FUNCTION_INFO_V1(clm_expected_spend_sql);
/* clm.expected_spend(model, x, mean_spend) */
Datum
clm_expected_spend_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	double		x = PG_GETARG_FLOAT8(1),
				z = PG_GETARG_FLOAT8(2);

	require_kind(m, CLM_PRED_SPEND, "expected_spend");
	if (!(x >= 0) || !isfinite(x) || (x > 0 && (!(z > 0) || !isfinite(z))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expected_spend needs x >= 0 and, when x > 0, a mean spend > 0")));
	return finite_result(clm_expected_spend(m->par, x, z), "expected_spend");
}

PG_FUNCTION_INFO_V1(clm_clv_sql);
/* clm.clv(model, horizon, discount_rate, margin, spend, x, t_x, T) */
Datum
clm_clv_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	int32		horizon = PG_GETARG_INT32(1);
	double		disc = PG_GETARG_FLOAT8(2),
				margin = PG_GETARG_FLOAT8(3),
				spend = PG_GETARG_FLOAT8(4),
				x = PG_GETARG_FLOAT8(5),
				t_x = PG_GETARG_FLOAT8(6),
				T = PG_GETARG_FLOAT8(7);

	require_kind(m, CLM_PRED_CLV, "clv");
	check_customer(m, x, t_x, T);
	if (horizon < 0 || horizon > 100000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the clv horizon must be between 0 and 100000 periods")));
	if (!(disc >= 0) || !isfinite(disc) || !isfinite(margin) || !isfinite(spend))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("discount rate must be >= 0, margin and spend finite")));
	if (m->kind == CLM_KIND_BGNBD || m->kind == CLM_KIND_MBGNBD)
	{
		/*
		 * BG/NBD and MBG/NBD: clv = margin * spend * P(alive) * D(x, T), the
		 * discounted sum D given alive (a 52-term sum of hypergeometric
		 * series) does not depend on t_x or spend; customers share (x, T)
		 * far more often than (x, t_x, T), so D is memoised per call site
		 * for the model, discount rate and horizon in use.  Same operations
		 * as clm_clv, so the same result to the bit.
		 */
		int			mm = (m->kind == CLM_KIND_MBGNBD) ? 1 : 0;
		double		pa = clm_p_alive(m->kind, m->par, x, t_x, T);
		double		det = 0.0;

		if (horizon > 0 && pa > 0)
		{
			bool		hit;
			GaMemoEntry *e = ga_memo_entry(fcinfo, m, horizon, x, T, disc, &hit);

			det = pa * (hit ? e->val :
						ga_memo_fill(fcinfo, e, clm_bg_discounted_given_alive(mm, m->par, disc,
																			  horizon, x, T)));
		}
		return finite_result(margin * spend * det, "clv");
	}
	return finite_result(clm_clv(m->kind, m->par, spend, margin, disc, horizon, x, t_x, T), "clv");
}

PG_FUNCTION_INFO_V1(clm_dert_sql);
/* clm.discounted_expected_transactions(model, continuous_rate, x, t_x, T) */
Datum
clm_dert_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	double		d = PG_GETARG_FLOAT8(1),
				x = PG_GETARG_FLOAT8(2),
				t_x = PG_GETARG_FLOAT8(3),
				T = PG_GETARG_FLOAT8(4);

	require_kind(m, CLM_PRED_DERT, "discounted_expected_transactions");
	check_customer(m, x, t_x, T);
	if (!(d > 0) || d > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the continuous discount rate must be > 0 and at most 100")));
	return finite_result(clm_paretonbd_dert(m->par, d, x, t_x, T), "discounted_expected_transactions");
}

PG_FUNCTION_INFO_V1(clm_survival_sql);
/* clm.survival(model, t): sBG share of a cohort still active after t periods */
Datum
clm_survival_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1);

	require_kind(m, CLM_PRED_SURVIVAL, "survival");
	check_horizon(t);
	return finite_result(clm_sbg_survival(m->par, t), "survival");
}

PG_FUNCTION_INFO_V1(clm_retention_rate_sql);
/* clm.retention_rate(model, t): sBG probability of renewing at period t */
Datum
clm_retention_rate_sql(PG_FUNCTION_ARGS)
{
	ClmModel   *m = get_model(PG_GETARG_DATUM(0));
	double		t = PG_GETARG_FLOAT8(1);

	require_kind(m, CLM_PRED_SURVIVAL, "retention_rate");
	if (!(t >= 1) || t > 1e9)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the period of a retention rate must be between 1 and 1e9")));
	return finite_result(clm_sbg_retention(m->par, t), "retention_rate");
}

/* compacted score histogram of the aggregate state, or NULL */
static ClmHist *
scores_state(FunctionCallInfo fcinfo)
{
	ClmHist    *h;

	if (PG_ARGISNULL(0))
		return NULL;
	h = DatumGetClmHist(PG_GETARG_DATUM(0));
	hist_check_struct(h);
	if (h->kind != CLM_HIST_SCORES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histogram of kind %s given to a score metric", hist_kind_name(h->kind))));
	return hist_copy_compact(h);
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
	PG_RETURN_FLOAT8(s / w);
}
