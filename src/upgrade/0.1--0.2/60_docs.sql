-- docs helper (issue 12): the one default of the population gap, and comments
-- that point at docs/ pages.  The stage rules as one value (clm.stage_rules and
-- the forms that take it) are all new: 62_stage_rules.sql, a link to
-- src/sql/62_stage_rules.sql.

-- One default for the population gap everywhere: clm.customer_stage_rows now
-- defaults to the 30 days of clm.stage and clm.stage_rules() (0.1: the
-- population gap of the customers in the value, still had with
-- population_gap_days => NULL).  Only the default changes, which ALTER
-- FUNCTION cannot do and which CREATE OR REPLACE does in place, keeping the
-- function (and anything built on it); it is a member of the extension, so
-- the replace cannot take over another role's function.
CREATE OR REPLACE FUNCTION @extschema@.customer_stage_rows(s bigint[],
    population_gap_days double precision DEFAULT 30,
    prior_strength double precision DEFAULT 2,
    new_days integer DEFAULT 30,
    active_ratio double precision DEFAULT 2,
    at_risk_ratio double precision DEFAULT 4,
    lapsed_ratio double precision DEFAULT 8,
    fixed_days boolean DEFAULT false,
    OUT customer_id bigint, OUT stage text, OUT reason text,
    OUT expected_gap_days double precision, OUT days_since_last_purchase integer,
    OUT gap_ratio double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_customer_stage_rows' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION @extschema@.customer_stage_rows(bigint[], double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'the stage of every customer of a clm.customer_stages value, as clm.stage as of its day, with the same default rules (clm.stage_rules()); population_gap_days => NULL is the population gap of the same customers (clm.population_gap), 30 if none has two purchase days';

-- comments that pointed at README sections now point at the docs/ pages
COMMENT ON FUNCTION @extschema@.generate_events(pg_catalog.int8, pg_catalog.int8, pg_catalog.date, pg_catalog.date, pg_catalog.int4, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.text, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.text[], pg_catalog.int8) IS
'deterministic sample events (customer_id, occurred_at, event_type, amount, channel) from a buy-till-you-die simulation: BG/NBD, MBG/NBD or Pareto/NBD purchases (rates per week), Gamma-Gamma spend, visits, prospects, refunds; customers first_customer .. first_customer + customers - 1; instants in UTC; see docs/sample-data.md';
