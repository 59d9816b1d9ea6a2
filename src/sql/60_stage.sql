-- Lifecycle stages: stage as of a day, stage history, stage changes and the
-- transition matrix (src/stage.c; definitions in docs/journey.md).

CREATE TYPE @extschema@.stage_result AS (
    stage text,
    reason text,
    expected_gap_days double precision,
    days_since_last_purchase integer,
    gap_ratio double precision
);
COMMENT ON TYPE @extschema@.stage_result IS 'a customer''s lifecycle stage as of a day, with the reason (result of clm.stage)';
COMMENT ON COLUMN @extschema@.stage_result.stage IS 'prospect, new, active, at_risk, lapsed, churned or reactivated; NULL if the customer has no event on or before the day';
COMMENT ON COLUMN @extschema@.stage_result.reason IS 'human-readable reason, e.g. ''91 days since last purchase, 3.1 times the expected gap of 29 days''';
COMMENT ON COLUMN @extschema@.stage_result.expected_gap_days IS 'expected days between purchases: the customer''s mean gap shrunk toward the population gap, (prior_strength * population_gap_days + last - first purchase day) / (prior_strength + purchase days - 1); NULL without a purchase';
COMMENT ON COLUMN @extschema@.stage_result.days_since_last_purchase IS 'days from the last purchase day to the day (NULL without a purchase)';
COMMENT ON COLUMN @extschema@.stage_result.gap_ratio IS 'days_since_last_purchase / expected_gap_days (NULL without a purchase)';

CREATE FUNCTION @extschema@.stage(p @extschema@.profile, as_of date DEFAULT CURRENT_DATE,
    population_gap_days double precision DEFAULT 30,
    prior_strength double precision DEFAULT 2,
    new_days integer DEFAULT 30,
    active_ratio double precision DEFAULT 2,
    at_risk_ratio double precision DEFAULT 4,
    lapsed_ratio double precision DEFAULT 8,
    fixed_days boolean DEFAULT false)
    RETURNS @extschema@.stage_result
    AS 'MODULE_PATHNAME', 'clm_stage' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage(@extschema@.profile, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'lifecycle stage of a customer as of a day (prospect, new, active, at_risk, lapsed, churned, reactivated) relative to the customer''s own expected gap between purchases, with the reason; fixed_days => true uses population_gap_days for everyone';

CREATE FUNCTION @extschema@.stage_name(p @extschema@.profile, as_of date DEFAULT CURRENT_DATE,
    population_gap_days double precision DEFAULT 30,
    prior_strength double precision DEFAULT 2,
    new_days integer DEFAULT 30,
    active_ratio double precision DEFAULT 2,
    at_risk_ratio double precision DEFAULT 4,
    lapsed_ratio double precision DEFAULT 8,
    fixed_days boolean DEFAULT false)
    RETURNS text
    AS 'MODULE_PATHNAME', 'clm_stage_only' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_name(@extschema@.profile, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'the stage of clm.stage alone, without the reason (cheaper over every customer); NULL if no event on or before as_of';

CREATE FUNCTION @extschema@.stage_history(p @extschema@.profile, "from" date, "to" date,
    period text DEFAULT 'month',
    week_start integer DEFAULT 1,
    population_gap_days double precision DEFAULT 30,
    prior_strength double precision DEFAULT 2,
    new_days integer DEFAULT 30,
    active_ratio double precision DEFAULT 2,
    at_risk_ratio double precision DEFAULT 4,
    lapsed_ratio double precision DEFAULT 8,
    fixed_days boolean DEFAULT false,
    OUT period_start date, OUT stage text, OUT reason text,
    OUT expected_gap_days double precision, OUT days_since_last_purchase integer,
    OUT gap_ratio double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_stage_history' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
COMMENT ON FUNCTION @extschema@.stage_history(@extschema@.profile, date, date, text, integer, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'the customer''s stage (as clm.stage) on every period start (day, week starting on week_start, 1 = Monday, or month) from "from" to "to" inclusive';

CREATE FUNCTION @extschema@.stage_changes(p @extschema@.profile, "from" date, "to" date,
    population_gap_days double precision DEFAULT 30,
    prior_strength double precision DEFAULT 2,
    new_days integer DEFAULT 30,
    active_ratio double precision DEFAULT 2,
    at_risk_ratio double precision DEFAULT 4,
    lapsed_ratio double precision DEFAULT 8,
    fixed_days boolean DEFAULT false,
    OUT changed_on date, OUT from_stage text, OUT to_stage text, OUT reason text,
    OUT days_in_previous_stage integer, OUT days_dormant integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_stage_changes' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 8;
COMMENT ON FUNCTION @extschema@.stage_changes(@extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'every day from "from" to "to" on which the customer''s stage (as clm.stage) differs from the day before: from_stage (NULL before the first event), to_stage, reason, days_in_previous_stage, days_dormant (days in lapsed/churned before leaving them, i.e. before a win-back)';

-- Transition matrix.  State and result: bigint[] (a real type with text and
-- binary I/O, so partial aggregation can move it between nodes), laid out
-- as [1, from, to, 64 counts]; read it with clm.transition_rows.
CREATE FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date) IS 'aggregate support: add one customer to a transition matrix (transition function of clm.stage_transitions)';
CREATE FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date, double precision)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date, double precision) IS 'aggregate support: add one customer to a transition matrix (transition function of clm.stage_transitions)';
CREATE FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'aggregate support: add one customer to a transition matrix (transition function of clm.stage_transitions)';
CREATE FUNCTION @extschema@.stage_transitions_combine(bigint[], bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_transitions_combine(bigint[], bigint[]) IS 'aggregate support: add two transition matrices over the same range (combine function of clm.stage_transitions)';
CREATE FUNCTION @extschema@.stage_transitions_final(bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_transitions_final(bigint[]) IS 'aggregate support: the transition matrix (final function of clm.stage_transitions)';

CREATE AGGREGATE @extschema@.stage_transitions(p @extschema@.profile, "from" date, "to" date) (
    SFUNC = @extschema@.stage_transitions_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_transitions_combine,
    FINALFUNC = @extschema@.stage_transitions_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_transitions(@extschema@.profile, date, date) IS 'transition matrix: customers by (stage on "from", stage on "to"), default stage rules; expand with clm.transition_rows';
CREATE AGGREGATE @extschema@.stage_transitions(p @extschema@.profile, "from" date, "to" date, population_gap_days double precision) (
    SFUNC = @extschema@.stage_transitions_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_transitions_combine,
    FINALFUNC = @extschema@.stage_transitions_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_transitions(@extschema@.profile, date, date, double precision) IS 'transition matrix: customers by (stage on "from", stage on "to"), given the population gap; expand with clm.transition_rows';
CREATE AGGREGATE @extschema@.stage_transitions(p @extschema@.profile, "from" date, "to" date,
    population_gap_days double precision, prior_strength double precision, new_days integer,
    active_ratio double precision, at_risk_ratio double precision, lapsed_ratio double precision,
    fixed_days boolean) (
    SFUNC = @extschema@.stage_transitions_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_transitions_combine,
    FINALFUNC = @extschema@.stage_transitions_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_transitions(@extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'transition matrix: customers by (stage on "from", stage on "to") under the given stage rules; expand with clm.transition_rows';

CREATE FUNCTION @extschema@.transition_rows(matrix bigint[],
    OUT from_stage text, OUT to_stage text, OUT customers bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_transition_rows' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION @extschema@.transition_rows(bigint[]) IS 'the non-zero cells of a clm.stage_transitions matrix: from_stage (NULL = no event yet), to_stage, customers';

-- Stage counts per day.  State: bigint[] [1, from, to, 8 deltas a day]
-- (stage changes, so a customer costs its changes, not the days); final
-- value: [2, from, to, 8 counts a day]; read it with clm.stage_count_rows.
CREATE FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date) IS 'aggregate support: add one customer''s stage changes over the range (transition function of clm.stage_counts)';
CREATE FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date, double precision)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date, double precision) IS 'aggregate support: add one customer''s stage changes over the range (transition function of clm.stage_counts)';
CREATE FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'aggregate support: add one customer''s stage changes over the range (transition function of clm.stage_counts)';
CREATE FUNCTION @extschema@.stage_counts_combine(bigint[], bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_counts_combine(bigint[], bigint[]) IS 'aggregate support: add two stage-count states over the same range (combine function of clm.stage_counts)';
CREATE FUNCTION @extschema@.stage_counts_final(bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_counts_final(bigint[]) IS 'aggregate support: the customers per day and stage (final function of clm.stage_counts)';

CREATE AGGREGATE @extschema@.stage_counts(p @extschema@.profile, "from" date, "to" date) (
    SFUNC = @extschema@.stage_counts_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_counts_combine,
    FINALFUNC = @extschema@.stage_counts_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_counts(@extschema@.profile, date, date) IS 'customers in each stage (as clm.stage, default rules) on every day from "from" to "to"; expand with clm.stage_count_rows';
CREATE AGGREGATE @extschema@.stage_counts(p @extschema@.profile, "from" date, "to" date, population_gap_days double precision) (
    SFUNC = @extschema@.stage_counts_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_counts_combine,
    FINALFUNC = @extschema@.stage_counts_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_counts(@extschema@.profile, date, date, double precision) IS 'customers in each stage (as clm.stage, given the population gap) on every day from "from" to "to"; expand with clm.stage_count_rows';
CREATE AGGREGATE @extschema@.stage_counts(p @extschema@.profile, "from" date, "to" date,
    population_gap_days double precision, prior_strength double precision, new_days integer,
    active_ratio double precision, at_risk_ratio double precision, lapsed_ratio double precision,
    fixed_days boolean) (
    SFUNC = @extschema@.stage_counts_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_counts_combine,
    FINALFUNC = @extschema@.stage_counts_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_counts(@extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'customers in each stage (as clm.stage, given rules) on every day from "from" to "to"; expand with clm.stage_count_rows';

CREATE FUNCTION @extschema@.stage_count_rows(counts bigint[],
    OUT day date, OUT stage text, OUT customers bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_stage_count_rows' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 700;
COMMENT ON FUNCTION @extschema@.stage_count_rows(bigint[]) IS 'the rows of a clm.stage_counts value: for every day of its range and each of the 7 stages (prospect, new, active, at_risk, lapsed, churned, reactivated), the customers in that stage that day (0 included)';

-- Population gap for clm.stage: the mean of the customers' mean gaps.
CREATE FUNCTION @extschema@.population_gap_trans(double precision[], @extschema@.profile, date)
    RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'clm_population_gap_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.population_gap_trans(double precision[], @extschema@.profile, date) IS 'aggregate support: add one customer''s mean gap (transition function of clm.population_gap)';
CREATE AGGREGATE @extschema@.population_gap(p @extschema@.profile, as_of date) (
    SFUNC = @extschema@.population_gap_trans, STYPE = double precision[],
    COMBINEFUNC = pg_catalog.float8_combine, FINALFUNC = pg_catalog.float8_avg,
    INITCOND = '{0,0,0}', PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.population_gap(@extschema@.profile, date) IS 'mean over customers with two or more purchase days on or before as_of of their mean gap between purchase days (days); NULL if there is none; pass it to clm.stage as population_gap_days';

-- One pass over the profiles: every customer's stage with the population gap
-- of the same customers.  State: bigint[] [101, customers, as_of, 4, then
-- 4 elements a customer] (src/customers.h); read it with clm.customer_stage_rows.
CREATE FUNCTION @extschema@.customer_stages_trans(bigint[], bigint, @extschema@.profile, date)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_customer_stages_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_stages_trans(bigint[], bigint, @extschema@.profile, date) IS 'aggregate support: add one customer''s purchase history as of the day (transition function of clm.customer_stages)';
CREATE FUNCTION @extschema@.customer_stages_combine(bigint[], bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_customer_stages_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_stages_combine(bigint[], bigint[]) IS 'aggregate support: the customers of two partial states (combine function of clm.customer_stages)';
CREATE FUNCTION @extschema@.customer_stages_final(bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_customer_stages_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_stages_final(bigint[]) IS 'aggregate support: the state trimmed to its customers (final function of clm.customer_stages)';
CREATE AGGREGATE @extschema@.customer_stages(customer_id bigint, p @extschema@.profile, as_of date) (
    SFUNC = @extschema@.customer_stages_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.customer_stages_combine,
    FINALFUNC = @extschema@.customer_stages_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.customer_stages(bigint, @extschema@.profile, date) IS 'every customer''s purchase history as of the day, 32 bytes a customer, in one pass over the profiles; expand with clm.customer_stage_rows (stages with the population gap of the same customers)';

CREATE FUNCTION @extschema@.customer_stage_rows(s bigint[],
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
