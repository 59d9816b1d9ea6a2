/*-------------------------------------------------------------------------
 *
 * channel.c
 *	  Channel preference of a customer: channels ranked by recent
 *	  engagement.
 *
 * For each channel c kept in the profile, with e_c events, p_c purchases
 * and last day l_c:
 *
 *	 age_c	 = max(0, as_of - l_c) days
 *	 score_c = e_c * 2^(-age_c / half_life_days)
 *
 * i.e. the channel's events, discounted by how long ago it was last used
 * (halved every half_life_days).  Channels rank by score descending, ties by
 * purchases descending, then by name (byte order).  The rank is 1, 2, ...
 * without gaps.  Channels past the profile's cap of 16 ("other") are not
 * ranked.  A profile keeps per-channel totals, not per-channel days, so the
 * counts cover the whole profile even when as_of is earlier than its last
 * event.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"

#include "compat.h"
#include "period.h"
#include "profile.h"

PG_FUNCTION_INFO_V1(clm_channel_ranking);
PG_FUNCTION_INFO_V1(clm_preferred_channel);

typedef struct RankedChannel
{
	const ClmChannel *c;
	double		score;
	int32		age;
} RankedChannel;

/* order: score desc, purchases desc, name asc */
static int
ranked_cmp(const void *a, const void *b)
{
	const RankedChannel *x = (const RankedChannel *) a;
	const RankedChannel *y = (const RankedChannel *) b;
	int			len;
	int			r;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->c->purchases != y->c->purchases)
		return x->c->purchases > y->c->purchases ? -1 : 1;
	len = Min(x->c->name_len, y->c->name_len);
	r = memcmp(x->c->name, y->c->name, len);
	if (r != 0)
		return r;
	return (int) x->c->name_len - (int) y->c->name_len;
}

/* rank the channels of p; returns the number of channels */
static int
rank_channels(const ClmProfile *p, int32 as_of, double half_life, RankedChannel *out)
{
	const ClmChannel *c = (const ClmChannel *) clm_profile_channels(p);
	int			i;

	if (!(half_life > 0) || isinf(half_life))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("half_life_days must be a positive finite number of days")));
	for (i = 0; i < p->n_channels; i++)
	{
		int64		age = (int64) as_of - c->last_day;

		out[i].c = c;
		out[i].age = (int32) Max(age, 0);
		out[i].score = (double) c->events * pow(2.0, -(double) out[i].age / half_life);
		c = clm_channel_next(c);
	}
	qsort(out, p->n_channels, sizeof(RankedChannel), ranked_cmp);
	return p->n_channels;
}

/*
 * clm.channel_ranking(p, as_of, half_life_days): (channel_rank, channel,
 * score, events, purchases, last_day, days_since_last)
 */
Datum
clm_channel_ranking(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		as_of = clm_finite_date(PG_GETARG_DATEADT(1), "as_of");
	double		half_life = PG_GETARG_FLOAT8(2);
	ClmProfile *p;
	RankedChannel ranked[CLM_MAX_CHANNELS];
	int			n,
				i;

	InitMaterializedSRF(fcinfo, 0);
	p = PG_GETARG_CLM_PROFILE(0);
	n = rank_channels(p, as_of, half_life, ranked);
	for (i = 0; i < n; i++)
	{
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		values[0] = Int32GetDatum(i + 1);
		values[1] = PointerGetDatum(cstring_to_text_with_len(ranked[i].c->name,
															 ranked[i].c->name_len));
		values[2] = Float8GetDatum(ranked[i].score);
		values[3] = Int64GetDatum(ranked[i].c->events);
		values[4] = Int64GetDatum(ranked[i].c->purchases);
		values[5] = DateADTGetDatum(ranked[i].c->last_day);
		values[6] = Int32GetDatum((int32) ((int64) as_of - ranked[i].c->last_day));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* clm.preferred_channel(p, as_of, half_life_days): the top-ranked channel */
Datum
clm_preferred_channel(PG_FUNCTION_ARGS)
{
	ClmProfile *p = PG_GETARG_CLM_PROFILE(0);
	int32		as_of = clm_finite_date(PG_GETARG_DATEADT(1), "as_of");
	RankedChannel ranked[CLM_MAX_CHANNELS];

	if (rank_channels(p, as_of, PG_GETARG_FLOAT8(2), ranked) == 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(ranked[0].c->name, ranked[0].c->name_len));
}
