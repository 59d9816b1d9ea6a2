-- docs helper (issue 12): stage rules as one value, clm.stage_rules, and the
-- forms of the stage functions and aggregates that take it (as src/sql/62_stage_rules.sql).

-- Stage rules as one value: the type clm.stage_rules, its constructor (the one
-- place that holds the defaults: a 30-day population gap, prior strength 2,
-- new for 30 days, ratios 2, 4 and 8, gaps of the customer's own), and the
-- forms of the stage functions and aggregates that take it.  The C functions
-- read a clm.stage_rules argument in place of the seven scalar rules
-- (src/stage.c, rules_read), so each form below is the same C function.

CREATE TYPE @extschema@.stage_rules AS (
    population_gap_days double precision,
    prior_strength double precision,
    new_days integer,
    active_ratio double precision,
    at_risk_ratio double precision,
    lapsed_ratio double precision,
    fixed_days boolean
);
COMMENT ON TYPE @extschema@.stage_rules IS 'the rules of the lifecycle stages (clm.stage and every stage function and aggregate); make one with clm.stage_rules(...), which holds the defaults and checks the rules';
COMMENT ON COLUMN @extschema@.stage_rules.population_gap_days IS 'gap between purchases (days) that a customer''s own mean gap is shrunk toward; default 30; NULL = the population gap of the customers at hand (clm.customer_stage_rows, tracked sources), an error elsewhere';
COMMENT ON COLUMN @extschema@.stage_rules.prior_strength IS 'weight of the population gap, in gaps (default 2; 0 = the customer''s own mean gap)';
COMMENT ON COLUMN @extschema@.stage_rules.new_days IS 'a customer is new for this many days after the first purchase (default 30)';
COMMENT ON COLUMN @extschema@.stage_rules.active_ratio IS 'active while the days since the last purchase are at most this many expected gaps (default 2)';
COMMENT ON COLUMN @extschema@.stage_rules.at_risk_ratio IS 'at_risk up to this many expected gaps (default 4)';
COMMENT ON COLUMN @extschema@.stage_rules.lapsed_ratio IS 'lapsed up to this many expected gaps, churned beyond (default 8)';
COMMENT ON COLUMN @extschema@.stage_rules.fixed_days IS 'true: the expected gap is population_gap_days for everyone, so the thresholds are fixed numbers of days (default false)';

CREATE FUNCTION @extschema@.stage_rules(
    population_gap_days double precision DEFAULT 30,
    prior_strength double precision DEFAULT 2,
    new_days integer DEFAULT 30,
    active_ratio double precision DEFAULT 2,
    at_risk_ratio double precision DEFAULT 4,
    lapsed_ratio double precision DEFAULT 8,
    fixed_days boolean DEFAULT false)
    RETURNS @extschema@.stage_rules
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF prior_strength IS NULL OR new_days IS NULL OR active_ratio IS NULL OR at_risk_ratio IS NULL
       OR lapsed_ratio IS NULL OR fixed_days IS NULL THEN
        RAISE EXCEPTION 'stage rules must not be NULL'
            USING ERRCODE = '22004',
                  HINT = 'Only population_gap_days may be NULL: it is then computed from the customers.';
    END IF;
    IF NOT (population_gap_days > 0) OR population_gap_days IN ('infinity', 'NaN') THEN
        RAISE EXCEPTION 'population_gap_days must be > 0 and finite' USING ERRCODE = '22023';
    END IF;
    IF NOT (prior_strength >= 0) OR prior_strength IN ('infinity', 'NaN') THEN
        RAISE EXCEPTION 'prior_strength must be >= 0 and finite' USING ERRCODE = '22023';
    END IF;
    IF new_days < 0 THEN
        RAISE EXCEPTION 'new_days must be >= 0' USING ERRCODE = '22023';
    END IF;
    IF NOT (active_ratio > 0 AND at_risk_ratio >= active_ratio AND lapsed_ratio >= at_risk_ratio)
       OR 'NaN' IN (active_ratio, at_risk_ratio, lapsed_ratio) OR lapsed_ratio = 'infinity' THEN
        RAISE EXCEPTION 'stage ratios must satisfy 0 < active_ratio <= at_risk_ratio <= lapsed_ratio < infinity'
            USING ERRCODE = '22023';
    END IF;
    RETURN ROW(population_gap_days, prior_strength, new_days, active_ratio, at_risk_ratio,
               lapsed_ratio, fixed_days)::@extschema@.stage_rules;
END
$fn$;
COMMENT ON FUNCTION @extschema@.stage_rules(double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'the stage rules, checked (22023, 22004), with the defaults of every stage function: population gap 30 days (NULL: the population''s own, where customers are at hand), prior strength 2, new for 30 days, active up to 2, at_risk up to 4, lapsed up to 8 expected gaps';

CREATE FUNCTION @extschema@.stage(p @extschema@.profile, as_of date, rules @extschema@.stage_rules)
    RETURNS @extschema@.stage_result
    AS 'MODULE_PATHNAME', 'clm_stage' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage(@extschema@.profile, date, @extschema@.stage_rules) IS 'lifecycle stage of a customer as of a day under the given rules (clm.stage_rules), with the reason';

CREATE FUNCTION @extschema@.stage_name(p @extschema@.profile, as_of date, rules @extschema@.stage_rules)
    RETURNS text
    AS 'MODULE_PATHNAME', 'clm_stage_only' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_name(@extschema@.profile, date, @extschema@.stage_rules) IS 'the stage of clm.stage alone under the given rules (clm.stage_rules)';

CREATE FUNCTION @extschema@.stage_history(p @extschema@.profile, "from" date, "to" date,
    period text, week_start integer, rules @extschema@.stage_rules,
    OUT period_start date, OUT stage text, OUT reason text,
    OUT expected_gap_days double precision, OUT days_since_last_purchase integer,
    OUT gap_ratio double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_stage_history' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
COMMENT ON FUNCTION @extschema@.stage_history(@extschema@.profile, date, date, text, integer, @extschema@.stage_rules) IS 'the customer''s stage under the given rules (clm.stage_rules) on every period start from "from" to "to" inclusive';

CREATE FUNCTION @extschema@.stage_changes(p @extschema@.profile, "from" date, "to" date,
    rules @extschema@.stage_rules,
    OUT changed_on date, OUT from_stage text, OUT to_stage text, OUT reason text,
    OUT days_in_previous_stage integer, OUT days_dormant integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_stage_changes' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 8;
COMMENT ON FUNCTION @extschema@.stage_changes(@extschema@.profile, date, date, @extschema@.stage_rules) IS 'every day from "from" to "to" on which the customer''s stage under the given rules (clm.stage_rules) differs from the day before';

CREATE FUNCTION @extschema@.customer_stage_rows(s bigint[], rules @extschema@.stage_rules,
    OUT customer_id bigint, OUT stage text, OUT reason text,
    OUT expected_gap_days double precision, OUT days_since_last_purchase integer,
    OUT gap_ratio double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_customer_stage_rows' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION @extschema@.customer_stage_rows(bigint[], @extschema@.stage_rules) IS 'the stage of every customer of a clm.customer_stages value under the given rules (clm.stage_rules); a NULL population_gap_days in the rules is the population gap of the same customers';

CREATE FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date, @extschema@.stage_rules)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date, @extschema@.stage_rules) IS 'aggregate support: add one customer to a transition matrix (transition function of clm.stage_transitions)';
CREATE AGGREGATE @extschema@.stage_transitions(p @extschema@.profile, "from" date, "to" date,
    rules @extschema@.stage_rules) (
    SFUNC = @extschema@.stage_transitions_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_transitions_combine,
    FINALFUNC = @extschema@.stage_transitions_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_transitions(@extschema@.profile, date, date, @extschema@.stage_rules) IS 'transition matrix: customers by (stage on "from", stage on "to") under the given rules (clm.stage_rules); expand with clm.transition_rows';

CREATE FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date, @extschema@.stage_rules)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date, @extschema@.stage_rules) IS 'aggregate support: add one customer''s stage changes over the range (transition function of clm.stage_counts)';
CREATE AGGREGATE @extschema@.stage_counts(p @extschema@.profile, "from" date, "to" date,
    rules @extschema@.stage_rules) (
    SFUNC = @extschema@.stage_counts_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_counts_combine,
    FINALFUNC = @extschema@.stage_counts_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_counts(@extschema@.profile, date, date, @extschema@.stage_rules) IS 'customers in each stage under the given rules (clm.stage_rules) on every day from "from" to "to"; expand with clm.stage_count_rows';

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
