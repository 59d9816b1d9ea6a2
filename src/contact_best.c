/*-------------------------------------------------------------------------
 *
 * contact_best.c
 *	  clm.contact_best_value: a customer's best channel or hour of day, its own
 *	  response rates shrunk toward the population's (the customers columns
 *	  best_channel and best_hour, src/sql/87_contact_state.sql).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include <math.h>
#include "utils/builtins.h"
#include "utils/varlena.h"

#include "compat.h"
#include "contact.h"

/*
 * clm.contact_best_value(own_values text[], own_messages bigint[],
 *	   own_responses bigint[], pop_values text[], pop_rates float8[],
 *	   numeric_order boolean) returns text
 *
 * The customer's best value of one dimension (channel, hour): among the
 * population's values, the one with the highest response rate shrunk toward
 * the population's with a prior of 5 messages,
 *
 *	   (r + 5 p) / (n + 5)
 *
 * n and r the customer's messages and responses with that value (0 if the
 * value is not among own_values), p the population's rate; ties go to the
 * smallest value (as integers when numeric_order, else in the database's
 * collation).  NULL when the population has no value.  One pass over the
 * population's values, each looked up among the customer's few own values:
 * no join of every customer with every value.
 */
PG_FUNCTION_INFO_V1(clm_contact_best_value);

Datum
clm_contact_best_value(PG_FUNCTION_ARGS)
{
	const char *fn = "clm.contact_best_value";
	ContactArray ov,
				on,
				orr,
				pv,
				pr;
	bool		numeric_order = PG_ARGISNULL(5) ? false : PG_GETARG_BOOL(5);
	int			best = -1;
	double		best_rate = 0;
	int			i,
				j;

	contact_array_arg(fcinfo, 0, TEXTOID, fn, "own_values", &ov);
	contact_array_arg(fcinfo, 1, INT8OID, fn, "own_messages", &on);
	contact_array_arg(fcinfo, 2, INT8OID, fn, "own_responses", &orr);
	contact_array_arg(fcinfo, 3, TEXTOID, fn, "pop_values", &pv);
	contact_array_arg(fcinfo, 4, FLOAT8OID, fn, "pop_rates", &pr);
	if (on.n != ov.n || orr.n != ov.n || pr.n != pv.n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clm.contact_best_value: the own arrays, and the population's, must have the same lengths")));
	for (i = 0; i < pv.n; i++)
	{
		double		p,
					n = 0,
					r = 0,
					rate;
		text	   *v;

		if (pv.nulls[i] || pr.nulls[i])
			continue;
		p = DatumGetFloat8(pr.values[i]);
		if (isnan(p) || p < 0 || p > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("clm.contact_best_value: a population rate must be from 0 to 1")));
		v = DatumGetTextPP(pv.values[i]);
		for (j = 0; j < ov.n; j++)
		{
			text	   *o;

			if (ov.nulls[j] || on.nulls[j] || orr.nulls[j])
				continue;
			o = DatumGetTextPP(ov.values[j]);
			if (VARSIZE_ANY_EXHDR(o) == VARSIZE_ANY_EXHDR(v)
				&& memcmp(VARDATA_ANY(o), VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v)) == 0)
			{
				n = (double) DatumGetInt64(on.values[j]);
				r = (double) DatumGetInt64(orr.values[j]);
				if (n < 0 || r < 0 || r > n)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("clm.contact_best_value: responses must be from 0 to the messages")));
				break;
			}
		}
		rate = (r + 5 * p) / (n + 5);
		if (best >= 0 && rate == best_rate)
		{
			text	   *b = DatumGetTextPP(pv.values[best]);
			int			cmp;

			if (numeric_order)
				cmp = pg_strtoint32(text_to_cstring(v)) - pg_strtoint32(text_to_cstring(b));
			else
				cmp = varstr_cmp(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), VARDATA_ANY(b),
								 VARSIZE_ANY_EXHDR(b), DEFAULT_COLLATION_OID);
			if (cmp < 0)
				best = i;
		}
		else if (best < 0 || rate > best_rate)
		{
			best = i;
			best_rate = rate;
		}
	}
	if (best < 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(DatumGetTextPP(pv.values[best]));
}
