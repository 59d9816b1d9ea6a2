-- clm upgrade script 0.1 -> 0.2, assembled by the Makefile from
-- src/upgrade/0.1--0.2/*.sql (one file per change, concatenated in name order).
-- complain if the script is sourced in psql rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION clm UPDATE TO '0.2'" to load this file. \quit

-- Security guard of the install script and of the upgrade scripts (this file
-- is src/upgrade/0.1--0.2/01_guard.sql too, a link: the Makefile assembles it
-- into both).  See docs/upgrading.md, "Trusted install".  clm is trusted: a
-- database owner without superuser may run CREATE EXTENSION clm and, as the
-- extension's owner, ALTER EXTENSION clm UPDATE; the script then runs as the
-- bootstrap superuser, and must not be steerable by objects that role controls:
--  * the schema clm may exist before CREATE EXTENSION, and belongs to
--    the installing role afterwards (CREATE EXTENSION creates it as that
--    role): objects in it owned by a role that is not a superuser could
--    capture the name lookups of the script (a better-matching function or
--    operator), so the script refuses to run over them (clm's own objects
--    belong to a superuser);
--  * the rest of the script runs with search_path = pg_catalog, pg_temp (the
--    practice of the contrib modules): every reference to an object of clm is
--    written clm.name, so no name resolves through a schema a
--    non-superuser can write to.  SET LOCAL: the setting ends with the script.
DO $guard$
DECLARE
    found text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('%s %s (owner %s)', i.type, i.identity, r.rolname), ', ')
      INTO found
      FROM (SELECT 'pg_catalog.pg_class'::pg_catalog.regclass AS cls, c.oid, c.relowner AS owner
              FROM pg_catalog.pg_class AS c WHERE c.relnamespace OPERATOR(pg_catalog.=) 'clm'::pg_catalog.regnamespace
            UNION ALL
            SELECT 'pg_catalog.pg_proc', p.oid, p.proowner
              FROM pg_catalog.pg_proc AS p WHERE p.pronamespace OPERATOR(pg_catalog.=) 'clm'::pg_catalog.regnamespace
            UNION ALL
            SELECT 'pg_catalog.pg_type', t.oid, t.typowner
              FROM pg_catalog.pg_type AS t WHERE t.typnamespace OPERATOR(pg_catalog.=) 'clm'::pg_catalog.regnamespace
            UNION ALL
            SELECT 'pg_catalog.pg_operator', o.oid, o.oprowner
              FROM pg_catalog.pg_operator AS o WHERE o.oprnamespace OPERATOR(pg_catalog.=) 'clm'::pg_catalog.regnamespace
            UNION ALL
            SELECT 'pg_catalog.pg_opfamily', f.oid, f.opfowner
              FROM pg_catalog.pg_opfamily AS f WHERE f.opfnamespace OPERATOR(pg_catalog.=) 'clm'::pg_catalog.regnamespace
            UNION ALL
            SELECT 'pg_catalog.pg_collation', l.oid, l.collowner
              FROM pg_catalog.pg_collation AS l WHERE l.collnamespace OPERATOR(pg_catalog.=) 'clm'::pg_catalog.regnamespace
            UNION ALL
            SELECT 'pg_catalog.pg_conversion', v.oid, v.conowner
              FROM pg_catalog.pg_conversion AS v WHERE v.connamespace OPERATOR(pg_catalog.=) 'clm'::pg_catalog.regnamespace
           ) AS o
      JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) o.owner,
      LATERAL pg_catalog.pg_identify_object(o.cls, o.oid, 0) AS i
     WHERE NOT r.rolsuper;
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'schema clm holds objects of a role that is not a superuser: %', found
            USING ERRCODE = '42501',
                  HINT = 'Drop them or move them to another schema (ALTER ... SET SCHEMA), then run the command again.';
    END IF;
END
$guard$;
SET LOCAL search_path = pg_catalog, pg_temp;
-- The schema clm becomes a member of the extension, so that DROP EXTENSION
-- clm removes it, as on a fresh 0.2 install: 0.1 named it in its control
-- file, which made PostgreSQL create it outside the extension as the
-- extension's schema, and a schema holding its own extension cannot be a
-- member.  So the extension's schema becomes pg_catalog (as clm.control says
-- from 0.2 on; pg_catalog is pinned: no dependency is recorded on it) and
-- then clm is added.  The objects stay where they are.
DELETE FROM pg_catalog.pg_depend d
 WHERE d.classid = 'pg_catalog.pg_extension'::pg_catalog.regclass
   AND d.objid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'clm')
   AND d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
   AND d.refobjid = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = 'clm');
UPDATE pg_catalog.pg_extension
   SET extnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = 'pg_catalog')
 WHERE extname = 'clm';
ALTER EXTENSION clm ADD SCHEMA clm;
-- As on a fresh install, the schema belongs to the role running the script (a
-- superuser; the bootstrap superuser when the update runs trusted) and the
-- extension's owner has USAGE with GRANT OPTION.  A 0.1 installed by a
-- database owner without superuser (trusted) had the schema made by, and
-- owned by, that role.
DO $$
DECLARE
    installer oid := (SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.extname = 'clm');
    nsp_owner oid := (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'clm');
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = nsp_owner) THEN
        EXECUTE pg_catalog.format('ALTER SCHEMA clm OWNER TO %I', current_user);
        nsp_owner := (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'clm');
    END IF;
    IF installer <> nsp_owner THEN
        EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA clm TO %I WITH GRANT OPTION',
                                  pg_catalog.pg_get_userbyid(installer));
    END IF;
END
$$;

-- 0.1 -> 0.2, core (the upgrade helper's part).
--
-- clm.rfm_map_check: its text || integer concatenations now cast the number
-- to text, so that they resolve to pg_catalog.textcat alone (text ||
-- anynonarray, a polymorphic operator, could be captured by an exact-typed
-- operator in a schema another role can write to: see docs/upgrading.md,
-- "Trusted install").  Re-created rather than replaced (no CREATE OR REPLACE
-- in the scripts), which also re-resolves a body that 0.1 parsed.
DROP FUNCTION clm.rfm_map_check(text, integer);
CREATE FUNCTION clm.rfm_map_check(map_name text, n integer DEFAULT 5,
    OUT problem text, OUT r_score integer, OUT f_score integer, OUT m_score integer,
    OUT rule_ids integer[], OUT segments text[], OUT detail text)
    RETURNS SETOF record
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC
    WITH cells AS (
        -- one series (not three cross-joined) keeps the row estimate small
        SELECT g / (rfm_map_check.n * rfm_map_check.n) + 1 AS r, g / rfm_map_check.n % rfm_map_check.n + 1 AS f, g % rfm_map_check.n + 1 AS m
          FROM pg_catalog.generate_series(0, CASE WHEN rfm_map_check.n BETWEEN 1 AND 9 THEN rfm_map_check.n * rfm_map_check.n * rfm_map_check.n - 1 ELSE -1 END) AS g
    ), rules AS (
        SELECT s.* FROM clm.rfm_segment_map AS s WHERE s.map_name = rfm_map_check.map_name
    ), cover AS (
        SELECT c.r, c.f, c.m, x.rule_id, x.segment, x.priority,
               pg_catalog.rank() OVER (PARTITION BY c.r, c.f, c.m ORDER BY x.priority) AS rk,
               pg_catalog.row_number() OVER (PARTITION BY c.r, c.f, c.m ORDER BY x.priority, x.rule_id) AS rn
          FROM cells AS c JOIN rules AS x
            ON c.r BETWEEN x.r_min AND x.r_max AND c.f BETWEEN x.f_min AND x.f_max
           AND c.m BETWEEN x.m_min AND x.m_max
    ), problems AS (
        SELECT 1 AS ord, 'gap'::text AS problem, c.r, c.f, c.m,
               NULL::integer[] AS rule_ids, NULL::text[] AS segments,
               'no rule covers this cell'::text AS detail
          FROM cells AS c
         WHERE NOT EXISTS (SELECT 1 FROM cover AS v WHERE v.r = c.r AND v.f = c.f AND v.m = c.m)
        UNION ALL
        SELECT 2, 'overlap', v.r, v.f, v.m,
               pg_catalog.array_agg(v.rule_id ORDER BY v.rule_id),
               pg_catalog.array_agg(v.segment ORDER BY v.rule_id),
               'rules of equal priority ' || pg_catalog.min(v.priority)::text || ' give different segments; the lowest rule_id fires'
          FROM cover AS v
         WHERE v.rk = 1
         GROUP BY v.r, v.f, v.m
        HAVING pg_catalog.count(DISTINCT v.segment) > 1
        UNION ALL
        SELECT 3, 'dead rule', NULL, NULL, NULL,
               ARRAY[x.rule_id], ARRAY[x.segment],
               CASE WHEN x.r_min > LEAST(x.r_max, rfm_map_check.n) OR x.f_min > LEAST(x.f_max, rfm_map_check.n)
                         OR x.m_min > LEAST(x.m_max, rfm_map_check.n)
                    THEN 'empty range: the rule covers no cell for n = ' || rfm_map_check.n::text
                    ELSE 'shadowed: every cell it covers is taken by rules '
                         || (SELECT pg_catalog.array_agg(DISTINCT w.rule_id ORDER BY w.rule_id)::text
                               FROM cover AS v JOIN cover AS w
                                 ON w.r = v.r AND w.f = v.f AND w.m = v.m AND w.rn = 1
                              WHERE v.rule_id = x.rule_id)
               END
          FROM rules AS x
         WHERE NOT EXISTS (SELECT 1 FROM cover AS v WHERE v.rule_id = x.rule_id AND v.rn = 1)
    )
    SELECT p.problem, p.r, p.f, p.m, p.rule_ids, p.segments, p.detail
      FROM problems AS p
     ORDER BY p.ord, p.r, p.f, p.m, p.rule_ids;
    END;
COMMENT ON FUNCTION clm.rfm_map_check(text, integer) IS 'validate a segment map over all n^3 score cells: one row per gap (cell no rule covers), per overlap (cell where rules of equal top priority give different segments) and per dead rule (empty range, or shadowed by higher-priority rules); no rows means total, unambiguous and without dead rules';

-- The role that installed clm manages the segment maps (a database owner in
-- a trusted install, where the table belongs to the bootstrap superuser).
GRANT INSERT, UPDATE, DELETE ON clm.rfm_segment_map TO @extowner@;

-- Next purchase and a new customer's forecast (src/model_predict.c,
-- src/core/clm_next.c; docs/models.md, "Next purchase" and "New customers").
-- New in 0.2: src/upgrade/0.1--0.2/55_forecast.sql is a link to this file.
CREATE FUNCTION clm.next_purchase(model clm.model, within float8,
	x float8, t_x float8, "T" float8,
	OUT p_alive float8, OUT p_purchase_within float8, OUT median_wait float8,
	OUT mean_wait float8, OUT mean_interval float8, OUT own_interval float8,
	OUT population_interval float8, OUT own_weight float8)
	AS 'MODULE_PATHNAME', 'clm_next_purchase_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clm.next_purchase(clm.model, float8, float8, float8, float8) IS 'next purchase of a customer (bgnbd, mbgnbd, paretonbd; times in the unit of the fit): P(alive), P(a purchase in the next within), median and mean wait for the next purchase given alive, mean time between purchases (alpha+T)/(r+x) with the own interval T/x, the population interval alpha/r and the weight T/(alpha+T) of the own rate';
CREATE FUNCTION clm.next_purchase_date(model clm.model, p clm.profile,
	calibration_end date, unit text DEFAULT 'week') RETURNS date
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	BEGIN ATOMIC
	SELECT CASE WHEN n.median_wait * d.days > 36525 THEN 'infinity'::date
		ELSE next_purchase_date.calibration_end + pg_catalog.round(n.median_wait * d.days)::integer END
	  FROM clm.btyd_inputs(next_purchase_date.p, next_purchase_date.calibration_end, next_purchase_date.unit) AS i,
		   clm.next_purchase(next_purchase_date.model, 0, i.x, i.t_x, i.t) AS n,
		   (SELECT CASE next_purchase_date.unit WHEN 'day' THEN 1.0::float8 WHEN 'week' THEN 7.0::float8
				ELSE 365.25::float8 / 12 END) AS d(days);
	END;
COMMENT ON FUNCTION clm.next_purchase_date(clm.model, clm.profile, date, text) IS 'expected date of the next purchase: calibration_end plus the median wait given alive (clm.next_purchase), rounded to a day; infinity beyond 100 years; NULL without a purchase by calibration_end. The model must be fitted in unit';
CREATE FUNCTION clm.new_customer_purchases(model clm.model, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_new_customer_purchases_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clm.new_customer_purchases(clm.model, float8) IS 'expected purchases in the first t time units of a customer just acquired (as CLVTools newcustomer()): E[X(t)] of the model (bgnbd, mbgnbd, paretonbd)';
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
CREATE OR REPLACE FUNCTION clm.customer_stage_rows(s bigint[],
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
COMMENT ON FUNCTION clm.customer_stage_rows(bigint[], double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'the stage of every customer of a clm.customer_stages value, as clm.stage as of its day, with the same default rules (clm.stage_rules()); population_gap_days => NULL is the population gap of the same customers (clm.population_gap), 30 if none has two purchase days';

-- comments that pointed at README sections now point at the docs/ pages
COMMENT ON FUNCTION clm.generate_events(pg_catalog.int8, pg_catalog.int8, pg_catalog.date, pg_catalog.date, pg_catalog.int4, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.text, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.text[], pg_catalog.int8) IS
'deterministic sample events (customer_id, occurred_at, event_type, amount, channel) from a buy-till-you-die simulation: BG/NBD, MBG/NBD or Pareto/NBD purchases (rates per week), Gamma-Gamma spend, visits, prospects, refunds; customers first_customer .. first_customer + customers - 1; instants in UTC; see docs/sample-data.md';
-- Stage rules as one value: the type clm.stage_rules, its constructor (the one
-- place that holds the defaults: a 30-day population gap, prior strength 2,
-- new for 30 days, ratios 2, 4 and 8, gaps of the customer's own), and the
-- forms of the stage functions and aggregates that take it.  The C functions
-- read a clm.stage_rules argument in place of the seven scalar rules
-- (src/stage.c, rules_read), so each form below is the same C function.

CREATE TYPE clm.stage_rules AS (
    population_gap_days double precision,
    prior_strength double precision,
    new_days integer,
    active_ratio double precision,
    at_risk_ratio double precision,
    lapsed_ratio double precision,
    fixed_days boolean
);
COMMENT ON TYPE clm.stage_rules IS 'the rules of the lifecycle stages (clm.stage and every stage function and aggregate); make one with clm.stage_rules(...), which holds the defaults and checks the rules';
COMMENT ON COLUMN clm.stage_rules.population_gap_days IS 'gap between purchases (days) that a customer''s own mean gap is shrunk toward; default 30; NULL = the population gap of the customers at hand (clm.customer_stage_rows, tracked sources), an error elsewhere';
COMMENT ON COLUMN clm.stage_rules.prior_strength IS 'weight of the population gap, in gaps (default 2; 0 = the customer''s own mean gap)';
COMMENT ON COLUMN clm.stage_rules.new_days IS 'a customer is new for this many days after the first purchase (default 30)';
COMMENT ON COLUMN clm.stage_rules.active_ratio IS 'active while the days since the last purchase are at most this many expected gaps (default 2)';
COMMENT ON COLUMN clm.stage_rules.at_risk_ratio IS 'at_risk up to this many expected gaps (default 4)';
COMMENT ON COLUMN clm.stage_rules.lapsed_ratio IS 'lapsed up to this many expected gaps, churned beyond (default 8)';
COMMENT ON COLUMN clm.stage_rules.fixed_days IS 'true: the expected gap is population_gap_days for everyone, so the thresholds are fixed numbers of days (default false)';

CREATE FUNCTION clm.stage_rules(
    population_gap_days double precision DEFAULT 30,
    prior_strength double precision DEFAULT 2,
    new_days integer DEFAULT 30,
    active_ratio double precision DEFAULT 2,
    at_risk_ratio double precision DEFAULT 4,
    lapsed_ratio double precision DEFAULT 8,
    fixed_days boolean DEFAULT false)
    RETURNS clm.stage_rules
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
               lapsed_ratio, fixed_days)::clm.stage_rules;
END
$fn$;
COMMENT ON FUNCTION clm.stage_rules(double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'the stage rules, checked (22023, 22004), with the defaults of every stage function: population gap 30 days (NULL: the population''s own, where customers are at hand), prior strength 2, new for 30 days, active up to 2, at_risk up to 4, lapsed up to 8 expected gaps';

CREATE FUNCTION clm.stage(p clm.profile, as_of date, rules clm.stage_rules)
    RETURNS clm.stage_result
    AS 'MODULE_PATHNAME', 'clm_stage' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clm.stage(clm.profile, date, clm.stage_rules) IS 'lifecycle stage of a customer as of a day under the given rules (clm.stage_rules), with the reason';

CREATE FUNCTION clm.stage_name(p clm.profile, as_of date, rules clm.stage_rules)
    RETURNS text
    AS 'MODULE_PATHNAME', 'clm_stage_only' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clm.stage_name(clm.profile, date, clm.stage_rules) IS 'the stage of clm.stage alone under the given rules (clm.stage_rules)';

CREATE FUNCTION clm.stage_history(p clm.profile, "from" date, "to" date,
    period text, week_start integer, rules clm.stage_rules,
    OUT period_start date, OUT stage text, OUT reason text,
    OUT expected_gap_days double precision, OUT days_since_last_purchase integer,
    OUT gap_ratio double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_stage_history' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
COMMENT ON FUNCTION clm.stage_history(clm.profile, date, date, text, integer, clm.stage_rules) IS 'the customer''s stage under the given rules (clm.stage_rules) on every period start from "from" to "to" inclusive';

CREATE FUNCTION clm.stage_changes(p clm.profile, "from" date, "to" date,
    rules clm.stage_rules,
    OUT changed_on date, OUT from_stage text, OUT to_stage text, OUT reason text,
    OUT days_in_previous_stage integer, OUT days_dormant integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_stage_changes' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 8;
COMMENT ON FUNCTION clm.stage_changes(clm.profile, date, date, clm.stage_rules) IS 'every day from "from" to "to" on which the customer''s stage under the given rules (clm.stage_rules) differs from the day before';

CREATE FUNCTION clm.customer_stage_rows(s bigint[], rules clm.stage_rules,
    OUT customer_id bigint, OUT stage text, OUT reason text,
    OUT expected_gap_days double precision, OUT days_since_last_purchase integer,
    OUT gap_ratio double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_customer_stage_rows' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION clm.customer_stage_rows(bigint[], clm.stage_rules) IS 'the stage of every customer of a clm.customer_stages value under the given rules (clm.stage_rules); a NULL population_gap_days in the rules is the population gap of the same customers';

CREATE FUNCTION clm.stage_transitions_trans(bigint[], clm.profile, date, date, clm.stage_rules)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION clm.stage_transitions_trans(bigint[], clm.profile, date, date, clm.stage_rules) IS 'aggregate support: add one customer to a transition matrix (transition function of clm.stage_transitions)';
CREATE AGGREGATE clm.stage_transitions(p clm.profile, "from" date, "to" date,
    rules clm.stage_rules) (
    SFUNC = clm.stage_transitions_trans, STYPE = bigint[],
    COMBINEFUNC = clm.stage_transitions_combine,
    FINALFUNC = clm.stage_transitions_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE clm.stage_transitions(clm.profile, date, date, clm.stage_rules) IS 'transition matrix: customers by (stage on "from", stage on "to") under the given rules (clm.stage_rules); expand with clm.transition_rows';

CREATE FUNCTION clm.stage_counts_trans(bigint[], clm.profile, date, date, clm.stage_rules)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION clm.stage_counts_trans(bigint[], clm.profile, date, date, clm.stage_rules) IS 'aggregate support: add one customer''s stage changes over the range (transition function of clm.stage_counts)';
CREATE AGGREGATE clm.stage_counts(p clm.profile, "from" date, "to" date,
    rules clm.stage_rules) (
    SFUNC = clm.stage_counts_trans, STYPE = bigint[],
    COMBINEFUNC = clm.stage_counts_combine,
    FINALFUNC = clm.stage_counts_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE clm.stage_counts(clm.profile, date, date, clm.stage_rules) IS 'customers in each stage under the given rules (clm.stage_rules) on every day from "from" to "to"; expand with clm.stage_count_rows';
-- Tracked sources, 0.1 -> 0.2 (src/sql/80_track_*.sql): the catalog table
-- and the type refresh_result stay (with their rows); its policies, the view
-- and every function are dropped here and made again by the files that
-- follow, which are the install script's own (symbolic links to
-- src/sql/81_track_policies.sql ... 86_track_manage.sql); then
-- 89_track_upgrade.sql brings each tracked source's schema up to 0.2
-- (clm.upgrade_tracked).
COMMENT ON TABLE clm.tracked_source IS 'clm catalog: one row per source registered by clm.track (kept by pg_dump; a role sees the rows of the sources it owns, may read or reads the views of, and changes only its own)';
DROP POLICY tracked_source_read ON clm.tracked_source;
DROP POLICY tracked_source_own ON clm.tracked_source;
DROP VIEW clm.tracked_sources;
DROP FUNCTION clm.track_settings(jsonb);
DROP FUNCTION clm.track_stage_args(jsonb);
DROP FUNCTION clm.track_customers_sql(text, name, jsonb);
DROP FUNCTION clm.track_customers_comments();
DROP FUNCTION clm.track_create_views(name, jsonb);
DROP FUNCTION clm.track_lookup(text);
DROP FUNCTION clm.track_grant_writers(regclass, name);
DROP FUNCTION clm.track(regclass, name, name, name, name, name, text, text, name, jsonb);
DROP FUNCTION clm.track_profile_sql(clm.tracked_source, boolean);
DROP FUNCTION clm.track_lock(text, boolean);
DROP FUNCTION clm.track_refit(clm.tracked_source, date);
DROP FUNCTION clm.track_views(boolean);
DROP FUNCTION clm.track_refresh_views(name);
DROP FUNCTION clm.track_customers_all(clm.tracked_source);
DROP FUNCTION clm.track_as_of(jsonb);
DROP FUNCTION clm.rebuild_internal(text, boolean);
DROP FUNCTION clm.rebuild(text, boolean);
DROP FUNCTION clm.refresh(text, boolean, boolean, boolean);
DROP FUNCTION clm.grant_reader(text, name);
DROP FUNCTION clm.revoke_reader(text, name);
DROP FUNCTION clm.grant_writer(text, name);
DROP FUNCTION clm.untrack(text);
DROP FUNCTION clm.pending_events(text);
-- Row-level security of the tracked-source catalog: a role sees the
-- registrations of the sources it owns (or whose owner it is a member of),
-- may read (SELECT on the source) or reads the views of (clm.grant_reader),
-- and changes only its own.  (to_regrole: an
-- owner role that no longer exists hides the row rather than failing every
-- query of the catalog.)
CREATE POLICY tracked_source_read ON clm.tracked_source FOR SELECT
    USING (pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(owner)), 'MEMBER')
           OR pg_catalog.has_table_privilege(source, 'SELECT')
           OR EXISTS (SELECT FROM pg_catalog.unnest(readers) AS rd(r)
                       WHERE pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(rd.r)), 'MEMBER')));
CREATE POLICY tracked_source_own ON clm.tracked_source
    USING (pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(owner)), 'MEMBER'))
    WITH CHECK (pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(owner)), 'MEMBER'));
-- The settings with their defaults; clm.track validates a user's jsonb against it.
CREATE FUNCTION clm.track_settings(settings jsonb DEFAULT '{}')
    RETURNS jsonb LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    defaults jsonb := jsonb_build_object(
        'time_zone', current_setting('TimeZone'),
        'as_of', NULL,
        'rfm_map', 'rfm11',
        'rfm_scores', 5,
        'model', 'bgnbd',
        'clv_horizon_weeks', 52,
        'annual_discount_rate', 0.10,
        'margin', 1.0,
        'half_life_days', 30,
        'week_start', 1,
        'stage_days', 90,
        'lifecycle_weeks', 52,
        'cohort_months', 24,
        'transition_days', 90,
        'refit_interval', '1 day',
        'views_interval', '1 hour')
        -- the stage rules and their defaults: those of clm.stage_rules(), the one
        -- place that holds them (population_gap_days 30; "population" for the
        -- customers' own gap)
        || pg_catalog.to_jsonb(clm.stage_rules());
    s jsonb;
    k text;
    v jsonb;
BEGIN
    IF settings IS NULL THEN
        settings := '{}';
    END IF;
    IF jsonb_typeof(settings) <> 'object' THEN
        RAISE EXCEPTION 'clm: settings must be a JSON object'
            USING ERRCODE = '22023';
    END IF;
    FOR k IN SELECT jsonb_object_keys(settings) LOOP
        IF NOT defaults ? k THEN
            RAISE EXCEPTION 'clm: unknown setting "%"', k
                USING ERRCODE = '22023',
                      HINT = 'Known settings: ' || (SELECT string_agg(x, ', ' ORDER BY x) FROM jsonb_object_keys(defaults) x) || '.';
        END IF;
    END LOOP;
    s := defaults || jsonb_strip_nulls(settings);
    -- check each value by converting it to its type
    BEGIN
        PERFORM now() AT TIME ZONE (s->>'time_zone');
        PERFORM (s->>'as_of')::date, (s->>'refit_interval')::interval, (s->>'views_interval')::interval,
                (s->>'fixed_days')::boolean;
        FOREACH k IN ARRAY ARRAY['rfm_scores', 'clv_horizon_weeks', 'new_days', 'week_start',
                                 'stage_days', 'lifecycle_weeks', 'cohort_months', 'transition_days'] LOOP
            PERFORM (s->>k)::integer;
        END LOOP;
        FOREACH k IN ARRAY ARRAY['annual_discount_rate', 'margin', 'prior_strength',
                                 'active_ratio', 'at_risk_ratio', 'lapsed_ratio', 'half_life_days'] LOOP
            PERFORM (s->>k)::float8;
        END LOOP;
        -- the stage rules, checked as clm.stage_rules checks them
        PERFORM clm.stage_rules(nullif(s->>'population_gap_days', 'population')::float8,
                                        (s->>'prior_strength')::float8, (s->>'new_days')::integer,
                                        (s->>'active_ratio')::float8, (s->>'at_risk_ratio')::float8,
                                        (s->>'lapsed_ratio')::float8, (s->>'fixed_days')::boolean);
    EXCEPTION WHEN data_exception OR invalid_parameter_value OR datetime_field_overflow THEN
        RAISE EXCEPTION 'clm: invalid settings: %', SQLERRM USING ERRCODE = '22023';
    END;
    IF (s->>'rfm_scores')::int NOT BETWEEN 2 AND 9 THEN
        RAISE EXCEPTION 'clm: rfm_scores must be between 2 and 9' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM clm.rfm_segment_map m WHERE m.map_name = s->>'rfm_map') THEN
        RAISE EXCEPTION 'clm: no RFM segment map named "%"', s->>'rfm_map'
            USING ERRCODE = '22023', HINT = 'See clm.rfm_segment_map.';
    END IF;
    IF s->>'model' NOT IN ('bgnbd', 'mbgnbd', 'paretonbd') THEN
        RAISE EXCEPTION 'clm: model must be bgnbd, mbgnbd or paretonbd, not "%"', s->>'model'
            USING ERRCODE = '22023';
    END IF;
    IF (s->>'clv_horizon_weeks')::int NOT BETWEEN 1 AND 5200 THEN
        RAISE EXCEPTION 'clm: clv_horizon_weeks must be between 1 and 5200' USING ERRCODE = '22023';
    END IF;
    IF NOT (s->>'annual_discount_rate')::float8 BETWEEN 0 AND 100 THEN
        RAISE EXCEPTION 'clm: annual_discount_rate must be between 0 and 100 (0.1 = 10%% a year)' USING ERRCODE = '22023';
    END IF;
    IF NOT (s->>'margin')::float8 BETWEEN 0 AND 1 THEN
        RAISE EXCEPTION 'clm: margin must be between 0 and 1' USING ERRCODE = '22023';
    END IF;
    IF (s->>'week_start')::int NOT BETWEEN 1 AND 7 THEN
        RAISE EXCEPTION 'clm: week_start must be between 1 (Monday) and 7 (Sunday)' USING ERRCODE = '22023';
    END IF;
    IF (s->>'stage_days')::int NOT BETWEEN 1 AND 3660 OR (s->>'transition_days')::int NOT BETWEEN 1 AND 3660
       OR (s->>'lifecycle_weeks')::int NOT BETWEEN 1 AND 520 OR (s->>'cohort_months')::int NOT BETWEEN 0 AND 240 THEN
        RAISE EXCEPTION 'clm: stage_days and transition_days must be in 1..3660, lifecycle_weeks in 1..520, cohort_months in 0..240'
            USING ERRCODE = '22023';
    END IF;
    IF (s->>'half_life_days')::float8 <= 0 OR nullif(s->>'population_gap_days', 'population')::float8 <= 0 THEN
        RAISE EXCEPTION 'clm: half_life_days and population_gap_days must be positive' USING ERRCODE = '22023';
    END IF;
    IF (s->>'refit_interval')::interval < '0' OR (s->>'views_interval')::interval < '0' THEN
        RAISE EXCEPTION 'clm: refit_interval and views_interval must not be negative' USING ERRCODE = '22023';
    END IF;
    RETURN s;
END
$fn$;
COMMENT ON FUNCTION clm.track_settings(jsonb) IS 'the settings of a tracked source: the given jsonb object checked and completed with every default';

-- The stage rule arguments (after "as_of, population gap") as SQL text.
CREATE FUNCTION clm.track_stage_args(s jsonb)
    RETURNS text LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT format('%s::float8, %s::int, %s::float8, %s::float8, %s::float8, %s::boolean',
                  quote_literal(s->>'prior_strength'), quote_literal(s->>'new_days'),
                  quote_literal(s->>'active_ratio'), quote_literal(s->>'at_risk_ratio'),
                  quote_literal(s->>'lapsed_ratio'), quote_literal(s->>'fixed_days'))
$fn$;
COMMENT ON FUNCTION clm.track_stage_args(jsonb) IS 'internal: the stage rule arguments of a tracked source as SQL text';

-- The day the views describe: the fixed as_of setting or today in the source's zone.
CREATE FUNCTION clm.track_as_of(s jsonb)
    RETURNS date LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT coalesce((s->>'as_of')::date, (now() AT TIME ZONE (s->>'time_zone'))::date)
$fn$;
COMMENT ON FUNCTION clm.track_as_of(jsonb) IS 'internal: the as_of day of a tracked source (the as_of setting, else today in its time_zone)';
-- The columns of a tracked source's customers table, in table order: name,
-- type (NULL: the source's customer id type), the SQL expression over the row
-- x of the query of clm.track_customers_sql ({rfm_map}, {horizon},
-- {weekly_rate}, {margin} and {half_life} stand for settings), and comment.
-- The one catalog the customers table is made, filled and upgraded from: a
-- later version adds a column by appending it here (clm.upgrade_tracked then
-- adds it to the existing customers tables, ALTER TABLE ... ADD COLUMN, at the
-- end, where a fresh table has it too).
CREATE FUNCTION clm.track_customers_columns(OUT col name, OUT type text, OUT expr text, OUT doc text)
    RETURNS SETOF record LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
VALUES
 ('customer_id', NULL,
  'x.customer_id',
  'customer id (as in the source)'),
 ('as_of', 'date',
  'x.as_of',
  'day the row describes (date): the refresh day in the source''s time zone, or the fixed as_of setting'),
 ('first_purchase', 'date',
  '(x.sm).first_purchase',
  'first purchase day (date)'),
 ('last_purchase', 'date',
  '(x.sm).last_purchase',
  'last purchase day (date)'),
 ('orders', 'integer',
  '(x.sm).orders',
  'purchase days (count; orders on one day count once)'),
 ('frequency', 'integer',
  '(x.sm).frequency',
  'repeat purchase days = orders - 1 (count)'),
 ('transactions', 'bigint',
  '(x.sm).transactions',
  'purchase events, every order counted (count)'),
 ('recency_days', 'integer',
  '(x.sm).recency_days',
  'last_purchase - first_purchase (days)'),
 ('tenure_days', 'integer',
  '(x.sm).tenure_days',
  'as_of - first_purchase (days)'),
 ('days_since_last_purchase', 'integer',
  '(x.sm).days_since_last_purchase',
  'as_of - last_purchase (days)'),
 ('monetary', 'numeric',
  'round((x.sm).monetary, 4)',
  'mean net spend of the repeat purchase days (currency units, rounded to 4 decimals, the precision amounts are kept to; 0 with no repeat purchase, as in clm.summary)'),
 ('total_spend', 'numeric',
  '(x.sm).total_spend',
  'net spend of all purchase days, refunds subtracted (currency units)'),
 ('first_seen', 'date',
  '(x.sm).first_seen',
  'first day with any event (date)'),
 ('last_seen', 'date',
  '(x.sm).last_seen',
  'last day with any event (date)'),
 ('active_days', 'integer',
  '(x.sm).active_days',
  'days with any event (count)'),
 ('days_since_last_seen', 'integer',
  '(x.sm).days_since_last_seen',
  'as_of - last_seen (days)'),
 ('mean_gap_days', 'double precision',
  'round((x.sm).mean_gap_days::numeric, 2)::float8',
  'mean gap between purchase days = recency_days / frequency (days, rounded to 2 decimals)'),
 ('r_score', 'integer',
  '(x.sc).r_score',
  'RFM recency score, 1 (longest ago) to n (most recent), population breakpoints of the last refit'),
 ('f_score', 'integer',
  '(x.sc).f_score',
  'RFM frequency score, 1 (fewest purchase days) to n'),
 ('m_score', 'integer',
  '(x.sc).m_score',
  'RFM monetary score, 1 (lowest total spend) to n'),
 ('rfm_code', 'text',
  '(x.sc).rfm_code',
  'r, f and m scores as three digits'),
 ('rfm_segment', 'text',
  '(clm.rfm_segment((x.sc).r_score, (x.sc).f_score, (x.sc).m_score, {rfm_map})).segment',
  'segment of the score cell in the configured segment map (rfm_map setting)'),
 ('stage', 'text',
  '(x.st).stage',
  'lifecycle stage: prospect, new, active, at_risk, lapsed, churned or reactivated (clm.stage)'),
 ('stage_reason', 'text',
  '(x.st).reason',
  'why the customer is in that stage, in words'),
 ('expected_gap_days', 'double precision',
  'round((x.st).expected_gap_days::numeric, 2)::float8',
  'the customer''s expected gap between purchases, shrunk toward the population''s (days, rounded to 2 decimals)'),
 ('p_alive', 'double precision',
  'round(clm.p_alive(x.model, (x.b).x, (x.b).t_x, (x.b).t)::numeric, 4)::float8',
  'probability that the customer is still active, from the fitted purchase model (0 to 1, rounded to 4 decimals)'),
 ('churn_probability', 'double precision',
  'round(clm.churn_probability(x.model, (x.b).x, (x.b).t_x, (x.b).t)::numeric, 4)::float8',
  '1 - p_alive (0 to 1, rounded to 4 decimals)'),
 ('expected_purchases_30d', 'double precision',
  'round(clm.expected_purchases(x.model, 30 / 7.0, (x.b).x, (x.b).t_x, (x.b).t)::numeric, 4)::float8',
  'expected purchase days in the next 30 days (count, rounded to 4 decimals)'),
 ('expected_purchases_90d', 'double precision',
  'round(clm.expected_purchases(x.model, 90 / 7.0, (x.b).x, (x.b).t_x, (x.b).t)::numeric, 4)::float8',
  'expected purchase days in the next 90 days (count, rounded to 4 decimals)'),
 ('expected_purchases_365d', 'double precision',
  'round(clm.expected_purchases(x.model, 365 / 7.0, (x.b).x, (x.b).t_x, (x.b).t)::numeric, 4)::float8',
  'expected purchase days in the next 365 days (count, rounded to 4 decimals)'),
 ('expected_spend', 'double precision',
  'round(x.spend::numeric, 2)::float8',
  'expected spend per purchase day, Gamma-Gamma conditional mean (currency units, rounded to 2 decimals; NULL when refunds make the mean repeat spend zero or negative)'),
 ('clv', 'double precision',
  'round(clm.clv(x.model, {horizon}, {weekly_rate}, {margin}::float8, x.spend, (x.b).x, (x.b).t_x, (x.b).t)::numeric, 2)::float8',
  'customer lifetime value over clv_horizon_weeks: margin x expected spend (unrounded) x discounted expected purchases (currency units, rounded to 2 decimals)'),
 ('preferred_channel', 'text',
  'clm.preferred_channel(x.profile, x.as_of, {half_life}::float8)',
  'channel with the highest recency-weighted engagement (clm.preferred_channel)'),
 ('profile_changed_at', 'timestamp with time zone',
  'x.changed_at',
  'when the customer''s stored profile last changed (refresh time)')
$fn$;
COMMENT ON FUNCTION clm.track_customers_columns() IS 'internal: the columns of a tracked source''s customers table (name, type, SQL expression, comment), in table order';

-- The customers rows of the (customer_id, profile, changed_at) rows of
-- relation rel, as SQL text: the columns of clm.track_customers_columns, in
-- its order and named as there.
CREATE FUNCTION clm.track_customers_sql(rel text, target name, s jsonb)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    cols text;
BEGIN
    SELECT string_agg(format('%s AS %I',
               replace(replace(replace(replace(replace(c.expr,
                   '{rfm_map}', quote_literal(s->>'rfm_map')),
                   '{horizon}', ((s->>'clv_horizon_weeks')::int)::text),
                   '{weekly_rate}', format('(power(1 + %s::float8, 7 / 365.25) - 1)', quote_literal(s->>'annual_discount_rate'))),
                   '{margin}', quote_literal(s->>'margin')),
                   '{half_life}', quote_literal(s->>'half_life_days')),
               c.col), E',\n       ')
      INTO cols
      FROM clm.track_customers_columns() c;
    -- each composite (summary, scores, stage, model inputs) is computed once
    -- per row in the inner query (OFFSET 0 keeps it from being flattened) and
    -- its fields read outside, without a function scan per call
    RETURN format($q$
SELECT %1$s
  FROM (SELECT y.*,
               CASE WHEN (y.b).x = 0 OR (y.b).mean_spend > 0
                    THEN clm.expected_spend(y.spend_model, (y.b).x, (y.b).mean_spend::float8) END AS spend
          FROM (SELECT r.customer_id, r.profile, r.changed_at, f.as_of, f.model, f.spend_model,
                       clm.summary(r.profile, f.as_of) AS sm,
                       clm.rfm_score(r.profile, f.breakpoints, f.as_of) AS sc,
                       clm.stage(r.profile, f.as_of, f.population_gap, %3$s) AS st,
                       clm.btyd_inputs(r.profile, f.as_of, 'week') AS b
                  FROM %2$s r CROSS JOIN %4$I.clm_fit f
                OFFSET 0) y
        OFFSET 0) x
$q$, cols, rel, clm.track_stage_args(s), target);
END
$fn$;
COMMENT ON FUNCTION clm.track_customers_sql(text, name, jsonb) IS 'internal: the query computing the customers rows of a tracked source (columns as clm.track_customers_columns)';

-- The column list of a tracked source's customers table, as SQL text.
CREATE FUNCTION clm.track_customers_list()
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT string_agg(quote_ident(c.col), ', ') FROM clm.track_customers_columns() c
$fn$;
COMMENT ON FUNCTION clm.track_customers_list() IS 'internal: the column names of a tracked source''s customers table, in order, as SQL text (for INSERT column lists)';

-- The documentation of a tracked source's materialised views: one row per
-- view (col NULL) and per column.  clm.track_create_views comments the views
-- with it, and clm.upgrade_tracked makes a source's views again when their
-- comments differ from it: a version that changes what a view computes says
-- so in its comment here.
CREATE FUNCTION clm.track_views_docs(OUT rel name, OUT col name, OUT doc text)
    RETURNS SETOF record LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
VALUES
    ('stage_counts_daily', NULL::name, 'customers in each lifecycle stage on each of the last stage_days days (stage as clm.stage, rules of the tracked source)'),
    ('stage_counts_daily', 'day', 'the day (date)'),
    ('stage_counts_daily', 'stage', 'lifecycle stage'),
    ('stage_counts_daily', 'customers', 'customers in that stage at the end of the day (count)'),
    ('stage_counts_daily', 'as_of', 'day of the last refit (date)'),
    ('lifecycle_weekly', NULL, 'new, returning, resurrecting and dormant customers per whole week (clm.lifecycle, any event counts as activity); a week appears once it has ended, on or before as_of, as months do in cohort_retention_monthly'),
    ('lifecycle_weekly', 'week_start', 'first day of the week (date; week_start setting, 1 = Monday)'),
    ('lifecycle_weekly', 'new_customers', 'customers whose first event ever is in the week (count)'),
    ('lifecycle_weekly', 'returning_customers', 'customers active in the week and in the week before (count)'),
    ('lifecycle_weekly', 'resurrecting_customers', 'customers active in the week, inactive the week before and active in some earlier week (count)'),
    ('lifecycle_weekly', 'dormant_customers', 'customers active the week before and inactive in this week (count)'),
    ('lifecycle_weekly', 'active_customers', 'customers with an event in the week (count)'),
    ('lifecycle_weekly', 'pulse', '(new + resurrecting) / dormant (ratio, rounded to 4 decimals; NULL with no dormant customer)'),
    ('lifecycle_weekly', 'as_of', 'day of the last refit (date)'),
    ('cohort_retention_monthly', NULL, 'monthly cohorts by first purchase: customers who bought again in each later month (clm.retention, exact period)'),
    ('cohort_retention_monthly', 'cohort', 'month of the first purchase (date, first of the month)'),
    ('cohort_retention_monthly', 'month_offset', 'months after the cohort month (0 = the cohort month)'),
    ('cohort_retention_monthly', 'cohort_customers', 'customers in the cohort (count)'),
    ('cohort_retention_monthly', 'retained_customers', 'cohort customers with a purchase in that month (count)'),
    ('cohort_retention_monthly', 'retention_rate', 'retained_customers / cohort_customers (0 to 1, rounded to 4 decimals)'),
    ('cohort_retention_monthly', 'revenue', 'net spend of the cohort in that month (currency units)'),
    ('cohort_retention_monthly', 'as_of', 'day of the last refit (date); only months ended by then are shown'),
    ('stage_transitions', NULL, 'customers by stage on from_day and stage on to_day (the last transition_days days); none = no event yet'),
    ('stage_transitions', 'from_stage', 'stage on from_day (none = no event yet)'),
    ('stage_transitions', 'to_stage', 'stage on to_day'),
    ('stage_transitions', 'customers', 'customers making that move (count)'),
    ('stage_transitions', 'from_day', 'start of the window (date)'),
    ('stage_transitions', 'to_day', 'end of the window (date)'),
    ('segment_summary', NULL, 'one row per RFM segment: customers, revenue, CLV and churn risk (from the customers table)'),
    ('segment_summary', 'segment', 'RFM segment (no purchase = customers with activity only)'),
    ('segment_summary', 'customers', 'customers in the segment (count)'),
    ('segment_summary', 'revenue', 'their total net spend to date (currency units)'),
    ('segment_summary', 'mean_clv', 'mean of the customers'' clv (currency units, rounded to 2 decimals)'),
    ('segment_summary', 'total_clv', 'sum of the customers'' clv (currency units, rounded to 2 decimals)'),
    ('segment_summary', 'mean_churn_probability', 'mean of the customers'' churn_probability (0 to 1, rounded to 4 decimals)'),
    ('segment_summary', 'at_risk_customers', 'customers of the segment in the lifecycle stage at_risk (count; the RFM segment "at risk" is another notion)'),
    ('segment_summary', 'as_of', 'day of the customers rows (date)'),
    ('models', NULL, 'the fitted models of the last refit and their fit quality: purchase model (model setting) and Gamma-Gamma spend model'),
    ('models', 'role', 'purchase (BG/NBD, MBG/NBD or Pareto/NBD, time unit week) or spend (Gamma-Gamma)'),
    ('models', 'kind', 'model kind (clm.model_info)'),
    ('models', 'parameter_names', 'names of the parameters'),
    ('models', 'parameters', 'maximum-likelihood estimates (rates per week; rounded to 6 significant digits, the model column keeps them exact)'),
    ('models', 'std_errors', 'standard errors from the Hessian (rounded to 6 significant digits)'),
    ('models', 'log_likelihood', 'log-likelihood at the estimates (rounded to 2 decimals)'),
    ('models', 'n_customers', 'customers in the fit (count)'),
    ('models', 'n_distinct', 'distinct input tuples in the fit (count)'),
    ('models', 'converged', 'true if the optimiser converged'),
    ('models', 'iterations', 'optimiser iterations'),
    ('models', 'message', 'optimiser message'),
    ('models', 'aic', 'Akaike information criterion = 2k - 2 log-likelihood (unrounded log-likelihood; rounded to 2 decimals)'),
    ('models', 'bic', 'Bayesian information criterion = k ln(n) - 2 log-likelihood (unrounded log-likelihood; rounded to 2 decimals)'),
    ('models', 'error', 'why the model could not be fitted (NULL if it was)'),
    ('models', 'fitted_at', 'when the fit ran (timestamptz)'),
    ('models', 'fit_seconds', 'duration of the refit (seconds, rounded to milliseconds)'),
    ('models', 'as_of', 'calibration end of the fit (date)'),
    ('models', 'model', 'the fitted clm.model value, for clm.p_alive, clm.clv and the other predictions')
$fn$;
COMMENT ON FUNCTION clm.track_views_docs() IS 'internal: the comments of a tracked source''s materialised views and their columns (col NULL: the view''s own)';

-- Creates (or re-creates) the population materialised views of a tracked source.
-- (jit = off here and in the refit, customers, refresh and rebuild functions:
-- their statements spend their time in clm's C functions, which JIT cannot
-- speed up, and the planner's estimates of the LATERAL function joins
-- (one-row clm_fit estimated at hundreds of rows) trigger JIT with inlining and
-- optimisation, 0.2 to 0.3 s of compilation per statement.)
CREATE FUNCTION clm.track_create_views(r clm.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    t name := r.target_schema;
    s jsonb := r.settings;
    stage_args text := clm.track_stage_args(s);
    -- an array of double precision rounded to 6 significant digits (zeros,
    -- infinities, NaN and NULLs kept), NULL for NULL
    sig6 text := $s$CASE WHEN %1$s IS NOT NULL THEN ARRAY(
        SELECT CASE WHEN u.v = 0 OR u.v IN ('Infinity', '-Infinity', 'NaN') THEN u.v
                    ELSE round(u.v::numeric, 5 - floor(log(abs(u.v)::numeric))::integer)::float8 END
          FROM unnest(%1$s) WITH ORDINALITY u(v, o) ORDER BY u.o) END$s$;
    c record;
BEGIN
    IF clm.track_act_as(r, 'clm.track') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    -- stage counts per day: one pass of clm.stage_counts over the profiles
    -- (each customer's stage on the first day, then its changes); the outer
    -- join gives zero rows, not none, when there is no profile yet
    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.stage_counts_daily AS
SELECT r.day, r.stage, r.customers, a.as_of
  FROM (SELECT clm.stage_counts(p.profile, f.as_of - %2$s + 1, f.as_of, f.population_gap, %3$s) AS c
          FROM %1$I.clm_fit f LEFT JOIN %1$I.profiles p ON true) agg
       CROSS JOIN LATERAL clm.stage_count_rows(agg.c) r
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
$q$, t, (s->>'stage_days')::int, stage_args);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.stage_counts_daily (day, stage)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.lifecycle_weekly AS
SELECT l.period_start AS week_start, l.new_customers, l.returning_customers, l.resurrecting_customers,
       l.dormant_customers, l.active_customers, round(l.pulse::numeric, 4)::float8 AS pulse, a.as_of
  FROM (SELECT clm.lifecycle(p.profile, f.as_of - 7 * %2$s, f.as_of, 'week', 1, false, %3$s) AS c
          FROM %1$I.profiles p CROSS JOIN %1$I.clm_fit f) agg
       CROSS JOIN LATERAL clm.lifecycle_rows(agg.c) l
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
 WHERE l.period_start + 6 <= a.as_of   -- whole weeks only, as cohort_retention_monthly has whole months
$q$, t, (s->>'lifecycle_weeks')::int, (s->>'week_start')::int);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.lifecycle_weekly (week_start)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.cohort_retention_monthly AS
SELECT r.cohort, r.period_offset AS month_offset, r.cohort_customers, r.retained_customers,
       round(r.retention_rate::numeric, 4)::float8 AS retention_rate, r.revenue, a.as_of
  FROM (SELECT clm.retention(p.profile,
                   (date_trunc('month', f.as_of) - interval '%2$s months')::date, f.as_of, 'month') AS c
          FROM %1$I.profiles p CROSS JOIN %1$I.clm_fit f) agg
       CROSS JOIN LATERAL clm.retention_rows(agg.c) r
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
 WHERE r.cohort IS NOT NULL
$q$, t, (s->>'cohort_months')::int);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.cohort_retention_monthly (cohort, month_offset)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.stage_transitions AS
SELECT coalesce(r.from_stage, 'none') AS from_stage, coalesce(r.to_stage, 'none') AS to_stage,
       r.customers, a.as_of - %2$s AS from_day, a.as_of AS to_day
  FROM (SELECT clm.stage_transitions(p.profile, f.as_of - %2$s, f.as_of, f.population_gap, %3$s) AS m
          FROM %1$I.profiles p CROSS JOIN %1$I.clm_fit f) agg
       CROSS JOIN LATERAL clm.transition_rows(agg.m) r
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
$q$, t, (s->>'transition_days')::int, stage_args);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.stage_transitions (from_stage, to_stage)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.segment_summary AS
SELECT coalesce(c.rfm_segment, 'no purchase') AS segment,
       count(*) AS customers,
       coalesce(sum(c.total_spend), 0) AS revenue,
       round(avg(c.clv)::numeric, 2)::float8 AS mean_clv,
       round(sum(c.clv)::numeric, 2)::float8 AS total_clv,
       round(avg(c.churn_probability)::numeric, 4)::float8 AS mean_churn_probability,
       count(*) FILTER (WHERE c.stage = 'at_risk') AS at_risk_customers,
       max(c.as_of) AS as_of
  FROM %1$I.customers c
 GROUP BY 1
$q$, t);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.segment_summary (segment)', t);

    -- figures rounded for reading (the model column keeps the exact fit):
    -- parameters and standard errors to 6 significant digits, likelihoods
    -- and criteria to 2 decimals, the duration to milliseconds
    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.models AS
SELECT m.role, i.kind, i.parameter_names, %2$s AS parameters, %3$s AS std_errors,
       round(i.log_likelihood::numeric, 2)::float8 AS log_likelihood,
       i.n_customers, i.n_distinct, i.converged, i.iterations, i.message,
       round((2 * cardinality(i.parameters) - 2 * i.log_likelihood)::numeric, 2)::float8 AS aic,
       round((cardinality(i.parameters) * ln(greatest(i.n_customers, 1)) - 2 * i.log_likelihood)::numeric, 2)::float8 AS bic,
       m.error, f.fitted_at, round(f.fit_seconds::numeric, 3)::float8 AS fit_seconds, f.as_of, m.model
  FROM %1$I.clm_fit f
       CROSS JOIN LATERAL (VALUES ('purchase', f.model, f.model_error),
                                  ('spend', f.spend_model, f.spend_model_error)) m(role, model, error)
       LEFT JOIN LATERAL clm.model_info(m.model) i ON true
$q$, t, format(sig6, 'i.parameters'), format(sig6, 'i.std_errors'));
    EXECUTE format('CREATE UNIQUE INDEX ON %I.models (role)', t);

    -- documentation of every view and column
    FOR c IN SELECT * FROM clm.track_views_docs() LOOP
        IF c.col IS NULL THEN
            EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', t, c.rel, c.doc);
        ELSE
            EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', t, c.rel, c.col, c.doc);
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION clm.track_create_views(clm.tracked_source) IS 'internal: creates the population materialised views of a tracked source';

-- Grants INSERT on the queue to every role that may write to the source.
CREATE FUNCTION clm.track_grant_writers(src regclass, t name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    g oid;
    role_sql text;
BEGIN
    FOR g IN
        SELECT DISTINCT a.grantee
          FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
         WHERE c.oid = src AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
        UNION
        SELECT relowner FROM pg_class WHERE oid = src
    LOOP
        role_sql := CASE WHEN g = 0 THEN 'PUBLIC' ELSE quote_ident(g::regrole::text) END;
        IF g <> 0 AND g::regrole::text = current_user::text THEN
            CONTINUE;
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %s', t, role_sql);
        EXECUTE format('GRANT INSERT ON %I.clm_pending TO %s', t, role_sql);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION clm.track_grant_writers(regclass, name) IS 'internal: lets every role that writes to the source write to its queue';

-- The SQL expressions reading one event of a tracked source (or its queue).
CREATE FUNCTION clm.track_profile_sql(r clm.tracked_source, from_queue boolean)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tcol text := CASE WHEN from_queue THEN 'occurred_at' ELSE quote_ident(r.time_column) END;
    acol text := CASE WHEN from_queue THEN 'amount' ELSE quote_ident(r.amount_column) END;
    ccol text := CASE WHEN from_queue THEN 'channel'
                      WHEN r.channel_column IS NOT NULL THEN clm.track_channel_sql(r.source, r.channel_column) END;
    atype text;
BEGIN
    SELECT a.atttypid::regtype::text INTO atype
      FROM pg_attribute a WHERE a.attrelid = r.source AND a.attname = r.amount_column;
    IF atype NOT IN ('numeric', 'double precision') THEN
        acol := acol || '::numeric';
    END IF;
    IF r.channel_column IS NULL THEN
        RETURN format('clm.profile(%s, %s)', tcol, acol);
    END IF;
    RETURN format('clm.profile(%s, %s, %s)', tcol, acol, ccol);
END
$fn$;
COMMENT ON FUNCTION clm.track_profile_sql(clm.tracked_source, boolean) IS 'internal: the clm.profile call over a tracked source''s rows or its queue, as SQL text';

-- Registers a source and builds its schema of views.
CREATE FUNCTION clm.track(source regclass, customer_column name, time_column name,
    amount_column name, channel_column name DEFAULT NULL, target_schema name DEFAULT NULL,
    name text DEFAULT NULL, filter text DEFAULT NULL, reader name DEFAULT NULL,
    settings jsonb DEFAULT '{}')
    RETURNS clm.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s jsonb := clm.track_settings(settings);
    rel pg_class;
    t name;
    made_schema boolean := false;
    src_name text;
    ctype text;
    ttype text;
    atype text;
    col record;
    res clm.refresh_result;
    incremental boolean;
BEGIN
    IF source IS NULL OR customer_column IS NULL OR time_column IS NULL OR amount_column IS NULL THEN
        RAISE EXCEPTION 'clm.track: source, customer_column, time_column and amount_column are required'
            USING ERRCODE = '22004';
    END IF;
    SELECT * INTO rel FROM pg_class WHERE oid = source;
    IF rel.relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION 'clm.track: % is not a table or view', source USING ERRCODE = '42809';
    END IF;
    PERFORM clm.track_citus_check(source);
    incremental := rel.relkind IN ('r', 'p');
    t := coalesce(target_schema, left('clm_' || rel.relname, 63));
    src_name := coalesce(name, t);
    IF src_name = '' OR length(src_name) > 63 THEN
        RAISE EXCEPTION 'clm.track: name must have 1 to 63 characters' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM clm.tracked_source ts WHERE ts.name = src_name) THEN
        RAISE EXCEPTION 'clm.track: a source named "%" is already tracked', src_name
            USING ERRCODE = '42710', HINT = 'Give another name, or clm.untrack it first.';
    END IF;
    IF EXISTS (SELECT 1 FROM clm.tracked_source ts WHERE ts.target_schema = t) THEN
        RAISE EXCEPTION 'clm.track: schema "%" already holds a tracked source', t
            USING ERRCODE = '42710', HINT = 'Choose another target_schema.';
    END IF;
    IF t = 'clm' OR t IN ('pg_catalog', 'information_schema', 'public') OR t LIKE 'pg\_%' THEN
        RAISE EXCEPTION 'clm.track: schema "%" cannot be a target schema', t USING ERRCODE = '42939';
    END IF;
    IF NOT has_table_privilege(source, 'SELECT') THEN
        RAISE EXCEPTION 'clm.track: permission denied to read %', source USING ERRCODE = '42501';
    END IF;

    -- the columns and their types
    SELECT format_type(a.atttypid, a.atttypmod) INTO ctype
      FROM pg_attribute a WHERE a.attrelid = source AND a.attname = customer_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF ctype IS NULL THEN
        RAISE EXCEPTION 'clm.track: % has no column "%"', source, customer_column USING ERRCODE = '42703';
    END IF;
    SELECT a.atttypid::regtype::text INTO ttype
      FROM pg_attribute a WHERE a.attrelid = source AND a.attname = time_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF ttype IS NULL THEN
        RAISE EXCEPTION 'clm.track: % has no column "%"', source, time_column USING ERRCODE = '42703';
    ELSIF ttype NOT IN ('timestamp with time zone', 'timestamp without time zone', 'date') THEN
        RAISE EXCEPTION 'clm.track: time column "%" is %, not timestamptz, timestamp or date', time_column, ttype
            USING ERRCODE = '42804';
    END IF;
    SELECT a.atttypid::regtype::text INTO atype
      FROM pg_attribute a WHERE a.attrelid = source AND a.attname = amount_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF atype IS NULL THEN
        RAISE EXCEPTION 'clm.track: % has no column "%"', source, amount_column USING ERRCODE = '42703';
    ELSIF atype NOT IN ('numeric', 'double precision', 'real', 'smallint', 'integer', 'bigint') THEN
        RAISE EXCEPTION 'clm.track: amount column "%" is %, not a number', amount_column, atype
            USING ERRCODE = '42804';
    END IF;
    IF channel_column IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM pg_attribute a WHERE a.attrelid = source AND a.attname = channel_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'clm.track: % has no column "%"', source, channel_column USING ERRCODE = '42703';
    END IF;
    IF filter IS NOT NULL THEN
        -- one boolean expression over the source's columns, nothing else
        IF position(';' IN filter) > 0 OR position('$' IN filter) > 0 THEN
            RAISE EXCEPTION 'clm.track: filter must be a single boolean expression (no ";" or "$")'
                USING ERRCODE = '42601';
        END IF;
        EXECUTE format('SELECT 1 FROM %s WHERE (%s) LIMIT 0', source, filter);
    END IF;

    -- the target schema
    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = t) THEN
        EXECUTE format('CREATE SCHEMA %I', t);
        made_schema := true;
    ELSIF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = t AND c.relname IN ('profiles', 'customers', 'clm_pending', 'clm_fit',
                         'stage_counts_daily', 'lifecycle_weekly', 'cohort_retention_monthly',
                         'stage_transitions', 'segment_summary', 'models')) THEN
        RAISE EXCEPTION 'clm.track: schema "%" already has a table or view named like one clm creates', t
            USING ERRCODE = '42P07',
                  HINT = 'clm creates profiles, customers, clm_pending, clm_fit and the views stage_counts_daily, lifecycle_weekly, cohort_retention_monthly, stage_transitions, segment_summary, models.';
    END IF;
    IF made_schema THEN
        EXECUTE format('COMMENT ON SCHEMA %I IS %L', t,
                       format('clm views of %s (tracked source %s)', source, src_name));
    END IF;

    INSERT INTO clm.tracked_source (name, source, customer_column, time_column, amount_column,
        channel_column, filter, target_schema, created_schema, incremental, settings)
    VALUES (src_name, source, customer_column, time_column, amount_column, channel_column, filter, t,
            made_schema, incremental, s);

    EXECUTE format($q$CREATE TABLE %I.profiles (
        customer_id %s PRIMARY KEY,
        profile clm.profile NOT NULL,
        changed_at timestamptz NOT NULL)$q$, t, ctype);
    EXECUTE format('COMMENT ON TABLE %I.profiles IS %L', t,
        format('one clm.profile per customer of %s, merged incrementally by clm.refresh(%L)', source, src_name));
    EXECUTE format('COMMENT ON COLUMN %I.profiles.customer_id IS %L', t, 'customer id (as in the source)');
    EXECUTE format('COMMENT ON COLUMN %I.profiles.profile IS %L', t, 'the customer''s history (clm.profile), days in the time zone of the time_zone setting');
    EXECUTE format('COMMENT ON COLUMN %I.profiles.changed_at IS %L', t, 'when the profile last changed (refresh time)');

    EXECUTE format($q$CREATE TABLE %I.clm_fit (
        as_of date NOT NULL,
        fitted_at timestamptz NOT NULL,
        fit_seconds double precision,
        model clm.model,
        model_error text,
        spend_model clm.model,
        spend_model_error text,
        breakpoints clm.rfm_breakpoints,
        population_gap double precision NOT NULL)$q$, t);
    EXECUTE format('COMMENT ON TABLE %I.clm_fit IS %L', t,
        'clm internal: the population parameters of the last refit (one row): models, RFM breakpoints, population gap');

    IF incremental THEN
        -- the queue (source_row: the whole rows of a source with a filter)
        EXECUTE format($q$CREATE TABLE %I.clm_pending (
            customer_id %s,
            occurred_at %s,
            amount %s,
            channel text,
            op text%s)$q$, t, clm.track_base_type(source, customer_column), ttype, atype,
            CASE WHEN filter IS NULL THEN '' ELSE ',
            source_row text' END);
        EXECUTE format('COMMENT ON TABLE %I.clm_pending IS %L', t,
            format('clm internal: events inserted into %s and not yet merged by clm.refresh; op = a change that needs a rebuild', source));
        PERFORM clm.track_grant_writers(source, t);
        PERFORM clm.track_create_triggers(clm.track_lookup(src_name));
    END IF;

    -- the customers table and the views, created empty and filled by the rebuild
    EXECUTE format('CREATE TABLE %I.customers (%s, PRIMARY KEY (customer_id))', t,
                   (SELECT string_agg(format('%I %s', c.col, coalesce(c.type, ctype)), ', ')
                      FROM clm.track_customers_columns() c));
    EXECUTE format('COMMENT ON TABLE %I.customers IS %L', t,
        format('one row per customer of %s: summary, RFM, stage, churn and CLV; kept fresh by clm.refresh(%L) (rows of changed customers are replaced; all rows at each refit)', source, src_name));
    FOR col IN SELECT * FROM clm.track_customers_columns() LOOP
        EXECUTE format('COMMENT ON COLUMN %I.customers.%I IS %L', t, col.col, col.doc);
    END LOOP;
    -- no index but the primary key: the segment and stage columns have a
    -- dozen values, where a sequential scan wins, and every index costs each
    -- refresh and refit (add your own if a query needs one)

    res := clm.rebuild_internal(src_name, true);
    PERFORM clm.track_create_views(clm.track_lookup(src_name));
    UPDATE clm.tracked_source ts SET last_views_refresh = now() WHERE ts.name = src_name;
    res.views_refreshed := true;
    IF reader IS NOT NULL THEN
        PERFORM clm.grant_reader(src_name, reader);
    END IF;
    res.action := 'track';
    res.seconds := extract(epoch FROM clock_timestamp() - now());
    RETURN res;
END
$fn$;
COMMENT ON FUNCTION clm.track(regclass, name, name, name, name, name, text, text, name, jsonb) IS 'registers an event table or view and builds its schema of customer views (profiles, customers, stage_counts_daily, lifecycle_weekly, cohort_retention_monthly, stage_transitions, segment_summary, models)';
-- Capture: the triggers clm.track puts on a source table call these two
-- extension functions (so DROP EXTENSION clm CASCADE removes the triggers, and
-- DROP EXTENSION without CASCADE refuses while a source is tracked).  Their
-- arguments name the target schema and the columns.  They run as the role
-- that writes to the source and evaluate none of the owner's SQL: no filter,
-- no cast, no domain check.  A source without a filter has its four columns
-- queued in their own types (the customer id in its domain's base type, the
-- channel as text through its type's output function); a source with a
-- filter has its whole rows queued as text (record_out, the type's output
-- functions only, in a fixed DateStyle, IntervalStyle and float precision so
-- that the text reads back exactly), and clm.refresh applies the filter to
-- them as the owner.

-- The channel column of a source as text: a cast for the built-in string
-- types (text, varchar, char, name: as 0.1), else the type's output function
-- (a user-defined cast to text is never called); NULL for NULL.  The same
-- rule as clm.track_capture's (src/track_capture.c).
CREATE FUNCTION clm.track_channel_sql(rel regclass, col name)
    RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT CASE WHEN col IS NULL THEN 'NULL::text'
                WHEN (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = col AND a.attnum > 0)
                     IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'name'::regtype)
                THEN format('%I::pg_catalog.text', col)
                ELSE format('CASE WHEN %1$I IS NOT NULL THEN pg_catalog.format(''%%s'', %1$I) END', col) END
$fn$;
COMMENT ON FUNCTION clm.track_channel_sql(regclass, name) IS 'internal: the SQL expression reading a tracked source''s channel column as text (a cast for the built-in string types, else the type''s output function: never a user-defined cast)';

-- The type of a column of a relation, domains replaced by their base type, as SQL text.
CREATE FUNCTION clm.track_base_type(rel regclass, col name)
    RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    WITH RECURSIVE t(oid, typmod, depth) AS (
        SELECT a.atttypid, a.atttypmod, 0
          FROM pg_attribute a
         WHERE a.attrelid = rel AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped
        UNION ALL
        SELECT y.typbasetype, y.typtypmod, t.depth + 1
          FROM t JOIN pg_type y ON y.oid = t.oid
         WHERE y.typtype = 'd')
    SELECT format_type(t.oid, t.typmod) FROM t ORDER BY t.depth DESC LIMIT 1
$fn$;
COMMENT ON FUNCTION clm.track_base_type(regclass, name) IS 'internal: the type of a column, a domain replaced by its base type (the queue of a tracked source holds base types, so that queuing runs no domain check)';

-- Trigger function: queues the rows an INSERT statement added to a tracked source.
-- Arguments: target schema, then customer, time, amount and channel column
-- ('' for none); or the target schema alone for a source with a filter.
-- (C, src/track_capture.c: its INSERT into the queue is planned once per
-- trigger and session.)
CREATE FUNCTION clm.track_capture()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'clm_track_capture' LANGUAGE C
    SET search_path = pg_catalog, pg_temp
    SET DateStyle = 'ISO, YMD'
    SET IntervalStyle = 'postgres'
    SET extra_float_digits = 1;
COMMENT ON FUNCTION clm.track_capture() IS 'internal: the statement-level AFTER INSERT trigger of a tracked source: queues the new rows for clm.refresh (runs as the writer, evaluates none of the owner''s SQL)';

-- Trigger function: records an UPDATE, DELETE or TRUNCATE of a tracked source.
-- Argument: the target schema.  (C, src/track_capture.c.)
CREATE FUNCTION clm.track_invalidate()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'clm_track_invalidate' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION clm.track_invalidate() IS 'internal: the statement-level trigger recording an UPDATE, DELETE or TRUNCATE of a tracked source, after which clm.refresh rebuilds';

-- Creates the two triggers of a tracked source (DDL only: runs no user SQL).
CREATE FUNCTION clm.track_create_triggers(r clm.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tag text := left(md5(r.name), 12);
BEGIN
    IF r.filter IS NULL THEN
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS clm_new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION clm.track_capture(%L, %L, %L, %L, %L)',
                       'clm_capture_' || tag, r.source, r.target_schema, r.customer_column, r.time_column,
                       r.amount_column, coalesce(r.channel_column, ''));
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %I, %I, %I%s OR DELETE OR TRUNCATE ON %s'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION clm.track_invalidate(%L)',
                       'clm_invalidate_' || tag, r.customer_column, r.time_column, r.amount_column,
                       CASE WHEN r.channel_column IS NULL THEN '' ELSE format(', %I', r.channel_column) END,
                       r.source, r.target_schema);
    ELSE
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS clm_new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION clm.track_capture(%L)',
                       'clm_capture_' || tag, r.source, r.target_schema);
        -- any updated column may change what the filter selects
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OR DELETE OR TRUNCATE ON %s'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION clm.track_invalidate(%L)',
                       'clm_invalidate_' || tag, r.source, r.target_schema);
    END IF;
END
$fn$;
COMMENT ON FUNCTION clm.track_create_triggers(clm.tracked_source) IS 'internal: creates the capture and invalidation triggers of a tracked source, calling clm.track_capture and clm.track_invalidate';
-- Citus (issue 13): clm.profile with an explicit time zone (src/sql/12_profile_zone.sql)
CREATE FUNCTION clm.profile_trans(clm.profile, timestamptz, numeric, text, text) RETURNS clm.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION clm.profile_trans(clm.profile, timestamptz, numeric, text, text) IS 'aggregate support: add one event to a profile state, its day counted in the named time zone (transition function of clm.profile)';
CREATE AGGREGATE clm.profile(occurred_at timestamptz, amount numeric, channel text, time_zone text) (
    SFUNC = clm.profile_trans,
    STYPE = clm.profile,
    SSPACE = 512,
    COMBINEFUNC = clm.profile_combine,
    FINALFUNC = clm.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE clm.profile(timestamptz, numeric, text, text) IS 'profile of one customer''s events with days counted in the named time zone (a name of pg_timezone_names), whatever the session''s or server''s TimeZone: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped; NULL channel = none counted; NULL time_zone is an error (22004).';
CREATE FUNCTION clm.profile_trans(clm.profile, timestamptz, float8, text, text) RETURNS clm.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION clm.profile_trans(clm.profile, timestamptz, float8, text, text) IS 'aggregate support: add one event to a profile state, its day counted in the named time zone (transition function of clm.profile)';
CREATE AGGREGATE clm.profile(occurred_at timestamptz, amount float8, channel text, time_zone text) (
    SFUNC = clm.profile_trans,
    STYPE = clm.profile,
    SSPACE = 512,
    COMBINEFUNC = clm.profile_combine,
    FINALFUNC = clm.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE clm.profile(timestamptz, float8, text, text) IS 'profile of one customer''s events with days counted in the named time zone (a name of pg_timezone_names), whatever the session''s or server''s TimeZone: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped; NULL channel = none counted; NULL time_zone is an error (22004).';

-- Citus (issue 13): clm.track refuses Citus distributed and reference tables (src/sql/87_track_citus.sql)
CREATE FUNCTION clm.track_citus_check(source regclass)
    RETURNS void LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    kind text;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN;
    END IF;
    EXECUTE 'SELECT CASE WHEN partmethod <> ''n'' THEN ''distributed'' WHEN repmodel = ''t'' THEN ''reference'' END
             FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1'
        INTO kind USING source;
    IF kind IS NOT NULL THEN
        RAISE EXCEPTION 'clm.track: % is a Citus % table', source, kind
            USING ERRCODE = '0A000',
                  DETAIL = 'clm.track captures changes with triggers, which Citus does not run correctly on the shards of distributed and reference tables.',
                  HINT = 'Build profiles with INSERT ... SELECT into a co-located distributed table (docs/citus.md), or track a plain table.';
    END IF;
END
$fn$;
COMMENT ON FUNCTION clm.track_citus_check(regclass) IS 'internal: refuses (0A000) a source that is a Citus distributed or reference table, before clm.track creates anything; does nothing where Citus is not installed';
-- The tracked source row of a name, or an error.
CREATE FUNCTION clm.track_lookup(source_name text)
    RETURNS clm.tracked_source LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source;
BEGIN
    SELECT * INTO r FROM clm.tracked_source ts WHERE ts.name = source_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'clm: no tracked source named "%"', source_name
            USING ERRCODE = '42704', HINT = 'SELECT name FROM clm.tracked_sources lists them.';
    END IF;
    RETURN r;
END
$fn$;
COMMENT ON FUNCTION clm.track_lookup(text) IS 'internal: the catalog row of a tracked source, or error 42704';

-- The queued events of a tracked source as SQL text: a query over a relation
-- "moved" with the queue's columns, giving customer_id, occurred_at, amount
-- and channel.  With a filter, the whole rows queued since 0.2 are read back
-- as rows of the source and filtered here, by the owner (the caller switched
-- to it); rows queued by 0.1 were filtered when queued.
CREATE FUNCTION clm.track_queue_sql(r clm.tracked_source)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    q text := 'SELECT customer_id, occurred_at, amount, channel FROM moved';
BEGIN
    IF r.filter IS NULL THEN
        RETURN q;
    END IF;
    RETURN format($q$%1$s WHERE source_row IS NULL
UNION ALL
SELECT %2$I, %3$I, %4$I, %5$s
  FROM (SELECT (q.x).* FROM (SELECT m.source_row::%6$s AS x FROM moved m WHERE m.source_row IS NOT NULL OFFSET 0) q) s
 WHERE %2$I IS NOT NULL AND %3$I IS NOT NULL AND (%7$s)$q$,
        q, r.customer_column, r.time_column, r.amount_column,
        clm.track_channel_sql(r.source, r.channel_column),
        (SELECT c.reltype::regtype::text FROM pg_class c WHERE c.oid = r.source), r.filter);
END
$fn$;
COMMENT ON FUNCTION clm.track_queue_sql(clm.tracked_source) IS 'internal: the query reading the queued events of a tracked source (filter applied), as SQL text';

-- Whether the current role may run a tracked source's SQL: true if it must
-- switch to the owner first (it is not the owner but may SET ROLE to it);
-- false if it is the owner; else error 42501.  (The switch itself is made by
-- the caller: a SET LOCAL ROLE made here would end when this function does.)
CREATE FUNCTION clm.track_act_as(r clm.tracked_source, fn text)
    RETURNS boolean LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    -- (a row without owner is no registration: clm.report_profiles passes
    -- one for the caller's own tables, which runs as the caller)
    IF r.owner IS NULL OR r.owner = current_user THEN
        RETURN false;
    END IF;
    IF pg_catalog.to_regrole(pg_catalog.quote_ident(r.owner)) IS NULL THEN
        RAISE EXCEPTION '%: the owner "%" of tracked source "%" does not exist', fn, r.owner, r.name
            USING ERRCODE = '42704',
                  HINT = 'Set clm.tracked_source.owner to the role that owns its target schema''s tables.';
    END IF;
    -- the current role (not the session's: after SET ROLE, the role set) must
    -- be a member of the owner (a superuser is); and SET ROLE must work (a
    -- trial, undone when this function returns)
    BEGIN
        IF NOT pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(r.owner)), 'MEMBER') THEN
            RAISE EXCEPTION USING ERRCODE = '42501';
        END IF;
        PERFORM pg_catalog.set_config('role', r.owner, true);
    EXCEPTION WHEN insufficient_privilege OR invalid_parameter_value OR undefined_object THEN
        RAISE EXCEPTION '%: permission denied for tracked source "%"', fn, r.name
            USING ERRCODE = '42501',
                  HINT = format('Its filter, source and schema are SQL of its owner %I, which clm runs only as that role: call it as %I, a member of %I, or a superuser.',
                                r.owner, r.owner, r.owner);
    END;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION clm.track_act_as(clm.tracked_source, text) IS 'internal: whether the current role must switch to a tracked source''s owner to run its SQL (true), is the owner (false), or may not (error 42501)';

-- Takes the refresh lock of a tracked source: true if taken.  The lock is an
-- EXCLUSIVE lock on its clm_fit table, so only a role with rights on the
-- source's schema (its owner) can take it; readers (ACCESS SHARE) pass.
CREATE FUNCTION clm.track_lock(r clm.tracked_source, wait boolean)
    RETURNS boolean LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF wait THEN
        EXECUTE format('LOCK TABLE %I.clm_fit IN EXCLUSIVE MODE', r.target_schema);
        RETURN true;
    END IF;
    EXECUTE format('LOCK TABLE %I.clm_fit IN EXCLUSIVE MODE NOWAIT', r.target_schema);
    RETURN true;
EXCEPTION WHEN lock_not_available THEN
    RETURN false;
END
$fn$;
COMMENT ON FUNCTION clm.track_lock(clm.tracked_source, boolean) IS 'internal: the refresh lock of a tracked source (EXCLUSIVE on its clm_fit table, to the end of the transaction): true if taken; wait = false does not wait';

-- Recomputes the population parameters: models, RFM breakpoints, population gap.
CREATE FUNCTION clm.track_refit(r clm.tracked_source, as_of date)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    t name := r.target_schema;
    s jsonb := r.settings;
    started timestamptz := clock_timestamp();
    bp clm.rfm_breakpoints;
    gap float8;
    m clm.model;
    g clm.model;
    merr text;
    gerr text;
BEGIN
    IF clm.track_act_as(r, 'clm.track_refit') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    -- one scan for everything; if a model cannot be fitted, again piece by
    -- piece to keep what can be (the fits read the profiles directly and skip
    -- customers with T = 0, whose first purchase is on as_of)
    BEGIN
        EXECUTE format('SELECT clm.rfm_breakpoints(p.profile, $1, $2), clm.population_gap(p.profile, $1),'
                       ' clm.%s_fit(p.profile, $1, ''week''), clm.gg_fit(p.profile, $1, ''week'')'
                       ' FROM %I.profiles p', s->>'model', t)
            INTO bp, gap, m, g USING as_of, (s->>'rfm_scores')::int;
    EXCEPTION WHEN OTHERS THEN
        EXECUTE format('SELECT clm.rfm_breakpoints(p.profile, $1, $2), clm.population_gap(p.profile, $1) FROM %I.profiles p', t)
            INTO bp, gap USING as_of, (s->>'rfm_scores')::int;
        BEGIN
            EXECUTE format('SELECT clm.%s_fit(p.profile, $1, ''week'') FROM %I.profiles p', s->>'model', t)
                INTO m USING as_of;
        EXCEPTION WHEN OTHERS THEN
            merr := SQLERRM;
        END;
        BEGIN
            EXECUTE format('SELECT clm.gg_fit(p.profile, $1, ''week'') FROM %I.profiles p', t)
                INTO g USING as_of;
        EXCEPTION WHEN OTHERS THEN
            gerr := SQLERRM;
        END;
    END;
    -- population_gap_days: days, or "population" for the customers' own gap
    -- (sources tracked with 0.1 stored NULL for it, with that meaning)
    gap := CASE WHEN coalesce(s->>'population_gap_days', 'population') = 'population'
                THEN coalesce(gap, 30)
                ELSE (s->>'population_gap_days')::float8 END;
    IF merr IS NOT NULL OR gerr IS NOT NULL THEN
        RAISE WARNING 'clm: tracked source "%": %', r.name,
            concat_ws('; ', 'purchase model not fitted: ' || merr, 'spend model not fitted: ' || gerr)
            USING HINT = 'p_alive, churn_probability, expected purchases, expected_spend and clv stay NULL until a refit succeeds.';
    END IF;
    EXECUTE format('DELETE FROM %I.clm_fit', t);
    EXECUTE format('INSERT INTO %I.clm_fit VALUES ($1, now(), $2, $3, $4, $5, $6, $7, $8)', t)
        USING as_of, extract(epoch FROM clock_timestamp() - started), m, merr, g, gerr, bp, gap;
END
$fn$;
COMMENT ON FUNCTION clm.track_refit(clm.tracked_source, date) IS 'internal: refits the models and recomputes the RFM breakpoints and population gap of a tracked source';

-- The relations of a tracked source's schema that readers see, in refresh order.
CREATE FUNCTION clm.track_views(with_customers boolean)
    RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT CASE WHEN with_customers THEN ARRAY['customers'] ELSE '{}'::text[] END
           || ARRAY['stage_counts_daily', 'lifecycle_weekly', 'cohort_retention_monthly',
                    'stage_transitions', 'segment_summary', 'models']
$fn$;
COMMENT ON FUNCTION clm.track_views(boolean) IS 'internal: the materialised views of a tracked source (and the customers table), in refresh order';

-- Refreshes the population materialised views of a tracked source.
CREATE FUNCTION clm.track_refresh_views(r clm.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    v text;
BEGIN
    IF clm.track_act_as(r, 'clm.track_refresh_views') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    FOREACH v IN ARRAY clm.track_views(false) LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I.%I', r.target_schema, v);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION clm.track_refresh_views(clm.tracked_source) IS 'internal: REFRESH MATERIALIZED VIEW CONCURRENTLY of each population view of a tracked source';

-- Recomputes every row of the customers table.
CREATE FUNCTION clm.track_customers_all(r clm.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
BEGIN
    IF clm.track_act_as(r, 'clm.track_customers_all') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    EXECUTE format('DELETE FROM %I.customers', r.target_schema);
    EXECUTE format('INSERT INTO %I.customers (%s) %s', r.target_schema, clm.track_customers_list(),
                   clm.track_customers_sql(format('%I.profiles', r.target_schema), r.target_schema, r.settings));
END
$fn$;
COMMENT ON FUNCTION clm.track_customers_all(clm.tracked_source) IS 'internal: recomputes every row of a tracked source''s customers table';

-- Full rebuild of the profiles and customers; the caller holds the lock.
CREATE FUNCTION clm.rebuild_internal(source_name text, creating boolean)
    RETURNS clm.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
    t name := r.target_schema;
    old_tz text := current_setting('TimeZone');
    old_wm text := current_setting('work_mem');
    res clm.refresh_result;
    n bigint;
    ev bigint;
BEGIN
    IF clm.track_act_as(r, 'clm.rebuild') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    PERFORM set_config('TimeZone', r.settings->>'time_zone', true);
    EXECUTE format('DELETE FROM %I.profiles', t);
    -- The profile build, a hash aggregate over every customer, runs with a
    -- work_mem of 4MB whatever the session's: every event touches a random
    -- customer's state (a few hundred bytes), so a hash table larger than the
    -- caches makes each row wait for memory, and with a small work_mem
    -- PostgreSQL works through the customers in batches that fit (at
    -- 1,000,000 customers the build takes half the time it takes at 1GB).
    PERFORM set_config('work_mem', '4MB', true);
    -- the queue is emptied in the same statement (same snapshot) that reads the source,
    -- so every event of a committed transaction is counted exactly once; src
    -- is read once (not materialised), the events counted from the profiles
    EXECUTE format($q$
WITH %s
src AS (SELECT %I AS customer_id, %s AS profile
          FROM %s
         WHERE %I IS NOT NULL AND %I IS NOT NULL AND (%s)
         GROUP BY 1),
ins AS (INSERT INTO %I.profiles (customer_id, profile, changed_at)
        SELECT customer_id, profile, now() FROM src
        RETURNING clm.event_count(profile) AS events)
SELECT count(*), coalesce(sum(events), 0) FROM ins$q$,
        CASE WHEN r.incremental THEN format('gone AS (DELETE FROM %I.clm_pending),', t) ELSE '' END,
        r.customer_column, clm.track_profile_sql(r, false), r.source,
        r.customer_column, r.time_column, coalesce(r.filter, 'true'), t)
        INTO n, ev;
    PERFORM set_config('work_mem', old_wm, true);
    PERFORM clm.contact_refresh(r, true);  -- the messages sent, if any (87_contact.sql)
    PERFORM clm.track_refit(r, clm.track_as_of(r.settings));
    PERFORM clm.track_customers_all(r);
    PERFORM clm.audience_refresh(r);  -- audience changes, if recorded (87_contact_audience.sql)
    IF NOT creating THEN
        PERFORM clm.track_refresh_views(r);
    END IF;
    PERFORM set_config('TimeZone', old_tz, true);
    UPDATE clm.tracked_source ts
       SET last_rebuild = now(), last_rebuild_seconds = extract(epoch FROM clock_timestamp() - now()),
           last_refit = now(), last_views_refresh = CASE WHEN creating THEN last_views_refresh ELSE now() END,
           customers = n, refreshes = refreshes + 1,
           last_refresh = now(), last_refresh_action = 'rebuild',
           last_refresh_seconds = extract(epoch FROM clock_timestamp() - now()),
           last_refresh_events = ev, last_refresh_customers = n
     WHERE ts.name = source_name;
    res := ROW(source_name, 'rebuild', ev, n, n, true, NOT creating,
               extract(epoch FROM clock_timestamp() - now()));
    RETURN res;
END
$fn$;
COMMENT ON FUNCTION clm.rebuild_internal(text, boolean) IS 'internal: the full rebuild of a tracked source (caller holds the refresh lock)';

-- Full rebuild from the source: for deletions, corrections and changed time zones.
CREATE FUNCTION clm.rebuild(source_name text, wait boolean DEFAULT true)
    RETURNS clm.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
BEGIN
    IF clm.track_act_as(r, 'clm.rebuild') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF NOT clm.track_lock(r, wait) THEN
        RAISE NOTICE 'clm.rebuild: source "%" is being refreshed by another session; skipped', source_name;
        RETURN ROW(source_name, 'skipped', 0, 0, NULL, false, false, 0)::clm.refresh_result;
    END IF;
    RETURN clm.rebuild_internal(source_name, false);
END
$fn$;
COMMENT ON FUNCTION clm.rebuild(text, boolean) IS 'rebuilds a tracked source''s profiles, customers and views from the whole source (after deletions or corrections); wait = false skips with a notice if a refresh is running';

-- Incremental refresh: merges the queued events into the stored profiles.
CREATE FUNCTION clm.refresh(source_name text, refit boolean DEFAULT NULL,
    views boolean DEFAULT NULL, wait boolean DEFAULT false)
    RETURNS clm.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
    t name := r.target_schema;
    s jsonb := r.settings;
    old_tz text;
    today date;
    fit_as_of date;
    fitted timestamptz;
    do_refit boolean;
    do_views boolean;
    ev bigint;
    changed bigint;
    added bigint;
    upd text;
    evsql text;
    res clm.refresh_result;
BEGIN
    IF clm.track_act_as(r, 'clm.refresh') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF NOT clm.track_lock(r, wait) THEN
        RAISE NOTICE 'clm.refresh: source "%" is being refreshed by another session; skipped', source_name
            USING HINT = 'Pass wait => true to wait for it instead.';
        RETURN ROW(source_name, 'skipped', 0, 0, r.customers, false, false, 0)::clm.refresh_result;
    END IF;
    IF NOT r.incremental THEN
        RETURN clm.rebuild_internal(source_name, false);
    END IF;
    EXECUTE format('SELECT op FROM %I.clm_pending WHERE op IS NOT NULL LIMIT 1', t) INTO upd;
    IF upd IS NOT NULL THEN
        RAISE NOTICE 'clm.refresh: % on the source of "%" since the last refresh: rebuilding', upd, source_name;
        RETURN clm.rebuild_internal(source_name, false);
    END IF;

    old_tz := current_setting('TimeZone');
    PERFORM set_config('TimeZone', s->>'time_zone', true);
    today := clm.track_as_of(s);
    EXECUTE format('SELECT as_of, fitted_at FROM %I.clm_fit', t) INTO fit_as_of, fitted;
    do_refit := coalesce(refit, fit_as_of IS DISTINCT FROM today
                                OR now() - fitted >= (s->>'refit_interval')::interval);
    do_views := do_refit OR coalesce(views, r.last_views_refresh IS NULL
                                     OR now() - r.last_views_refresh >= (s->>'views_interval')::interval);

    -- merge the queued events; without a refit, the customers rows of the
    -- changed customers are replaced in the same statement (cust)
    IF NOT do_refit THEN
        SELECT string_agg(format('%I = excluded.%I', c.col, c.col), ', ')
          INTO upd
          FROM clm.track_customers_columns() c
         WHERE c.col <> 'customer_id';
        upd := format($q$,
cust AS (INSERT INTO %I.customers (%s) %s
         ON CONFLICT (customer_id) DO UPDATE SET %s
         RETURNING 1)$q$, t, clm.track_customers_list(), clm.track_customers_sql('up', t, s), upd);
    END IF;
    evsql := clm.track_queue_sql(r);
    EXECUTE format($q$
WITH moved AS (DELETE FROM %1$I.clm_pending WHERE op IS NULL RETURNING *),
ev AS (%4$s),
fresh AS (SELECT customer_id, %2$s AS profile FROM ev GROUP BY 1),
up AS (INSERT INTO %1$I.profiles AS o (customer_id, profile, changed_at)
       SELECT customer_id, profile, now() FROM fresh WHERE profile IS NOT NULL
       ON CONFLICT (customer_id) DO UPDATE
          SET profile = clm.profile_merge(o.profile, excluded.profile), changed_at = excluded.changed_at
       RETURNING o.customer_id, o.profile, o.changed_at, (o.xmax = 0) AS inserted)%3$s
SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM up), (SELECT count(*) FROM up WHERE inserted)$q$,
        t, clm.track_profile_sql(r, true), coalesce(upd, ''), evsql)
        INTO ev, changed, added;
    PERFORM clm.contact_refresh(r, false);  -- the messages sent, if any (87_contact.sql)
    IF do_refit THEN
        -- then recompute the population parameters and every customers row
        PERFORM clm.track_refit(r, today);
        PERFORM clm.track_customers_all(r);
    END IF;
    IF do_views THEN
        PERFORM clm.track_refresh_views(r);
    END IF;
    PERFORM clm.audience_refresh(r);  -- audience changes, if recorded (87_contact_audience.sql)
    PERFORM set_config('TimeZone', old_tz, true);

    UPDATE clm.tracked_source ts
       SET refreshes = refreshes + 1, last_refresh = now(), last_refresh_action = 'incremental',
           last_refresh_seconds = extract(epoch FROM clock_timestamp() - now()),
           last_refresh_events = ev, last_refresh_customers = changed,
           customers = coalesce(ts.customers, 0) + added,
           last_refit = CASE WHEN do_refit THEN now() ELSE last_refit END,
           last_views_refresh = CASE WHEN do_views THEN now() ELSE last_views_refresh END
     WHERE ts.name = source_name
    RETURNING ts.customers INTO res.customers;
    res.name := source_name;
    res.action := 'incremental';
    res.events := ev;
    res.customers_changed := changed;
    res.refit := do_refit;
    res.views_refreshed := do_views;
    res.seconds := extract(epoch FROM clock_timestamp() - now());
    RETURN res;
END
$fn$;
COMMENT ON FUNCTION clm.refresh(text, boolean, boolean, boolean) IS 'merges the events inserted since the last refresh into the stored profiles and updates the customers rows; refits (refit_interval) and refreshes the materialised views CONCURRENTLY (views_interval) when due or when asked; wait = false skips with a notice if another session is refreshing the source';
-- Gives a role read access to the views of a tracked source.
CREATE FUNCTION clm.grant_reader(source_name text, reader name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
    v text;
BEGIN
    IF clm.track_act_as(r, 'clm.grant_reader') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF reader IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN
        RAISE EXCEPTION 'clm.grant_reader: role "%" does not exist', reader USING ERRCODE = '42704';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', r.target_schema, reader);
    -- (and the contact and audience relations, 87_contact.sql)
    FOREACH v IN ARRAY clm.track_views(true) || clm.contact_reader_relations(r.target_schema) LOOP
        EXECUTE format('GRANT SELECT ON %I.%I TO %I', r.target_schema, v, reader);
    END LOOP;
    UPDATE clm.tracked_source ts SET readers = array_append(array_remove(readers, reader), reader)
     WHERE ts.name = source_name;
END
$fn$;
COMMENT ON FUNCTION clm.grant_reader(text, name) IS 'gives a role SELECT on the customers table and the materialised views of a tracked source (and USAGE on its schema), nothing more';

-- Takes the read access of a role away again.
CREATE FUNCTION clm.revoke_reader(source_name text, reader name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
    v text;
BEGIN
    IF clm.track_act_as(r, 'clm.revoke_reader') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF reader IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN
        RAISE EXCEPTION 'clm.revoke_reader: role "%" does not exist', reader USING ERRCODE = '42704';
    END IF;
    FOREACH v IN ARRAY clm.track_views(true) || clm.contact_reader_relations(r.target_schema) LOOP
        EXECUTE format('REVOKE SELECT ON %I.%I FROM %I', r.target_schema, v, reader);
    END LOOP;
    EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM %I', r.target_schema, reader);
    UPDATE clm.tracked_source ts SET readers = array_remove(readers, reader) WHERE ts.name = source_name;
END
$fn$;
COMMENT ON FUNCTION clm.revoke_reader(text, name) IS 'takes back what clm.grant_reader gave a role';

-- Lets a role that writes to the source (granted after clm.track) feed the queue.
CREATE FUNCTION clm.grant_writer(source_name text, writer name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
BEGIN
    IF clm.track_act_as(r, 'clm.grant_writer') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF NOT r.incremental THEN
        RETURN;
    END IF;
    IF writer IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = writer) THEN
        RAISE EXCEPTION 'clm.grant_writer: role "%" does not exist', writer USING ERRCODE = '42704';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', r.target_schema, writer);
    EXECUTE format('GRANT INSERT ON %I.clm_pending TO %I', r.target_schema, writer);
    IF to_regclass(format('%I.clm_contacts_pending', r.target_schema)) IS NOT NULL THEN  -- 87_contact.sql
        EXECUTE format('GRANT INSERT ON %I.clm_contacts_pending TO %I', r.target_schema, writer);
    END IF;
END
$fn$;
COMMENT ON FUNCTION clm.grant_writer(text, name) IS 'lets a role write to a tracked source: its inserts fire the capture trigger, which needs INSERT on the queue table (clm.track grants it to the roles that could write to the source at the time), and to its contacts table (clm.track_contacts)';

-- Removes what clm.track created, and nothing else.
CREATE FUNCTION clm.untrack(source_name text)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
    t name := r.target_schema;
    tag text := left(md5(r.name), 12);
    v text;
BEGIN
    IF clm.track_act_as(r, 'clm.untrack') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF to_regclass(format('%I.clm_fit', t)) IS NOT NULL THEN
        PERFORM clm.track_lock(r, true);
    END IF;
    PERFORM clm.untrack_contacts(source_name);  -- 87_contact.sql
    PERFORM clm.untrack_audiences(source_name);  -- 87_contact_audience.sql
    IF r.incremental AND to_regclass(r.source::text) IS NOT NULL THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_capture_' || tag, r.source);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_invalidate_' || tag, r.source);
    END IF;
    FOREACH v IN ARRAY ARRAY['models', 'segment_summary', 'stage_transitions', 'cohort_retention_monthly',
                             'lifecycle_weekly', 'stage_counts_daily'] LOOP
        EXECUTE format('DROP MATERIALIZED VIEW IF EXISTS %I.%I', t, v);
    END LOOP;
    EXECUTE format('DROP TABLE IF EXISTS %I.customers, %I.clm_fit, %I.profiles', t, t, t);
    IF r.incremental THEN
        -- a view or foreign table source has no queue and no trigger functions
        -- (and the trigger functions clm 0.1 made in the target schema)
        EXECUTE format('DROP TABLE IF EXISTS %I.clm_pending', t);
        IF to_regprocedure(format('%I.clm_capture()', t)) IS NOT NULL THEN
            EXECUTE format('DROP FUNCTION %I.clm_capture()', t);
        END IF;
        IF to_regprocedure(format('%I.clm_invalidate()', t)) IS NOT NULL THEN
            EXECUTE format('DROP FUNCTION %I.clm_invalidate()', t);
        END IF;
    END IF;
    IF r.created_schema THEN
        BEGIN
            EXECUTE format('DROP SCHEMA IF EXISTS %I', t);
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'clm.untrack: schema "%" is not empty: kept', t;
        END;
    END IF;
    DELETE FROM clm.tracked_source ts WHERE ts.name = source_name;
END
$fn$;
COMMENT ON FUNCTION clm.untrack(text) IS 'removes the triggers, tables and views clm.track created for a source (and its schema if clm.track created it and it is left empty); fails, changing nothing, if other objects depend on them';

-- Events waiting in the queue of a tracked source.
CREATE FUNCTION clm.pending_events(source_name text)
    RETURNS bigint LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
    n bigint;
BEGIN
    IF clm.track_act_as(r, 'clm.pending_events') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF NOT r.incremental THEN
        RETURN NULL;
    END IF;
    EXECUTE format('WITH moved AS (SELECT * FROM %I.clm_pending WHERE op IS NULL) SELECT count(*) FROM (%s) e',
                   r.target_schema, clm.track_queue_sql(r)) INTO n;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION clm.pending_events(text) IS 'events inserted into a tracked source and not yet merged by clm.refresh (with a filter: those that pass it; NULL for a source that every refresh rebuilds)';



CREATE VIEW clm.tracked_sources WITH (security_invoker = true) AS
SELECT name, source, target_schema, owner, incremental, customers,
       last_refresh, last_refresh_action, last_refresh_seconds, last_refresh_events, last_refresh_customers,
       last_rebuild, last_rebuild_seconds, last_refit, last_views_refresh, refreshes, readers,
       customer_column, time_column, amount_column, channel_column, filter, settings, created_at
  FROM clm.tracked_source;
COMMENT ON VIEW clm.tracked_sources IS 'the tracked sources the current role owns or may read (SELECT on the source), with their last refresh, row counts and timings (clm.pending_events(name) counts the events waiting)';
GRANT SELECT ON clm.tracked_sources TO PUBLIC;

-- Brings the schema of a source tracked by an earlier clm version up to this
-- one (ALTER EXTENSION clm UPDATE calls it for every tracked source): the
-- triggers call clm.track_capture and clm.track_invalidate instead of the
-- functions 0.1 made in the target schema (dropped); the queue of a source
-- with a filter gets its source_row column and the queue's customer id its
-- base type; columns of clm.track_customers_columns that the customers table
-- lacks are added (filled at the next refit or rebuild) and the comments of
-- the others follow the catalog (values computed as there from the next refit
-- or rebuild on); materialised views whose comments differ from
-- clm.track_views_docs (a view or column whose meaning changed) are made
-- again, as the owner (clm.track_create_views), and kept out of the
-- extension; a view other objects depend on is kept, with a warning.  Runs
-- none of the owner's SQL, so the update may run it as any role.  Returns
-- what it changed, or nothing.
CREATE FUNCTION clm.upgrade_tracked(source_name text)
    RETURNS SETOF text LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
    t name := r.target_schema;
    tag text := left(md5(r.name), 12);
    q regclass := to_regclass(format('%I.clm_pending', t));
    c record;
    base text;
    v text;
BEGIN
    IF r.incremental AND q IS NOT NULL AND to_regclass(r.source::text) IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM pg_trigger g
                    WHERE g.tgrelid = r.source AND g.tgname IN ('clm_capture_' || tag, 'clm_invalidate_' || tag)
                      AND g.tgfoid NOT IN ('clm.track_capture()'::regprocedure,
                                           'clm.track_invalidate()'::regprocedure))
           OR NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = r.source AND g.tgname = 'clm_capture_' || tag) THEN
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_capture_' || tag, r.source);
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_invalidate_' || tag, r.source);
            PERFORM clm.track_create_triggers(r);
            RETURN NEXT 'triggers';
        END IF;
        IF to_regprocedure(format('%I.clm_capture()', t)) IS NOT NULL
           OR to_regprocedure(format('%I.clm_invalidate()', t)) IS NOT NULL THEN
            EXECUTE format('DROP FUNCTION IF EXISTS %I.clm_capture(), %I.clm_invalidate()', t, t);
            RETURN NEXT 'trigger functions dropped';
        END IF;
        IF r.filter IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = q AND a.attname = 'source_row' AND NOT a.attisdropped) THEN
            EXECUTE format('ALTER TABLE %I.clm_pending ADD COLUMN source_row text', t);
            RETURN NEXT 'queue source_row';
        END IF;
        base := clm.track_base_type(r.source, r.customer_column);
        IF base IS DISTINCT FROM (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                                   WHERE a.attrelid = q AND a.attname = 'customer_id') THEN
            EXECUTE format('ALTER TABLE %I.clm_pending ALTER COLUMN customer_id TYPE %s', t, base);
            RETURN NEXT 'queue customer_id type';
        END IF;
    END IF;
    IF to_regclass(format('%I.customers', t)) IS NOT NULL THEN
        FOR c IN SELECT x.* FROM clm.track_customers_columns() x
                  WHERE x.type IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                                     WHERE a.attrelid = format('%I.customers', t)::regclass
                                       AND a.attname = x.col AND NOT a.attisdropped) LOOP
            EXECUTE format('ALTER TABLE %I.customers ADD COLUMN %I %s', t, c.col, c.type);
            EXECUTE format('COMMENT ON COLUMN %I.customers.%I IS %L', t, c.col, c.doc);
            RETURN NEXT 'customers column ' || c.col;
        END LOOP;
        FOR c IN SELECT x.col, x.doc FROM clm.track_customers_columns() x
                   JOIN pg_attribute a ON a.attrelid = format('%I.customers', t)::regclass
                                      AND a.attname = x.col AND NOT a.attisdropped
                  WHERE pg_catalog.col_description(a.attrelid, a.attnum) IS DISTINCT FROM x.doc
                  ORDER BY a.attnum LOOP
            EXECUTE format('COMMENT ON COLUMN %I.customers.%I IS %L', t, c.col, c.doc);
            RETURN NEXT 'customers comment ' || c.col;
        END LOOP;
    END IF;
    -- the materialised views, made again if one is missing or its comments
    -- (what it computes) are not this version's
    IF to_regclass(format('%I.clm_fit', t)) IS NOT NULL AND to_regclass(format('%I.customers', t)) IS NOT NULL
       AND EXISTS (SELECT 1 FROM clm.track_views_docs() d
                          LEFT JOIN pg_class k ON k.relname = d.rel AND k.relkind = 'm'
                                              AND k.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = t)
                          LEFT JOIN pg_attribute a ON a.attrelid = k.oid AND a.attname = d.col AND NOT a.attisdropped
                    WHERE k.oid IS NULL
                       OR (d.col IS NULL AND pg_catalog.obj_description(k.oid, 'pg_class') IS DISTINCT FROM d.doc)
                       OR (d.col IS NOT NULL AND (a.attnum IS NULL
                                                  OR pg_catalog.col_description(k.oid, a.attnum) IS DISTINCT FROM d.doc))) THEN
        BEGIN
            FOREACH v IN ARRAY ARRAY['models', 'segment_summary', 'stage_transitions', 'cohort_retention_monthly',
                                     'lifecycle_weekly', 'stage_counts_daily'] LOOP
                EXECUTE format('DROP MATERIALIZED VIEW IF EXISTS %I.%I', t, v);
            END LOOP;
            PERFORM clm.track_create_views(r);
            -- made inside ALTER EXTENSION ... UPDATE they would be members
            -- of the extension: they belong to the source, as after clm.track
            FOR c IN SELECT k.relname, e.extname FROM pg_class k
                       JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = k.oid AND d.deptype = 'e'
                       JOIN pg_extension e ON e.oid = d.refobjid
                      WHERE k.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = t) AND k.relkind = 'm' LOOP
                EXECUTE format('ALTER EXTENSION %I DROP MATERIALIZED VIEW %I.%I', c.extname, t, c.relname);
            END LOOP;
            RETURN NEXT 'views';
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE WARNING 'the views of tracked source "%" are kept as they were: other objects depend on them', r.name
                USING DETAIL = SQLERRM,
                      HINT = format('Drop the objects that depend on them, then run clm.upgrade_tracked(%L).', r.name);
        END;
    END IF;
END
$fn$;
COMMENT ON FUNCTION clm.upgrade_tracked(text) IS 'brings the schema of a source tracked by an earlier clm version up to this version (ALTER EXTENSION clm UPDATE runs it for every tracked source); DDL only; returns what it changed';
-- Contacts of a tracked source: the messages sent to its customers (customer,
-- sent_at, channel, campaign and optionally delivered, opened, clicked,
-- converted), registered with clm.track_contacts and captured as the events
-- are (src/sql/80_track_catalog.sql): a statement-level AFTER INSERT trigger
-- (clm.contact_capture, C, src/contact_capture.c) queues the new rows in
-- <target>.clm_contacts_pending in the writer's transaction, evaluating none
-- of the owner's SQL; clm.refresh (and clm.rebuild) move them into
-- <target>.contacts with DELETE ... RETURNING in one statement, so a message is
-- stored exactly once; UPDATE, DELETE or TRUNCATE of the contacts table queue
-- a marker (clm.contact_invalidate) after which the refresh reloads the
-- contacts from the table in one statement.  A view or foreign table of
-- contacts is reloaded by every refresh.  Everything that reads the owner's
-- tables runs as the owner (clm.track_act_as), as for the events.

CREATE TABLE clm.tracked_contacts (
    name text PRIMARY KEY,
    source regclass NOT NULL,
    customer_column name NOT NULL,
    time_column name NOT NULL,
    channel_column name,
    campaign_column name,
    delivered_column name,
    opened_column name,
    clicked_column name,
    converted_column name,
    incremental boolean NOT NULL
);
COMMENT ON TABLE clm.tracked_contacts IS 'clm catalog: the contacts table registered with a tracked source by clm.track_contacts (kept by pg_dump; a role sees the rows of the tracked sources it sees and changes those it owns)';
COMMENT ON COLUMN clm.tracked_contacts.name IS 'the tracked source (clm.tracked_source.name)';
COMMENT ON COLUMN clm.tracked_contacts.source IS 'the table (or view) of messages sent';
COMMENT ON COLUMN clm.tracked_contacts.customer_column IS 'column holding the customer id (the base type of the events'' customer column)';
COMMENT ON COLUMN clm.tracked_contacts.time_column IS 'column holding when the message was sent (timestamptz, timestamp or date)';
COMMENT ON COLUMN clm.tracked_contacts.channel_column IS 'column holding the channel, or NULL';
COMMENT ON COLUMN clm.tracked_contacts.campaign_column IS 'column holding the campaign, or NULL';
COMMENT ON COLUMN clm.tracked_contacts.delivered_column IS 'boolean column: the message was delivered, or NULL';
COMMENT ON COLUMN clm.tracked_contacts.opened_column IS 'boolean column: the message was opened, or NULL';
COMMENT ON COLUMN clm.tracked_contacts.clicked_column IS 'boolean column: the message was clicked, or NULL';
COMMENT ON COLUMN clm.tracked_contacts.converted_column IS 'boolean column: the message led to a conversion, or NULL';
COMMENT ON COLUMN clm.tracked_contacts.incremental IS 'true if the contacts table has the capture triggers (a table); false for a view or foreign table, which every refresh reloads';
SELECT pg_catalog.pg_extension_config_dump('clm.tracked_contacts', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON clm.tracked_contacts TO PUBLIC;
ALTER TABLE clm.tracked_contacts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tracked_contacts_read ON clm.tracked_contacts FOR SELECT
    USING (EXISTS (SELECT FROM clm.tracked_source ts WHERE ts.name = tracked_contacts.name));
CREATE POLICY tracked_contacts_own ON clm.tracked_contacts
    USING (EXISTS (SELECT FROM clm.tracked_source ts
                    WHERE ts.name = tracked_contacts.name
                      AND pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(ts.owner)), 'MEMBER')))
    WITH CHECK (EXISTS (SELECT FROM clm.tracked_source ts
                         WHERE ts.name = tracked_contacts.name
                           AND pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(ts.owner)), 'MEMBER')));

-- Trigger function: queues the messages an INSERT statement added to a tracked
-- contacts table.  Arguments: target schema, customer, time, channel,
-- campaign, delivered, opened, clicked, converted columns ('' for none).
CREATE FUNCTION clm.contact_capture()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'clm_contact_capture' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION clm.contact_capture() IS 'internal: the statement-level AFTER INSERT trigger of a tracked contacts table: queues the new messages for clm.refresh (runs as the writer, evaluates none of the owner''s SQL)';

-- Trigger function: records an UPDATE, DELETE or TRUNCATE of a tracked contacts table.
CREATE FUNCTION clm.contact_invalidate()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'clm_contact_invalidate' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION clm.contact_invalidate() IS 'internal: the statement-level trigger recording an UPDATE, DELETE or TRUNCATE of a tracked contacts table, after which clm.refresh reloads the contacts';

-- The SELECT list reading one message of a contacts table (from_queue: of the
-- queue): customer_id, sent_at, sent_day, channel, campaign, delivered,
-- opened, clicked, converted, responded.  Run with TimeZone set to the
-- source's time zone (sent_day is the local day).
CREATE FUNCTION clm.contact_select_sql(c clm.tracked_contacts, from_queue boolean)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tcol text := CASE WHEN from_queue THEN 'sent_at' ELSE quote_ident(c.time_column) END;
    resp text[] := '{}';
    cols text[];
    i int;
BEGIN
    cols := ARRAY[c.delivered_column, c.opened_column, c.clicked_column, c.converted_column];
    IF from_queue THEN
        cols := ARRAY[CASE WHEN c.delivered_column IS NULL THEN NULL ELSE 'delivered' END,
                      CASE WHEN c.opened_column IS NULL THEN NULL ELSE 'opened' END,
                      CASE WHEN c.clicked_column IS NULL THEN NULL ELSE 'clicked' END,
                      CASE WHEN c.converted_column IS NULL THEN NULL ELSE 'converted' END];
    END IF;
    -- a response is an open, a click or a conversion (delivery is not one)
    FOR i IN 2..4 LOOP
        IF cols[i] IS NOT NULL THEN
            resp := resp || format('coalesce(%I, false)', cols[i]);
        END IF;
    END LOOP;
    RETURN format('%s, %s::pg_catalog.timestamptz, %s::pg_catalog.timestamptz::pg_catalog.date, %s, %s, %s, %s, %s, %s, %s',
        CASE WHEN from_queue THEN 'customer_id' ELSE quote_ident(c.customer_column) END,
        tcol, tcol,
        CASE WHEN from_queue THEN 'channel' ELSE clm.track_channel_sql(c.source, c.channel_column) END,
        CASE WHEN from_queue THEN 'campaign' ELSE clm.track_channel_sql(c.source, c.campaign_column) END,
        coalesce(quote_ident(cols[1]), 'NULL::pg_catalog.bool'), coalesce(quote_ident(cols[2]), 'NULL::pg_catalog.bool'),
        coalesce(quote_ident(cols[3]), 'NULL::pg_catalog.bool'), coalesce(quote_ident(cols[4]), 'NULL::pg_catalog.bool'),
        CASE WHEN cardinality(resp) = 0 THEN 'NULL::pg_catalog.bool' ELSE array_to_string(resp, ' OR ') END);
END
$fn$;
COMMENT ON FUNCTION clm.contact_select_sql(clm.tracked_contacts, boolean) IS 'internal: the SELECT list reading the messages of a tracked contacts table or of its queue';

-- Moves the queued messages of a tracked source into <target>.contacts, or
-- reloads them all (reload, a marker queued by an UPDATE, DELETE or TRUNCATE,
-- or a contacts view); NULL if the source has no contacts.  The caller holds
-- the refresh lock.
CREATE FUNCTION clm.contact_refresh(r clm.tracked_source, reload boolean)
    RETURNS bigint LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    c clm.tracked_contacts;
    t name := r.target_schema;
    old_tz text := current_setting('TimeZone');
    op text;
    n bigint;
BEGIN
    SELECT * INTO c FROM clm.tracked_contacts tc WHERE tc.name = r.name;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF clm.track_act_as(r, 'clm.refresh') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    PERFORM set_config('TimeZone', r.settings->>'time_zone', true);
    IF c.incremental AND NOT reload THEN
        EXECUTE format('SELECT op FROM %I.clm_contacts_pending WHERE op IS NOT NULL LIMIT 1', t) INTO op;
    END IF;
    IF reload OR op IS NOT NULL OR NOT c.incremental THEN
        -- one statement: the queue emptied and the table read in one snapshot
        EXECUTE format($q$
WITH %s
old AS (DELETE FROM %I.contacts),
ins AS (INSERT INTO %I.contacts SELECT %s FROM %s WHERE %I IS NOT NULL AND %I IS NOT NULL RETURNING 1)
SELECT count(*) FROM ins$q$,
            CASE WHEN c.incremental THEN format('gone AS (DELETE FROM %I.clm_contacts_pending),', t) ELSE '' END,
            t, t, clm.contact_select_sql(c, false), c.source, c.customer_column, c.time_column)
            INTO n;
    ELSE
        EXECUTE format($q$
WITH moved AS (DELETE FROM %I.clm_contacts_pending WHERE op IS NULL RETURNING *),
ins AS (INSERT INTO %I.contacts SELECT %s FROM moved RETURNING 1)
SELECT count(*) FROM ins$q$, t, t, clm.contact_select_sql(c, true))
            INTO n;
    END IF;
    PERFORM set_config('TimeZone', old_tz, true);
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION clm.contact_refresh(clm.tracked_source, boolean) IS 'internal: merges the queued messages of a tracked source into its contacts table (or reloads them all); called by clm.refresh and clm.rebuild under the refresh lock';

-- The relations of contacts and audiences that readers of a tracked source
-- see (those that exist in its schema).
CREATE FUNCTION clm.contact_reader_relations(t name)
    RETURNS text[] LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT coalesce(array_agg(v.rel ORDER BY v.ord), '{}')
      FROM unnest(ARRAY['contacts', 'contact_pressure', 'contact_response_rates', 'contact_best',
                        'audience_members', 'audience_changes']) WITH ORDINALITY AS v(rel, ord)
     WHERE to_regclass(format('%I.%I', t, v.rel)) IS NOT NULL
$fn$;
COMMENT ON FUNCTION clm.contact_reader_relations(name) IS 'internal: the contact and audience tables and views of a tracked source''s schema that clm.grant_reader gives SELECT on';

-- Gives the readers of a tracked source SELECT on its contact and audience relations.
CREATE FUNCTION clm.contact_grant_readers(r clm.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    rd name;
    v text;
BEGIN
    FOREACH rd IN ARRAY r.readers LOOP
        CONTINUE WHEN NOT EXISTS (SELECT FROM pg_roles WHERE rolname = rd);
        FOREACH v IN ARRAY clm.contact_reader_relations(r.target_schema) LOOP
            EXECUTE format('GRANT SELECT ON %I.%I TO %I', r.target_schema, v, rd);
        END LOOP;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION clm.contact_grant_readers(clm.tracked_source) IS 'internal: gives the roles of clm.grant_reader SELECT on the contact and audience relations of a tracked source (clm.track_contacts and clm.track_audiences call it)';

-- Registers a table of messages sent with a tracked source.
CREATE FUNCTION clm.track_contacts(source_name text, contacts regclass,
    customer_column name, time_column name, channel_column name DEFAULT NULL,
    campaign_column name DEFAULT NULL, delivered_column name DEFAULT NULL,
    opened_column name DEFAULT NULL, clicked_column name DEFAULT NULL,
    converted_column name DEFAULT NULL)
    RETURNS bigint LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
    t name := r.target_schema;
    tag text := left(md5(r.name), 12);
    kind "char";
    incremental boolean;
    ctype text;
    ttype text;
    col name;
    g oid;
    role_sql text;
    n bigint;
BEGIN
    IF contacts IS NULL OR customer_column IS NULL OR time_column IS NULL THEN
        RAISE EXCEPTION 'clm.track_contacts: contacts, customer_column and time_column must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    IF clm.track_act_as(r, 'clm.track_contacts') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    PERFORM clm.track_lock(r, true);
    IF EXISTS (SELECT FROM clm.tracked_contacts tc WHERE tc.name = source_name) THEN
        RAISE EXCEPTION 'clm.track_contacts: tracked source "%" already has contacts', source_name
            USING ERRCODE = '42710', HINT = 'clm.untrack_contacts removes them.';
    END IF;
    SELECT c.relkind INTO kind FROM pg_class c WHERE c.oid = contacts;
    IF kind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION 'clm.track_contacts: % is not a table, view or foreign table', contacts
            USING ERRCODE = '42809';
    END IF;
    incremental := kind IN ('r', 'p');
    FOREACH col IN ARRAY ARRAY[customer_column, time_column, channel_column, campaign_column,
                               delivered_column, opened_column, clicked_column, converted_column] LOOP
        IF col IS NOT NULL AND NOT EXISTS (SELECT FROM pg_attribute a
                                           WHERE a.attrelid = contacts AND a.attname = col
                                             AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'clm.track_contacts: column "%" of % does not exist', col, contacts
                USING ERRCODE = '42703';
        END IF;
    END LOOP;
    ctype := clm.track_base_type(contacts, customer_column);
    IF ctype IS DISTINCT FROM clm.track_base_type(r.source, r.customer_column) THEN
        RAISE EXCEPTION 'clm.track_contacts: customer column "%" is of type %, the events'' customer column of type %',
            customer_column, ctype, clm.track_base_type(r.source, r.customer_column)
            USING ERRCODE = '42804';
    END IF;
    ttype := clm.track_base_type(contacts, time_column);
    IF ttype NOT IN ('timestamp with time zone', 'timestamp without time zone', 'date') THEN
        RAISE EXCEPTION 'clm.track_contacts: time column "%" is of type %', time_column, ttype
            USING ERRCODE = '42804', HINT = 'The time column is a timestamptz, timestamp or date.';
    END IF;
    FOREACH col IN ARRAY ARRAY[delivered_column, opened_column, clicked_column, converted_column] LOOP
        IF col IS NOT NULL AND clm.track_base_type(contacts, col) <> 'boolean' THEN
            RAISE EXCEPTION 'clm.track_contacts: response column "%" is of type %', col,
                clm.track_base_type(contacts, col)
                USING ERRCODE = '42804', HINT = 'delivered, opened, clicked and converted are boolean columns.';
        END IF;
    END LOOP;

    INSERT INTO clm.tracked_contacts VALUES (source_name, contacts, customer_column, time_column,
        channel_column, campaign_column, delivered_column, opened_column, clicked_column, converted_column,
        incremental);
    EXECUTE format($q$CREATE TABLE %I.contacts (
        customer_id %s NOT NULL,
        sent_at timestamptz NOT NULL,
        sent_day date NOT NULL,
        channel text,
        campaign text,
        delivered boolean,
        opened boolean,
        clicked boolean,
        converted boolean,
        responded boolean)$q$, t, ctype);
    EXECUTE format('CREATE INDEX ON %I.contacts (customer_id, sent_day)', t);
    EXECUTE format('COMMENT ON TABLE %I.contacts IS %L', t,
        format('the messages of %s, merged incrementally by clm.refresh(%L)', contacts, source_name));
    EXECUTE format('COMMENT ON COLUMN %I.contacts.sent_day IS %L', t, 'the day the message was sent, in the source''s time zone');
    EXECUTE format('COMMENT ON COLUMN %I.contacts.responded IS %L', t,
        'opened, clicked or converted (true if any is true); NULL when none of them is tracked');
    IF incremental THEN
        EXECUTE format($q$CREATE TABLE %I.clm_contacts_pending (
            customer_id %s,
            sent_at %s,
            channel text,
            campaign text,
            delivered boolean,
            opened boolean,
            clicked boolean,
            converted boolean,
            op text)$q$, t, ctype, ttype);
        EXECUTE format('COMMENT ON TABLE %I.clm_contacts_pending IS %L', t,
            format('clm internal: messages inserted into %s and not yet merged by clm.refresh; op = a change that needs a reload', contacts));
        -- every role that may write to the contacts table may queue
        FOR g IN
            SELECT DISTINCT a.grantee
              FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
             WHERE c.oid = contacts AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
            UNION
            SELECT relowner FROM pg_class WHERE oid = contacts
        LOOP
            CONTINUE WHEN g <> 0 AND g::regrole::text = current_user::text;
            role_sql := CASE WHEN g = 0 THEN 'PUBLIC' ELSE quote_ident(g::regrole::text) END;
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO %s', t, role_sql);
            EXECUTE format('GRANT INSERT ON %I.clm_contacts_pending TO %s', t, role_sql);
        END LOOP;
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS clm_new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION clm.contact_capture(%L, %L, %L, %L, %L, %L, %L, %L, %L)',
                       'clm_contact_capture_' || tag, contacts, t, customer_column, time_column,
                       coalesce(channel_column, ''), coalesce(campaign_column, ''), coalesce(delivered_column, ''),
                       coalesce(opened_column, ''), coalesce(clicked_column, ''), coalesce(converted_column, ''));
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OR DELETE OR TRUNCATE ON %s'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION clm.contact_invalidate(%L)',
                       'clm_contact_invalidate_' || tag, contacts, t);
    END IF;
    PERFORM clm.contact_create_views(r);
    PERFORM clm.contact_grant_readers(r);
    n := clm.contact_refresh(r, true);
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION clm.track_contacts(text, regclass, name, name, name, name, name, name, name, name) IS 'registers a table of messages sent (customer, time, and optionally channel, campaign, delivered, opened, clicked, converted) with a tracked source: clm.refresh then merges its new rows into <target>.contacts, as it does the events; returns the messages loaded';

-- Removes what clm.track_contacts created (clm.untrack calls it).
CREATE FUNCTION clm.untrack_contacts(source_name text)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
    c clm.tracked_contacts;
    t name := r.target_schema;
    tag text := left(md5(r.name), 12);
BEGIN
    SELECT * INTO c FROM clm.tracked_contacts tc WHERE tc.name = source_name;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF clm.track_act_as(r, 'clm.untrack_contacts') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF c.incremental AND to_regclass(c.source::text) IS NOT NULL THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_contact_capture_' || tag, c.source);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_contact_invalidate_' || tag, c.source);
    END IF;
    EXECUTE format('DROP VIEW IF EXISTS %I.contact_best, %I.contact_response_rates, %I.contact_pressure', t, t, t);
    EXECUTE format('DROP TABLE IF EXISTS %I.contacts, %I.clm_contacts_pending', t, t);
    DELETE FROM clm.tracked_contacts tc WHERE tc.name = source_name;
END
$fn$;
COMMENT ON FUNCTION clm.untrack_contacts(text) IS 'removes the triggers, tables and views clm.track_contacts created for a tracked source (clm.untrack calls it)';

-- Creates the contact views of a tracked source.
--
-- contact_pressure: one row per customer and channel with a message on or
-- before the as-of day (clm_fit.as_of, the day of the last refresh).  Windows
-- are of whole days ending on the as-of day: sent_7d counts the messages of
-- the days as_of - 6 .. as_of, and so on.  response_rate_90d is the share of
-- the channel's messages of the last 90 days that drew a response (opened,
-- clicked or converted).  Fatigue: each message's pressure is the number of
-- other messages to the customer, on any channel, in the 30 days up to and
-- including its day; fatigue_90d = minus the Pearson correlation between
-- that pressure and the response (1 or 0) over the channel's messages of the
-- last 90 days, so it is positive when the response falls as the pressure
-- rises (from -1 to 1; NULL when either does not vary).
CREATE FUNCTION clm.contact_create_views(r clm.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t name := r.target_schema;
BEGIN
    EXECUTE format($q$CREATE VIEW %1$I.contact_pressure AS
SELECT m.customer_id, m.channel, m.as_of,
       pg_catalog.count(*) FILTER (WHERE m.sent_day > m.as_of - 7) AS sent_7d,
       pg_catalog.count(*) FILTER (WHERE m.sent_day > m.as_of - 30) AS sent_30d,
       pg_catalog.count(*) FILTER (WHERE m.sent_day > m.as_of - 90) AS sent_90d,
       pg_catalog.max(m.sent_day) AS last_contact,
       m.as_of - pg_catalog.max(m.sent_day) AS days_since_contact,
       m.as_of - pg_catalog.max(pg_catalog.max(m.sent_day)) OVER (PARTITION BY m.customer_id) AS days_since_any_contact,
       pg_catalog.count(m.responded) FILTER (WHERE m.sent_day > m.as_of - 90) AS measured_90d,
       pg_catalog.avg(m.responded::int) FILTER (WHERE m.sent_day > m.as_of - 90)::double precision AS response_rate_90d,
       -pg_catalog.corr(m.responded::int, m.pressure_30d) FILTER (WHERE m.sent_day > m.as_of - 90) AS fatigue_90d
  FROM (SELECT c.customer_id, c.channel, c.sent_day, c.responded, f.as_of,
               pg_catalog.count(*) OVER (PARTITION BY c.customer_id ORDER BY c.sent_day
                                         RANGE BETWEEN '29 days'::interval PRECEDING AND CURRENT ROW) - 1 AS pressure_30d
          FROM %1$I.contacts c, %1$I.clm_fit f
         WHERE c.sent_day <= f.as_of) m
 GROUP BY m.customer_id, m.channel, m.as_of$q$, t);
    EXECUTE format('COMMENT ON VIEW %I.contact_pressure IS %L', t,
        'contact pressure per customer and channel as of the last refresh (clm.track_contacts): messages in the last 7, 30 and 90 days, days since the last contact, response rate and fatigue (see docs/contacts.md)');
    -- when and where: response rates per customer by channel, hour of day and
    -- day of week, each shrunk toward the population's rate of that channel,
    -- hour or day with a prior of 5 messages: (r + 5 p) / (n + 5)
    EXECUTE format($q$CREATE VIEW %1$I.contact_response_rates AS
WITH m AS (
    SELECT c.customer_id, c.channel, c.responded,
           pg_catalog.date_part('hour', c.sent_at AT TIME ZONE %2$L)::int AS hour,
           pg_catalog.date_part('isodow', c.sent_at AT TIME ZONE %2$L)::int AS dow
      FROM %1$I.contacts c, %1$I.clm_fit f
     WHERE c.sent_day <= f.as_of AND c.responded IS NOT NULL),
keyed AS (
    SELECT m.customer_id, m.responded, k.dimension, k.value
      FROM m, LATERAL (VALUES ('channel', m.channel), ('hour', m.hour::text), ('dow', m.dow::text)) k(dimension, value)
     WHERE k.value IS NOT NULL),
pop AS (SELECT dimension, value, pg_catalog.avg(responded::int)::double precision AS p FROM keyed GROUP BY 1, 2),
own AS (SELECT customer_id, dimension, value, pg_catalog.count(*) AS n, pg_catalog.sum(responded::int) AS r
          FROM keyed GROUP BY 1, 2, 3),
cust AS (SELECT DISTINCT customer_id FROM m)
SELECT c.customer_id, p.dimension, p.value, coalesce(o.n, 0) AS messages, coalesce(o.r, 0) AS responses,
       p.p AS population_rate,
       (coalesce(o.r, 0) + 5 * p.p) / (coalesce(o.n, 0) + 5) AS response_rate,
       pg_catalog.rank() OVER (PARTITION BY c.customer_id, p.dimension
                               ORDER BY (coalesce(o.r, 0) + 5 * p.p) / (coalesce(o.n, 0) + 5) DESC) AS rank
  FROM cust c CROSS JOIN pop p
  LEFT JOIN own o ON o.customer_id = c.customer_id AND o.dimension = p.dimension AND o.value = p.value$q$,
        t, r.settings->>'time_zone');
    EXECUTE format('COMMENT ON VIEW %I.contact_response_rates IS %L', t,
        'when and where: each customer''s response rate by channel, hour of day (0-23) and ISO day of week (1 = Monday), shrunk toward the population''s rate with a prior of 5 messages, ranked (see docs/contacts.md)');
    EXECUTE format($q$CREATE VIEW %1$I.contact_best AS
SELECT customer_id,
       pg_catalog.min(value) FILTER (WHERE dimension = 'channel' AND rank = 1) AS best_channel,
       pg_catalog.min(value::int) FILTER (WHERE dimension = 'hour' AND rank = 1) AS best_hour,
       pg_catalog.min(value::int) FILTER (WHERE dimension = 'dow' AND rank = 1) AS best_dow
  FROM %1$I.contact_response_rates
 GROUP BY customer_id$q$, t);
    EXECUTE format('COMMENT ON VIEW %I.contact_best IS %L', t,
        'when and where: each customer''s channel, hour of day and ISO day of week with the highest shrunk response rate (ties: the smallest)');
END
$fn$;
COMMENT ON FUNCTION clm.contact_create_views(clm.tracked_source) IS 'internal: creates the views contact_pressure, contact_response_rates and contact_best of a tracked source with contacts';
-- Audiences of a tracked source: the changes of stage and RFM segment
-- membership as rows, for a sync tool (reverse ETL) to read and acknowledge.
-- clm.track_audiences makes <target>.audience_members (the memberships as of
-- the last refresh) and <target>.audience_changes (customer, audience,
-- entered or exited, at); every clm.refresh and clm.rebuild then compares the
-- customers table with the members and records each difference once, in one
-- statement, under the source's refresh lock (EXCLUSIVE on clm_fit, to the
-- end of the transaction): a second refresh waits for the first to commit and
-- then sees its members, so no change is recorded twice
-- (specs/contact_conc_audience.spec).  Audiences are named 'stage:<stage>' and
-- 'segment:<rfm_segment>'.

-- Records the audience changes of a tracked source since the last call; NULL
-- if it has no audiences.  The caller holds the refresh lock.
CREATE FUNCTION clm.audience_refresh(r clm.tracked_source)
    RETURNS bigint LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t name := r.target_schema;
    n bigint;
BEGIN
    IF clm.track_act_as(r, 'clm.refresh') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF to_regclass(format('%I.audience_members', t)) IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
WITH cur AS (SELECT customer_id, 'stage:' || stage AS audience FROM %1$I.customers WHERE stage IS NOT NULL
             UNION ALL
             SELECT customer_id, 'segment:' || rfm_segment FROM %1$I.customers WHERE rfm_segment IS NOT NULL),
gone AS (DELETE FROM %1$I.audience_members m
          WHERE NOT EXISTS (SELECT FROM cur WHERE cur.customer_id = m.customer_id AND cur.audience = m.audience)
         RETURNING m.customer_id, m.audience),
fresh AS (INSERT INTO %1$I.audience_members (customer_id, audience, since)
          SELECT c.customer_id, c.audience, now() FROM cur c
           WHERE NOT EXISTS (SELECT FROM %1$I.audience_members m
                              WHERE m.customer_id = c.customer_id AND m.audience = c.audience)
          RETURNING customer_id, audience),
ins AS (INSERT INTO %1$I.audience_changes (customer_id, audience, change, at)
        SELECT customer_id, audience, 'exited', now() FROM gone
        UNION ALL
        SELECT customer_id, audience, 'entered', now() FROM fresh
        RETURNING 1)
SELECT count(*) FROM ins$q$, t) INTO n;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION clm.audience_refresh(clm.tracked_source) IS 'internal: records the stage and segment membership changes of a tracked source since the last refresh (clm.refresh and clm.rebuild call it under the refresh lock)';

-- Starts recording the audience changes of a tracked source.
CREATE FUNCTION clm.track_audiences(source_name text)
    RETURNS bigint LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
    t name := r.target_schema;
BEGIN
    IF clm.track_act_as(r, 'clm.track_audiences') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    PERFORM clm.track_lock(r, true);
    IF to_regclass(format('%I.audience_members', t)) IS NOT NULL THEN
        RAISE EXCEPTION 'clm.track_audiences: tracked source "%" already records its audiences', source_name
            USING ERRCODE = '42710';
    END IF;
    EXECUTE format($q$CREATE TABLE %I.audience_members (
        customer_id %s NOT NULL,
        audience text NOT NULL,
        since timestamptz NOT NULL,
        PRIMARY KEY (customer_id, audience))$q$, t, clm.track_base_type(r.source, r.customer_column));
    EXECUTE format('COMMENT ON TABLE %I.audience_members IS %L', t,
        'the audiences (stage:<stage>, segment:<rfm_segment>) of each customer as of the last refresh (clm.track_audiences)');
    EXECUTE format($q$CREATE TABLE %I.audience_changes (
        change_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        customer_id %s NOT NULL,
        audience text NOT NULL,
        change text NOT NULL CHECK (change IN ('entered', 'exited')),
        at timestamptz NOT NULL)$q$, t, clm.track_base_type(r.source, r.customer_column));
    EXECUTE format('COMMENT ON TABLE %I.audience_changes IS %L', t,
        'each change of audience membership, once, in change_id order: read the rows after the last one synced, then clm.acknowledge_audience_changes');
    PERFORM clm.contact_grant_readers(r);
    RETURN clm.audience_refresh(r);
END
$fn$;
COMMENT ON FUNCTION clm.track_audiences(text) IS 'starts recording the stage and segment membership changes of a tracked source in <target>.audience_changes (every current membership is recorded as entered); returns the changes recorded';

-- Removes what clm.track_audiences created (clm.untrack calls it).
CREATE FUNCTION clm.untrack_audiences(source_name text)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
BEGIN
    IF clm.track_act_as(r, 'clm.untrack_audiences') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF to_regclass(format('%I.audience_members', r.target_schema)) IS NOT NULL THEN
        EXECUTE format('DROP TABLE %I.audience_members', r.target_schema);
    END IF;
    IF to_regclass(format('%I.audience_changes', r.target_schema)) IS NOT NULL THEN
        EXECUTE format('DROP TABLE %I.audience_changes', r.target_schema);
    END IF;
END
$fn$;
COMMENT ON FUNCTION clm.untrack_audiences(text) IS 'stops recording the audience changes of a tracked source and drops its audience tables (clm.untrack calls it)';

-- Deletes the audience changes a sync tool has read, up to a change_id.
CREATE FUNCTION clm.acknowledge_audience_changes(source_name text, through bigint)
    RETURNS bigint LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
    n bigint;
BEGIN
    IF through IS NULL THEN
        RAISE EXCEPTION 'clm.acknowledge_audience_changes: through must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF clm.track_act_as(r, 'clm.acknowledge_audience_changes') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF to_regclass(format('%I.audience_changes', r.target_schema)) IS NULL THEN
        RAISE EXCEPTION 'clm.acknowledge_audience_changes: tracked source "%" records no audiences', source_name
            USING ERRCODE = '55000', HINT = 'Start with clm.track_audiences.';
    END IF;
    EXECUTE format('WITH d AS (DELETE FROM %I.audience_changes WHERE change_id <= $1 RETURNING 1) SELECT count(*) FROM d',
                   r.target_schema) INTO n USING through;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION clm.acknowledge_audience_changes(text, bigint) IS 'deletes the audience changes of a tracked source up to and including change_id through (those a sync tool has read); returns how many';
-- Contact rules as data: named rule sets (clm.contact_rule_set) and
-- clm.contactable, which answers for every customer of a tracked source with
-- contacts (87_contact.sql) whether a message of a kind on a channel may be
-- sent on a day, and if not, why and from when.
--
-- A rule set is a jsonb object; every key is optional:
--   caps                        [{"channel": "email" (absent or null: all
--                               channels together), "days": 7, "max": 2}, ...]:
--                               at most max messages in the days days ending
--                               on the day (today's included)
--   quiet_days_after_purchase   no message at all within n days after a purchase
--   promotion_quiet_days        no promotion within n days after a purchase
--   winback_stages              win-back messages only to customers in these stages
--   churned_unresponsive        a churned customer is never contacted on a
--                               channel where their last n messages (with a
--                               known response) all went unanswered

-- Validates a rule set: true, or error 22023 naming what is wrong.
CREATE FUNCTION clm.contact_rules_check(rules jsonb)
    RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    k text;
    c jsonb;
    v jsonb;
    n numeric;
    lo int;
BEGIN
    IF jsonb_typeof(rules) <> 'object' THEN
        RAISE EXCEPTION 'clm: a contact rule set is a json object, not %', jsonb_typeof(rules)
            USING ERRCODE = '22023';
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(rules) LOOP
        IF k IN ('quiet_days_after_purchase', 'promotion_quiet_days', 'churned_unresponsive') THEN
            lo := (k = 'churned_unresponsive')::int;
            IF jsonb_typeof(v) <> 'number' THEN
                n := NULL;
            ELSE
                n := v::text::numeric;
            END IF;
            IF n IS NULL OR n <> trunc(n) OR n < lo OR n > 3650 THEN
                RAISE EXCEPTION 'clm: contact rule "%" must be a whole number from % to 3650, not %', k, lo, v
                    USING ERRCODE = '22023';
            END IF;
        ELSIF k = 'winback_stages' THEN
            IF jsonb_typeof(v) <> 'array' OR EXISTS (
                   SELECT FROM jsonb_array_elements(v) e
                    WHERE jsonb_typeof(e) <> 'string'
                       OR e #>> '{}' NOT IN ('prospect', 'new', 'active', 'at_risk', 'lapsed', 'churned', 'reactivated')) THEN
                RAISE EXCEPTION 'clm: contact rule "winback_stages" must be an array of stages, not %', v
                    USING ERRCODE = '22023',
                          HINT = 'The stages are prospect, new, active, at_risk, lapsed, churned and reactivated.';
            END IF;
        ELSIF k = 'caps' THEN
            IF jsonb_typeof(v) <> 'array' THEN
                RAISE EXCEPTION 'clm: contact rule "caps" must be an array, not %', v USING ERRCODE = '22023';
            END IF;
            FOR c IN SELECT * FROM jsonb_array_elements(v) LOOP
                IF jsonb_typeof(c) <> 'object'
                   OR EXISTS (SELECT FROM jsonb_object_keys(c) ck WHERE ck NOT IN ('channel', 'days', 'max'))
                   OR jsonb_typeof(c->'channel') NOT IN ('string', 'null')
                   OR jsonb_typeof(c->'days') IS DISTINCT FROM 'number'
                   OR jsonb_typeof(c->'max') IS DISTINCT FROM 'number' THEN
                    RAISE EXCEPTION 'clm: a contact cap is {"channel": text or null, "days": n, "max": n}, not %', c
                        USING ERRCODE = '22023';
                END IF;
                n := (c->>'days')::numeric;
                IF n <> trunc(n) OR n < 1 OR n > 3650 THEN
                    RAISE EXCEPTION 'clm: a contact cap''s "days" must be a whole number from 1 to 3650, not %', c->'days'
                        USING ERRCODE = '22023';
                END IF;
                n := (c->>'max')::numeric;
                IF n <> trunc(n) OR n < 1 OR n > 1000000 THEN
                    RAISE EXCEPTION 'clm: a contact cap''s "max" must be a whole number from 1 to 1000000, not %', c->'max'
                        USING ERRCODE = '22023',
                              HINT = 'To stop a channel, leave it out of the campaign rather than cap it at 0.';
                END IF;
            END LOOP;
        ELSE
            RAISE EXCEPTION 'clm: unknown contact rule "%"', k
                USING ERRCODE = '22023',
                      HINT = 'The rules are caps, quiet_days_after_purchase, promotion_quiet_days, winback_stages and churned_unresponsive.';
        END IF;
    END LOOP;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION clm.contact_rules_check(jsonb) IS 'validates a contact rule set (clm.contact_rule_set.rules): true, or error 22023 naming the bad rule';

CREATE TABLE clm.contact_rule_set (
    name text PRIMARY KEY CHECK (name <> '' AND length(name) <= 63),
    rules jsonb NOT NULL CHECK (clm.contact_rules_check(rules)),
    description text,
    preset boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE clm.contact_rule_set IS 'named contact rule sets used by clm.contactable (validated by clm.contact_rules_check). Presets (preset = true) ship with the extension; add your own under new names (your rows are dumped by pg_dump)';
COMMENT ON COLUMN clm.contact_rule_set.name IS 'the name passed to clm.contactable';
COMMENT ON COLUMN clm.contact_rule_set.rules IS 'the rules: caps, quiet_days_after_purchase, promotion_quiet_days, winback_stages, churned_unresponsive (docs/contacts.md)';
COMMENT ON COLUMN clm.contact_rule_set.description IS 'what the rule set is for';
COMMENT ON COLUMN clm.contact_rule_set.preset IS 'true for the rows shipped with the extension (not dumped by pg_dump; copy them under a new name to change them)';
SELECT pg_catalog.pg_extension_config_dump('clm.contact_rule_set', 'WHERE NOT preset');
GRANT SELECT ON clm.contact_rule_set TO PUBLIC;
-- the role that installs clm manages the rule sets (as the segment maps)
GRANT INSERT, UPDATE, DELETE ON clm.contact_rule_set TO @extowner@;
INSERT INTO clm.contact_rule_set VALUES
 ('default',
  '{"caps": [{"channel": null, "days": 1, "max": 1},
             {"channel": "email", "days": 7, "max": 2}, {"channel": "email", "days": 30, "max": 6},
             {"channel": "sms", "days": 7, "max": 1}, {"channel": "sms", "days": 30, "max": 2},
             {"channel": "push", "days": 7, "max": 3}],
    "quiet_days_after_purchase": 1, "promotion_quiet_days": 14,
    "winback_stages": ["lapsed"], "churned_unresponsive": 3}',
  'one message a day; email 2 a week and 6 in 30 days; sms 1 a week and 2 in 30 days; push 3 a week; nothing on the day after a purchase, no promotion for 14 days after one; win-back to lapsed customers only; churned customers not on a channel where their last 3 messages went unanswered',
  true);

-- Whether each customer of a tracked source may be sent a message of a kind
-- (message, promotion, winback) on a channel on a day (default: the as-of
-- day of the last refresh), under a named rule set.  The rules are checked in
-- this order and the first that blocks is the reason: churned and
-- unresponsive on the channel, win-back to a stage not allowed, quiet period
-- after a purchase, promotion too soon after a purchase, caps (the first in
-- the rule set's order).  next_allowed is the day from which the blocking
-- time rules (quiet periods, caps) all pass if nothing more is sent; NULL
-- when a stage rule blocks (it waits for the customer, not for a day).  The
-- stage and last purchase are those of the customers table (the last
-- refresh); the messages those of the contacts table up to the day.
CREATE FUNCTION clm.contactable(source_name text, channel text, kind text DEFAULT 'message',
    rule_set text DEFAULT 'default', at date DEFAULT NULL)
    RETURNS TABLE (customer_id text, contactable boolean, reason text, next_allowed date)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    r clm.tracked_source := clm.track_lookup(source_name);
    t name := r.target_schema;
    rules jsonb;
    day date := at;
BEGIN
    IF channel IS NULL OR kind IS NULL OR rule_set IS NULL THEN
        RAISE EXCEPTION 'clm.contactable: channel, kind and rule_set must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF kind NOT IN ('message', 'promotion', 'winback') THEN
        RAISE EXCEPTION 'clm.contactable: unknown kind "%"', kind
            USING ERRCODE = '22023', HINT = 'The kinds are message, promotion and winback.';
    END IF;
    SELECT rs.rules INTO rules FROM clm.contact_rule_set rs WHERE rs.name = rule_set;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'clm.contactable: no contact rule set named "%"', rule_set
            USING ERRCODE = '42704', HINT = 'SELECT name FROM clm.contact_rule_set lists them.';
    END IF;
    IF NOT EXISTS (SELECT FROM clm.tracked_contacts tc WHERE tc.name = source_name) THEN
        RAISE EXCEPTION 'clm.contactable: tracked source "%" has no contacts', source_name
            USING ERRCODE = '55000', HINT = 'Register the messages sent with clm.track_contacts.';
    END IF;
    IF day IS NULL THEN
        -- (from customers, which readers may read: clm_fit is the owner's)
        EXECUTE format('SELECT max(as_of) FROM %I.customers', t) INTO day;
    END IF;
    RETURN QUERY EXECUTE format($q$
WITH caps AS MATERIALIZED (
    SELECT k.ord, k.c->>'channel' AS channel, (k.c->>'days')::int AS days, (k.c->>'max')::int AS mx
      FROM pg_catalog.jsonb_array_elements(coalesce($3->'caps', '[]')) WITH ORDINALITY AS k(c, ord)
     WHERE k.c->>'channel' IS NULL OR k.c->>'channel' = $2),
recent AS MATERIALIZED (
    -- the messages of the longest cap window, read once
    SELECT s.customer_id, s.sent_day, s.channel FROM %1$I.contacts s
     WHERE s.sent_day > $1 - (SELECT pg_catalog.max(days) FROM caps) AND s.sent_day <= $1),
lastn AS (
    -- the last n messages on the channel with a known response, per customer
    SELECT z.customer_id, pg_catalog.count(*) AS n, pg_catalog.bool_or(z.responded) AS answered
      FROM (SELECT s.customer_id, s.responded,
                   pg_catalog.row_number() OVER (PARTITION BY s.customer_id ORDER BY s.sent_at DESC) AS rn
              FROM %1$I.contacts s
             WHERE ($3->>'churned_unresponsive') IS NOT NULL AND s.channel = $2 AND s.sent_day <= $1
               AND s.responded IS NOT NULL) z
     WHERE z.rn <= ($3->>'churned_unresponsive')::int
     GROUP BY z.customer_id),
hits AS (
    -- the caps each customer has reached, and the day each frees: the day the
    -- (n - max + 1)-th oldest message of the window leaves it
    SELECT s.customer_id, k.ord, k.channel, k.days, k.mx,
           (pg_catalog.array_agg(s.sent_day ORDER BY s.sent_day))[pg_catalog.count(*) - k.mx + 1] + k.days AS frees
      FROM caps k
      JOIN recent s ON s.sent_day > $1 - k.days AND (k.channel IS NULL OR s.channel = k.channel)
     GROUP BY s.customer_id, k.ord, k.channel, k.days, k.mx
    HAVING pg_catalog.count(*) >= k.mx),
firsthit AS (
    SELECT DISTINCT ON (h.customer_id) h.customer_id,
           pg_catalog.format('cap: %%s per %%s days on %%s', h.mx, h.days, coalesce(h.channel, 'all channels')) AS reason,
           pg_catalog.max(h.frees) OVER (PARTITION BY h.customer_id) AS frees
      FROM hits h
     ORDER BY h.customer_id, h.ord),
x AS (
    SELECT c.customer_id, c.stage, c.last_purchase, f.reason AS cap_reason, f.frees,
           c.last_purchase + ($3->>'quiet_days_after_purchase')::int AS quiet_end,
           CASE WHEN $4 = 'promotion' THEN c.last_purchase + ($3->>'promotion_quiet_days')::int END AS promo_end,
           coalesce(c.stage = 'churned' AND l.n = ($3->>'churned_unresponsive')::int AND NOT l.answered, false) AS unresponsive
      FROM %1$I.customers c LEFT JOIN firsthit f ON f.customer_id = c.customer_id
      LEFT JOIN lastn l ON l.customer_id = c.customer_id),
y AS (
    SELECT x.*,
           CASE WHEN x.unresponsive
                THEN pg_catalog.format('churned and no response to the last %%s messages on %%s', $3->>'churned_unresponsive', $2)
                WHEN $4 = 'winback' AND $3 ? 'winback_stages'
                     AND NOT (x.stage = ANY (ARRAY(SELECT pg_catalog.jsonb_array_elements_text($3->'winback_stages'))))
                THEN pg_catalog.format('win-back only to %%s customers, not %%s',
                                       pg_catalog.array_to_string(ARRAY(SELECT pg_catalog.jsonb_array_elements_text($3->'winback_stages')), ', '),
                                       x.stage)
                WHEN x.quiet_end > $1
                THEN pg_catalog.format('quiet period: %%s days after the purchase of %%s', $3->>'quiet_days_after_purchase', x.last_purchase)
                WHEN x.promo_end > $1
                THEN pg_catalog.format('no promotion within %%s days after the purchase of %%s', $3->>'promotion_quiet_days', x.last_purchase)
                ELSE x.cap_reason END AS reason
      FROM x)
SELECT y.customer_id::pg_catalog.text, y.reason IS NULL, coalesce(y.reason, 'ok'),
       CASE WHEN y.reason IS NULL THEN $1
            WHEN y.unresponsive OR y.reason LIKE 'win-back%%' THEN NULL
            ELSE GREATEST(CASE WHEN y.quiet_end > $1 THEN y.quiet_end END,
                                     CASE WHEN y.promo_end > $1 THEN y.promo_end END, y.frees) END
  FROM y$q$, t)
        USING day, channel, rules, kind;
END
$fn$;
COMMENT ON FUNCTION clm.contactable(text, text, text, text, date) IS 'for every customer of a tracked source with contacts: whether a message of a kind (message, promotion, winback) may be sent on a channel on a day under a named rule set (clm.contact_rule_set), the reason, and the next day it may';
-- Every tracked source made by 0.1 is brought up to 0.2: its triggers call
-- clm.track_capture and clm.track_invalidate (the functions 0.1 made in its
-- target schema are dropped), a filtered source's queue gets source_row.
-- Events still queued stay queued and are merged by the next clm.refresh.
-- DDL only (clm.upgrade_tracked runs none of the owners' SQL).
SELECT clm.upgrade_tracked(ts.name) FROM clm.tracked_source ts ORDER BY ts.name;
-- Reports: clm.report(name) returns one self-contained HTML page (inline CSS
-- and SVG, no script, nothing fetched) drawn from a tracked source's customers
-- table and materialised views; clm.report_profiles draws the same page from a
-- table of profiles, without a tracked source.
--
-- Every section is one function reading the relations it is given with the
-- caller's privileges (no SECURITY DEFINER): a role sees in the report what it
-- may SELECT, and nothing else.  Every string taken from the data (customer ids,
-- segment and stage names, titles, error messages) goes through clm.html_escape.
-- Numbers are formatted with to_char patterns using "," and "." (not the
-- locale's G and D), so the page is the same whatever lc_numeric says.
--
-- Parallel labels: the helpers that only format are PARALLEL SAFE; the
-- functions that run queries of their own are PARALLEL RESTRICTED (run by
-- the leader: in a worker their queries could use no worker of their own and
-- could not read the temporary tables of clm.report_profiles), and
-- clm.report_profiles, which makes temporary tables, PARALLEL UNSAFE.

-- The small helpers called for every cell of a chart are SQL-standard bodies
-- (RETURN ...: names bound when the extension is created, no search_path to
-- pin), which the planner inlines; a function with a SET clause is never
-- inlined, and costs a configuration save and restore per call.

-- HTML (and XML) escaping of a text.
CREATE FUNCTION clm.html_escape(s text)
    RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           s, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;');
COMMENT ON FUNCTION clm.html_escape(text) IS 'the text with & < > " and '' replaced by HTML character references (safe in HTML and XML text and quoted attributes)';

-- A number for display: thousands separated by ",", a fixed number of decimals.
CREATE FUNCTION clm.report_num(x double precision, decimals integer DEFAULT 0)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
        WHEN x IS NULL THEN '&#8211;'
        WHEN x = 'NaN'::float8 OR x = 'Infinity'::float8 OR x = '-Infinity'::float8 THEN 'n/a'
        WHEN pg_catalog.abs(x) >= 1e15 THEN x::text
        ELSE pg_catalog.to_char(pg_catalog.round(x::numeric, LEAST(GREATEST(COALESCE(decimals, 0), 0), 6)),
                     'FM999,999,999,999,990' OPERATOR(pg_catalog.||)
                     CASE WHEN COALESCE(decimals, 0) > 0
                          THEN '.' OPERATOR(pg_catalog.||) pg_catalog.repeat('0', LEAST(decimals, 6)) ELSE '' END)
    END;
COMMENT ON FUNCTION clm.report_num(double precision, integer) IS 'internal: a number as the report shows it (1,234.5; "n/a" for NaN and infinities; an en dash for NULL), independent of lc_numeric';

-- A coordinate for SVG: one decimal, always a "." (numeric output).
CREATE FUNCTION clm.report_px(x double precision)
    RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.round(x::numeric, 1)::text;
COMMENT ON FUNCTION clm.report_px(double precision) IS 'internal: an SVG coordinate (one decimal)';

-- A round axis step (1, 2 or 5 times a power of ten) near a rough step.
CREATE FUNCTION clm.report_step(rough double precision)
    RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT CASE WHEN NOT (rough > 0) OR rough = 'Infinity'::float8 OR rough = 'NaN'::float8 THEN 1
                ELSE (SELECT CASE WHEN m <= 1 THEN 1 WHEN m <= 2 THEN 2 WHEN m <= 5 THEN 5 ELSE 10 END * e
                        FROM (SELECT rough / e AS m, e
                                FROM (SELECT power(10::float8, floor(log(rough))) AS e) a) b)
           END
$fn$;
COMMENT ON FUNCTION clm.report_step(double precision) IS 'internal: the axis step of 1, 2 or 5 times a power of ten at or above a rough step';

-- The gridlines and labels of a vertical value axis.
CREATE FUNCTION clm.report_yaxis(lo double precision, hi double precision, step double precision,
    x0 double precision, x1 double precision, y_lo double precision, y_hi double precision,
    decimals integer, right_side boolean DEFAULT false, scale double precision DEFAULT 1)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT coalesce(string_agg(format('<line class="%s" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="tick" x="%s" y="%s" text-anchor="%s">%s</text>',
                                      CASE WHEN right_side THEN 'axisline' ELSE 'grid' END,
                                      clm.report_px(CASE WHEN right_side THEN x1 ELSE x0 END), clm.report_px(y),
                                      clm.report_px(CASE WHEN right_side THEN x1 + 4 ELSE x1 END), clm.report_px(y),
                                      clm.report_px(CASE WHEN right_side THEN x1 + 6 ELSE x0 - 6 END),
                                      clm.report_px(y + 4), CASE WHEN right_side THEN 'start' ELSE 'end' END,
                                      clm.report_num(abs(v) * scale, decimals)), ''), '')
      FROM (SELECT v, y_lo + (v - lo) / nullif(hi - lo, 0) * (y_hi - y_lo) AS y
              FROM generate_series(0, least(floor((hi - lo) / step + 1e-9)::int, 50)) i,
                   LATERAL (SELECT lo + i * step AS v) s) g
$fn$;
COMMENT ON FUNCTION clm.report_yaxis(double precision, double precision, double precision, double precision, double precision, double precision, double precision, integer, boolean, double precision) IS 'internal: gridlines (or, on the right side, tick marks at x1) and tick labels of a value axis from lo to hi by step, drawn from y_lo to y_hi between x0 and x1; labels show |value| x scale';

-- The opening of a chart: an SVG image with its title, and the figure around it.
CREATE FUNCTION clm.report_svg(id text, width integer, height integer, title text, body text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT format('<svg class="chart" id="%1$s-svg" viewBox="0 0 %2$s %3$s" width="%2$s" height="%3$s" role="img" aria-labelledby="%1$s-title"><title id="%1$s-title">%4$s</title>%5$s</svg>',
                  id, width, height, title, body)
$fn$;
COMMENT ON FUNCTION clm.report_svg(text, integer, integer, text, text) IS 'internal: an inline SVG chart with an accessible title (title must be escaped already)';

-- The style sheet: light and dark colour schemes, print.
CREATE FUNCTION clm.report_style()
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT $css$
:root { color-scheme: light dark;
  --bg: #ffffff; --fg: #1d2330; --muted: #5b6474; --grid: #dfe3ea; --panel: #f5f7fa; --border: #d5dae2;
  --new: #2e8b57; --returning: #2f6fb0; --resurrecting: #d99a1e; --dormant: #c8434f; --pulse: #6a3d9a;
  --actual: #2f6fb0; --predicted: #d95f02; --bar: #2f6fb0;
  --s0: #9aa3b2; --s1: #8c6bb1; --s2: #2e8b57; --s3: #2f6fb0; --s4: #17a2b8; --s5: #d99a1e; --s6: #e8684a; --s7: #8a1c2b; --s8: #777777; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --fg: #e6e9ef; --muted: #a3abb9; --grid: #343a45; --panel: #1d2129; --border: #3a404c;
    --new: #4cc38a; --returning: #5b9be0; --resurrecting: #f0b640; --dormant: #ef6b76; --pulse: #c39bf0;
    --actual: #5b9be0; --predicted: #ff9a4d; --bar: #5b9be0;
    --s0: #8a93a2; --s1: #b294e0; --s2: #4cc38a; --s3: #5b9be0; --s4: #3fc7dc; --s5: #f0b640; --s6: #ff8a6e; --s7: #e05a6b; --s8: #9a9a9a; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1000px; padding: 24px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 0 0 6px; } h3 { font-size: 15px; margin: 12px 0 4px; }
header p, .note { color: var(--muted); margin: 2px 0; }
section { margin: 26px 0; padding: 16px 18px; background: var(--panel); border: 1px solid var(--border); border-radius: 8px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin: 10px 0 0; }
.kpis div { background: var(--bg); border: 1px solid var(--border); border-radius: 6px; padding: 10px 12px; }
.kpis dt { color: var(--muted); font-size: 12px; } .kpis dd { margin: 2px 0 0; font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
figure { margin: 0; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 8px 0; }
svg.chart text { fill: var(--fg); font-size: 11px; font-family: inherit; }
svg.chart text.tick { fill: var(--muted); font-size: 10px; }
svg.chart text.axis { font-size: 12px; font-weight: 600; }
svg.chart text.cell { font-size: 10px; }
svg.chart text.on-dark { fill: #ffffff; }
svg.chart text.on-light { fill: #1d2330; }
svg.chart .grid { stroke: var(--grid); stroke-width: 1; }
svg.chart .axisline { stroke: var(--muted); stroke-width: 1; }
.c-new { fill: var(--new); } .c-returning { fill: var(--returning); } .c-resurrecting { fill: var(--resurrecting); }
.c-dormant { fill: var(--dormant); } .c-bar { fill: var(--bar); } .c-actual { fill: var(--actual); }
.l-pulse { fill: none; stroke: var(--pulse); stroke-width: 2; } .d-pulse { fill: var(--pulse); }
.l-predicted { fill: none; stroke: var(--predicted); stroke-width: 2; } .d-predicted { fill: var(--predicted); }
.s0 { fill: var(--s0); } .s1 { fill: var(--s1); } .s2 { fill: var(--s2); } .s3 { fill: var(--s3); } .s4 { fill: var(--s4); }
.s5 { fill: var(--s5); } .s6 { fill: var(--s6); } .s7 { fill: var(--s7); } .s8 { fill: var(--s8); }
path.link { fill-opacity: 0.38; } path.link:hover { fill-opacity: 0.6; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 6px 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--border); text-align: right; vertical-align: top; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
tbody th[scope="row"] { white-space: nowrap; }
caption { text-align: left; color: var(--muted); padding: 2px 0 4px; }
.share { display: inline-block; height: 8px; background: var(--bar); margin-right: 6px; vertical-align: middle; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
@media print {
  :root { --bg: #ffffff; --fg: #000000; --muted: #333333; --panel: #ffffff; --border: #999999; --grid: #cccccc; }
  body { max-width: none; padding: 0; font-size: 11px; }
  section { break-inside: avoid; page-break-inside: avoid; border: none; padding: 0; margin: 14px 0; }
  .kpis div { border: 1px solid #999999; }
  path.link { fill-opacity: 0.45; }
}
$css$
$fn$;
COMMENT ON FUNCTION clm.report_style() IS 'internal: the style sheet of clm.report (light and dark colour schemes, print)';

-- The colour class of a lifecycle stage, and its place in the flow diagram.
CREATE FUNCTION clm.report_stage_order(stage text)
    RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE stage WHEN 'none' THEN 0 WHEN 'prospect' THEN 1 WHEN 'new' THEN 2 WHEN 'active' THEN 3
                  WHEN 'reactivated' THEN 4 WHEN 'at_risk' THEN 5 WHEN 'lapsed' THEN 6
                  WHEN 'churned' THEN 7 ELSE 8 END;
COMMENT ON FUNCTION clm.report_stage_order(text) IS 'internal: the order of the lifecycle stages in the report (0 none ... 7 churned, 8 anything else); also their colour class s0 .. s8';

-- A section of the page: heading, content.
CREATE FUNCTION clm.report_section(id text, heading text, content text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT format(E'<section id="%1$s" aria-labelledby="%1$s-h">\n<h2 id="%1$s-h">%2$s</h2>\n%3$s\n</section>\n', id, heading, content)
$fn$;
COMMENT ON FUNCTION clm.report_section(text, text, text) IS 'internal: one section of the report (heading and content must be escaped already)';

-- The CLV histogram's bin edges: 1, 2 and 5 per decade (CLV is heavy-tailed).
CREATE FUNCTION clm.report_clv_edges()
    RETURNS double precision[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY[0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5,
             1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8, 2e8, 5e8, 1e9, 2e9, 5e9, 1e10, 1e11, 1e12]::double precision[];
COMMENT ON FUNCTION clm.report_clv_edges() IS 'internal: the lower edges of the CLV histogram bins of clm.report (1, 2, 5 per decade; below 0 is one more bin)';

-- Everything the report needs of the customers table but the top customers,
-- from one scan: one hashed aggregation by (R, F, segment, stage, CLV bin,
-- P(alive) bin), a few thousand groups, which the headline sums, both
-- histograms and the RFM cells then roll up (every aggregate once a row;
-- grouping sets would compute each of them once a row for every set).
CREATE FUNCTION clm.report_customers_pass(customers regclass)
    RETURNS jsonb LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    out jsonb;
BEGIN
    EXECUTE format($q$
WITH c AS (
    SELECT c.stage::text AS stage, c.expected_purchases_90d AS p90, c.expected_spend AS es, c.clv, c.p_alive,
           c.orders, c.r_score, c.f_score, c.rfm_segment::text AS seg,
           CASE WHEN c.clv > '-Infinity' AND c.clv < 'Infinity' THEN width_bucket(c.clv, $1) END AS cb,
           CASE WHEN c.p_alive BETWEEN 0 AND 1 THEN least(greatest(width_bucket(c.p_alive, 0, 1, 20), 1), 20) END AS pb
      FROM %s c),
g AS (
    SELECT r_score, f_score, seg, stage, cb, pb, count(*) AS n,
           sum(p90) AS p90, sum(p90 * es) AS rev, sum(clv) AS clv,
           sum(clv) FILTER (WHERE cb IS NOT NULL) AS clv_fin, min(clv) FILTER (WHERE cb IS NOT NULL) AS clv_min,
           count(*) FILTER (WHERE orders > 0 AND cb IS NULL) AS clv_missing,
           sum(p_alive) FILTER (WHERE pb IS NOT NULL) AS palive
      FROM c
     GROUP BY r_score, f_score, seg, stage, cb, pb)
SELECT jsonb_build_object(
    'headline', (SELECT jsonb_build_object('customers', coalesce(sum(n), 0),
                                           'active', coalesce(sum(n) FILTER (WHERE stage IN ('new', 'active', 'reactivated')), 0),
                                           'at_risk', coalesce(sum(n) FILTER (WHERE stage = 'at_risk'), 0),
                                           'lapsed', coalesce(sum(n) FILTER (WHERE stage = 'lapsed'), 0),
                                           'churned', coalesce(sum(n) FILTER (WHERE stage = 'churned'), 0),
                                           'prospects', coalesce(sum(n) FILTER (WHERE stage = 'prospect'), 0),
                                           'purchases_90d', sum(p90), 'revenue_90d', sum(rev), 'total_clv', sum(clv),
                                           'clv_n', coalesce(sum(n) FILTER (WHERE cb IS NOT NULL), 0),
                                           'clv_mean', sum(clv_fin) / sum(n) FILTER (WHERE cb IS NOT NULL),
                                           'clv_min', min(clv_min), 'clv_missing', coalesce(sum(clv_missing), 0),
                                           'palive_n', coalesce(sum(n) FILTER (WHERE pb IS NOT NULL), 0),
                                           'palive_mean', sum(palive) / sum(n) FILTER (WHERE pb IS NOT NULL))
                   FROM g),
    'clv', (SELECT coalesce(jsonb_object_agg(cb, n), '{}') FROM (SELECT cb, sum(n) AS n FROM g WHERE cb IS NOT NULL GROUP BY cb) x),
    'palive', (SELECT coalesce(jsonb_object_agg(pb, n), '{}') FROM (SELECT pb, sum(n) AS n FROM g WHERE pb IS NOT NULL GROUP BY pb) x),
    'rfm', (SELECT coalesce(jsonb_agg(jsonb_build_array(r_score, f_score, seg, n)), '[]')
              FROM (SELECT r_score, f_score, seg, sum(n) AS n FROM g
                     WHERE r_score IS NOT NULL AND f_score IS NOT NULL GROUP BY 1, 2, 3) x))
$q$, customers) INTO out USING clm.report_clv_edges();
    RETURN out;
END
$fn$;
COMMENT ON FUNCTION clm.report_customers_pass(regclass) IS 'internal: the aggregates clm.report needs of a customers table, from one scan (headline sums, CLV and P(alive) bins, RFM cells by segment), as jsonb';

-- Headline figures: customers by stage, expected purchases and revenue, CLV, the models.
CREATE FUNCTION clm.report_headline(stats jsonb, models regclass, horizon_weeks integer)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    h jsonb := stats->'headline';
    m record;
    kpis text := '';
    notes text := '';
    k record;
BEGIN
    FOR k IN SELECT * FROM (VALUES
        (1, 'customers', 'Customers', 'customers in the table (count)'),
        (2, 'active', 'Active', 'stage new, active or reactivated (count)'),
        (3, 'at_risk', 'At risk', 'stage at_risk: overdue by their own rhythm, not yet lapsed (count)'),
        (4, 'lapsed', 'Lapsed', 'stage lapsed: overdue beyond the at_risk window, not yet churned (count)'),
        (5, 'churned', 'Churned', 'stage churned (count)'),
        (6, 'prospects', 'Prospects', 'stage prospect: activity, no purchase yet (count)'),
        (7, 'purchases_90d', 'Expected purchases, next 90 days', 'sum of expected_purchases_90d (purchase days)'),
        (8, 'revenue_90d', 'Expected revenue, next 90 days', 'sum of expected_purchases_90d x expected_spend (currency units)'),
        (9, 'total_clv', format('Total CLV, %s weeks', horizon_weeks), 'sum of clv (currency units)')
    ) v(i, id, label, doc) ORDER BY i LOOP
        kpis := kpis || format(E'<div><dt title="%s">%s</dt><dd id="kpi-%s" data-value="%s">%s</dd></div>\n',
                               k.doc, clm.html_escape(k.label), k.id,
                               CASE WHEN jsonb_typeof(h->k.id) = 'number' THEN h->>k.id ELSE '' END,
                               clm.report_num(CASE WHEN jsonb_typeof(h->k.id) = 'number' THEN (h->>k.id)::float8 END, 0));
    END LOOP;
    IF models IS NOT NULL THEN
        FOR m IN EXECUTE format($q$
SELECT m.role, m.kind, m.converged, m.error, m.n_customers,
       (SELECT string_agg(format('%%s = %%s', n, clm.report_num(v, 3)), ', ' ORDER BY o)
          FROM unnest(m.parameter_names, m.parameters) WITH ORDINALITY u(n, v, o)) AS params
  FROM %s m ORDER BY m.role$q$, models) LOOP
            IF m.kind IS NULL THEN
                notes := notes || format(E'<li>%s model not fitted: %s</li>\n', initcap(m.role),
                                         clm.html_escape(coalesce(m.error, 'no model')));
            ELSE
                notes := notes || format(E'<li>%s model %s (%s), %s customers%s</li>\n', initcap(m.role),
                                         clm.html_escape(m.kind), clm.html_escape(m.params),
                                         clm.report_num(m.n_customers, 0),
                                         CASE WHEN m.converged THEN '' ELSE ', <strong>not converged</strong>' END);
            END IF;
        END LOOP;
    END IF;
    RETURN clm.report_section('headline', 'Headline figures',
        format(E'<dl class="kpis">\n%s</dl>\n%s', kpis,
               CASE WHEN notes = '' THEN '' ELSE format(E'<ul class="note">\n%s</ul>', notes) END));
END
$fn$;
COMMENT ON FUNCTION clm.report_headline(jsonb, regclass, integer) IS 'internal: the headline figures of clm.report (customers by stage, expected purchases and revenue in 90 days, total CLV; from report_customers_pass) and the fitted models';

-- Lifecycle counts per week: stacked bars, dormant below the axis, pulse line.
CREATE FUNCTION clm.report_lifecycle(rel regclass)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    x0 float8 := 70; x1 float8 := 690; y0 float8 := 44; y1 float8 := 264;
    n integer; pmax float8; dmax float8; qmax float8;
    step float8; top float8; bot float8; qstep float8; qtop float8;
    bw float8; xb float8; every integer;
    r record;
    body text := '';
    line text := '';
    dots text := '';
    rows text := '';
    lastw record;
BEGIN
    EXECUTE format($q$
SELECT count(*), coalesce(max(new_customers + returning_customers + resurrecting_customers), 0),
       coalesce(max(dormant_customers), 0), max(pulse) FILTER (WHERE pulse < 'Infinity')
  FROM %s$q$, rel) INTO n, pmax, dmax, qmax;
    IF n = 0 THEN
        RETURN clm.report_section('lifecycle', 'Lifecycle: customers per week',
                                          '<p class="note">No weeks to show.</p>');
    END IF;
    step := greatest(clm.report_step((pmax + dmax) / 6.0), 1);
    top := greatest(ceil(pmax / step), 1) * step;
    bot := ceil(dmax / step) * step;
    bw := (x1 - x0) / n;
    every := greatest(ceil(n / 7.0)::int, 1);
    body := clm.report_yaxis(-bot, top, step, x0, x1, y1, y0, 0);
    IF qmax IS NOT NULL THEN
        qstep := clm.report_step(qmax / 4.0);
        qtop := greatest(ceil(qmax / qstep), 1) * qstep;
        body := body || clm.report_yaxis(0, qtop, qstep, x0, x1,
                                                 y0 + top / (top + bot) * (y1 - y0), y0,
                                                 CASE WHEN qstep < 1 THEN 1 ELSE 0 END, true);
    END IF;
    FOR r IN EXECUTE format($q$
SELECT (row_number() OVER (ORDER BY week_start) - 1)::int AS i, week_start, new_customers::float8 AS nw,
       returning_customers::float8 AS rt, resurrecting_customers::float8 AS rs, dormant_customers::float8 AS dm,
       active_customers, pulse
  FROM %s ORDER BY week_start$q$, rel) LOOP
        xb := x0 + r.i * bw;
        body := body || format('<g class="week" data-week="%s"><title>week of %s: new %s, returning %s, resurrecting %s, dormant %s, pulse %s</title>',
                               r.week_start, r.week_start, clm.report_num(r.nw), clm.report_num(r.rt),
                               clm.report_num(r.rs), clm.report_num(r.dm), clm.report_num(r.pulse, 2))
            || (SELECT string_agg(format('<rect class="c-%s" x="%s" y="%s" width="%s" height="%s"/>', cls,
                                         clm.report_px(xb + bw * 0.12),
                                         clm.report_px(y0 + (top - hi) / (top + bot) * (y1 - y0)),
                                         clm.report_px(bw * 0.76),
                                         clm.report_px((hi - lo) / (top + bot) * (y1 - y0))), '' ORDER BY o)
                  FROM (VALUES (1, 'new', 0, r.nw), (2, 'returning', r.nw, r.nw + r.rt),
                               (3, 'resurrecting', r.nw + r.rt, r.nw + r.rt + r.rs), (4, 'dormant', -r.dm, 0)) s(o, cls, lo, hi)
                 WHERE hi > lo)
            || '</g>';
        IF r.i % every = 0 THEN
            body := body || format('<text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>',
                                   clm.report_px(xb + bw / 2), clm.report_px(y1 + 18), to_char(r.week_start, 'YYYY-MM-DD'));
        END IF;
        IF r.pulse IS NOT NULL AND r.pulse < 'Infinity' AND qtop IS NOT NULL THEN
            line := line || format('%s,%s ', clm.report_px(xb + bw / 2),
                                   clm.report_px(y0 + (top - r.pulse / qtop * top) / (top + bot) * (y1 - y0)));
            dots := dots || format('<circle class="d-pulse" cx="%s" cy="%s" r="2"/>', clm.report_px(xb + bw / 2),
                                   clm.report_px(y0 + (top - r.pulse / qtop * top) / (top + bot) * (y1 - y0)));
        END IF;
        rows := rows || format(E'<tr><th scope="row">%s</th><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n',
                               r.week_start, r.nw, r.rt, r.rs, r.dm, r.active_customers, clm.report_num(r.pulse, 2));
        lastw := r;
    END LOOP;
    IF line <> '' THEN
        body := body || format('<polyline class="l-pulse" points="%s"/>', rtrim(line)) || dots;
    END IF;
    body := body
        || format('<line class="axisline" x1="%s" y1="%s" x2="%s" y2="%s"/>', x0,
                  clm.report_px(y0 + top / (top + bot) * (y1 - y0)), x1, clm.report_px(y0 + top / (top + bot) * (y1 - y0)))
        || format('<text class="axis" x="%s" y="%s" text-anchor="middle">week starting (date)</text>', (x0 + x1) / 2, y1 + 34)
        || format('<text class="axis" transform="translate(16,%s) rotate(-90)" text-anchor="middle">customers (count)</text>', (y0 + y1) / 2)
        || CASE WHEN qtop IS NULL THEN '' ELSE
           format('<text class="axis" transform="translate(744,%s) rotate(90)" text-anchor="middle">pulse ratio</text>', (y0 + y1) / 2) END
        || (SELECT string_agg(format('<rect class="%s" x="%s" y="12" width="12" height="12"/><text x="%s" y="22">%s</text>', cls, lx, lx + 16, lab), '' ORDER BY lx)
              FROM (VALUES ('c-new', 70, 'new'), ('c-returning', 150, 'returning'), ('c-resurrecting', 250, 'resurrecting'),
                           ('c-dormant', 365, 'dormant (below the axis)'), ('d-pulse', 540, 'pulse ratio (right axis)')) l(cls, lx, lab));
    RETURN clm.report_section('lifecycle', 'Lifecycle: customers per week',
        format(E'<figure>\n%s\n<figcaption class="note">Customers with any event in the week: new (first event ever), returning (active the week before too), resurrecting (inactive the week before, active earlier) above the axis; dormant (active the week before, not in this week) below. Pulse = (new + resurrecting) / dormant; above 1 the active base grows. Last week shown (%s, the last whole week): pulse %s.</figcaption>\n</figure>\n<table class="sr-only"><caption>Lifecycle counts per week (the data of the chart)</caption><thead><tr><th scope="col">week starting</th><th scope="col">new</th><th scope="col">returning</th><th scope="col">resurrecting</th><th scope="col">dormant</th><th scope="col">active</th><th scope="col">pulse</th></tr></thead><tbody>\n%s</tbody></table>',
               clm.report_svg('lifecycle', 760, 320, 'Lifecycle counts per week: new, returning and resurrecting customers above the axis, dormant below, with the pulse ratio', body),
               lastw.week_start, clm.report_num(lastw.pulse, 2), rows));
END
$fn$;
COMMENT ON FUNCTION clm.report_lifecycle(regclass) IS 'internal: the lifecycle section of clm.report (stacked weekly bars from a relation shaped like lifecycle_weekly)';

-- Cohort retention heatmap.
CREATE FUNCTION clm.report_cohorts(rel regclass)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    x0 float8 := 150; y0 float8 := 58;
    nrow integer; ncol integer; cw float8; ch float8 := 18; every integer;
    height integer;
    r record;
    body text := '';
    rows text := '';
BEGIN
    EXECUTE format('SELECT count(DISTINCT cohort), coalesce(max(month_offset), -1) + 1 FROM %s', rel) INTO nrow, ncol;
    IF nrow = 0 THEN
        RETURN clm.report_section('cohorts', 'Cohort retention by month',
                                          '<p class="note">No cohort with a complete month yet.</p>');
    END IF;
    cw := least(32, 580.0 / ncol);
    every := greatest(ceil(ncol / 12.0)::int, 1);
    height := (y0 + nrow * ch + 60)::int;
    FOR r IN SELECT i FROM generate_series(0, ncol - 1) i WHERE i % every = 0 LOOP
        body := body || format('<text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>',
                               clm.report_px(x0 + r.i * cw + cw / 2), y0 - 6, r.i);
    END LOOP;
    FOR r IN EXECUTE format($q$
SELECT cohort, month_offset, cohort_customers, retained_customers, retention_rate,
       (dense_rank() OVER (ORDER BY cohort) - 1)::int AS i,
       month_offset = min(month_offset) OVER (PARTITION BY cohort) AS first_cell,
       96 - 58 * least(greatest(coalesce(retention_rate, 0), 0), 1) AS light
  FROM %s ORDER BY cohort, month_offset$q$, rel) LOOP
        IF r.first_cell THEN
            body := body || format('<text class="tick" x="%s" y="%s" text-anchor="end">%s (%s)</text>', x0 - 6,
                                   clm.report_px(y0 + r.i * ch + ch / 2 + 4), to_char(r.cohort, 'YYYY-MM'),
                                   clm.report_num(r.cohort_customers));
        END IF;
        body := body || format('<g class="hm" data-cohort="%s" data-offset="%s" data-rate="%s"><title>cohort %s, month %s: %s of %s customers bought (%s%%)</title><rect x="%s" y="%s" width="%s" height="%s" fill="hsl(212,65%%,%s%%)"/>%s</g>',
                               r.cohort, r.month_offset, coalesce(r.retention_rate::text, ''),
                               to_char(r.cohort, 'YYYY-MM'), r.month_offset, clm.report_num(r.retained_customers),
                               clm.report_num(r.cohort_customers), clm.report_num(100 * r.retention_rate, 1),
                               clm.report_px(x0 + r.month_offset * cw), clm.report_px(y0 + r.i * ch),
                               clm.report_px(cw - 1), clm.report_px(ch - 1), round(r.light::numeric, 1),
                               CASE WHEN cw >= 18 THEN format('<text class="cell %s" x="%s" y="%s" text-anchor="middle">%s</text>',
                                                              CASE WHEN r.light < 62 THEN 'on-dark' ELSE 'on-light' END,
                                                              clm.report_px(x0 + r.month_offset * cw + (cw - 1) / 2),
                                                              clm.report_px(y0 + r.i * ch + ch / 2 + 3),
                                                              clm.report_num(100 * r.retention_rate, 0))
                                    ELSE '' END);
        rows := rows || format(E'<tr data-cohort="%s" data-offset="%s"><th scope="row">%s</th><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n',
                               r.cohort, r.month_offset, to_char(r.cohort, 'YYYY-MM'), r.month_offset, r.cohort_customers,
                               r.retained_customers, clm.report_num(100 * r.retention_rate, 1));
    END LOOP;
    -- colour scale
    body := body || (SELECT string_agg(format('<rect x="%s" y="%s" width="22" height="10" fill="hsl(212,65%%,%s%%)"/>',
                                              x0 + 22 * k, height - 30, round((96 - 5.8 * k)::numeric, 1)), '' ORDER BY k)
                       FROM generate_series(0, 10) k)
        || format('<text class="tick" x="%s" y="%s" text-anchor="end">0%%</text><text class="tick" x="%s" y="%s">100%% of the cohort bought in that month</text>',
                  x0 - 4, height - 21, x0 + 246, height - 21)
        || format('<text class="axis" x="%s" y="%s" text-anchor="middle">months since the first purchase (month offset)</text>', x0 + ncol * cw / 2, y0 - 22)
        || format('<text class="axis" transform="translate(14,%s) rotate(-90)" text-anchor="middle">cohort: month of first purchase (customers)</text>', y0 + nrow * ch / 2);
    RETURN clm.report_section('cohorts', 'Cohort retention by month',
        format(E'<figure>\n%s\n<figcaption class="note">Each row is a cohort (customers whose first purchase fell in that month); each cell the share of the cohort that bought in that month offset, in percent. Only months ended by the as-of date are shown.</figcaption>\n</figure>\n<table class="sr-only"><caption>Cohort retention (the data of the heatmap)</caption><thead><tr><th scope="col">cohort</th><th scope="col">month offset</th><th scope="col">cohort customers</th><th scope="col">bought that month</th><th scope="col">retention (%%)</th></tr></thead><tbody>\n%s</tbody></table>',
               clm.report_svg('cohorts', 760, height, 'Cohort retention heatmap: share of each monthly cohort buying in each later month', body), rows));
END
$fn$;
COMMENT ON FUNCTION clm.report_cohorts(regclass) IS 'internal: the cohort retention heatmap of clm.report (from a relation shaped like cohort_retention_monthly)';

-- Stage flow: a Sankey diagram of the stage transitions.
CREATE FUNCTION clm.report_flow(rel regclass)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    xl float8 := 200; xr float8 := 546; nw float8 := 14; y0 float8 := 50; ph float8 := 330; gap float8 := 10;
    total float8; moved float8; nodes integer; k float8; d0 date; d1 date;
    r record;
    body text := '';
    rows text := '';
BEGIN
    EXECUTE format($q$
SELECT coalesce(sum(customers), 0), coalesce(sum(customers) FILTER (WHERE from_stage IS DISTINCT FROM to_stage), 0),
       greatest(count(DISTINCT from_stage), count(DISTINCT to_stage)), min(from_day), max(to_day)
  FROM %s WHERE customers > 0$q$, rel) INTO total, moved, nodes, d0, d1;
    IF total = 0 THEN
        RETURN clm.report_section('flow', 'Stage flow', '<p class="note">No customer to show.</p>');
    END IF;
    k := (ph - gap * (nodes - 1)) / total;
    -- the nodes: customers per stage at each end, stacked in stage order
    FOR r IN EXECUTE format($q$
WITH t AS (SELECT from_stage::text AS f, to_stage::text AS g, customers::float8 AS c FROM %s WHERE customers > 0),
n AS (SELECT 'from' AS side, f AS stage, sum(c) AS c FROM t GROUP BY f
      UNION ALL SELECT 'to', g, sum(c) FROM t GROUP BY g)
SELECT side, stage, c, clm.report_stage_order(stage) AS o,
       coalesce(sum(c) OVER w, 0) AS before, (count(*) OVER w)::int AS idx
  FROM n
WINDOW w AS (PARTITION BY side ORDER BY clm.report_stage_order(stage), stage ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
 ORDER BY side, o, stage$q$, rel) LOOP
        body := body || format('<g class="node" data-side="%s" data-stage="%s"><title>%s: %s customers</title><rect class="s%s" x="%s" y="%s" width="%s" height="%s"/><text x="%s" y="%s" text-anchor="%s" data-node="%s:%s">%s %s</text></g>',
                               r.side, clm.html_escape(r.stage),
                               clm.html_escape(r.stage), clm.report_num(r.c), r.o,
                               clm.report_px(CASE WHEN r.side = 'from' THEN xl ELSE xr END),
                               clm.report_px(y0 + r.before * k + r.idx * gap), nw,
                               clm.report_px(greatest(r.c * k, 1)),
                               clm.report_px(CASE WHEN r.side = 'from' THEN xl - 6 ELSE xr + nw + 6 END),
                               clm.report_px(y0 + r.before * k + r.idx * gap + r.c * k / 2 + 4),
                               CASE WHEN r.side = 'from' THEN 'end' ELSE 'start' END,
                               r.side, clm.html_escape(r.stage),
                               clm.html_escape(r.stage), clm.report_num(r.c));
    END LOOP;
    -- the links: each leaves its source node in target order and enters its
    -- target node in source order, so that bands do not cross inside a node
    FOR r IN EXECUTE format($q$
WITH t AS (SELECT from_stage::text AS f, to_stage::text AS g, customers::float8 AS c,
                  clm.report_stage_order(from_stage) AS fo, clm.report_stage_order(to_stage) AS go
             FROM %s WHERE customers > 0),
fn AS (SELECT f, coalesce(sum(sum(c)) OVER (ORDER BY min(fo), f ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
              (row_number() OVER (ORDER BY min(fo), f) - 1)::int AS idx FROM t GROUP BY f),
gn AS (SELECT g, coalesce(sum(sum(c)) OVER (ORDER BY min(go), g ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
              (row_number() OVER (ORDER BY min(go), g) - 1)::int AS idx FROM t GROUP BY g)
SELECT t.f, t.g, t.c, t.fo,
       fn.before + sum(t.c) OVER (PARTITION BY t.f ORDER BY t.go, t.g) - t.c AS fa, fn.idx AS fi,
       gn.before + sum(t.c) OVER (PARTITION BY t.g ORDER BY t.fo, t.f) - t.c AS ga, gn.idx AS gi
  FROM t JOIN fn ON fn.f = t.f JOIN gn ON gn.g = t.g
 ORDER BY t.c DESC$q$, rel) LOOP
        body := format('<path class="link s%s" d="M%s %s C%s %s %s %s %s %s L%s %s C%s %s %s %s %s %s Z"><title>%s to %s: %s customers</title></path>',
                       r.fo,
                       xl + nw, clm.report_px(y0 + r.fa * k + r.fi * gap),
                       (xl + nw + xr) / 2, clm.report_px(y0 + r.fa * k + r.fi * gap),
                       (xl + nw + xr) / 2, clm.report_px(y0 + r.ga * k + r.gi * gap),
                       xr, clm.report_px(y0 + r.ga * k + r.gi * gap),
                       xr, clm.report_px(y0 + (r.ga + r.c) * k + r.gi * gap),
                       (xl + nw + xr) / 2, clm.report_px(y0 + (r.ga + r.c) * k + r.gi * gap),
                       (xl + nw + xr) / 2, clm.report_px(y0 + (r.fa + r.c) * k + r.fi * gap),
                       xl + nw, clm.report_px(y0 + (r.fa + r.c) * k + r.fi * gap),
                       clm.html_escape(r.f), clm.html_escape(r.g), clm.report_num(r.c))
                || body;
        rows := rows || format(E'<tr data-from="%s" data-to="%s"><th scope="row">%s</th><td class="text">%s</td><td>%s</td></tr>\n',
                               clm.html_escape(r.f), clm.html_escape(r.g),
                               clm.html_escape(r.f), clm.html_escape(r.g), r.c);
    END LOOP;
    body := body
        || format('<text class="axis" x="10" y="30">stage on %s (customers)</text>', d0)
        || format('<text class="axis" x="750" y="30" text-anchor="end">stage on %s (customers)</text>', d1)
        || format('<text class="tick" x="%s" y="%s" text-anchor="middle">band width: customers moving between the two stages (count)</text>',
                  (xl + xr + nw) / 2, y0 + ph + 24);
    RETURN clm.report_section('flow', 'Stage flow',
        format(E'<figure>\n%s\n<figcaption class="note">Stage of every customer on %s (left) and on %s (right): <span id="flow-total" data-value="%s">%s</span> customers, <span id="flow-moved" data-value="%s">%s</span> of them in another stage at the end (none = no event yet at the start).</figcaption>\n</figure>\n<table class="sr-only"><caption>Stage transitions (the data of the flow diagram)</caption><thead><tr><th scope="col">stage on %s</th><th scope="col">stage on %s</th><th scope="col">customers</th></tr></thead><tbody>\n%s</tbody></table>',
               clm.report_svg('flow', 760, (y0 + ph + 40)::int,
                                      format('Stage flow from %s to %s: customers by stage at the start (left) and at the end (right)', d0, d1), body),
               d0, d1, total, clm.report_num(total), moved, clm.report_num(moved), d0, d1, rows));
END
$fn$;
COMMENT ON FUNCTION clm.report_flow(regclass) IS 'internal: the stage flow (Sankey) diagram of clm.report (from a relation shaped like stage_transitions)';

-- RFM grid (R by F, the main segment and the customers of each cell) and the segment summary.
CREATE FUNCTION clm.report_rfm(stats jsonb, segments regclass)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    x0 float8 := 90; y0 float8 := 20; gw float8 := 620; gh float8 := 300;
    n integer; cmax float8; cw float8; chh float8;
    r record;
    body text := '';
    rows text := '';
    seg text := '';
    grid text;
BEGIN
    SELECT greatest(max((e->>0)::int), max((e->>1)::int)) INTO n FROM jsonb_array_elements(stats->'rfm') e;
    IF n IS NULL OR n < 1 OR n > 20 THEN
        grid := '<p class="note">No customer with RFM scores (no purchase yet).</p>';
    ELSE
        cw := gw / n;
        chh := gh / n;
        -- the cells with customers: the most common segment, how many segments, customers
        FOR r IN
            WITH cell AS (SELECT (e->>0)::int AS r, (e->>1)::int AS f, e->>2 AS seg, (e->>3)::bigint AS n
                            FROM jsonb_array_elements(stats->'rfm') e),
            c AS (SELECT cell.r, cell.f, sum(cell.n) AS customers, count(cell.seg) AS segments,
                         (array_agg(cell.seg ORDER BY cell.n DESC, cell.seg) FILTER (WHERE cell.seg IS NOT NULL))[1] AS segment
                    FROM cell GROUP BY 1, 2)
            SELECT g_r.r, g_f.f, coalesce(c.customers, 0) AS customers, c.segment, coalesce(c.segments, 0) AS segments,
                   max(c.customers) OVER () AS cmax
              FROM generate_series(1, n) g_r(r) CROSS JOIN generate_series(1, n) g_f(f)
                   LEFT JOIN c ON c.r = g_r.r AND c.f = g_f.f
             ORDER BY g_f.f DESC, g_r.r
        LOOP
            cmax := greatest(r.cmax, 1);
            body := body || format('<g class="rfm" data-r="%s" data-f="%s" data-customers="%s"><title>R %s, F %s: %s customers, %s</title><rect x="%s" y="%s" width="%s" height="%s" fill="hsl(160,45%%,%s%%)"/>',
                                   r.r, r.f, r.customers, r.r, r.f, clm.report_num(r.customers),
                                   CASE WHEN r.segments = 0 THEN 'no customer'
                                        WHEN r.segments = 1 THEN 'segment ' || clm.html_escape(r.segment)
                                        ELSE format('mostly %s (%s segments)', clm.html_escape(r.segment), r.segments) END,
                                   clm.report_px(x0 + (r.r - 1) * cw), clm.report_px(y0 + (n - r.f) * chh),
                                   clm.report_px(cw - 2), clm.report_px(chh - 2),
                                   round((95 - 50 * r.customers / cmax)::numeric, 1))
                || CASE WHEN r.customers = 0 THEN '' ELSE
                   format('<text class="cell %s" x="%s" y="%s" text-anchor="middle">%s</text><text class="cell %s" x="%s" y="%s" text-anchor="middle">%s</text>',
                          CASE WHEN 95 - 50 * r.customers / cmax < 62 THEN 'on-dark' ELSE 'on-light' END,
                          clm.report_px(x0 + (r.r - 1) * cw + cw / 2 - 1), clm.report_px(y0 + (n - r.f) * chh + chh / 2 - 3),
                          clm.html_escape(CASE WHEN length(r.segment) > (cw / 6)::int
                                                       THEN left(r.segment, greatest((cw / 6)::int - 1, 1)) || '.' ELSE r.segment END),
                          CASE WHEN 95 - 50 * r.customers / cmax < 62 THEN 'on-dark' ELSE 'on-light' END,
                          clm.report_px(x0 + (r.r - 1) * cw + cw / 2 - 1), clm.report_px(y0 + (n - r.f) * chh + chh / 2 + 10),
                          clm.report_num(r.customers)) END
                || '</g>';
            IF r.customers > 0 THEN
                rows := rows || format(E'<tr><th scope="row">%s</th><td>%s</td><td class="text">%s</td><td>%s</td></tr>\n',
                                       r.r, r.f, clm.html_escape(r.segment) || CASE WHEN r.segments > 1 THEN format(' (and %s more)', r.segments - 1) ELSE '' END,
                                       r.customers);
            END IF;
        END LOOP;
        body := body
            || (SELECT string_agg(format('<text class="tick" x="%s" y="%s" text-anchor="middle">%s</text><text class="tick" x="%s" y="%s" text-anchor="end">%s</text>',
                                         clm.report_px(x0 + (i - 1) * cw + cw / 2), y0 + gh + 14, i,
                                         x0 - 6, clm.report_px(y0 + (n - i) * chh + chh / 2 + 4), i), '' ORDER BY i)
                  FROM generate_series(1, n) i)
            || format('<text class="axis" x="%s" y="%s" text-anchor="middle">R score: recency (1 = longest since the last purchase, %s = most recent)</text>', x0 + gw / 2, y0 + gh + 36, n)
            || format('<text class="axis" transform="translate(40,%s) rotate(-90)" text-anchor="middle">F score: purchase days (1 = fewest)</text>', y0 + gh / 2);
        grid := format(E'<figure>\n%s\n<figcaption class="note">Customers by recency score (columns) and frequency score (rows); each cell names its most common segment (a cell spans several segments when the map uses the M score) and counts its customers.</figcaption>\n</figure>\n<table class="sr-only"><caption>RFM grid (the data of the chart)</caption><thead><tr><th scope="col">R score</th><th scope="col">F score</th><th scope="col">segment</th><th scope="col">customers</th></tr></thead><tbody>\n%s</tbody></table>',
                       clm.report_svg('rfm', 760, (y0 + gh + 50)::int, 'RFM grid: customers by recency score and frequency score, with the segment of each cell', body),
                       rows);
    END IF;
    IF segments IS NOT NULL THEN
        FOR r IN EXECUTE format($q$
SELECT segment::text AS segment, customers, revenue, mean_clv, mean_churn_probability, at_risk_customers,
       customers::float8 / nullif(sum(customers) OVER (), 0) AS share,
       revenue::float8 / nullif(sum(revenue) OVER (), 0) AS revenue_share
  FROM %s ORDER BY revenue DESC, customers DESC, segment$q$, segments) LOOP
            seg := seg || format(E'<tr data-segment="%s"><th scope="row">%s</th><td class="customers">%s</td><td><span class="share" style="width:%spx" aria-hidden="true"></span>%s</td><td>%s</td><td><span class="share" style="width:%spx" aria-hidden="true"></span>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n',
                                 clm.html_escape(r.segment), clm.html_escape(r.segment),
                                 clm.report_num(r.customers), round((60 * coalesce(r.share, 0))::numeric, 1),
                                 clm.report_num(100 * r.share, 1), clm.report_num(r.revenue::float8, 0),
                                 round((60 * greatest(coalesce(r.revenue_share, 0), 0))::numeric, 1),
                                 clm.report_num(100 * r.revenue_share, 1), clm.report_num(r.mean_clv, 2),
                                 clm.report_num(r.mean_churn_probability, 3), clm.report_num(r.at_risk_customers));
        END LOOP;
        seg := format(E'<h3 id="segments-h">Segment summary</h3>\n<table id="segments" aria-labelledby="segments-h"><thead><tr><th scope="col">segment</th><th scope="col">customers</th><th scope="col">share (%%)</th><th scope="col">revenue to date (currency)</th><th scope="col">revenue share (%%)</th><th scope="col">mean CLV (currency)</th><th scope="col">mean churn probability</th><th scope="col">at risk (stage)</th></tr></thead><tbody>\n%s</tbody></table>',
                      seg);
    END IF;
    RETURN clm.report_section('rfm', 'RFM grid and segments', grid || E'\n' || seg);
END
$fn$;
COMMENT ON FUNCTION clm.report_rfm(jsonb, regclass) IS 'internal: the RFM grid (from report_customers_pass) and the segment summary (from a relation shaped like segment_summary) of clm.report';

-- A histogram: bars of counts over bins, with its table.
CREATE FUNCTION clm.report_histogram(id text, title text, xlabel text, edges double precision[],
    counts bigint[], decimals integer, open_end boolean)
    RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    x0 float8 := 70; x1 float8 := 720; y0 float8 := 20; y1 float8 := 200;
    nb integer := cardinality(counts);
    cmax float8; step float8; top float8; bw float8;
    body text;
    rows text := '';
    i integer;
BEGIN
    SELECT max(c) INTO cmax FROM unnest(counts) c;
    step := greatest(clm.report_step(greatest(cmax, 1) / 5.0), 1);
    top := greatest(ceil(cmax / step), 1) * step;
    bw := (x1 - x0) / nb;
    body := clm.report_yaxis(0, top, step, x0, x1, y1, y0, 0);
    FOR i IN 1 .. nb LOOP
        body := body || format('<g class="bin" data-bin="%s" data-customers="%s"><title>%s to %s%s: %s customers</title><rect class="c-bar" x="%s" y="%s" width="%s" height="%s"/></g>',
                               i, counts[i], clm.report_num(edges[i], decimals), clm.report_num(edges[i + 1], decimals),
                               CASE WHEN open_end AND i = nb THEN ' and above' ELSE '' END, clm.report_num(counts[i]),
                               clm.report_px(x0 + (i - 1) * bw + 1), clm.report_px(y1 - counts[i] / top * (y1 - y0)),
                               clm.report_px(bw - 2), clm.report_px(counts[i] / top * (y1 - y0)));
        rows := rows || format(E'<tr><th scope="row">%s</th><td>%s</td><td>%s</td></tr>\n',
                               clm.report_num(edges[i], decimals),
                               CASE WHEN open_end AND i = nb THEN 'and above' ELSE clm.report_num(edges[i + 1], decimals) END,
                               counts[i]);
    END LOOP;
    FOR i IN 1 .. nb + 1 LOOP
        IF (i - 1) % greatest(nb / 5, 1) = 0 THEN
            body := body || format('<text class="tick" x="%s" y="%s" text-anchor="middle">%s%s</text>',
                                   clm.report_px(x0 + (i - 1) * bw), y1 + 14, clm.report_num(edges[i], decimals),
                                   CASE WHEN open_end AND i = nb + 1 THEN '+' ELSE '' END);
        END IF;
    END LOOP;
    body := body
        || format('<line class="axisline" x1="%s" y1="%s" x2="%s" y2="%s"/>', x0, y1, x1, y1)
        || format('<text class="axis" x="%s" y="%s" text-anchor="middle">%s</text>', (x0 + x1) / 2, y1 + 34, xlabel)
        || format('<text class="axis" transform="translate(16,%s) rotate(-90)" text-anchor="middle">customers (count)</text>', (y0 + y1) / 2);
    RETURN format(E'<h3 id="%1$s-h">%2$s</h3>\n<figure>\n%3$s\n</figure>\n<table class="sr-only"><caption>%2$s (the data of the histogram)</caption><thead><tr><th scope="col">from</th><th scope="col">to (excluded)</th><th scope="col">customers</th></tr></thead><tbody>\n%4$s</tbody></table>',
                  id, title, clm.report_svg(id, 760, (y1 + 44)::int, title, body), rows);
END
$fn$;
COMMENT ON FUNCTION clm.report_histogram(text, text, text, double precision[], bigint[], integer, boolean) IS 'internal: a histogram chart of clm.report with its table (edges has one element more than counts; open_end: the last bin has no upper bound)';

-- The distributions of CLV and P(alive).
CREATE FUNCTION clm.report_distributions(stats jsonb, horizon_weeks integer)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    h jsonb := stats->'headline';
    e double precision[] := clm.report_clv_edges();
    lo integer; hi integer;
    edges double precision[];
    counts bigint[];
    out text := '';
BEGIN
    -- CLV: the bins from the lowest to the highest non-empty one (bin 0: below 0)
    SELECT min(k::int), max(k::int) INTO lo, hi FROM jsonb_object_keys(stats->'clv') k;
    IF lo IS NULL THEN
        out := '<h3>Customer lifetime value</h3><p class="note">No customer has a CLV (no purchase, or the models could not be fitted).</p>';
    ELSE
        hi := least(hi, cardinality(e) - 1);
        SELECT array_agg(coalesce((stats->'clv'->>b::text)::bigint, 0) ORDER BY b),
               array_agg(CASE WHEN b = 0 THEN (h->>'clv_min')::float8 ELSE e[b] END ORDER BY b) || e[hi + 1]
          INTO counts, edges
          FROM generate_series(lo, hi) b;
        IF (stats->'clv'->>(cardinality(e))::text) IS NOT NULL THEN
            counts[cardinality(counts)] := counts[cardinality(counts)] + (stats->'clv'->>(cardinality(e))::text)::bigint;
        END IF;
        out := clm.report_histogram('clv', format('Customer lifetime value over %s weeks', horizon_weeks),
                   'CLV (currency units; bins 1, 2, 5 per decade)', edges, counts, 0, false)
            || format('<p class="note">%s customers with a CLV, mean %s%s.</p>',
                      clm.report_num((h->>'clv_n')::float8), clm.report_num((h->>'clv_mean')::float8, 2),
                      CASE WHEN (h->>'clv_missing')::bigint > 0
                           THEN format('; %s buyers without one (model not fitted, or spend not positive)', clm.report_num((h->>'clv_missing')::float8))
                           ELSE '' END);
    END IF;
    IF coalesce((h->>'palive_n')::bigint, 0) = 0 THEN
        out := out || '<h3>P(alive)</h3><p class="note">No customer has a P(alive) (no purchase, or the purchase model could not be fitted).</p>';
    ELSE
        SELECT array_agg(coalesce((stats->'palive'->>b::text)::bigint, 0) ORDER BY b) INTO counts FROM generate_series(1, 20) b;
        out := out || clm.report_histogram('palive', 'P(alive): probability that the customer is still active',
                   'P(alive) (probability, 0 to 1)', ARRAY(SELECT i / 20.0::float8 FROM generate_series(0, 20) i), counts, 2, false)
            || format('<p class="note">%s customers, mean P(alive) %s.</p>', clm.report_num((h->>'palive_n')::float8),
                      clm.report_num((h->>'palive_mean')::float8, 3));
    END IF;
    RETURN clm.report_section('distributions', 'Distributions of CLV and P(alive)', out);
END
$fn$;
COMMENT ON FUNCTION clm.report_distributions(jsonb, integer) IS 'internal: the CLV and P(alive) histograms of clm.report (from report_customers_pass)';

-- Calibration of the purchase model on the holdout period after as_of.
CREATE FUNCTION clm.report_calibration(profiles regclass, model clm.model, as_of date, time_zone text)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    x0 float8 := 70; x1 float8 := 690; y0 float8 := 36; y1 float8 := 216;
    hend date; weeks float8; ymax float8; step float8; top float8; bw float8; nx integer;
    cal jsonb;
    r record;
    body text := '';
    line text := '';
    rows text := '';
BEGIN
    IF profiles IS NULL THEN
        RETURN clm.report_section('calibration', 'Model calibration',
            '<p class="note">No holdout: the as-of date is not fixed in the past.</p>');
    END IF;
    IF NOT pg_catalog.has_table_privilege(profiles, 'SELECT') THEN
        RETURN clm.report_section('calibration', 'Model calibration',
            '<p class="note">Not shown: the calibration reads the profiles table, which you may not read.</p>');
    END IF;
    IF model IS NULL THEN
        RETURN clm.report_section('calibration', 'Model calibration',
            '<p class="note">Not shown: the purchase model could not be fitted.</p>');
    END IF;
    -- the end of the holdout: the day of the last event, in the time zone the
    -- profiles' days are counted in (the header of each profile holds its last
    -- event: no need to read its days)
    EXECUTE format('SELECT (max(clm.last_event(p.profile)) AT TIME ZONE $1)::date FROM %s p', profiles)
        INTO hend USING time_zone;
    IF hend IS NULL OR hend <= as_of THEN
        RETURN clm.report_section('calibration', 'Model calibration',
            format('<p class="note">No holdout: no event after the as-of date (%s), so there is nothing to compare the predictions with. Fix as_of in the past to see how the model predicts the events after it.</p>', as_of));
    END IF;
    weeks := (hend - as_of) / 7.0;
    -- one pass: mean actual and predicted purchase days by frequency bucket
    EXECUTE format($q$
SELECT coalesce(jsonb_agg(jsonb_build_object('x', x, 'n', n, 'actual', actual, 'predicted', predicted) ORDER BY x), '[]')
  FROM (SELECT least(b.x, 7) AS x, count(*) AS n, avg(h.orders - c.orders)::float8 AS actual,
               avg(clm.expected_purchases($1, $2, b.x, b.t_x, b.t)) AS predicted
          FROM %s p CROSS JOIN LATERAL clm.btyd_inputs(p.profile, $3, 'week') b
               CROSS JOIN LATERAL clm.summary(p.profile, $3) c CROSS JOIN LATERAL clm.summary(p.profile, $4) h
         WHERE b.t > 0 GROUP BY 1) s$q$, profiles) INTO cal USING model, weeks, as_of, hend;
    SELECT count(*), max(greatest((e->>'actual')::float8, (e->>'predicted')::float8)) INTO nx, ymax FROM jsonb_array_elements(cal) e;
    IF nx = 0 THEN
        RETURN clm.report_section('calibration', 'Model calibration',
            '<p class="note">No customer had bought before the as-of date.</p>');
    END IF;
    step := clm.report_step(greatest(ymax, 0.01) / 5.0);
    top := greatest(ceil(ymax / step), 1) * step;
    bw := (x1 - x0) / 8;
    body := clm.report_yaxis(0, top, step, x0, x1, y1, y0, CASE WHEN step < 0.1 THEN 2 WHEN step < 1 THEN 1 ELSE 0 END);
    FOR r IN SELECT (e->>'x')::int AS x, (e->>'n')::bigint AS n, (e->>'actual')::float8 AS actual,
                    (e->>'predicted')::float8 AS predicted
               FROM jsonb_array_elements(cal) e ORDER BY 1 LOOP
        body := body || format('<g class="cal" data-x="%s"><title>%s repeat purchase days before %s (%s customers): actual %s, predicted %s</title><rect class="c-actual" x="%s" y="%s" width="%s" height="%s"/></g><text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>',
                               r.x, CASE WHEN r.x = 7 THEN '7 or more' ELSE r.x::text END, as_of, clm.report_num(r.n),
                               clm.report_num(r.actual, 2), clm.report_num(r.predicted, 2),
                               clm.report_px(x0 + r.x * bw + bw * 0.2), clm.report_px(y1 - r.actual / top * (y1 - y0)),
                               clm.report_px(bw * 0.6), clm.report_px(greatest(r.actual, 0) / top * (y1 - y0)),
                               clm.report_px(x0 + r.x * bw + bw / 2), y1 + 14, CASE WHEN r.x = 7 THEN '7+' ELSE r.x::text END);
        IF r.predicted IS NOT NULL THEN
            line := line || format('%s,%s ', clm.report_px(x0 + r.x * bw + bw / 2), clm.report_px(y1 - r.predicted / top * (y1 - y0)));
            body := body || format('<circle class="d-predicted" cx="%s" cy="%s" r="3"/>', clm.report_px(x0 + r.x * bw + bw / 2),
                                   clm.report_px(y1 - r.predicted / top * (y1 - y0)));
        END IF;
        rows := rows || format(E'<tr data-x="%s"><th scope="row">%s</th><td>%s</td><td>%s</td><td>%s</td></tr>\n',
                               r.x, CASE WHEN r.x = 7 THEN '7+' ELSE r.x::text END, r.n,
                               clm.report_num(r.actual, 3), clm.report_num(r.predicted, 3));
    END LOOP;
    body := body
        || CASE WHEN line = '' THEN '' ELSE format('<polyline class="l-predicted" points="%s"/>', rtrim(line)) END
        || format('<line class="axisline" x1="%s" y1="%s" x2="%s" y2="%s"/>', x0, y1, x1, y1)
        || format('<text class="axis" x="%s" y="%s" text-anchor="middle">repeat purchase days up to %s (count; 7+ = seven or more)</text>', (x0 + x1) / 2, y1 + 34, as_of)
        || format('<text class="axis" transform="translate(16,%s) rotate(-90)" text-anchor="middle">purchase days per customer</text>', (y0 + y1) / 2)
        || '<rect class="c-actual" x="70" y="8" width="12" height="12"/><text x="86" y="18">actual, after the as-of date</text>'
        || '<circle class="d-predicted" cx="276" cy="14" r="4"/><text x="286" y="18">predicted by the model</text>';
    RETURN clm.report_section('calibration', 'Model calibration',
        format(E'<figure>\n%s\n<figcaption class="note">Mean purchase days per customer in the holdout period from %s to %s (%s weeks), actual against predicted by the purchase model fitted up to %s, by the customers'' repeat purchase days before it.</figcaption>\n</figure>\n<table class="sr-only"><caption>Model calibration (the data of the chart)</caption><thead><tr><th scope="col">repeat purchase days up to %s</th><th scope="col">customers</th><th scope="col">actual purchase days after</th><th scope="col">predicted purchase days after</th></tr></thead><tbody>\n%s</tbody></table>',
               clm.report_svg('calibration', 760, (y1 + 44)::int, 'Model calibration: actual and predicted purchase days in the holdout period by repeat purchase days before it', body),
               as_of + 1, hend, clm.report_num(weeks, 1), as_of, as_of, rows));
END
$fn$;
COMMENT ON FUNCTION clm.report_calibration(regclass, clm.model, date, text) IS 'internal: the calibration chart of clm.report: mean actual and predicted purchase days after as_of, by repeat purchase days up to as_of (reads the profiles)';

-- The customers with the highest CLV.
CREATE FUNCTION clm.report_top(customers regclass, n integer)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    rows text := '';
BEGIN
    FOR r IN EXECUTE format($q$
SELECT customer_id::text AS id, rfm_segment::text AS segment, stage::text AS stage, total_spend, clv, p_alive, expected_purchases_90d
  FROM %s WHERE clv IS NOT NULL AND clv < 'Infinity' ORDER BY clv DESC, customer_id LIMIT $1$q$, customers) USING n LOOP
        rows := rows || format(E'<tr><th scope="row" class="text">%s</th><td class="text">%s</td><td class="text">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n',
                               clm.html_escape(r.id), clm.html_escape(coalesce(r.segment, '')),
                               clm.html_escape(coalesce(r.stage, '')), clm.report_num(r.total_spend::float8, 2),
                               clm.report_num(r.clv, 2), clm.report_num(r.p_alive, 3),
                               clm.report_num(r.expected_purchases_90d, 2));
    END LOOP;
    IF rows = '' THEN
        RETURN '';
    END IF;
    RETURN clm.report_section('top', format('The %s customers with the highest CLV', n),
        format(E'<table id="top-customers"><thead><tr><th scope="col">customer</th><th scope="col" class="text">segment</th><th scope="col" class="text">stage</th><th scope="col">spend to date (currency)</th><th scope="col">CLV (currency)</th><th scope="col">P(alive)</th><th scope="col">expected purchases, 90 days</th></tr></thead><tbody>\n%s</tbody></table>', rows));
END
$fn$;
COMMENT ON FUNCTION clm.report_top(regclass, integer) IS 'internal: the table of the customers with the highest CLV in clm.report';

-- The page: every section from the given relations.
CREATE FUNCTION clm.report_render(title text, about text, horizon_weeks integer, time_zone text,
    customers regclass, lifecycle regclass, cohorts regclass, transitions regclass,
    segments regclass, models regclass, holdout_profiles regclass)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    as_of date;
    model clm.model;
    t text := clm.html_escape(title);
    stats jsonb := clm.report_customers_pass(customers);
BEGIN
    EXECUTE format('SELECT max(as_of) FROM %s', customers) INTO as_of;
    IF models IS NOT NULL THEN
        EXECUTE format('SELECT as_of, model FROM %s WHERE role = ''purchase''', models) INTO as_of, model;
    END IF;
    RETURN format(E'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n<meta name="viewport" content="width=device-width, initial-scale=1"/>\n<meta name="color-scheme" content="light dark"/>\n<meta name="generator" content="clm.report"/>\n<title>%1$s</title>\n<style>%2$s</style>\n</head>\n<body>\n<header>\n<h1>%1$s</h1>\n<p>As of <time id="as-of" datetime="%3$s">%3$s</time>. %4$s</p>\n</header>\n<main>\n%5$s%6$s%7$s%8$s%9$s%10$s%11$s%12$s</main>\n<footer>Made by clm.report on %13$s from the tables and views named above; every figure is as of %3$s. Self-contained: no script, nothing loaded from elsewhere.</footer>\n</body>\n</html>\n',
        t, clm.report_style(), coalesce(as_of::text, 'unknown'), about,
        clm.report_headline(stats, models, horizon_weeks),
        CASE WHEN lifecycle IS NULL THEN '' ELSE clm.report_lifecycle(lifecycle) END,
        CASE WHEN cohorts IS NULL THEN '' ELSE clm.report_cohorts(cohorts) END,
        CASE WHEN transitions IS NULL THEN '' ELSE clm.report_flow(transitions) END,
        clm.report_rfm(stats, segments),
        clm.report_distributions(stats, horizon_weeks),
        CASE WHEN as_of IS NULL THEN '' ELSE clm.report_calibration(holdout_profiles, model, as_of, time_zone) END,
        clm.report_top(customers, 10),
        to_char(now(), 'YYYY-MM-DD HH24:MI TZ'));
END
$fn$;
COMMENT ON FUNCTION clm.report_render(text, text, integer, text, regclass, regclass, regclass, regclass, regclass, regclass, regclass) IS 'internal: the HTML page of clm.report from relations shaped like a tracked source''s customers table and views (about must be escaped already; holdout_profiles NULL = no calibration section)';

-- The report of a tracked source.
CREATE FUNCTION clm.report(name text, title text DEFAULT NULL)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r clm.tracked_source;
    t name;
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'clm.report: the name of a tracked source is required' USING ERRCODE = '22004',
            HINT = 'SELECT name FROM clm.tracked_sources lists them; clm.report_profiles reports on a table of profiles.';
    END IF;
    r := clm.track_lookup(name);
    t := r.target_schema;
    RETURN clm.report_render(
        coalesce(title, 'Customer report: ' || name),
        format('Tracked source <strong>%s</strong> (events of %s), views in schema %s; models refitted %s, views refreshed %s.',
               clm.html_escape(name), clm.html_escape(r.source::text), clm.html_escape(t),
               coalesce(to_char(r.last_refit, 'YYYY-MM-DD HH24:MI TZ'), 'never'),
               coalesce(to_char(r.last_views_refresh, 'YYYY-MM-DD HH24:MI TZ'), 'never')),
        (r.settings->>'clv_horizon_weeks')::int, r.settings->>'time_zone',
        format('%I.customers', t)::regclass, format('%I.lifecycle_weekly', t)::regclass,
        format('%I.cohort_retention_monthly', t)::regclass, format('%I.stage_transitions', t)::regclass,
        format('%I.segment_summary', t)::regclass, format('%I.models', t)::regclass,
        CASE WHEN r.settings->>'as_of' IS NOT NULL THEN format('%I.profiles', t)::regclass END);
END
$fn$;
COMMENT ON FUNCTION clm.report(text, text) IS 'one self-contained HTML page (inline CSS and SVG, nothing fetched) on a tracked source: headline figures, weekly lifecycle bars, cohort retention heatmap, stage flow, RFM grid and segments, CLV and P(alive) distributions, model calibration when the as_of setting leaves a holdout; read with the caller''s privileges';

-- The report of a table of profiles, without a tracked source: the customers
-- rows and the population tables are computed into temporary tables (as
-- clm.track computes them, with the same settings), reported on and dropped.
CREATE FUNCTION clm.report_profiles(profiles regclass, as_of date DEFAULT NULL, settings jsonb DEFAULT '{}',
    title text DEFAULT NULL, customer_column name DEFAULT 'customer_id', profile_column name DEFAULT 'profile')
    RETURNS text LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    s jsonb;
    d date;
    r clm.tracked_source;
    stage_args text;
    clash text;
    html text;
BEGIN
    IF profiles IS NULL THEN
        RAISE EXCEPTION 'clm.report_profiles: the table of profiles is required' USING ERRCODE = '22004';
    END IF;
    IF customer_column IS NULL OR NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = profiles
            AND a.attname = customer_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'clm.report_profiles: % has no column "%"', profiles, customer_column USING ERRCODE = '42703';
    END IF;
    IF profile_column IS NULL OR NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = profiles
            AND a.attname = profile_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'clm.report_profiles: % has no column "%"', profiles, profile_column USING ERRCODE = '42703';
    END IF;
    IF (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = profiles AND a.attname = profile_column)
       <> 'clm.profile'::regtype THEN
        RAISE EXCEPTION 'clm.report_profiles: column "%" of % is not a clm.profile', profile_column, profiles
            USING ERRCODE = '42804';
    END IF;
    -- the settings of clm.track, checked the same way; as_of: the argument, else the setting, else today
    s := clm.track_settings(coalesce(settings, '{}')
                                    || CASE WHEN as_of IS NULL THEN '{}' ELSE jsonb_build_object('as_of', as_of) END);
    d := clm.track_as_of(s);
    SELECT string_agg(c.relname, ', ') INTO clash
      FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema()
       AND c.relname IN ('profiles', 'clm_fit', 'clm_report_customers', 'clm_report_lifecycle', 'clm_report_cohorts',
                         'clm_report_transitions', 'clm_report_segments', 'clm_report_models');
    IF clash IS NOT NULL THEN
        RAISE EXCEPTION 'clm.report_profiles: this session already has temporary tables named %', clash
            USING ERRCODE = '42P07', HINT = 'clm.report_profiles makes and drops temporary tables of these names: drop yours or use another session.';
    END IF;

    -- the profiles (one per customer, merged if the table has several) and the fit
    EXECUTE format('CREATE TEMPORARY TABLE profiles AS SELECT %1$I AS customer_id, clm.profile_merge(%2$I) AS profile, now() AS changed_at'
                   ' FROM %3$s WHERE %1$I IS NOT NULL AND %2$I IS NOT NULL GROUP BY 1', customer_column, profile_column, profiles);
    CREATE TEMPORARY TABLE clm_fit (as_of date NOT NULL, fitted_at timestamptz NOT NULL, fit_seconds double precision,
        model clm.model, model_error text, spend_model clm.model, spend_model_error text,
        breakpoints clm.rfm_breakpoints, population_gap double precision NOT NULL);
    r.name := 'clm.report_profiles';
    r.target_schema := 'pg_temp';
    r.settings := s;
    PERFORM clm.track_refit(r, d);
    EXECUTE format('CREATE TEMPORARY TABLE clm_report_customers AS %s',
                   clm.track_customers_sql('pg_temp.profiles', 'pg_temp', s));

    -- the population tables the report reads: the queries of the tracked
    -- source's materialised views (clm.track_create_views), their columns
    stage_args := clm.track_stage_args(s);
    EXECUTE format($q$
CREATE TEMPORARY TABLE clm_report_lifecycle AS
SELECT l.period_start AS week_start, l.new_customers, l.returning_customers, l.resurrecting_customers,
       l.dormant_customers, l.active_customers, round(l.pulse::numeric, 4)::float8 AS pulse
  FROM (SELECT clm.lifecycle(p.profile, f.as_of - 7 * %1$s, f.as_of, 'week', 1, false, %2$s) AS c
          FROM pg_temp.profiles p CROSS JOIN pg_temp.clm_fit f) agg
       CROSS JOIN LATERAL clm.lifecycle_rows(agg.c) l
       CROSS JOIN (SELECT as_of FROM pg_temp.clm_fit) a
 WHERE l.period_start + 6 <= a.as_of$q$,
        (s->>'lifecycle_weeks')::int, (s->>'week_start')::int);
    EXECUTE format($q$
CREATE TEMPORARY TABLE clm_report_cohorts AS
SELECT r.cohort, r.period_offset AS month_offset, r.cohort_customers, r.retained_customers,
       round(r.retention_rate::numeric, 4)::float8 AS retention_rate, r.revenue
  FROM (SELECT clm.retention(p.profile, (date_trunc('month', f.as_of) - interval '%1$s months')::date, f.as_of, 'month') AS c
          FROM pg_temp.profiles p CROSS JOIN pg_temp.clm_fit f) agg
       CROSS JOIN LATERAL clm.retention_rows(agg.c) r
 WHERE r.cohort IS NOT NULL$q$, (s->>'cohort_months')::int);
    EXECUTE format($q$
CREATE TEMPORARY TABLE clm_report_transitions AS
SELECT coalesce(r.from_stage, 'none') AS from_stage, coalesce(r.to_stage, 'none') AS to_stage,
       r.customers, a.as_of - %1$s AS from_day, a.as_of AS to_day
  FROM (SELECT clm.stage_transitions(p.profile, f.as_of - %1$s, f.as_of, f.population_gap, %2$s) AS m
          FROM pg_temp.profiles p CROSS JOIN pg_temp.clm_fit f) agg
       CROSS JOIN LATERAL clm.transition_rows(agg.m) r
       CROSS JOIN (SELECT as_of FROM pg_temp.clm_fit) a$q$, (s->>'transition_days')::int, stage_args);
    CREATE TEMPORARY TABLE clm_report_segments AS
    SELECT coalesce(c.rfm_segment, 'no purchase') AS segment, count(*) AS customers,
           coalesce(sum(c.total_spend), 0) AS revenue, round(avg(c.clv)::numeric, 2)::float8 AS mean_clv,
           round(avg(c.churn_probability)::numeric, 4)::float8 AS mean_churn_probability,
           count(*) FILTER (WHERE c.stage = 'at_risk') AS at_risk_customers
      FROM pg_temp.clm_report_customers c GROUP BY 1;
    CREATE TEMPORARY TABLE clm_report_models AS
    SELECT m.role, i.kind, i.parameter_names, i.parameters, i.n_customers, i.converged, m.error, f.as_of, m.model
      FROM pg_temp.clm_fit f
           CROSS JOIN LATERAL (VALUES ('purchase', f.model, f.model_error), ('spend', f.spend_model, f.spend_model_error)) m(role, model, error)
           LEFT JOIN LATERAL clm.model_info(m.model) i ON true;

    html := clm.report_render(
        coalesce(title, 'Customer report'),
        format('Profiles of %s (%s customers), settings %s.', clm.html_escape(profiles::text),
               clm.report_num((SELECT count(*) FROM pg_temp.profiles)),
               clm.html_escape((SELECT string_agg(format('%s = %s', k, v), ', ' ORDER BY k)
                                          FROM jsonb_each_text(s) e(k, v)
                                         WHERE k IN ('model', 'rfm_map', 'rfm_scores', 'clv_horizon_weeks', 'margin',
                                                     'annual_discount_rate', 'time_zone')))),
        (s->>'clv_horizon_weeks')::int, s->>'time_zone',
        'pg_temp.clm_report_customers'::regclass, 'pg_temp.clm_report_lifecycle'::regclass,
        'pg_temp.clm_report_cohorts'::regclass, 'pg_temp.clm_report_transitions'::regclass,
        'pg_temp.clm_report_segments'::regclass, 'pg_temp.clm_report_models'::regclass,
        CASE WHEN s->>'as_of' IS NOT NULL THEN 'pg_temp.profiles'::regclass END);
    DROP TABLE pg_temp.clm_report_customers, pg_temp.clm_report_lifecycle, pg_temp.clm_report_cohorts,
               pg_temp.clm_report_transitions, pg_temp.clm_report_segments, pg_temp.clm_report_models,
               pg_temp.clm_fit, pg_temp.profiles;
    RETURN html;
END
$fn$;
COMMENT ON FUNCTION clm.report_profiles(regclass, date, jsonb, text, name, name) IS 'the page of clm.report for a table of profiles (customer id and clm.profile columns), without a tracked source: the customers rows, models and population tables are computed as clm.track would with the given settings, in temporary tables dropped afterwards; volatile (it makes temporary tables)';
