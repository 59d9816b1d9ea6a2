/*-------------------------------------------------------------------------
 *
 * model_fit.c
 *	  The fit aggregates' transition functions (over (x, t_x, T) values or
 *	  over profiles) and final functions (the maximum-likelihood fit).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"

#include "compat.h"
#include "models.h"

#include "profile.h"

/* transition for the three-input continuous-time models (x, t_x, T) */
static Datum
cont_trans(FunctionCallInfo fcinfo, int kind)
{
	double		v[3];

	if (!clm_arg_f8(fcinfo, 1, &v[0]) || !clm_arg_f8(fcinfo, 2, &v[1]) || !clm_arg_f8(fcinfo, 3, &v[2]))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	return clm_hist_add(fcinfo, kind, v, 1.0);
}

/*
 * The inputs of one profile row of a fit over profiles: (profile,
 * calibration_end, unit) in arguments 1 to 3.  The inputs come straight
 * from the profile (clm_btyd_values), with no composite row in between; the
 * unit is parsed again only when it differs from the previous row's (uc,
 * kept by the caller in fn_extra).  False (skip the row) when an argument
 * is NULL, and for customers without a purchase by calibration_end; for the
 * purchase models those whose first purchase is on calibration_end (T = 0:
 * the likelihood of no purchase in no time is 1, so they add nothing to the
 * fit); for Gamma-Gamma those without a repeat purchase or with a
 * non-positive mean repeat spend.
 */
bool
clm_profile_fit_inputs(FunctionCallInfo fcinfo, int kind, ClmUnitCache *uc,
					   double *v)
{
	double		in[4];
	text	   *unit;
	DateADT		cal_end;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		return false;
	cal_end = PG_GETARG_DATEADT(2);
	clm_check_calibration_end(cal_end);
	unit = PG_GETARG_TEXT_PP(3);
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
		return false;
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
	return true;
}

/* transition for the fits over profiles: (state, profile, calibration_end, unit) */
static Datum
profile_trans(FunctionCallInfo fcinfo, int kind)
{
	double		v[3];
	ClmUnitCache *uc = (ClmUnitCache *) fcinfo->flinfo->fn_extra;

	if (uc == NULL)
	{
		uc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ClmUnitCache));
		uc->len = -1;
		fcinfo->flinfo->fn_extra = uc;
	}
	if (!clm_profile_fit_inputs(fcinfo, kind, uc, v))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	return clm_hist_add(fcinfo, kind, v, 1.0);
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

	if (!clm_arg_f8(fcinfo, 1, &v[0]) || !clm_arg_f8(fcinfo, 2, &v[1]) || v[0] == 0)
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	return clm_hist_add(fcinfo, CLM_KIND_GG, v, 1.0);
}

PG_FUNCTION_INFO_V1(clm_bgbb_fit_trans);
/* clm.bgbb_fit transition: (state, x, t_x, n [, weight]) */
Datum
clm_bgbb_fit_trans(PG_FUNCTION_ARGS)
{
	double		v[3],
				w = 1.0;

	if (!clm_arg_f8(fcinfo, 1, &v[0]) || !clm_arg_f8(fcinfo, 2, &v[1]) || !clm_arg_f8(fcinfo, 3, &v[2]) ||
		(PG_NARGS() > 4 && !clm_arg_f8(fcinfo, 4, &w)))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	return clm_hist_add(fcinfo, CLM_KIND_BGBB, v, w);
}

PG_FUNCTION_INFO_V1(clm_sbg_fit_trans);
/* clm.sbg_fit transition: (state, periods, churned [, weight]) */
Datum
clm_sbg_fit_trans(PG_FUNCTION_ARGS)
{
	double		v[3] = {0, 0, 0},
				w = 1.0;

	if (!clm_arg_f8(fcinfo, 1, &v[0]) || PG_ARGISNULL(2) ||
		(PG_NARGS() > 3 && !clm_arg_f8(fcinfo, 3, &w)))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	v[1] = PG_GETARG_BOOL(2) ? 1.0 : 0.0;
	return clm_hist_add(fcinfo, CLM_KIND_SBG, v, w);
}


/* the clm.model of a fit result (format 1) */
ClmModel *
clm_model_from_fit(int kind, const clm_fit_result *r)
{
	ClmModel   *m = clm_model_new(kind);
	int			i;

	m->converged = r->converged ? 1 : 0;
	m->iterations = r->iterations;
	m->n_distinct = r->n_distinct;
	m->n_customers = r->n_customers;
	m->ll = r->ll;
	for (i = 0; i < CLM_MAX_PAR; i++)
	{
		m->par[i] = i < r->npar ? r->par[i] : 0.0;
		m->se[i] = (i < r->npar && r->se[i] >= 0) ? r->se[i] : (i < r->npar ? NAN : 0.0);
	}
	strlcpy(m->message, r->message, sizeof(m->message));
	return m;
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

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	h = DatumGetClmHist(PG_GETARG_DATUM(0));
	clm_hist_check(h);
	if (h->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histogram of kind %s given to the %s fit",
						clm_hist_kind_name(h->kind), clm_kind_name(kind))));
	clm_hist_check_tuples(h);
	h = clm_hist_copy_compact(h);
	err = clm_fit(kind, h->tuples, h->n, &r, &hint);
	if (err)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s fit: %s", clm_kind_name(kind), err),
				 hint ? errhint("%s", hint) : 0));
	m = clm_model_with_corr(clm_model_from_fit(kind, &r), r.corr);
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
