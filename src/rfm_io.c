/*-------------------------------------------------------------------------
 *
 * rfm_io.c
 *	  RFM: text and binary input and output of clm.rfm_breakpoints and
 *	  clm.rfm_state (parsing, validation, formatting).
 *
 * Definitions and layouts: rfm.h.
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

#include "compat.h"
#include "period.h"
#include "profile.h"
#include "rfm.h"

PG_FUNCTION_INFO_V1(clm_rfm_breakpoints_in);
PG_FUNCTION_INFO_V1(clm_rfm_breakpoints_out);
PG_FUNCTION_INFO_V1(clm_rfm_state_in);
PG_FUNCTION_INFO_V1(clm_rfm_state_out);
PG_FUNCTION_INFO_V1(clm_rfm_breakpoints_send);
PG_FUNCTION_INFO_V1(clm_rfm_breakpoints_recv);
PG_FUNCTION_INFO_V1(clm_rfm_state_send);
PG_FUNCTION_INFO_V1(clm_rfm_state_recv);

static const char clm_rfm_dim_name[3] = {'r', 'f', 'm'};

typedef struct RfmCursor
{
	const char *s;
	const char *input;
	const char *type_name;
} RfmCursor;

pg_noreturn static void rfm_syntax_error(RfmCursor *cur, const char *what);

/* raise 22P02 for malformed text input */
static void
rfm_syntax_error(RfmCursor *cur, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", cur->type_name, cur->input),
			 errdetail("%s at offset %d.", what, (int) (cur->s - cur->input))));
}

/* consume the literal word w or fail */
static void
expect_word(RfmCursor *cur, const char *w)
{
	size_t		len = strlen(w);

	if (strncmp(cur->s, w, len) != 0)
		rfm_syntax_error(cur, psprintf("expected \"%s\"", w));
	cur->s += len;
}

/* consume one space separator */
static void
expect_space(RfmCursor *cur)
{
	if (*cur->s != ' ')
		rfm_syntax_error(cur, "expected a space");
	cur->s++;
}

/* read a signed decimal integer in [lo, hi] (clm_parse_int64) */
static int64
read_int64(RfmCursor *cur, int64 lo, int64 hi)
{
	int64		v = 0;
	const char *err = clm_parse_int64(&cur->s, lo, hi, &v);

	if (err)
		rfm_syntax_error(cur, err);
	return v;
}

/* read an amount -?digits(.digits{1,4})? as 1/10000 units (clm_parse_spend) */
static int64
read_amount(RfmCursor *cur)
{
	int64		v = 0;
	const char *err = clm_parse_spend(&cur->s, &v);

	if (err)
		rfm_syntax_error(cur, err);
	return v;
}

/* read -?YYYY-MM-DD as a finite DateADT */
static int32
read_date(RfmCursor *cur)
{
	int64		y,
				m,
				d;
	int			yy,
				mm,
				dd;
	int			jd;

	y = read_int64(cur, -4713, 5874897);
	expect_word(cur, "-");
	m = read_int64(cur, 1, 12);
	expect_word(cur, "-");
	d = read_int64(cur, 1, 31);
	if (!IS_VALID_JULIAN(y, m, d))
		rfm_syntax_error(cur, "date out of range");
	jd = date2j((int) y, (int) m, (int) d);
	j2date(jd, &yy, &mm, &dd);
	if (yy != y || mm != m || dd != d)
		rfm_syntax_error(cur, "invalid date");
	jd -= POSTGRES_EPOCH_JDATE;
	if (!IS_VALID_DATE(jd))
		rfm_syntax_error(cur, "date out of range");
	return jd;
}

/* read one comma-separated list of n - 1 cuts */
static void
read_cut_list(RfmCursor *cur, RfmBreakpoints *bp, int dim)
{
	int			s;

	for (s = 2; s <= bp->n; s++)
	{
		int64		v;

		if (s > 2)
			expect_word(cur, ",");
		if (dim == DIM_M)
			v = read_amount(cur);
		else
			v = read_int64(cur, PG_INT32_MIN, PG_INT32_MAX);
		bp->cuts[dim * (bp->n - 1) + (s - 2)] = v;
	}
}

/* text input of clm.rfm_breakpoints, fully validated */
Datum
clm_rfm_breakpoints_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	RfmCursor	cur = {str, str, "clm.rfm_breakpoints"};
	RfmBreakpoints *bp;
	int64		n;
	const char *why;

	expect_word(&cur, "n=");
	n = read_int64(&cur, RFM_MIN_N, RFM_MAX_N);
	expect_space(&cur);
	if (strncmp(cur.s, "as_of=", 6) == 0)
	{
		bp = clm_rfm_bp_alloc((int) n, RFM_KIND_QUANTILE);
		cur.s += 6;
		bp->as_of = read_date(&cur);
		expect_space(&cur);
		expect_word(&cur, "customers=");
		bp->customers = read_int64(&cur, 1, PG_INT64_MAX);
		expect_space(&cur);
		expect_word(&cur, "excluded=");
		bp->excluded = read_int64(&cur, 0, PG_INT64_MAX);
		expect_space(&cur);
	}
	else
		bp = clm_rfm_bp_alloc((int) n, RFM_KIND_FIXED);
	expect_word(&cur, "r<=");
	read_cut_list(&cur, bp, DIM_R);
	expect_space(&cur);
	expect_word(&cur, "f>=");
	read_cut_list(&cur, bp, DIM_F);
	expect_space(&cur);
	expect_word(&cur, "m>=");
	read_cut_list(&cur, bp, DIM_M);
	if (*cur.s != '\0')
		rfm_syntax_error(&cur, "unexpected text after the m thresholds");
	if ((why = clm_rfm_bp_check_order(bp)) != NULL)
		rfm_syntax_error(&cur, why);
	PG_RETURN_POINTER(bp);
}

/* text output of clm.rfm_breakpoints */
Datum
clm_rfm_breakpoints_out(PG_FUNCTION_ARGS)
{
	RfmBreakpoints *bp = clm_rfm_bp_read(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			dim,
				s;

	initStringInfo(&buf);
	appendStringInfo(&buf, "n=%d ", bp->n);
	if (bp->kind == RFM_KIND_QUANTILE)
	{
		appendStringInfoString(&buf, "as_of=");
		clm_append_date(&buf, bp->as_of);
		appendStringInfo(&buf, " customers=" INT64_FORMAT " excluded=" INT64_FORMAT " ",
						 bp->customers, bp->excluded);
	}
	for (dim = DIM_R; dim <= DIM_M; dim++)
	{
		if (dim > DIM_R)
			appendStringInfoChar(&buf, ' ');
		appendStringInfo(&buf, "%c%s", clm_rfm_dim_name[dim], dim == DIM_R ? "<=" : ">=");
		for (s = 2; s <= bp->n; s++)
		{
			if (s > 2)
				appendStringInfoChar(&buf, ',');
			if (dim == DIM_M)
				clm_append_spend(&buf, clm_rfm_bp_cut(bp, dim, s));
			else
				appendStringInfo(&buf, INT64_FORMAT, clm_rfm_bp_cut(bp, dim, s));
		}
	}
	PG_RETURN_CSTRING(buf.data);
}

/* text output of clm.rfm_state (runs in sorted order) */
Datum
clm_rfm_state_out(PG_FUNCTION_ARGS)
{
	RfmState   *st = (RfmState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	RfmState   *copy;
	StringInfoData buf;
	int32		i = 0;
	int			dim;

	clm_rfm_state_check(st);
	copy = palloc(VARSIZE(st));
	memcpy(copy, st, VARSIZE(st));
	clm_rfm_state_compact(copy);
	initStringInfo(&buf);
	appendStringInfo(&buf, "n=%d as_of=", copy->n);
	clm_append_date(&buf, copy->as_of);
	appendStringInfo(&buf, " excluded=" INT64_FORMAT, copy->excluded);
	for (dim = DIM_R; dim <= DIM_M; dim++)
	{
		bool		first = true;

		appendStringInfo(&buf, " %c=", clm_rfm_dim_name[dim]);
		for (; i < copy->n_entries && copy->entries[i].dim == dim; i++)
		{
			appendStringInfo(&buf, "%s" INT64_FORMAT ":" INT64_FORMAT,
							 first ? "" : ",",
							 copy->entries[i].value, copy->entries[i].count);
			first = false;
		}
	}
	PG_RETURN_CSTRING(buf.data);
}

/* text input of clm.rfm_state, fully validated */
Datum
clm_rfm_state_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	RfmCursor	cur = {str, str, "clm.rfm_state"};
	int64		n;
	DateADT		as_of;
	RfmState   *st;
	int64		total[3] = {0, 0, 0};
	int			dim;

	expect_word(&cur, "n=");
	n = read_int64(&cur, RFM_MIN_N, RFM_MAX_N);
	expect_space(&cur);
	expect_word(&cur, "as_of=");
	as_of = read_date(&cur);
	st = clm_rfm_state_alloc(CurrentMemoryContext, (int) n, as_of, 16);
	expect_space(&cur);
	expect_word(&cur, "excluded=");
	st->excluded = read_int64(&cur, 0, PG_INT64_MAX);
	for (dim = DIM_R; dim <= DIM_M; dim++)
	{
		bool		first = true;

		expect_space(&cur);
		expect_word(&cur, dim == DIM_R ? "r=" : dim == DIM_F ? "f=" : "m=");
		while (*cur.s != ' ' && *cur.s != '\0')
		{
			RfmEntry   *e;

			if (!first)
				expect_word(&cur, ",");
			first = false;
			st = clm_rfm_state_reserve(st, 1);
			e = &st->entries[st->n_entries];
			e->dim = dim;
			/* the ranges the transition produces, so every cut fits its list */
			if (dim == DIM_R)
				e->value = read_int64(&cur, 0, PG_INT32_MAX);
			else if (dim == DIM_F)
				e->value = read_int64(&cur, 1, PG_INT32_MAX - 1);
			else
				e->value = read_int64(&cur, -(PG_INT64_MAX - 1), PG_INT64_MAX - 1);
			expect_word(&cur, ":");
			e->count = read_int64(&cur, 1, PG_INT64_MAX);
			if (st->n_entries > 0 && st->entries[st->n_entries - 1].dim == dim &&
				st->entries[st->n_entries - 1].value >= e->value)
				rfm_syntax_error(&cur, "values must be strictly increasing");
			if (__builtin_add_overflow(total[dim], e->count, &total[dim]))
				rfm_syntax_error(&cur, "count out of range");
			st->n_entries++;
			st->n_sorted = st->n_entries;
		}
	}
	if (*cur.s != '\0')
		rfm_syntax_error(&cur, "unexpected text after the m histogram");
	if (total[DIM_R] != total[DIM_F] || total[DIM_R] != total[DIM_M])
		rfm_syntax_error(&cur, "the r, f and m histograms must count the same customers");
	PG_RETURN_POINTER(st);
}

/*
 * The binary form of both types is their text form (a version byte, then
 * the text): it is compact enough, architecture independent, and goes
 * through the same validation as text input.
 */
#define RFM_BINARY_VERSION	1

/* send a cstring produced by an output function */
static Datum
send_text_form(char *s)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, RFM_BINARY_VERSION);
	pq_sendtext(&buf, s, strlen(s));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* the text carried by a binary message, for an input function */
static char *
recv_text_form(StringInfo buf, const char *type_name)
{
	int			version;
	int			nbytes;

	if (buf->cursor >= buf->len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary representation of %s: the value is empty", type_name)));
	version = pq_getmsgbyte(buf);
	if (version != RFM_BINARY_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary format version %d for type %s", version, type_name)));
	return pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
}

/* binary output of clm.rfm_breakpoints */
Datum
clm_rfm_breakpoints_send(PG_FUNCTION_ARGS)
{
	return send_text_form(DatumGetCString(DirectFunctionCall1(clm_rfm_breakpoints_out,
															  PG_GETARG_DATUM(0))));
}

/* binary input of clm.rfm_breakpoints (validated like text input) */
Datum
clm_rfm_breakpoints_recv(PG_FUNCTION_ARGS)
{
	char	   *s = recv_text_form((StringInfo) PG_GETARG_POINTER(0), "clm.rfm_breakpoints");

	return DirectFunctionCall1(clm_rfm_breakpoints_in, CStringGetDatum(s));
}

/* binary output of clm.rfm_state */
Datum
clm_rfm_state_send(PG_FUNCTION_ARGS)
{
	return send_text_form(DatumGetCString(DirectFunctionCall1(clm_rfm_state_out,
															  PG_GETARG_DATUM(0))));
}

/* binary input of clm.rfm_state (validated like text input) */
Datum
clm_rfm_state_recv(PG_FUNCTION_ARGS)
{
	char	   *s = recv_text_form((StringInfo) PG_GETARG_POINTER(0), "clm.rfm_state");

	return DirectFunctionCall1(clm_rfm_state_in, CStringGetDatum(s));
}
