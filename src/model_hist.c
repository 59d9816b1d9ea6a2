/*-------------------------------------------------------------------------
 *
 * model_hist.c
 *	  clm.model_histogram, the state of every fit aggregate: weighted
 *	  distinct input tuples, their validation, growth, compaction and merge,
 *	  and the type's text and binary input and output.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "compat.h"
#include "models.h"

/* name of a histogram kind */
const char *
clm_hist_kind_name(int kind)
{
	if (kind == CLM_HIST_SCORES)
		return "scores";
	return clm_kind_name(kind);
}

/* histogram kind from a name, 0 if unknown */
static int
clm_hist_kind_from_name(const char *s)
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

/*
 * obs_cmp for the sort, checking for interrupts once every 2^20 comparisons
 * (sorting tens of millions of tuples takes seconds; the sort is in place
 * and allocates nothing, so an error may unwind out of it)
 */
static uint32 obs_sort_count = 0;

static inline int
obs_cmp_sort(const clm_obs *a, const clm_obs *b)
{
	if ((++obs_sort_count & 0xFFFFF) == 0)
		CHECK_FOR_INTERRUPTS();
	return obs_cmp(a, b);
}

/* an inlined sort of the tuples by obs_cmp (PostgreSQL's sort template) */
#define ST_SORT obs_sort
#define ST_ELEMENT_TYPE clm_obs
#define ST_COMPARE(a, b) obs_cmp_sort(a, b)
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

/* the error of a histogram beyond CLM_HIST_MAX_TUPLES distinct tuples */
static void
hist_too_big(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("model histogram would exceed %d distinct tuples", CLM_HIST_MAX_TUPLES),
			 errhint("Round the inputs (for example to whole days or weeks) to reduce the number of distinct tuples, or fit on a sample.")));
}

/* the capacity after cap when a histogram of cap tuples is full */
static int
hist_grow_cap(int cap)
{
	if (cap >= CLM_HIST_MAX_TUPLES)
		hist_too_big();
	return (int) Min((int64) cap * 2, CLM_HIST_MAX_TUPLES);
}

/* new empty histogram with room for cap tuples, in CurrentMemoryContext */
ClmHist *
clm_hist_new(int kind, int cap)
{
	Size		sz = HIST_HDRSZ + (Size) cap * sizeof(clm_obs);
	ClmHist    *h;

	if (cap > CLM_HIST_MAX_TUPLES)
		hist_too_big();
	h = (ClmHist *) palloc0(sz);
	SET_VARSIZE(h, sz);
	h->kind = kind;
	h->n = 0;
	h->compact = 1;
	return h;
}

/* compacted copy of a histogram with no spare capacity */
ClmHist *
clm_hist_copy_compact(const ClmHist *src)
{
	ClmHist    *h = clm_hist_new(src->kind, Max(src->n, 1));

	memcpy(h->tuples, src->tuples, sizeof(clm_obs) * src->n);
	h->n = src->n;
	h->compact = src->compact;
	hist_compact(h);
	SET_VARSIZE(h, HIST_HDRSZ + sizeof(clm_obs) * h->n);
	return h;
}

/* basic structural check of a histogram datum from disk or the network */
void
clm_hist_check(const ClmHist *h)
{
	if (VARSIZE(h) < HIST_HDRSZ || h->n < 0 || h->n > HIST_CAP(h) ||
		clm_hist_kind_name(h->kind) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt clm.model_histogram value")));
}

/*
 * Validate every tuple of a histogram (a final function reads them all
 * anyway): the transition functions and the input functions only make
 * valid ones, so a bad one is corrupt data.
 */
void
clm_hist_check_tuples(const ClmHist *h)
{
	int			i;

	for (i = 0; i < h->n; i++)
	{
		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
		if (hist_tuple_check(h->kind, &h->tuples[i]) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("corrupt clm.model_histogram value"),
					 errdetail("Tuple %d: %s.", i + 1, hist_tuple_check(h->kind, &h->tuples[i]))));
	}
}

/* error unless a histogram state is of the given kind */
static void
hist_check_kind(const ClmHist *h, int kind)
{
	if (h->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s histogram given to the %s %s", clm_hist_kind_name(h->kind),
						clm_hist_kind_name(kind), kind == CLM_HIST_SCORES ? "metrics" : "fit")));
}

/*
 * Add one tuple to the aggregate state.  The state lives in the
 * aggregate's memory context and is grown in place; when it is full it is
 * first compacted, and only if it is still more than half full a copy
 * with twice the capacity is made in the per-call context (the executor
 * copies it into the aggregate context and frees the old one), so each row
 * costs amortised O(1).
 */
Datum
clm_hist_add(FunctionCallInfo fcinfo, int kind, const double *v, double w)
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
				 errmsg("invalid input to %s fit: %s", clm_hist_kind_name(kind), err),
				 errdetail("Input (%g, %g, %g) with weight %g.", v[0], v[1], v[2], w)));
	if (PG_ARGISNULL(0))
		h = clm_hist_new(kind, CLM_HIST_INIT_CAP);
	else
	{
		/* any initial condition of a user's aggregate arrives here */
		h = DatumGetClmHist(PG_GETARG_DATUM(0));
		clm_hist_check(h);
		hist_check_kind(h, kind);
	}
	if (h->n >= HIST_CAP(h))
	{
		int			cap = HIST_CAP(h);

		hist_compact(h);
		if (h->n > cap / 2)
		{
			ClmHist    *g = clm_hist_new(kind, hist_grow_cap(cap));

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
bool
clm_arg_f8(FunctionCallInfo fcinfo, int i, double *out)
{
	if (PG_ARGISNULL(i))
		return false;
	*out = PG_GETARG_FLOAT8(i);
	return true;
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
	clm_hist_check(b);
	if (PG_ARGISNULL(0))
		PG_RETURN_POINTER(clm_hist_copy_compact(b));
	a = DatumGetClmHist(PG_GETARG_DATUM(0));
	clm_hist_check(a);
	if (a->kind != b->kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot merge a %s histogram with a %s histogram",
						clm_hist_kind_name(a->kind), clm_hist_kind_name(b->kind))));
	if ((int64) a->n + b->n > CLM_HIST_MAX_TUPLES)
	{
		/* the merge may still fit once the repeats are summed */
		hist_compact(a);
		if ((int64) a->n + b->n > CLM_HIST_MAX_TUPLES)
			hist_too_big();
	}
	h = clm_hist_new(a->kind, Max(a->n + b->n, CLM_HIST_INIT_CAP));
	memcpy(h->tuples, a->tuples, sizeof(clm_obs) * a->n);
	memcpy(h->tuples + a->n, b->tuples, sizeof(clm_obs) * b->n);
	h->n = a->n + b->n;
	h->compact = 0;
	hist_compact(h);
	PG_RETURN_POINTER(h);
}

/* parse one double; false on syntax error */
bool
clm_parse_f8(char **p, double *out)
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
	kind = clm_hist_kind_from_name(kname);
	if (kind == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("unknown model histogram kind \"%s\"", kname)));
	h = clm_hist_new(kind, cap);
	p = colon + 1;
	while (*p == ' ')
		p++;
	while (*p != '\0')
	{
		clm_obs		o;
		const char *err;
		int			i;

		if ((h->n & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
		for (i = 0; i < 4; i++)
		{
			double		d;

			while (*p == ' ')
				p++;
			if (!clm_parse_f8(&p, &d) || (i < 3 && *p != ','))
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
			ClmHist    *g = clm_hist_new(kind, hist_grow_cap(HIST_CAP(h)));

			memcpy(g->tuples, h->tuples, sizeof(clm_obs) * h->n);
			g->n = h->n;
			pfree(h);
			h = g;
		}
		h->tuples[h->n++] = o;
	}
	h->compact = 0;
	PG_RETURN_POINTER(clm_hist_copy_compact(h));
}

PG_FUNCTION_INFO_V1(clm_model_histogram_out);
/* text output of clm.model_histogram (compacted, shortest exact floats) */
Datum
clm_model_histogram_out(PG_FUNCTION_ARGS)
{
	ClmHist    *h = DatumGetClmHist(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			i;

	clm_hist_check(h);
	h = clm_hist_copy_compact(h);
	initStringInfo(&buf);
	appendStringInfo(&buf, "%s:", clm_hist_kind_name(h->kind));
	for (i = 0; i < h->n; i++)
	{
		clm_obs    *o = &h->tuples[i];

		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
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

	clm_hist_check(h);
	h = clm_hist_copy_compact(h);
	pq_begintypsend(&buf);
	pq_sendint32(&buf, h->kind);
	pq_sendint32(&buf, h->n);
	for (i = 0; i < h->n; i++)
	{
		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
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
	int			kind = clm_recv_int4(buf, "clm.model_histogram");
	int			n = clm_recv_int4(buf, "clm.model_histogram");
	ClmHist    *h;
	int			i,
				k;

	if (clm_hist_kind_name(kind) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid model histogram kind %d in binary input", kind)));
	if (n < 0 || n > CLM_HIST_MAX_TUPLES || (int64) n * 32 != buf->len - buf->cursor)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid model histogram length %d in binary input", n)));
	h = clm_hist_new(kind, Max(n, 1));
	for (i = 0; i < n; i++)
	{
		const char *err;

		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
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
	PG_RETURN_POINTER(clm_hist_copy_compact(h));
}

/* a 4-byte integer of binary input, 22P03 when the input is too short */
int32
clm_recv_int4(StringInfo buf, const char *type)
{
	if (buf->len - buf->cursor < 4)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("binary input of %s is too short", type)));
	return (int32) pq_getmsgint(buf, 4);
}

/* a float8 of binary input, 22P03 when the input is too short */
double
clm_recv_float8(StringInfo buf, const char *type)
{
	if (buf->len - buf->cursor < 8)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("binary input of %s is too short", type)));
	return pq_getmsgfloat8(buf);
}
