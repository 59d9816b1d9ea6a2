/*-------------------------------------------------------------------------
 *
 * model_value.c
 *	  clm.model, a fitted (or user-made) model: its text and binary input
 *	  and output, clm.make_model, clm.model_info, clm.model_parameter.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "compat.h"
#include "models.h"

/* a zeroed model value of the current format */
ClmModel *
clm_model_new(int kind)
{
	ClmModel   *m = (ClmModel *) palloc0(sizeof(ClmModel));

	SET_VARSIZE(m, sizeof(ClmModel));
	m->version = CLM_MODEL_VERSION;
	m->kind = kind;
	return m;
}

/*
 * check a model value read from disk (format 1, or 0 from clm 0.1; format 2
 * with covariates; format 3 with the correlations of the parameters)
 */
ClmModel *
clm_model_get(Datum d)
{
	ClmModel   *m = DatumGetClmModel(d);
	int			i;

	if (VARSIZE(m) >= sizeof(ClmModel) && m->version > CLM_MODEL_VERSION_CORR)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("clm.model value of format %d, written by a later version of clm",
						m->version),
				 errhint("Update the clm extension (ALTER EXTENSION clm UPDATE) after installing the later version.")));
	if (!((VARSIZE(m) == sizeof(ClmModel) && m->version <= CLM_MODEL_VERSION) ||
		  (VARSIZE(m) == CLM_MODEL_COV_SIZE && m->version == CLM_MODEL_VERSION_COV) ||
		  (VARSIZE(m) == CLM_MODEL_CORR_SIZE && m->version == CLM_MODEL_VERSION_CORR)) ||
		clm_kind_name(m->kind) == NULL || m->version < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt clm.model value")));
	if (CLM_MODEL_HAS_COV(m))
		clm_model_cov_check(m);
	if (CLM_MODEL_HAS_CORR(m))
		for (i = 0; i < CLM_NCORR; i++)
			if (!(fabs(CLM_MODEL_CORR(m)->corr[i]) <= 1.0) && !isnan(CLM_MODEL_CORR(m)->corr[i]))
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

/* the correlations of the parameters of m: NaN where not known */
void
clm_model_corr_get(const ClmModel *m, double *corr)
{
	int			i;

	for (i = 0; i < CLM_NCORR; i++)
		corr[i] = CLM_MODEL_HAS_CORR(m) ? CLM_MODEL_CORR(m)->corr[i] : NAN;
}

/*
 * A copy of model m (format 1) with the correlations corr: format 3 when
 * one is known, else format 1.
 */
ClmModel *
clm_model_with_corr(const ClmModel *m, const double *corr)
{
	ClmModel   *out;
	bool		known = false;
	int			i;

	for (i = 0; i < CLM_NCORR; i++)
		known = known || !isnan(corr[i]);
	if (!known)
		return (ClmModel *) m;
	out = (ClmModel *) palloc0(CLM_MODEL_CORR_SIZE);
	memcpy(out, m, sizeof(ClmModel));
	SET_VARSIZE(out, CLM_MODEL_CORR_SIZE);
	out->version = CLM_MODEL_VERSION_CORR;
	for (i = 0; i < CLM_NCORR; i++)
		CLM_MODEL_CORR(out)->corr[i] = isnan(corr[i]) ? NAN : corr[i];
	return out;
}

/* the index of the correlation named corr_<a>_<b> of a kind, -1 if none */
static int
model_corr_key(int kind, const char *key)
{
	int			npar = clm_kind_npar(kind),
				i,
				j;

	if (strncmp(key, "corr_", 5) != 0)
		return -1;
	for (i = 0; i < npar; i++)
	{
		const char *a = clm_kind_par_name(kind, i);
		size_t		la = strlen(a);

		if (strncmp(key + 5, a, la) != 0 || key[5 + la] != '_')
			continue;
		for (j = i + 1; j < npar; j++)
			if (strcmp(key + 6 + la, clm_kind_par_name(kind, j)) == 0)
				return CLM_CORR_INDEX(i, j);
	}
	return -1;
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
 * spaces: the parameters by name (required), se_<name>, corr_<name>_<name>
 * (a later parameter second), loglik, n, distinct, converged, iterations,
 * and last message='...'.
 */
Datum
clm_model_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	char	   *s = pstrdup(str);
	char	   *p = s;
	char	   *tok;
	ClmModel   *m;
	bool		have[CLM_MAX_PAR] = {false, false, false, false};
	double		corr[CLM_NCORR];
	int			npar,
				i;

	for (i = 0; i < CLM_NCORR; i++)
		corr[i] = NAN;

	while (*p == ' ')
		p++;
	tok = p;
	while (*p && *p != ' ')
		p++;
	if (*p)
		*p++ = '\0';
	m = clm_model_new(clm_kind_from_name(tok));
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
		if (clm_model_cov_in_key(&m, key, val, str))
			continue;
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

			if (!clm_parse_f8(&v2, &d) || *v2 != '\0')
				model_syntax_error(str, "A value is not a number.");
		}
		if (strcmp(key, "loglik") == 0)
		{
			m->ll = d;
			continue;
		}
		if ((i = model_corr_key(m->kind, key)) >= 0)
		{
			if (!(fabs(d) <= 1.0) && !isnan(d))
				model_syntax_error(str, "Correlations must be between -1 and 1, or NaN.");
			corr[i] = isnan(d) ? NAN : d;
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
	clm_model_cov_in_finish(m, str);
	for (i = 0; i < CLM_NCORR; i++)
		if (!isnan(corr[i]) && CLM_MODEL_HAS_COV(m))
			model_syntax_error(str, "A model with covariates has no correlations (corr_ keys).");
	PG_RETURN_POINTER(clm_model_with_corr(m, corr));
}

PG_FUNCTION_INFO_V1(clm_model_out);
/* text output of clm.model (shortest exact floats, so it round-trips) */
Datum
clm_model_out(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
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
	clm_model_cov_out(m, &buf);
	/* format 3: the known correlations */
	for (i = 0; i < npar && CLM_MODEL_HAS_CORR(m); i++)
	{
		int			j;

		for (j = i + 1; j < npar; j++)
			if (!isnan(CLM_MODEL_CORR(m)->corr[CLM_CORR_INDEX(i, j)]))
				appendStringInfo(&buf, " corr_%s_%s=%s", clm_kind_par_name(m->kind, i),
								 clm_kind_par_name(m->kind, j),
								 float8out_internal(CLM_MODEL_CORR(m)->corr[CLM_CORR_INDEX(i, j)]));
	}
	appendStringInfo(&buf, " loglik=%s n=%s distinct=%d converged=%s iterations=%d message='%s'",
					 float8out_internal(m->ll), float8out_internal(m->n_customers),
					 m->n_distinct, m->converged ? "true" : "false", m->iterations,
					 m->message);
	PG_RETURN_CSTRING(buf.data);
}

PG_FUNCTION_INFO_V1(clm_model_send);
/* binary output of clm.model (format 1; 2, 3 add their parts after the message): kind, converged, iterations, distinct, n, ll, npar x (par, se), message */
Datum
clm_model_send(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	/*
	 * binary format 2 (1 in the upper bits) when the model has covariates, 3
	 * (2) when it has correlations
	 */
	pq_sendint32(&buf, m->kind | (CLM_MODEL_HAS_COV(m) ? (1 << 16) :
								  CLM_MODEL_HAS_CORR(m) ? (2 << 16) : 0));
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
	clm_model_cov_send(m, &buf);
	/* binary format 3: the npar (npar - 1) / 2 correlations, (0,1), (0,2), ... */
	for (i = 0; i < clm_kind_npar(m->kind) && CLM_MODEL_HAS_CORR(m); i++)
	{
		int			j;

		for (j = i + 1; j < clm_kind_npar(m->kind); j++)
			pq_sendfloat8(&buf, CLM_MODEL_CORR(m)->corr[CLM_CORR_INDEX(i, j)]);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(clm_model_recv);
/* binary input of clm.model, validated like the text input */
Datum
clm_model_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	uint32		word = (uint32) clm_recv_int4(buf, "clm.model");
	ClmModel   *m = clm_model_new((int) (word & 0xFFFF));
	const char *msg;
	int			i;

	if ((word >> 16) > 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary format version %d for type clm.model",
						(int) (word >> 16) + 1)));
	if (clm_kind_name(m->kind) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid model kind %d in binary input", m->kind)));
	m->converged = clm_recv_int4(buf, "clm.model") ? 1 : 0;
	m->iterations = clm_recv_int4(buf, "clm.model");
	m->n_distinct = clm_recv_int4(buf, "clm.model");
	m->n_customers = clm_recv_float8(buf, "clm.model");
	m->ll = clm_recv_float8(buf, "clm.model");
	if (m->iterations < 0 || m->n_distinct < 0 || !(m->n_customers >= 0) ||
		!isfinite(m->n_customers))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid counts in binary clm.model")));
	/* one NaN (the text form has no other), so that send(recv(x)) is canonical */
	if (isnan(m->ll))
		m->ll = NAN;
	for (i = 0; i < clm_kind_npar(m->kind); i++)
	{
		m->par[i] = clm_recv_float8(buf, "clm.model");
		m->se[i] = clm_recv_float8(buf, "clm.model");
		if (!(m->par[i] > 0) || !isfinite(m->par[i]) || (!(m->se[i] >= 0) && !isnan(m->se[i])))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid parameter in binary clm.model")));
		if (isnan(m->se[i]))
			m->se[i] = NAN;
	}
	if (memchr(buf->data + buf->cursor, '\0', buf->len - buf->cursor) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("binary input of clm.model is too short")));
	msg = pq_getmsgstring(buf);
	if (strlen(msg) >= sizeof(m->message) || strchr(msg, '\''))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid message in binary clm.model")));
	strlcpy(m->message, msg, sizeof(m->message));
	if ((word >> 16) == 1)
		m = clm_model_cov_recv(m, buf);
	if ((word >> 16) == 2)
	{
		double		corr[CLM_NCORR];
		int			npar = clm_kind_npar(m->kind),
					j;

		/* binary format 3: the correlations, in [-1, 1] or NaN */
		for (i = 0; i < CLM_NCORR; i++)
			corr[i] = NAN;
		for (i = 0; i < npar; i++)
			for (j = i + 1; j < npar; j++)
			{
				double		c = clm_recv_float8(buf, "clm.model");

				if (!(fabs(c) <= 1.0) && !isnan(c))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
							 errmsg("invalid correlation in binary clm.model")));
				corr[CLM_CORR_INDEX(i, j)] = isnan(c) ? NAN : c;
			}
		m = clm_model_with_corr(m, corr);
	}
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
	m = clm_model_new(kind);
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
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
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
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			i;

	for (i = 0; i < clm_kind_npar(m->kind); i++)
		if (strcmp(name, clm_kind_par_name(m->kind, i)) == 0)
			PG_RETURN_FLOAT8(m->par[i]);
	/* a covariate effect: process.covariate (trans.web) */
	if (CLM_MODEL_HAS_COV(m) && (i = clm_model_cov_effect(m, name)) >= 0)
		PG_RETURN_FLOAT8(CLM_MODEL_COV(m)->gamma[i]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("a %s model has no parameter \"%s\"", clm_kind_name(m->kind), name)));
	PG_RETURN_NULL();
}
