
-- A quoted population gap resolves as in 0.1.  0.2 added a form taking
-- clm.stage_rules at the place of population_gap_days (62_stage_rules.sql), so
-- a literal there ('30', NULL) could be either a double precision or a
-- clm.stage_rules, and PostgreSQL refused the call (42725, "is not unique").
-- These forms take that argument as text: a literal of unknown type prefers
-- the string category, so it resolves to them; they read it as a double
-- precision (a number, or NULL for the scalar form's NULL; anything else is
-- 22P02, as in 0.1) and call the scalar form.  A typed argument resolves as
-- before: a number to the scalar form, a clm.stage_rules value to the rules
-- form.  (The aggregates clm.stage_transitions and clm.stage_counts have
-- such forms too, in 64_stage_quoted_aggregates.sql.)
-- New in 0.3: src/upgrade/0.2--0.3/20_release_fixes_stage_quoted.sql is a
-- link to this file.

CREATE FUNCTION @extschema@.stage(p @extschema@.profile, as_of date, population_gap_days text)
    RETURNS @extschema@.stage_result
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN @extschema@.stage(p, as_of, population_gap_days::pg_catalog.float8);
COMMENT ON FUNCTION @extschema@.stage(@extschema@.profile, date, text) IS 'clm.stage with the population gap quoted (''30''), as 0.1 read it: the text is read as a double precision';

CREATE FUNCTION @extschema@.stage_name(p @extschema@.profile, as_of date, population_gap_days text)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN @extschema@.stage_name(p, as_of, population_gap_days::pg_catalog.float8);
COMMENT ON FUNCTION @extschema@.stage_name(@extschema@.profile, date, text) IS 'clm.stage_name with the population gap quoted (''30''), as 0.1 read it: the text is read as a double precision';

CREATE FUNCTION @extschema@.stage_history(p @extschema@.profile, "from" date, "to" date,
    period text, week_start integer, population_gap_days text,
    OUT period_start date, OUT stage text, OUT reason text,
    OUT expected_gap_days double precision, OUT days_since_last_purchase integer,
    OUT gap_ratio double precision)
    RETURNS SETOF record
    LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 12
BEGIN ATOMIC
    SELECT h.period_start, h.stage, h.reason, h.expected_gap_days, h.days_since_last_purchase, h.gap_ratio
      FROM @extschema@.stage_history(p, "from", "to", period, week_start,
                                     population_gap_days::pg_catalog.float8) AS h;
END;
COMMENT ON FUNCTION @extschema@.stage_history(@extschema@.profile, date, date, text, integer, text) IS 'clm.stage_history with the population gap quoted (''30''), as 0.1 read it: the text is read as a double precision';

CREATE FUNCTION @extschema@.stage_changes(p @extschema@.profile, "from" date, "to" date,
    population_gap_days text,
    OUT changed_on date, OUT from_stage text, OUT to_stage text, OUT reason text,
    OUT days_in_previous_stage integer, OUT days_dormant integer)
    RETURNS SETOF record
    LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 8
BEGIN ATOMIC
    SELECT c.changed_on, c.from_stage, c.to_stage, c.reason, c.days_in_previous_stage, c.days_dormant
      FROM @extschema@.stage_changes(p, "from", "to", population_gap_days::pg_catalog.float8) AS c;
END;
COMMENT ON FUNCTION @extschema@.stage_changes(@extschema@.profile, date, date, text) IS 'clm.stage_changes with the population gap quoted (''30''), as 0.1 read it: the text is read as a double precision';

CREATE FUNCTION @extschema@.customer_stage_rows(s bigint[], population_gap_days text,
    OUT customer_id bigint, OUT stage text, OUT reason text,
    OUT expected_gap_days double precision, OUT days_since_last_purchase integer,
    OUT gap_ratio double precision)
    RETURNS SETOF record
    LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 1000
BEGIN ATOMIC
    SELECT r.customer_id, r.stage, r.reason, r.expected_gap_days, r.days_since_last_purchase, r.gap_ratio
      FROM @extschema@.customer_stage_rows(s, population_gap_days::pg_catalog.float8) AS r;
END;
COMMENT ON FUNCTION @extschema@.customer_stage_rows(bigint[], text) IS 'clm.customer_stage_rows with the population gap quoted (''30'', or NULL: the customers'' own), as 0.1 read it: the text is read as a double precision';
