/*-------------------------------------------------------------------------
 *
 * generate.c
 *	  clm.generate_events(): a deterministic sample event table.
 *
 * The story is the buy-till-you-die model family with the time unit of the
 * literature, weeks:
 *
 *	 - customer i joins at a uniform instant of the acquisition window
 *	   [start_date, start_date + acquisition_days) and makes a first purchase
 *	   right then;
 *	 - purchase rate lambda ~ Gamma(r, alpha) (shape r, rate alpha, per week);
 *	   repeat purchases follow at Exp(lambda) gaps (a Poisson process);
 *	 - dropout:
 *		 'bgnbd'	 (Fader, Hardie & Lee 2005) after each repeat purchase the
 *					 customer dies with probability p ~ Beta(a, b);
 *		 'mbgnbd'	 (Batislam, Denizel & Filiztekin 2007) the same, and also
 *					 right after the first purchase;
 *		 'paretonbd' (Schmittlein, Morrison & Colombo 1987) lifetime
 *					 tau ~ Exp(mu), mu ~ Gamma(s, beta);
 *	 - spend per purchase, Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and
 *	   CLV"): nu ~ Gamma(q, gamma) per customer, z ~ Gamma(p, nu) per purchase
 *	   (rates, so E[z] = p gamma / (q - 1)), rounded to cents, at least 0.01;
 *	 - while alive, non-purchase events (visits, e-mail opens, add-to-cart)
 *	   as a Poisson process with rate visit_ratio * lambda;
 *	 - a share prospect_share of customers never buy: a first visit at join,
 *	   then visits at rate visit_ratio * lambda under the same dropout story
 *	   (with visits in place of purchases);
 *	 - a share refund_share of purchases is refunded in full (negative amount,
 *	   event_type 'refund') after an Exp(1 week) delay, if before end_date;
 *	 - each customer has a preferred channel, used with probability 0.6,
 *	   otherwise a channel is drawn uniformly from the list.
 * The simulation stops at end_date (exclusive).
 *
 * Instants are computed in UTC: start_date means start_date 00:00 UTC, so
 * the rows do not depend on the TimeZone setting and the function can be
 * IMMUTABLE.  Customer i's events depend only on (seed, i): each customer has
 * its own PRNG stream, so a run with more customers extends a smaller one,
 * and ranges of customers (first_customer) can be generated separately,
 * and its draws are made in a fixed order (every per-customer variable is
 * drawn whatever the dropout model, refund draws are made whatever
 * refund_share) so that changing one knob changes as little as possible.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "rng.h"

PG_FUNCTION_INFO_V1(clm_generate_events);
PG_FUNCTION_INFO_V1(clm_generate_events_support);

/* limits that keep a call from filling the disk by mistake */
#define GEN_MAX_CUSTOMERS		INT64CONST(1000000000)
#define GEN_MAX_EXPECTED_ROWS	1e11	/* upper bound of the expected rows */
#define GEN_MAX_CUSTOMER_EVENTS 10000000	/* per customer */
#define GEN_MAX_CENTS			1e15	/* 10^13 currency units per purchase */
#define GEN_ROWS_PER_CUSTOMER	15.0	/* planner estimate (defaults: 15.3) */

#define USECS_PER_WEEK_F		(7.0 * 86400.0 * 1000000.0)
#define DAYS_PER_WEEK_F			7.0

#define GEN_PREFERRED_CHANNEL	0.6 /* probability of the preferred channel */
#define GEN_REFUND_DELAY_WEEKS	1.0 /* mean delay of a refund */

/* event kinds, in the order of gen_type_names */
typedef enum GenKind
{
	GEN_PURCHASE = 0,
	GEN_REFUND,
	GEN_VISIT,
	GEN_EMAIL_OPEN,
	GEN_ADD_TO_CART,
	GEN_N_KINDS
} GenKind;

static const char *const gen_type_names[GEN_N_KINDS] = {
	"purchase", "refund", "visit", "email_open", "add_to_cart"
};

/* non-purchase events: cumulative shares of visit, email_open, add_to_cart */
#define GEN_SHARE_VISIT			0.70
#define GEN_SHARE_EMAIL_OPEN	0.90	/* 0.70 + 0.20; the rest add_to_cart */

typedef enum GenDropout
{
	GEN_DROPOUT_BGNBD,
	GEN_DROPOUT_MBGNBD,
	GEN_DROPOUT_PARETONBD
} GenDropout;

/* validated arguments, times converted to weeks from start_date */
typedef struct GenParams
{
	int64		customers;
	int64		first_customer; /* id of the first customer generated */
	uint64		seed;
	TimestampTz start_ts;		/* start_date 00:00 UTC */
	TimestampTz end_ts;			/* end_date 00:00 UTC, exclusive */
	double		horizon_w;		/* (end - start) in weeks */
	double		acquisition_w;	/* acquisition window in weeks */
	double		r,
				alpha,
				a,
				b,
				s,
				beta;
	GenDropout	dropout;
	double		spend_p,
				spend_q,
				spend_gamma;
	double		visit_ratio;
	double		prospect_share;
	double		refund_share;
	int			n_channels;
} GenParams;

/* one generated event of the current customer */
typedef struct GenEvent
{
	TimestampTz ts;
	int32		seq;			/* generation order, breaks ties in ts */
	int16		kind;			/* GenKind */
	int16		channel;		/* index into the channel list */
	int64		cents;			/* amount in cents (purchases, refunds) */
} GenEvent;

/* the current customer's events, reused from one customer to the next */
typedef struct GenBuffer
{
	GenEvent   *ev;
	int			n;
	int			cap;
	int64		customer;
} GenBuffer;

/* raise the standard error for a bad argument */
static void
bad_param(const char *name, const char *must)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s must be %s", name, must)));
}

/* fetch a float8 argument that must be finite and > 0 */
static double
positive_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	double		v = PG_GETARG_FLOAT8(argno);

	if (!isfinite(v) || v <= 0.0)
		bad_param(name, "a finite number greater than zero");
	return v;
}

/* fetch a float8 argument that must lie in [0, 1] */
static double
share_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	double		v = PG_GETARG_FLOAT8(argno);

	if (!(v >= 0.0 && v <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be between 0 and 1", name)));
	return v;
}

/* start a new event in the buffer, growing it when full */
static GenEvent *
gen_push(GenBuffer *buf, const GenParams *par, double t_w, GenKind kind)
{
	GenEvent   *e;
	TimestampTz ts;

	/* a customer may have millions of events: stay cancellable */
	if ((buf->n & 0xFFFF) == 0xFFFF)
		CHECK_FOR_INTERRUPTS();
	if (buf->n >= buf->cap)
	{
		if (buf->cap >= GEN_MAX_CUSTOMER_EVENTS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("customer " INT64_FORMAT " would have more than %d events",
							buf->customer, GEN_MAX_CUSTOMER_EVENTS),
					 errhint("Lower the purchase rate (raise alpha or lower r) or visit_ratio.")));
		buf->cap = Min(buf->cap * 2, GEN_MAX_CUSTOMER_EVENTS);
		buf->ev = repalloc(buf->ev, sizeof(GenEvent) * buf->cap);
	}

	/* t_w < horizon_w; the clamp only guards the rounding of the product */
	ts = par->start_ts + (int64) (t_w * USECS_PER_WEEK_F);
	if (ts >= par->end_ts)
		ts = par->end_ts - 1;

	e = &buf->ev[buf->n];
	e->ts = ts;
	e->seq = buf->n;
	e->kind = (int16) kind;
	e->channel = 0;
	e->cents = 0;
	buf->n++;
	return e;
}

/* the channel of one event: the preferred one with probability 0.6 */
static int16
gen_channel(ClmRng *rng, const GenParams *par, int preferred)
{
	double		u = clm_rng_uniform(rng);
	int			k;

	if (u < GEN_PREFERRED_CHANNEL)
		return (int16) preferred;
	k = (int) ((u - GEN_PREFERRED_CHANNEL) / (1.0 - GEN_PREFERRED_CHANNEL) *
			   par->n_channels);
	return (int16) Min(k, par->n_channels - 1);
}

/*
 * A purchase at t_w with spend z ~ Gamma(p, nu), and maybe its refund.
 *
 * Four draws per purchase whatever refund_share: spend, channel, the refund
 * coin and the refund delay.
 */
static void
gen_purchase(GenBuffer *buf, ClmRng *rng, const GenParams *par,
			 double t_w, double nu, int preferred)
{
	GenEvent   *e;
	double		z = clm_rng_gamma(rng, par->spend_p, nu);
	double		cents = rint(z * 100.0);
	int16		channel = gen_channel(rng, par, preferred);
	double		refund_u = clm_rng_uniform(rng);
	double		refund_t = t_w + clm_rng_exponential(rng) * GEN_REFUND_DELAY_WEEKS;

	if (!(cents < GEN_MAX_CENTS))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("generated purchase amount of customer " INT64_FORMAT " is out of range",
						buf->customer),
				 errhint("Raise spend_q or lower spend_gamma.")));
	if (cents < 1.0)
		cents = 1.0;

	e = gen_push(buf, par, t_w, GEN_PURCHASE);
	e->channel = channel;
	e->cents = (int64) cents;

	if (refund_u < par->refund_share && refund_t < par->horizon_w)
	{
		e = gen_push(buf, par, refund_t, GEN_REFUND);
		e->channel = channel;
		e->cents = -(int64) cents;
	}
}

/* a non-purchase event at t_w: visit, email_open or add_to_cart */
static void
gen_activity(GenBuffer *buf, ClmRng *rng, const GenParams *par,
			 double t_w, int preferred)
{
	double		u = clm_rng_uniform(rng);
	GenKind		kind;
	GenEvent   *e;

	if (u < GEN_SHARE_VISIT)
		kind = GEN_VISIT;
	else if (u < GEN_SHARE_EMAIL_OPEN)
		kind = GEN_EMAIL_OPEN;
	else
		kind = GEN_ADD_TO_CART;
	e = gen_push(buf, par, t_w, kind);
	e->channel = gen_channel(rng, par, preferred);
}

/* order events by instant, then by generation order */
static int
gen_event_cmp(const void *a, const void *b)
{
	const GenEvent *x = (const GenEvent *) a;
	const GenEvent *y = (const GenEvent *) b;

	if (x->ts != y->ts)
		return (x->ts < y->ts) ? -1 : 1;
	return (x->seq < y->seq) ? -1 : (x->seq > y->seq);
}

/*
 * gen_event_cmp for the sort of long histories, checking for interrupts
 * once every 2^20 comparisons (the sort is in place and allocates nothing,
 * so an error may unwind out of it)
 */
static uint32 gen_sort_count = 0;

static inline int
gen_event_cmp_sort(const GenEvent *a, const GenEvent *b)
{
	if ((++gen_sort_count & 0xFFFFF) == 0)
		CHECK_FOR_INTERRUPTS();
	return gen_event_cmp(a, b);
}

#define ST_SORT gen_event_sort
#define ST_ELEMENT_TYPE GenEvent
#define ST_COMPARE(a, b) gen_event_cmp_sort(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * Put the customer's events in time order.
 *
 * The buffer holds two sorted runs (purchases, then other events) plus
 * refunds slightly out of place, and usually about 15 events: insertion
 * sort is fastest there.  Long histories go to qsort.
 */
static void
gen_sort(GenBuffer *buf)
{
	GenEvent   *ev = buf->ev;
	int			i,
				j;

	if (buf->n > 64)
	{
		gen_event_sort(ev, buf->n);
		return;
	}
	for (i = 1; i < buf->n; i++)
	{
		GenEvent	tmp;

		if (gen_event_cmp(&ev[i - 1], &ev[i]) <= 0)
			continue;
		tmp = ev[i];
		for (j = i; j > 0 && gen_event_cmp(&ev[j - 1], &tmp) > 0; j--)
			ev[j] = ev[j - 1];
		ev[j] = tmp;
	}
}

/*
 * Simulate customer i into buf, in time order.
 *
 * Per-customer draws, always in this order: join instant, prospect coin,
 * lambda ~ Gamma(r, alpha), p ~ Beta(a, b), mu ~ Gamma(s, beta),
 * tau ~ Exp(mu), nu ~ Gamma(q, gamma), preferred channel.
 *
 * Then the "main" process (purchases, or visits for a prospect) runs until
 * death or end; death is at the last main event for the BG variants and at
 * join + tau for Pareto/NBD.  Buyers' visits then fill [join, death).
 */
static void
gen_customer(GenBuffer *buf, const GenParams *par, int64 i)
{
	ClmRng		rng;
	double		join,
				lambda,
				p,
				mu,
				tau,
				nu,
				t,
				death,
				visit_rate;
	bool		prospect;
	int			preferred;

	buf->n = 0;
	buf->customer = i;
	clm_rng_seed_stream(&rng, par->seed, (uint64) i);

	join = clm_rng_uniform(&rng) * par->acquisition_w;
	prospect = clm_rng_uniform(&rng) < par->prospect_share;
	lambda = clm_rng_gamma(&rng, par->r, par->alpha);
	p = clm_rng_beta(&rng, par->a, par->b);
	mu = clm_rng_gamma(&rng, par->s, par->beta);
	tau = clm_rng_exponential(&rng) / mu;
	nu = clm_rng_gamma(&rng, par->spend_q, par->spend_gamma);
	preferred = (int) clm_rng_below(&rng, (uint64) par->n_channels);
	visit_rate = par->visit_ratio * lambda;

	/*
	 * The main process: purchases at rate lambda for a buyer, visits at rate
	 * visit_ratio * lambda for a prospect.  The first event is at join.
	 */
	{
		double		rate = prospect ? visit_rate : lambda;

		t = join;
		if (prospect)
			gen_activity(buf, &rng, par, t, preferred);
		else
			gen_purchase(buf, &rng, par, t, nu, preferred);

		death = par->horizon_w;
		if (par->dropout == GEN_DROPOUT_PARETONBD)
		{
			if (join + tau < death)
				death = join + tau;
		}
		else if (par->dropout == GEN_DROPOUT_MBGNBD &&
				 clm_rng_uniform(&rng) < p)
			death = t;

		while (rate > 0.0 && t < death)
		{
			t += clm_rng_exponential(&rng) / rate;
			if (t >= death)
				break;
			if (prospect)
				gen_activity(buf, &rng, par, t, preferred);
			else
				gen_purchase(buf, &rng, par, t, nu, preferred);
			if (par->dropout != GEN_DROPOUT_PARETONBD &&
				clm_rng_uniform(&rng) < p)
				death = t;
		}
	}

	/* a buyer's non-purchase events while alive */
	if (!prospect && visit_rate > 0.0)
	{
		t = join;
		for (;;)
		{
			t += clm_rng_exponential(&rng) / visit_rate;
			if (t >= death)
				break;
			gen_activity(buf, &rng, par, t, preferred);
		}
	}

	gen_sort(buf);
}

/* read, check and convert every argument */
static void
gen_read_params(FunctionCallInfo fcinfo, GenParams *par)
{
	DateADT		start_date,
				end_date;
	int32		acquisition_days;
	char	   *dropout;
	int			i;
	double		expected_rows;
	static const char *const arg_names[] = {
		"customers", "seed", "start_date", "end_date", "acquisition_days",
		"r", "alpha", "a", "b", "s", "beta", "dropout",
		"spend_p", "spend_q", "spend_gamma", "visit_ratio",
		"prospect_share", "refund_share", "channels", "first_customer"
	};

	StaticAssertStmt(lengthof(arg_names) == 20, "argument list out of sync");
	if (PG_NARGS() != lengthof(arg_names))
		elog(ERROR, "clm_generate_events called with %d arguments", PG_NARGS());
	for (i = 0; i < lengthof(arg_names); i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null", arg_names[i])));

	par->customers = PG_GETARG_INT64(0);
	if (par->customers < 0)
		bad_param("customers", "zero or more");
	if (par->customers > GEN_MAX_CUSTOMERS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many customers: " INT64_FORMAT, par->customers),
				 errdetail("At most " INT64_FORMAT " customers can be generated in one call.",
						   GEN_MAX_CUSTOMERS),
				 errhint("Generate ranges of customers in several calls with the same seed and first_customer.")));
	par->first_customer = PG_GETARG_INT64(19);
	if (par->first_customer < 1)
		bad_param("first_customer", "1 or more");
	if (par->first_customer - 1 > PG_INT64_MAX - par->customers)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("customer ids out of range for bigint")));
	par->seed = (uint64) PG_GETARG_INT64(1);

	start_date = PG_GETARG_DATEADT(2);
	end_date = PG_GETARG_DATEADT(3);
	acquisition_days = PG_GETARG_INT32(4);
	if (DATE_NOT_FINITE(start_date))
		bad_param("start_date", "finite");
	if (DATE_NOT_FINITE(end_date))
		bad_param("end_date", "finite");
	/* dates reach further than timestamps; compare in days, no overflow */
	if (start_date < DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE ||
		end_date > TIMESTAMP_END_JULIAN - POSTGRES_EPOCH_JDATE)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date out of range for timestamp")));
	if (end_date <= start_date)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("end_date must be later than start_date")));
	if (acquisition_days <= 0)
		bad_param("acquisition_days", "greater than zero");
	if ((int64) start_date + acquisition_days > (int64) end_date)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("acquisition window ends after end_date"),
				 errdetail("The acquisition window is %d days long, but end_date is only %d days after start_date.",
						   acquisition_days, (int) (end_date - start_date)),
				 errhint("Lower acquisition_days or move end_date later.")));
	par->start_ts = (TimestampTz) start_date * USECS_PER_DAY;
	par->end_ts = (TimestampTz) end_date * USECS_PER_DAY;
	par->horizon_w = (double) (end_date - start_date) / DAYS_PER_WEEK_F;
	par->acquisition_w = (double) acquisition_days / DAYS_PER_WEEK_F;

	par->r = positive_arg(fcinfo, 5, "r");
	par->alpha = positive_arg(fcinfo, 6, "alpha");
	par->a = positive_arg(fcinfo, 7, "a");
	par->b = positive_arg(fcinfo, 8, "b");
	par->s = positive_arg(fcinfo, 9, "s");
	par->beta = positive_arg(fcinfo, 10, "beta");

	dropout = text_to_cstring(PG_GETARG_TEXT_PP(11));
	if (strcmp(dropout, "bgnbd") == 0)
		par->dropout = GEN_DROPOUT_BGNBD;
	else if (strcmp(dropout, "mbgnbd") == 0)
		par->dropout = GEN_DROPOUT_MBGNBD;
	else if (strcmp(dropout, "paretonbd") == 0)
		par->dropout = GEN_DROPOUT_PARETONBD;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown dropout model \"%s\"", dropout),
				 errhint("Use 'bgnbd', 'mbgnbd' or 'paretonbd'.")));

	par->spend_p = positive_arg(fcinfo, 12, "spend_p");
	par->spend_q = positive_arg(fcinfo, 13, "spend_q");
	par->spend_gamma = positive_arg(fcinfo, 14, "spend_gamma");

	par->visit_ratio = PG_GETARG_FLOAT8(15);
	if (!isfinite(par->visit_ratio) || par->visit_ratio < 0.0)
		bad_param("visit_ratio", "a finite number, zero or more");
	par->prospect_share = share_arg(fcinfo, 16, "prospect_share");
	par->refund_share = share_arg(fcinfo, 17, "refund_share");

	/*
	 * Refuse calls whose expected size is absurd.  Without dropout a customer
	 * makes on average 1 + (r / alpha) * horizon purchases and visit_ratio
	 * times as many other events; that bounds the expected row count.
	 */
	expected_rows = (double) par->customers *
		(1.0 + par->r / par->alpha * par->horizon_w) *
		(1.0 + par->visit_ratio + par->refund_share);
	if (!(expected_rows <= GEN_MAX_EXPECTED_ROWS))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many events requested"),
				 errdetail("Up to %.3g rows expected, the limit is %.3g.",
						   expected_rows, GEN_MAX_EXPECTED_ROWS),
				 errhint("Lower customers, r or visit_ratio, raise alpha, or shorten the period.")));
}

/* turn the channels array into prebuilt text datums */
static Datum *
gen_read_channels(ArrayType *arr, int *n_out)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;
	Datum	   *result;

	if (ARR_ELEMTYPE(arr) != TEXTOID)
		elog(ERROR, "channels must be a text array");
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("channels must not be empty")));
	if (n > PG_INT16_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many channels: %d", n),
				 errdetail("At most %d channels are allowed.", PG_INT16_MAX)));
	result = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
	{
		text	   *t;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("channels must not contain nulls")));
		t = DatumGetTextPP(elems[i]);
		if (VARSIZE_ANY_EXHDR(t) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("channel names must not be empty")));
		result[i] = PointerGetDatum(cstring_to_text_with_len(VARDATA_ANY(t),
															 VARSIZE_ANY_EXHDR(t)));
	}
	*n_out = n;
	return result;
}

/*
 * clm.generate_events(customers, seed, start_date, ...): see the file header.
 *
 * Materialize mode: every row goes into the tuplestore that the executor
 * reads afterwards.  Per row only the numeric amount is allocated, in a
 * context reset after each customer.
 */
Datum
clm_generate_events(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	GenParams	par;
	Datum	   *channels;
	Datum		type_text[GEN_N_KINDS];
	GenBuffer	buf;
	MemoryContext row_cxt,
				old_cxt;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	int64		n,
				i;
	int			k;

	gen_read_params(fcinfo, &par);
	channels = gen_read_channels(PG_GETARG_ARRAYTYPE_P(18), &par.n_channels);

	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != 5)
		elog(ERROR, "clm_generate_events: return type must have 5 columns");

	for (k = 0; k < GEN_N_KINDS; k++)
		type_text[k] = PointerGetDatum(cstring_to_text(gen_type_names[k]));

	buf.cap = 64;
	buf.n = 0;
	buf.ev = palloc(sizeof(GenEvent) * buf.cap);

	row_cxt = AllocSetContextCreate(CurrentMemoryContext,
									"clm generate_events rows",
									ALLOCSET_DEFAULT_SIZES);

	for (n = 0; n < par.customers; n++)
	{
		int			j;

		i = par.first_customer + n;
		CHECK_FOR_INTERRUPTS();
		gen_customer(&buf, &par, i);

		old_cxt = MemoryContextSwitchTo(row_cxt);
		values[0] = Int64GetDatum(i);
		for (j = 0; j < buf.n; j++)
		{
			const GenEvent *e = &buf.ev[j];

			if ((j & 4095) == 4095)
				CHECK_FOR_INTERRUPTS();
			values[1] = TimestampTzGetDatum(e->ts);
			values[2] = type_text[e->kind];
			if (e->kind == GEN_PURCHASE || e->kind == GEN_REFUND)
			{
				values[3] = NumericGetDatum(int64_div_fast_to_numeric(e->cents, 2));
				nulls[3] = false;
			}
			else
			{
				values[3] = (Datum) 0;
				nulls[3] = true;
			}
			values[4] = channels[e->channel];
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		MemoryContextSwitchTo(old_cxt);
		MemoryContextReset(row_cxt);
	}

	MemoryContextDelete(row_cxt);
	return (Datum) 0;
}

/*
 * Planner support: estimate the row count as customers * 15 (the defaults
 * give 15.3 events per customer) when customers is known at plan time.
 */
Datum
clm_generate_events_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestRows *req;
	FuncExpr   *fexpr;
	Node	   *arg;

	if (!IsA(rawreq, SupportRequestRows))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestRows *) rawreq;
	if (!is_funcclause(req->node))
		PG_RETURN_POINTER(NULL);
	fexpr = (FuncExpr *) req->node;
	if (list_length(fexpr->args) < 1)
		PG_RETURN_POINTER(NULL);

	arg = linitial(fexpr->args);
	if (req->root != NULL)
		arg = estimate_expression_value(req->root, arg);
	if (IsA(arg, Const) && !((Const *) arg)->constisnull &&
		((Const *) arg)->consttype == INT8OID)
	{
		int64		customers = DatumGetInt64(((Const *) arg)->constvalue);

		req->rows = (customers > 0) ?
			clamp_row_est((double) customers * GEN_ROWS_PER_CUSTOMER) : 1.0;
		PG_RETURN_POINTER(req);
	}
	PG_RETURN_POINTER(NULL);
}
