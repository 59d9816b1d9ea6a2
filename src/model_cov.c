/*-------------------------------------------------------------------------
 *
 * model_cov.c
 *	  Models with covariates: the final functions of their fits, their part
 *	  of the clm.model value (format 2: text and binary forms, checks),
 *	  clm.model_for (a customer's own model) and clm.model_covariates.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "compat.h"
#include "model_cov.h"

/* a model value of format 2 for kind with k covariates (gammas NaN: not given yet) */
static ClmModel *
model_with_cov(const ClmModel *src, int k, const char (*names)[CLM_COV_NAMELEN])
{
	ClmModel   *m = (ClmModel *) palloc0(CLM_MODEL_COV_SIZE);
	ClmModelCov *mc;
	int			i;

	memcpy(m, src, sizeof(ClmModel));
	SET_VARSIZE(m, CLM_MODEL_COV_SIZE);
	m->version = CLM_MODEL_VERSION_COV;
	mc = CLM_MODEL_COV(m);
	mc->ncov = k;
	mc->ngroups = clm_cov_get_link(m->kind)->ngroups;
	for (i = 0; i < CLM_COV_MAX_GROUPS * CLM_MAX_COV; i++)
	{
		mc->gamma[i] = i < mc->ngroups * k ? NAN : 0.0;
		mc->gamma_se[i] = i < mc->ngroups * k ? NAN : 0.0;
	}
	memcpy(mc->names, names, sizeof(mc->names[0]) * k);
	return m;
}

/* the index of a covariate effect named "group.name", -1 if none */
int
clm_model_cov_effect(const ClmModel *m, const char *key)
{
	const ClmModelCov *mc = CLM_MODEL_COV(m);
	const clm_cov_link *l = clm_cov_get_link(m->kind);
	int			g,
				c;

	for (g = 0; g < l->ngroups; g++)
	{
		size_t		gl = strlen(l->group_names[g]);

		if (strncmp(key, l->group_names[g], gl) != 0 || key[gl] != '.')
			continue;
		for (c = 0; c < mc->ncov; c++)
			if (strcmp(key + gl + 1, mc->names[c]) == 0)
				return g * mc->ncov + c;
	}
	return -1;
}

/* check the covariate part of a model value read from disk (corrupt: XX001) */
void
clm_model_cov_check(const ClmModel *m)
{
	const ClmModelCov *mc = CLM_MODEL_COV(m);
	const clm_cov_link *l = clm_cov_get_link(m->kind);
	int			c,
				i;
	bool		bad = (mc == NULL || l == NULL || mc->ncov < 1 ||
					   mc->ncov > CLM_MAX_COV || mc->ngroups != l->ngroups);

	for (c = 0; !bad && c < mc->ncov; c++)
		bad = memchr(mc->names[c], '\0', CLM_COV_NAMELEN) == NULL ||
			clm_cov_name_check(mc->names[c]) != NULL;
	for (i = 0; !bad && i < mc->ngroups * mc->ncov; i++)
		bad = !isfinite(mc->gamma[i]) || !(mc->gamma_se[i] >= 0 || isnan(mc->gamma_se[i]));
	if (bad)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt clm.model value")));
}

/*
 * A key of the text form of a model with covariates: "covariates=a,b"
 * (before any effect), then "group.name=g" and "se_group.name=s".  Returns
 * false when the key is none of these.
 */
bool
clm_model_cov_in_key(ClmModel **mp, const char *key, const char *val,
					 const char *str)
{
	ClmModel   *m = *mp;
	bool		se = strncmp(key, "se_", 3) == 0;
	int			i;
	double		d;
	char	   *end;

	if (strcmp(key, "covariates") == 0)
	{
		char		names[CLM_MAX_COV][CLM_COV_NAMELEN];
		char	   *s = pstrdup(val),
				   *p = s;
		int			k = 0,
					c;

		if (CLM_MODEL_HAS_COV(m) || clm_cov_get_link(m->kind) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type clm.model: \"%s\"", str),
					 errdetail("covariates= is given once, for bgnbd, mbgnbd, paretonbd or gg.")));
		for (;;)
		{
			char	   *comma = strchr(p, ',');

			if (comma)
				*comma = '\0';
			if (k >= CLM_MAX_COV || clm_cov_name_check(p) != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid input syntax for type clm.model: \"%s\"", str),
						 errdetail("Covariate names are 1 to 63 letters, digits and underscores, at most %d.",
								   CLM_MAX_COV)));
			for (c = 0; c < k; c++)
				if (strcmp(names[c], p) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
							 errmsg("invalid input syntax for type clm.model: \"%s\"", str),
							 errdetail("A covariate is named twice.")));
			strlcpy(names[k++], p, CLM_COV_NAMELEN);
			if (!comma)
				break;
			p = comma + 1;
		}
		*mp = model_with_cov(m, k, names);
		pfree(m);
		return true;
	}
	if (strchr(key, '.') == NULL)
		return false;
	if (!CLM_MODEL_HAS_COV(m) ||
		(i = clm_model_cov_effect(m, se ? key + 3 : key)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type clm.model: \"%s\"", str),
				 errdetail("Unknown covariate effect \"%s\" (covariates= comes first).", key)));
	errno = 0;
	d = strtod(val, &end);
	if (end == val || *end != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type clm.model: \"%s\"", str),
				 errdetail("A value is not a number.")));
	if (se)
	{
		if (!(d >= 0) && !isnan(d))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type clm.model: \"%s\"", str),
					 errdetail("Standard errors must be >= 0 or NaN.")));
		CLM_MODEL_COV(m)->gamma_se[i] = isnan(d) ? NAN : d;
	}
	else
	{
		if (!isfinite(d))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type clm.model: \"%s\"", str),
					 errdetail("Covariate effects must be finite.")));
		CLM_MODEL_COV(m)->gamma[i] = d;
	}
	return true;
}

/* after the text form: every covariate effect given */
void
clm_model_cov_in_finish(const ClmModel *m, const char *str)
{
	const ClmModelCov *mc = CLM_MODEL_COV(m);
	int			i;

	if (mc == NULL)
		return;
	for (i = 0; i < mc->ngroups * mc->ncov; i++)
		if (isnan(mc->gamma[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type clm.model: \"%s\"", str),
					 errdetail("Every covariate effect (group.name=value) must be given.")));
}

/* the covariate keys of the text form (nothing for a model without covariates) */
void
clm_model_cov_out(const ClmModel *m, StringInfo buf)
{
	const ClmModelCov *mc = CLM_MODEL_COV(m);
	const clm_cov_link *l = clm_cov_get_link(m->kind);
	int			c,
				g,
				se;

	if (mc == NULL)
		return;
	appendStringInfoString(buf, " covariates=");
	for (c = 0; c < mc->ncov; c++)
		appendStringInfo(buf, "%s%s", c ? "," : "", mc->names[c]);
	for (se = 0; se < 2; se++)
		for (g = 0; g < mc->ngroups; g++)
			for (c = 0; c < mc->ncov; c++)
				appendStringInfo(buf, " %s%s.%s=%s", se ? "se_" : "", l->group_names[g],
								 mc->names[c],
								 float8out_internal(se ? mc->gamma_se[g * mc->ncov + c] :
													mc->gamma[g * mc->ncov + c]));
}

/* the covariates of the binary form (after the message): k, names, then (g, se) per effect */
void
clm_model_cov_send(const ClmModel *m, StringInfo buf)
{
	const ClmModelCov *mc = CLM_MODEL_COV(m);
	int			c,
				i;

	if (mc == NULL)
		return;
	pq_sendint32(buf, mc->ncov);
	for (c = 0; c < mc->ncov; c++)
		pq_sendstring(buf, mc->names[c]);
	for (i = 0; i < mc->ngroups * mc->ncov; i++)
	{
		pq_sendfloat8(buf, mc->gamma[i]);
		pq_sendfloat8(buf, mc->gamma_se[i]);
	}
}

/* read the covariates of binary format 2 into a copy of m */
ClmModel *
clm_model_cov_recv(ClmModel *m, StringInfo buf)
{
	char		names[CLM_MAX_COV][CLM_COV_NAMELEN];
	int			k = clm_recv_int4(buf, "clm.model"),
				i;
	ClmModelCov *mc;

	if (clm_cov_get_link(m->kind) == NULL || k < 1 || k > CLM_MAX_COV)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid covariates in binary clm.model")));
	clm_cov_recv_names(buf, k, names, "clm.model");
	m = model_with_cov(m, k, names);
	mc = CLM_MODEL_COV(m);
	for (i = 0; i < mc->ngroups * k; i++)
	{
		mc->gamma[i] = clm_recv_float8(buf, "clm.model");
		mc->gamma_se[i] = clm_recv_float8(buf, "clm.model");
		if (!isfinite(mc->gamma[i]) || (!(mc->gamma_se[i] >= 0) && !isnan(mc->gamma_se[i])))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid covariate effect in binary clm.model")));
		if (isnan(mc->gamma_se[i]))
			mc->gamma_se[i] = NAN;
	}
	return m;
}

/* fit the model of a covariate histogram and build a clm.model */
static Datum
cov_fit_final(FunctionCallInfo fcinfo, int kind)
{
	ClmCovHist *h;
	clm_cov_fit_result r;
	clm_cov_problem p;
	clm_obs    *obs;
	double	   *z;
	const char *hint = NULL;
	const char *err;
	ClmModel   *m;
	int			i,
				c,
				k;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	h = DatumGetClmCovHist(PG_GETARG_DATUM(0));
	clm_cov_hist_check(h);
	if (h->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histogram of kind %s given to the %s fit",
						clm_kind_name(h->kind), clm_kind_name(kind))));
	clm_cov_hist_check_rows(h);
	h = clm_cov_hist_copy_compact(h);
	k = h->k;
	obs = palloc(sizeof(clm_obs) * Max(h->n, 1));
	z = palloc(sizeof(double) * Max((size_t) h->n * k, 1));
	for (i = 0; i < h->n; i++)
	{
		double	   *row = COVH_ROW(h, i);

		memcpy(z + (size_t) i * k, row, sizeof(double) * k);
		obs[i].v[0] = row[k];
		obs[i].v[1] = row[k + 1];
		obs[i].v[2] = row[k + 2];
		obs[i].w = row[k + 3];
	}
	p.kind = kind;
	p.k = k;
	p.obs = obs;
	p.z = z;
	p.n = h->n;
	p.blk = NULL;
	p.nblk = 0;
	err = clm_cov_fit(&p, &r, &hint);
	if (err)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s fit: %s", clm_kind_name(kind), err),
				 hint ? errhint("%s", hint) : 0));
	m = clm_model_from_fit(kind, &r.base);
	if (k == 0)
		m = clm_model_with_corr(m, r.base.corr);	/* as the fit without covariates */
	if (k > 0)
	{
		ClmModelCov *mc;

		m = model_with_cov(m, k, h->names);
		mc = CLM_MODEL_COV(m);
		for (i = 0; i < mc->ngroups * k; i++)
		{
			mc->gamma[i] = r.gamma[i];
			mc->gamma_se[i] = r.gamma_se[i] >= 0 ? r.gamma_se[i] : NAN;
		}
		for (c = 0; c < k; c++)
			if (!r.used[c])
				ereport(WARNING,
						(errmsg("covariate \"%s\" is constant or a linear combination of the others: its effects are fixed at 0",
								h->names[c]),
						 errhint("Leave it out, or for a categorical covariate leave out one category's dummy column (the reference category).")));
	}
	if (!r.base.converged)
		ereport(WARNING,
				(errmsg("%s fit did not converge: %s", clm_kind_name(kind), r.base.message),
				 errhint("The returned model has converged = false; check the inputs, the covariates and the time unit.")));
	PG_RETURN_POINTER(m);
}

PG_FUNCTION_INFO_V1(clm_bgnbd_cov_fit_final);
/* final function of clm.bgnbd_fit with covariates */
Datum
clm_bgnbd_cov_fit_final(PG_FUNCTION_ARGS)
{
	return cov_fit_final(fcinfo, CLM_KIND_BGNBD);
}

PG_FUNCTION_INFO_V1(clm_paretonbd_cov_fit_final);
/* final function of clm.paretonbd_fit with covariates */
Datum
clm_paretonbd_cov_fit_final(PG_FUNCTION_ARGS)
{
	return cov_fit_final(fcinfo, CLM_KIND_PARETONBD);
}

PG_FUNCTION_INFO_V1(clm_gg_cov_fit_final);
/* final function of clm.gg_fit with covariates */
Datum
clm_gg_cov_fit_final(PG_FUNCTION_ARGS)
{
	return cov_fit_final(fcinfo, CLM_KIND_GG);
}

PG_FUNCTION_INFO_V1(clm_model_for);
/*
 * clm.model_for(model, covariates): the model of one customer with these
 * covariates, a model without covariates (its individual parameters), to
 * give to any prediction.  A model without covariates takes an empty array
 * and is returned as it is.
 */
Datum
clm_model_for(PG_FUNCTION_ARGS)
{
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	ClmModelCov *mc = CLM_MODEL_COV(m);
	int			k = mc ? mc->ncov : 0;
	double		z[CLM_MAX_COV];
	int			n = clm_cov_array_values(arr, z, CLM_MAX_COV),
				c;
	ClmModel   *out;

	if (n != k)
	{
		StringInfoData names;

		initStringInfo(&names);
		for (c = 0; c < k; c++)
			appendStringInfo(&names, "%s%s", c ? ", " : "", mc->names[c]);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model has %d covariates, %d given", k, n),
				 k > 0 ? errhint("Give them in the order of clm.model_covariates(model): %s.",
								 names.data) : 0));
	}
	if (k == 0)
		PG_RETURN_POINTER(m);
	for (c = 0; c < k; c++)
		if (!isfinite(z[c]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("covariate \"%s\" is not finite", mc->names[c])));
	out = clm_model_new(m->kind);
	memcpy(out, m, sizeof(ClmModel));
	SET_VARSIZE(out, sizeof(ClmModel));
	out->version = CLM_MODEL_VERSION;
	if (!clm_cov_individual(m->kind, m->par, mc->gamma, k, z, out->par))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the covariates put a parameter of this customer out of range"),
				 errhint("Covariates far outside the range the model was fitted on give parameters beyond 1e308 or below 1e-308.")));
	for (c = 0; c < CLM_MAX_PAR; c++)
		if (out->par[c] != m->par[c] || c >= clm_kind_npar(m->kind))
			out->se[c] = c < clm_kind_npar(m->kind) ? NAN : 0.0;
	strlcpy(out->message, "the model of one customer, from a model with covariates", sizeof(out->message));
	PG_RETURN_POINTER(out);
}

PG_FUNCTION_INFO_V1(clm_model_covariates);
/* clm.model_covariates(model): one row per covariate effect */
Datum
clm_model_covariates(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ClmModel   *m = clm_model_get(PG_GETARG_DATUM(0));
	ClmModelCov *mc = CLM_MODEL_COV(m);
	const clm_cov_link *l = clm_cov_get_link(m->kind);
	int			g,
				c,
				j;

	InitMaterializedSRF(fcinfo, 0);
	if (mc == NULL)
		PG_RETURN_NULL();
	for (g = 0; g < mc->ngroups; g++)
		for (c = 0; c < mc->ncov; c++)
		{
			Datum		values[6];
			bool		nulls[6] = {false};
			Datum		pn[CLM_MAX_PAR];
			int			np = 0;
			double		gv = mc->gamma[g * mc->ncov + c],
						se = mc->gamma_se[g * mc->ncov + c];

			for (j = 0; j < clm_kind_npar(m->kind); j++)
				if (l->group_of[j] == g)
					pn[np++] = CStringGetTextDatum(clm_kind_par_name(m->kind, j));
			values[0] = Int32GetDatum(c + 1);
			values[1] = CStringGetTextDatum(mc->names[c]);
			values[2] = CStringGetTextDatum(l->group_names[g]);
			values[3] = PointerGetDatum(construct_array(pn, np, TEXTOID, -1, false, TYPALIGN_INT));
			values[4] = Float8GetDatum(gv);
			values[5] = Float8GetDatum(isnan(se) ? 0.0 : se);
			nulls[5] = isnan(se);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	PG_RETURN_NULL();
}
