/*-------------------------------------------------------------------------
 *
 * model_cov_hist.c
 *	  clm.cov_histogram, the state of the fits with covariates: covariate
 *	  names and their checks, rows and their validation, growth, compaction
 *	  and merge, the transition functions (over profiles or over x, t_x, T)
 *	  and the type's text and binary input and output.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "compat.h"
#include "model_cov.h"

/* a covariate name: NULL when fine, else a message */
const char *
clm_cov_name_check(const char *name)
{
	const char *p;

	if (name[0] == '\0' || strlen(name) >= CLM_COV_NAMELEN)
		return "covariate names are 1 to 63 characters";
	if (isdigit((unsigned char) name[0]))
		return "covariate names start with a letter or an underscore";
	for (p = name; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == '_') || (unsigned char) *p >= 128)
			return "covariate names are letters, digits and underscores (as column names)";
	return NULL;
}

/* validate one row (z, inputs, weight): NULL when fine, else a message */
static const char *
cov_row_check(int kind, int k, const double *row)
{
	int			c;
	double		w = row[k + 3];

	if (!(w > 0) || !isfinite(w) || w > 1e15)
		return "weights must be finite, > 0 and at most 1e15";
	for (c = 0; c < k; c++)
		if (!isfinite(row[c]) || fabs(row[c]) > CLM_COV_MAX_ABS)
			return "covariates must be finite and at most 1e15 in absolute value";
	if (kind == CLM_KIND_GG && row[k + 2] != 0)
		return "this model kind has two input values";
	return clm_obs_check(kind, row + k);
}

/* the length of the compared part of a row: z and the inputs */
static int	cov_cmp_len;
static uint32 cov_sort_count = 0;

/* order of rows: lexicographic on (z, inputs), checking for interrupts now and then */
static int
cov_row_cmp(const void *a, const void *b)
{
	const double *x = (const double *) a;
	const double *y = (const double *) b;
	int			i;

	if ((++cov_sort_count & 0xFFFFF) == 0)
		CHECK_FOR_INTERRUPTS();
	for (i = 0; i < cov_cmp_len; i++)
	{
		if (x[i] < y[i])
			return -1;
		if (x[i] > y[i])
			return 1;
	}
	return 0;
}

/* sort and merge equal rows in place */
static void
cov_compact(ClmCovHist *h)
{
	int			s = COVH_STRIDE(h),
				i,
				j = 0;

	if (h->compact)
		return;
	cov_cmp_len = h->k + 3;
	if (h->n > 1)
	{
		qsort(h->d, h->n, sizeof(double) * s, cov_row_cmp);
		for (i = 1; i < h->n; i++)
		{
			double	   *ri = COVH_ROW(h, i),
					   *rj = COVH_ROW(h, j);

			if (cov_row_cmp(ri, rj) == 0)
				rj[h->k + 3] += ri[h->k + 3];
			else if (++j != i)
				memcpy(COVH_ROW(h, j), ri, sizeof(double) * s);
		}
		h->n = j + 1;
	}
	h->compact = 1;
}

/* the error of a histogram beyond CLM_HIST_MAX_TUPLES rows or 1 GB */
static void
cov_too_big(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("covariate histogram would exceed its size limit (1 GB)"),
			 errhint("Round the inputs and the covariates, or fit on a sample.")));
}

/* new empty histogram with room for cap rows, in CurrentMemoryContext */
static ClmCovHist *
cov_hist_new(int kind, int k, const char (*names)[CLM_COV_NAMELEN], int cap)
{
	Size		sz = COVH_HDRSZ + (Size) cap * sizeof(double) * (k + 4);
	ClmCovHist *h;

	if (cap > CLM_HIST_MAX_TUPLES || sz > MaxAllocSize)
		cov_too_big();
	h = (ClmCovHist *) palloc0(sz);
	SET_VARSIZE(h, sz);
	h->kind = kind;
	h->k = k;
	h->compact = 1;
	if (k > 0)
		memcpy(h->names, names, sizeof(h->names[0]) * k);
	return h;
}

/* a copy with room for cap rows */
static ClmCovHist *
cov_hist_grow(const ClmCovHist *h, int cap)
{
	ClmCovHist *g = cov_hist_new(h->kind, h->k, h->names, cap);

	memcpy(g->d, h->d, sizeof(double) * COVH_STRIDE(h) * h->n);
	g->n = h->n;
	g->compact = h->compact;
	return g;
}

/* compacted copy of a histogram with no spare capacity */
ClmCovHist *
clm_cov_hist_copy_compact(const ClmCovHist *src)
{
	ClmCovHist *h = cov_hist_grow(src, Max(src->n, 1));

	cov_compact(h);
	SET_VARSIZE(h, COVH_HDRSZ + sizeof(double) * COVH_STRIDE(h) * h->n);
	return h;
}

/* basic structural check of a histogram datum from disk, the network or a user's initial state */
void
clm_cov_hist_check(const ClmCovHist *h)
{
	int			c;

	if (VARSIZE(h) < COVH_HDRSZ || h->k < 0 || h->k > CLM_MAX_COV ||
		clm_cov_get_link(h->kind) == NULL || h->n < 0 || h->n > COVH_CAP(h) ||
		(h->compact != 0 && h->compact != 1))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt clm.cov_histogram value")));
	for (c = 0; c < h->k; c++)
		if (memchr(h->names[c], '\0', CLM_COV_NAMELEN) == NULL ||
			clm_cov_name_check(h->names[c]) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("corrupt clm.cov_histogram value")));
}

/* validate every row (a final function reads them all anyway) */
void
clm_cov_hist_check_rows(const ClmCovHist *h)
{
	int			i;

	for (i = 0; i < h->n; i++)
	{
		const char *err = cov_row_check(h->kind, h->k, COVH_ROW(h, i));

		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
		if (err)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("corrupt clm.cov_histogram value"),
					 errdetail("Row %d: %s.", i + 1, err)));
	}
}

/*
 * Per-call-site cache of a transition: the unit of the fits over profiles,
 * and the covariate names of the last row, kept as the array's bytes so
 * that a row with the same array costs a memcmp.
 */
typedef struct CovTransCache
{
	ClmUnitCache unit;
	int			k;
	char		names[CLM_MAX_COV][CLM_COV_NAMELEN];
	int			raw_len;		/* -1: nothing cached */
	char	   *raw;
} CovTransCache;

/* the cache of a call site */
static CovTransCache *
cov_cache(FunctionCallInfo fcinfo)
{
	CovTransCache *cc = (CovTransCache *) fcinfo->flinfo->fn_extra;

	if (cc == NULL)
	{
		cc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CovTransCache));
		cc->unit.len = -1;
		cc->raw_len = -1;
		fcinfo->flinfo->fn_extra = cc;
	}
	return cc;
}

/* read and check the covariate names of argument i into the cache */
static void
cov_read_names(FunctionCallInfo fcinfo, CovTransCache *cc, int i)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				c,
				d;

	if (PG_ARGISNULL(i))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the covariate names must not be NULL")));
	arr = PG_GETARG_ARRAYTYPE_P(i);
	if (cc->raw_len == (int) VARSIZE(arr) && memcmp(cc->raw, arr, cc->raw_len) == 0)
		return;
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the covariate names must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n > CLM_MAX_COV)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("at most %d covariates", CLM_MAX_COV)));
	for (c = 0; c < n; c++)
	{
		char	   *s;
		const char *err;

		if (nulls[c])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("covariate name %d is NULL", c + 1)));
		s = TextDatumGetCString(elems[c]);
		if ((err = clm_cov_name_check(s)) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid covariate name \"%s\": %s", s, err)));
		for (d = 0; d < c; d++)
			if (strcmp(cc->names[d], s) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("covariate name \"%s\" is given twice", s)));
		strlcpy(cc->names[c], s, CLM_COV_NAMELEN);
	}
	cc->k = n;
	if (cc->raw)
		pfree(cc->raw);
	cc->raw_len = -1;
	cc->raw = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE(arr));
	memcpy(cc->raw, arr, VARSIZE(arr));
	cc->raw_len = VARSIZE(arr);
}

/*
 * Add one customer (inputs v, covariates in argument icov, names in
 * argument icov + 1) to the aggregate state, grown in place as
 * clm_hist_add grows clm.model_histogram (amortised O(1) a row).
 */
static Datum
cov_add(FunctionCallInfo fcinfo, CovTransCache *cc, int kind, const double *v,
		int icov)
{
	ClmCovHist *h;
	ArrayType  *arr;
	double		row[CLM_MAX_COV + 4];
	const char *err;
	int			k,
				n,
				c;

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model fit transition function called in non-aggregate context")));
	cov_read_names(fcinfo, cc, icov + 1);
	k = cc->k;
	if (PG_ARGISNULL(icov))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the covariates of a customer must not be NULL"),
				 errhint("Fill in missing covariates (for example COALESCE with a value and a dummy covariate that marks it missing), or leave those customers out.")));
	arr = PG_GETARG_ARRAYTYPE_P(icov);
	n = clm_cov_array_values(arr, row, k);
	if (n != k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a customer has %d covariates, but %d covariate names are given", n, k)));
	for (c = 0; c < k; c++)
		if (row[c] == 0)
			row[c] = 0.0;		/* -0 and 0 are one covariate value */
	row[k] = v[0];
	row[k + 1] = v[1];
	row[k + 2] = v[2];
	row[k + 3] = 1.0;
	err = cov_row_check(kind, k, row);
	if (err)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid input to %s fit: %s", clm_kind_name(kind), err),
				 errdetail("Input (%g, %g, %g).", v[0], v[1], v[2])));
	if (PG_ARGISNULL(0))
		h = cov_hist_new(kind, k, cc->names, CLM_HIST_INIT_CAP);
	else
	{
		/* any initial condition of a user's aggregate arrives here */
		h = DatumGetClmCovHist(PG_GETARG_DATUM(0));
		clm_cov_hist_check(h);
		if (h->kind != kind)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a %s histogram given to the %s fit", clm_kind_name(h->kind),
							clm_kind_name(kind))));
		if (h->k != k || (k > 0 && memcmp(h->names, cc->names, sizeof(h->names[0]) * k) != 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the covariate names differ from row to row"),
					 errhint("Give the same names, in the same order, for every customer.")));
	}
	if (h->n >= COVH_CAP(h))
	{
		int			cap = COVH_CAP(h);

		cov_compact(h);
		if (h->n > cap / 2)
		{
			if (cap >= CLM_HIST_MAX_TUPLES)
				cov_too_big();
			h = cov_hist_grow(h, (int) Min((int64) cap * 2, CLM_HIST_MAX_TUPLES));
		}
	}
	cov_cmp_len = k + 3;
	if (h->compact && h->n > 0 && cov_row_cmp(COVH_ROW(h, h->n - 1), row) >= 0)
	{
		if (cov_row_cmp(COVH_ROW(h, h->n - 1), row) == 0)
		{
			COVH_ROW(h, h->n - 1)[k + 3] += 1.0;
			PG_RETURN_POINTER(h);
		}
		h->compact = 0;
	}
	memcpy(COVH_ROW(h, h->n), row, sizeof(double) * (k + 4));
	h->n++;
	PG_RETURN_POINTER(h);
}

/*
 * The values of a customer's covariate array: one-dimensional (2202E), no
 * NULL (22004).  Copies at most max of them into z; returns how many there
 * are (the caller checks the count).
 */
int
clm_cov_array_values(ArrayType *arr, double *z, int max)
{
	int			n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the covariates must be a one-dimensional array")));
	if (ARR_HASNULL(arr) && array_contains_nulls(arr))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the covariates of a customer must not contain NULL"),
				 errhint("Fill in missing covariates (for example COALESCE with a value and a dummy covariate that marks it missing), or leave those customers out.")));
	if (n > 0)
		memcpy(z, ARR_DATA_PTR(arr), sizeof(double) * Min(n, max));
	return n;
}

/* the state unchanged (a skipped row) */
static Datum
cov_skip(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

/* transition over profiles: (state, profile, calibration_end, unit, covariates, names) */
static Datum
cov_profile_trans(FunctionCallInfo fcinfo, int kind)
{
	CovTransCache *cc = cov_cache(fcinfo);
	double		v[3];

	if (!clm_profile_fit_inputs(fcinfo, kind, &cc->unit, v))
		return cov_skip(fcinfo);
	return cov_add(fcinfo, cc, kind, v, 4);
}

/* transition over inputs: (state, x, t_x, T, covariates, names); Gamma-Gamma (state, x, mean_spend, covariates, names) */
static Datum
cov_value_trans(FunctionCallInfo fcinfo, int kind)
{
	CovTransCache *cc = cov_cache(fcinfo);
	int			nin = kind == CLM_KIND_GG ? 2 : 3;
	double		v[3] = {0, 0, 0};
	int			i;

	for (i = 0; i < nin; i++)
		if (!clm_arg_f8(fcinfo, i + 1, &v[i]))
			return cov_skip(fcinfo);
	if (kind == CLM_KIND_GG && v[0] == 0)
		return cov_skip(fcinfo);
	return cov_add(fcinfo, cc, kind, v, nin + 1);
}

PG_FUNCTION_INFO_V1(clm_bgnbd_cov_profile_trans);
/* clm.bgnbd_fit(profile, calibration_end, unit, covariates, names) transition */
Datum
clm_bgnbd_cov_profile_trans(PG_FUNCTION_ARGS)
{
	return cov_profile_trans(fcinfo, CLM_KIND_BGNBD);
}

PG_FUNCTION_INFO_V1(clm_paretonbd_cov_profile_trans);
/* clm.paretonbd_fit(profile, calibration_end, unit, covariates, names) transition */
Datum
clm_paretonbd_cov_profile_trans(PG_FUNCTION_ARGS)
{
	return cov_profile_trans(fcinfo, CLM_KIND_PARETONBD);
}

PG_FUNCTION_INFO_V1(clm_gg_cov_profile_trans);
/* clm.gg_fit(profile, calibration_end, unit, covariates, names) transition */
Datum
clm_gg_cov_profile_trans(PG_FUNCTION_ARGS)
{
	return cov_profile_trans(fcinfo, CLM_KIND_GG);
}

PG_FUNCTION_INFO_V1(clm_bgnbd_cov_trans);
/* clm.bgnbd_fit(x, t_x, T, covariates, names) transition */
Datum
clm_bgnbd_cov_trans(PG_FUNCTION_ARGS)
{
	return cov_value_trans(fcinfo, CLM_KIND_BGNBD);
}

PG_FUNCTION_INFO_V1(clm_paretonbd_cov_trans);
/* clm.paretonbd_fit(x, t_x, T, covariates, names) transition */
Datum
clm_paretonbd_cov_trans(PG_FUNCTION_ARGS)
{
	return cov_value_trans(fcinfo, CLM_KIND_PARETONBD);
}

PG_FUNCTION_INFO_V1(clm_gg_cov_trans);
/* clm.gg_fit(x, mean_spend, covariates, names) transition */
Datum
clm_gg_cov_trans(PG_FUNCTION_ARGS)
{
	return cov_value_trans(fcinfo, CLM_KIND_GG);
}

PG_FUNCTION_INFO_V1(clm_cov_histogram_merge);
/* combine function of the fits with covariates: the merge of two histograms */
Datum
clm_cov_histogram_merge(PG_FUNCTION_ARGS)
{
	ClmCovHist *a,
			   *b,
			   *h;

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("covariate histogram combine function called in non-aggregate context")));
	if (PG_ARGISNULL(1))
		return cov_skip(fcinfo);
	b = DatumGetClmCovHist(PG_GETARG_DATUM(1));
	clm_cov_hist_check(b);
	if (PG_ARGISNULL(0))
		PG_RETURN_POINTER(clm_cov_hist_copy_compact(b));
	a = DatumGetClmCovHist(PG_GETARG_DATUM(0));
	clm_cov_hist_check(a);
	if (a->kind != b->kind || a->k != b->k ||
		memcmp(a->names, b->names, sizeof(a->names[0]) * a->k) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot merge covariate histograms of different kinds or covariates")));
	if ((int64) a->n + b->n > CLM_HIST_MAX_TUPLES)
		cov_too_big();
	h = cov_hist_new(a->kind, a->k, a->names, Max(a->n + b->n, CLM_HIST_INIT_CAP));
	memcpy(h->d, a->d, sizeof(double) * COVH_STRIDE(a) * a->n);
	memcpy(COVH_ROW(h, a->n), b->d, sizeof(double) * COVH_STRIDE(b) * b->n);
	h->n = a->n + b->n;
	h->compact = 0;
	cov_compact(h);
	PG_RETURN_POINTER(h);
}

/* text-input error helper */
static void
cov_syntax_error(const char *str, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type clm.cov_histogram: \"%s\"", str),
			 errdetail("%s", detail)));
}

PG_FUNCTION_INFO_V1(clm_cov_histogram_in);
/*
 * Text input of clm.cov_histogram: "kind(name,...):" followed by rows
 * "x,t_x,T,weight,z1,...,zk" separated by ";"
 * (e.g. "bgnbd(web):0,0,38.86,1,0;2,30.43,38.86,1,1").
 */
Datum
clm_cov_histogram_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	char	   *s = pstrdup(str);
	char	   *open = strchr(s, '(');
	char	   *close,
			   *p;
	char		names[CLM_MAX_COV][CLM_COV_NAMELEN];
	int			kind,
				k = 0;
	ClmCovHist *h;

	if (open == NULL || (close = strchr(open, ')')) == NULL || close[1] != ':')
		cov_syntax_error(str, "The form is kind(name,...):x,t_x,T,weight,z1,...;...");
	*open = '\0';
	*close = '\0';
	kind = clm_kind_from_name(s);
	if (clm_cov_get_link(kind) == NULL)
		cov_syntax_error(str, "The kind is bgnbd, mbgnbd, paretonbd or gg.");
	p = open + 1;
	while (*p)
	{
		char	   *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (k >= CLM_MAX_COV || clm_cov_name_check(p) != NULL)
			cov_syntax_error(str, "Invalid covariate name, or too many.");
		strlcpy(names[k++], p, CLM_COV_NAMELEN);
		if (!comma)
			break;
		p = comma + 1;
	}
	h = cov_hist_new(kind, k, names, 16);
	p = close + 2;
	while (*p == ' ')
		p++;
	while (*p != '\0')
	{
		double		row[CLM_MAX_COV + 4];
		int			i;
		const char *err;

		if ((h->n & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
		for (i = 0; i < k + 4; i++)
		{
			double		d;

			while (*p == ' ')
				p++;
			if (!clm_parse_f8(&p, &d) || (i < k + 3 && *p != ','))
				cov_syntax_error(str, "Each row is 4 + k numbers separated by commas.");
			if (i < k + 3)
				p++;
			/* text order x, t_x, T, w, z...; row order z..., x, t_x, T, w */
			if (i < 4)
				row[k + i] = d;
			else
				row[i - 4] = d;
		}
		while (*p == ' ')
			p++;
		if (*p == ';')
			p++;
		else if (*p != '\0')
			cov_syntax_error(str, "Rows are separated by semicolons.");
		while (*p == ' ')
			p++;
		err = cov_row_check(kind, k, row);
		if (err)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid clm.cov_histogram row: %s", err)));
		if (h->n >= COVH_CAP(h))
		{
			ClmCovHist *g;

			if (COVH_CAP(h) >= CLM_HIST_MAX_TUPLES)
				cov_too_big();
			g = cov_hist_grow(h, (int) Min((int64) COVH_CAP(h) * 2, CLM_HIST_MAX_TUPLES));
			pfree(h);
			h = g;
		}
		memcpy(COVH_ROW(h, h->n), row, sizeof(double) * (k + 4));
		h->n++;
	}
	h->compact = 0;
	PG_RETURN_POINTER(clm_cov_hist_copy_compact(h));
}

PG_FUNCTION_INFO_V1(clm_cov_histogram_out);
/* text output of clm.cov_histogram (compacted, shortest exact floats) */
Datum
clm_cov_histogram_out(PG_FUNCTION_ARGS)
{
	ClmCovHist *h = DatumGetClmCovHist(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			i,
				c;

	clm_cov_hist_check(h);
	h = clm_cov_hist_copy_compact(h);
	initStringInfo(&buf);
	appendStringInfo(&buf, "%s(", clm_kind_name(h->kind));
	for (c = 0; c < h->k; c++)
		appendStringInfo(&buf, "%s%s", c ? "," : "", h->names[c]);
	appendStringInfoString(&buf, "):");
	for (i = 0; i < h->n; i++)
	{
		double	   *r = COVH_ROW(h, i);

		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
		appendStringInfo(&buf, "%s%s,%s,%s,%s", i ? ";" : "",
						 float8out_internal(r[h->k]), float8out_internal(r[h->k + 1]),
						 float8out_internal(r[h->k + 2]), float8out_internal(r[h->k + 3]));
		for (c = 0; c < h->k; c++)
			appendStringInfo(&buf, ",%s", float8out_internal(r[c]));
	}
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(clm_cov_histogram_send);
/* binary output: int4 kind, int4 k, k names, int4 n, then n rows of 4 + k float8 in text order */
Datum
clm_cov_histogram_send(PG_FUNCTION_ARGS)
{
	ClmCovHist *h = DatumGetClmCovHist(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			i,
				c;

	clm_cov_hist_check(h);
	h = clm_cov_hist_copy_compact(h);
	pq_begintypsend(&buf);
	pq_sendint32(&buf, h->kind);
	pq_sendint32(&buf, h->k);
	for (c = 0; c < h->k; c++)
		pq_sendstring(&buf, h->names[c]);
	pq_sendint32(&buf, h->n);
	for (i = 0; i < h->n; i++)
	{
		double	   *r = COVH_ROW(h, i);

		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
		for (c = 0; c < 4; c++)
			pq_sendfloat8(&buf, r[h->k + c]);
		for (c = 0; c < h->k; c++)
			pq_sendfloat8(&buf, r[c]);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* k covariate names of binary input (strings), checked: distinct, valid; 22P03 if not */
void
clm_cov_recv_names(StringInfo buf, int k, char (*names)[CLM_COV_NAMELEN],
				   const char *type)
{
	int			c,
				i;

	for (c = 0; c < k; c++)
	{
		const char *s;

		if (memchr(buf->data + buf->cursor, '\0', buf->len - buf->cursor) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("binary input of %s is too short", type)));
		s = pq_getmsgstring(buf);
		if (clm_cov_name_check(s) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid covariate name in binary %s", type)));
		for (i = 0; i < c; i++)
			if (strcmp(names[i], s) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("covariate name \"%s\" twice in binary %s", s, type)));
		strlcpy(names[c], s, CLM_COV_NAMELEN);
	}
}

PG_FUNCTION_INFO_V1(clm_cov_histogram_recv);
/* binary input, validated like the text input */
Datum
clm_cov_histogram_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			kind = clm_recv_int4(buf, "clm.cov_histogram");
	int			k = clm_recv_int4(buf, "clm.cov_histogram");
	char		names[CLM_MAX_COV][CLM_COV_NAMELEN];
	ClmCovHist *h;
	int			n,
				i,
				c;

	if (clm_cov_get_link(kind) == NULL || k < 0 || k > CLM_MAX_COV)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid kind or covariate count in binary clm.cov_histogram")));
	clm_cov_recv_names(buf, k, names, "clm.cov_histogram");
	n = clm_recv_int4(buf, "clm.cov_histogram");
	if (n < 0 || n > CLM_HIST_MAX_TUPLES ||
		(int64) n * 8 * (k + 4) != buf->len - buf->cursor)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid clm.cov_histogram length %d in binary input", n)));
	h = cov_hist_new(kind, k, names, Max(n, 1));
	for (i = 0; i < n; i++)
	{
		double	   *r = COVH_ROW(h, i);
		const char *err;

		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
		for (c = 0; c < 4; c++)
			r[k + c] = pq_getmsgfloat8(buf);
		for (c = 0; c < k; c++)
			r[c] = pq_getmsgfloat8(buf);
		err = cov_row_check(kind, k, r);
		if (err)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid clm.cov_histogram row in binary input: %s", err)));
	}
	h->n = n;
	h->compact = 0;
	PG_RETURN_POINTER(clm_cov_hist_copy_compact(h));
}
