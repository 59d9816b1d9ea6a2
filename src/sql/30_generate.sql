
-- clm.generate_events: a deterministic sample event table (src/generate.c).

-- planner support: row estimate = customers * 15
CREATE FUNCTION @extschema@.generate_events_support(pg_catalog.internal)
RETURNS pg_catalog.internal
AS 'MODULE_PATHNAME', 'clm_generate_events_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.generate_events_support(pg_catalog.internal) IS
'planner support for clm.generate_events: estimates customers * 15 rows';

--
-- IMMUTABLE: the rows depend on the arguments only.  Instants are computed
-- from start_date 00:00 UTC, not in the session time zone, so TimeZone does
-- not change them (only how psql prints them); no other setting is read.
-- A set-returning function is never constant-folded by the planner, so
-- IMMUTABLE cannot turn a call into a cached value.  Not STRICT: a NULL
-- argument is an error, not an empty result.
CREATE FUNCTION @extschema@.generate_events(
	customers        pg_catalog.int8,
	seed             pg_catalog.int8    DEFAULT 42,
	start_date       pg_catalog.date    DEFAULT '2023-01-01',
	end_date         pg_catalog.date    DEFAULT '2025-01-01',
	acquisition_days pg_catalog.int4    DEFAULT 365,
	r                pg_catalog.float8  DEFAULT 0.75,
	alpha            pg_catalog.float8  DEFAULT 2.0,
	a                pg_catalog.float8  DEFAULT 0.8,
	b                pg_catalog.float8  DEFAULT 2.5,
	s                pg_catalog.float8  DEFAULT 0.6,
	beta             pg_catalog.float8  DEFAULT 10.0,
	dropout          pg_catalog.text    DEFAULT 'bgnbd',
	spend_p          pg_catalog.float8  DEFAULT 6.25,
	spend_q          pg_catalog.float8  DEFAULT 3.74,
	spend_gamma      pg_catalog.float8  DEFAULT 15.44,
	visit_ratio      pg_catalog.float8  DEFAULT 1.2,
	prospect_share   pg_catalog.float8  DEFAULT 0.1,
	refund_share     pg_catalog.float8  DEFAULT 0,
	channels         pg_catalog.text[]  DEFAULT '{web,app,store,email}',
	first_customer   pg_catalog.int8    DEFAULT 1)
RETURNS TABLE (
	customer_id      pg_catalog.int8,
	occurred_at      pg_catalog.timestamptz,
	event_type       pg_catalog.text,
	amount           pg_catalog.numeric,
	channel          pg_catalog.text)
AS 'MODULE_PATHNAME', 'clm_generate_events'
LANGUAGE C IMMUTABLE PARALLEL SAFE
COST 1000 ROWS 15000
SUPPORT @extschema@.generate_events_support;

COMMENT ON FUNCTION @extschema@.generate_events(pg_catalog.int8, pg_catalog.int8, pg_catalog.date, pg_catalog.date, pg_catalog.int4, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.text, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.text[], pg_catalog.int8) IS
'deterministic sample events (customer_id, occurred_at, event_type, amount, channel) from a buy-till-you-die simulation: BG/NBD, MBG/NBD or Pareto/NBD purchases (rates per week), Gamma-Gamma spend, visits, prospects, refunds; customers first_customer .. first_customer + customers - 1; instants in UTC; see docs/sample-data.md';
