-- Tracked sources: clm.track registers an event table and builds, in a target
-- schema, a profiles table, the customers table and the population materialised
-- views; clm.refresh keeps them fresh incrementally.
--
-- How new events are found: a statement-level AFTER INSERT trigger on the source
-- (a table or partitioned table) copies the new rows' four columns into the
-- queue table <target>.clm_pending in the writer's own transaction.  clm.refresh
-- empties the queue with DELETE ... RETURNING and merges the profiles of those
-- events into the stored profiles in the same statement, so an event is merged
-- exactly once, in the transaction that removes it from the queue: events of
-- transactions that commit during a refresh stay queued for the next one, late
-- events (old occurred_at, inserted now) are ordinary queue rows, and pg_dump
-- keeps source, queue and profiles consistent (one snapshot).  UPDATE, DELETE
-- and TRUNCATE on the source queue a marker row instead; the next refresh then
-- rebuilds.  A view or foreign table as source has no trigger: every refresh
-- rebuilds.
--
-- Everything here runs with the caller's privileges (no SECURITY DEFINER).

CREATE TABLE @extschema@.tracked_source (
    name text PRIMARY KEY CHECK (name <> '' AND length(name) <= 63),
    source regclass NOT NULL,
    customer_column name NOT NULL,
    time_column name NOT NULL,
    amount_column name NOT NULL,
    channel_column name,
    filter text,
    target_schema name NOT NULL UNIQUE,
    created_schema boolean NOT NULL DEFAULT false,
    incremental boolean NOT NULL,
    settings jsonb NOT NULL,
    readers name[] NOT NULL DEFAULT '{}',
    owner name NOT NULL DEFAULT current_user,
    created_at timestamptz NOT NULL DEFAULT now(),
    refreshes bigint NOT NULL DEFAULT 0,
    last_refresh timestamptz,
    last_refresh_action text,
    last_refresh_seconds double precision,
    last_refresh_events bigint,
    last_refresh_customers bigint,
    last_rebuild timestamptz,
    last_rebuild_seconds double precision,
    last_refit timestamptz,
    last_views_refresh timestamptz,
    customers bigint
);
COMMENT ON TABLE @extschema@.tracked_source IS 'clm catalog: one row per source registered by clm.track (kept by pg_dump; each role sees all rows and changes only its own)';
COMMENT ON COLUMN @extschema@.tracked_source.name IS 'the name given to clm.track; the argument of clm.refresh, clm.rebuild and clm.untrack';
COMMENT ON COLUMN @extschema@.tracked_source.source IS 'the event table or view';
COMMENT ON COLUMN @extschema@.tracked_source.customer_column IS 'column of the source holding the customer id';
COMMENT ON COLUMN @extschema@.tracked_source.time_column IS 'column of the source holding the event time (timestamptz, timestamp or date)';
COMMENT ON COLUMN @extschema@.tracked_source.amount_column IS 'column of the source holding the amount (NULL = non-purchase event)';
COMMENT ON COLUMN @extschema@.tracked_source.channel_column IS 'column of the source holding the channel, or NULL';
COMMENT ON COLUMN @extschema@.tracked_source.filter IS 'boolean SQL expression over the source columns selecting the rows to count, or NULL for all rows';
COMMENT ON COLUMN @extschema@.tracked_source.target_schema IS 'schema holding the profiles table, the customers table and the materialised views';
COMMENT ON COLUMN @extschema@.tracked_source.created_schema IS 'true if clm.track created the target schema (clm.untrack then drops it when empty)';
COMMENT ON COLUMN @extschema@.tracked_source.incremental IS 'true if the source has the capture triggers (a table); false for views and foreign tables, which every refresh rebuilds';
COMMENT ON COLUMN @extschema@.tracked_source.settings IS 'settings of the views, with every default filled in (see the README, "Tracked sources")';
COMMENT ON COLUMN @extschema@.tracked_source.readers IS 'roles given read access to the views';
COMMENT ON COLUMN @extschema@.tracked_source.owner IS 'role that registered the source';
COMMENT ON COLUMN @extschema@.tracked_source.refreshes IS 'number of completed refreshes and rebuilds';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh IS 'start of the last completed clm.refresh or clm.rebuild';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh_action IS 'what the last refresh did: incremental or rebuild';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh_seconds IS 'duration of the last refresh (seconds)';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh_events IS 'events read by the last refresh';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh_customers IS 'customers whose profile the last refresh changed';
COMMENT ON COLUMN @extschema@.tracked_source.last_rebuild IS 'start of the last full rebuild';
COMMENT ON COLUMN @extschema@.tracked_source.last_rebuild_seconds IS 'duration of the last full rebuild (seconds)';
COMMENT ON COLUMN @extschema@.tracked_source.last_refit IS 'when the models, RFM breakpoints and population gap were last computed';
COMMENT ON COLUMN @extschema@.tracked_source.last_views_refresh IS 'when the population materialised views were last refreshed';
COMMENT ON COLUMN @extschema@.tracked_source.customers IS 'customers in the profiles table after the last refresh';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tracked_source', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.tracked_source TO PUBLIC;
ALTER TABLE @extschema@.tracked_source ENABLE ROW LEVEL SECURITY;
CREATE POLICY tracked_source_read ON @extschema@.tracked_source FOR SELECT USING (true);
CREATE POLICY tracked_source_own ON @extschema@.tracked_source
    USING (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'))
    WITH CHECK (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));

CREATE TYPE @extschema@.refresh_result AS (
    name text,
    action text,
    events bigint,
    customers_changed bigint,
    customers bigint,
    refit boolean,
    views_refreshed boolean,
    seconds double precision
);
COMMENT ON TYPE @extschema@.refresh_result IS 'what one clm.refresh or clm.rebuild call did';
COMMENT ON COLUMN @extschema@.refresh_result.name IS 'the tracked source';
COMMENT ON COLUMN @extschema@.refresh_result.action IS 'incremental, rebuild, or skipped (another session was refreshing the source)';
COMMENT ON COLUMN @extschema@.refresh_result.events IS 'events read';
COMMENT ON COLUMN @extschema@.refresh_result.customers_changed IS 'customers whose profile changed';
COMMENT ON COLUMN @extschema@.refresh_result.customers IS 'customers in the profiles table afterwards';
COMMENT ON COLUMN @extschema@.refresh_result.refit IS 'true if the models, RFM breakpoints and population gap were recomputed';
COMMENT ON COLUMN @extschema@.refresh_result.views_refreshed IS 'true if the population materialised views were refreshed';
COMMENT ON COLUMN @extschema@.refresh_result.seconds IS 'duration (seconds)';

-- The settings with their defaults; clm.track validates a user's jsonb against it.
CREATE FUNCTION @extschema@.track_settings(settings jsonb DEFAULT '{}')
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
        'population_gap_days', NULL,
        'prior_strength', 2,
        'new_days', 30,
        'active_ratio', 2,
        'at_risk_ratio', 4,
        'lapsed_ratio', 8,
        'fixed_days', false,
        'half_life_days', 30,
        'week_start', 1,
        'stage_days', 90,
        'lifecycle_weeks', 52,
        'cohort_months', 24,
        'transition_days', 90,
        'refit_interval', '1 day',
        'views_interval', '1 hour');
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
        FOREACH k IN ARRAY ARRAY['annual_discount_rate', 'margin', 'population_gap_days', 'prior_strength',
                                 'active_ratio', 'at_risk_ratio', 'lapsed_ratio', 'half_life_days'] LOOP
            PERFORM (s->>k)::float8;
        END LOOP;
    EXCEPTION WHEN data_exception OR invalid_parameter_value OR datetime_field_overflow THEN
        RAISE EXCEPTION 'clm: invalid settings: %', SQLERRM USING ERRCODE = '22023';
    END;
    IF (s->>'rfm_scores')::int NOT BETWEEN 2 AND 9 THEN
        RAISE EXCEPTION 'clm: rfm_scores must be between 2 and 9' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.rfm_segment_map m WHERE m.map_name = s->>'rfm_map') THEN
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
    IF (s->>'half_life_days')::float8 <= 0 OR (s->>'population_gap_days')::float8 <= 0 THEN
        RAISE EXCEPTION 'clm: half_life_days and population_gap_days must be positive' USING ERRCODE = '22023';
    END IF;
    IF (s->>'refit_interval')::interval < '0' OR (s->>'views_interval')::interval < '0' THEN
        RAISE EXCEPTION 'clm: refit_interval and views_interval must not be negative' USING ERRCODE = '22023';
    END IF;
    RETURN s;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_settings(jsonb) IS 'the settings of a tracked source: the given jsonb object checked and completed with every default';

-- The stage rule arguments (after "as_of, population gap") as SQL text.
CREATE FUNCTION @extschema@.track_stage_args(s jsonb)
    RETURNS text LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT format('%s::float8, %s::int, %s::float8, %s::float8, %s::float8, %s::boolean',
                  quote_literal(s->>'prior_strength'), quote_literal(s->>'new_days'),
                  quote_literal(s->>'active_ratio'), quote_literal(s->>'at_risk_ratio'),
                  quote_literal(s->>'lapsed_ratio'), quote_literal(s->>'fixed_days'))
$fn$;
COMMENT ON FUNCTION @extschema@.track_stage_args(jsonb) IS 'internal: the stage rule arguments of a tracked source as SQL text';

-- The customers rows of the (customer_id, profile) rows of relation rel, as SQL text.
CREATE FUNCTION @extschema@.track_customers_sql(rel text, target name, s jsonb)
    RETURNS text LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    weekly_rate text := format('(power(1 + %s::float8, 7 / 365.25) - 1)', quote_literal(s->>'annual_discount_rate'));
BEGIN
    -- each composite (summary, scores, stage, model inputs) is computed once
    -- per row in the inner query (OFFSET 0 keeps it from being flattened) and
    -- its fields read outside, without a function scan per call
    RETURN format($q$
SELECT x.customer_id,
       x.as_of,
       (x.sm).first_purchase, (x.sm).last_purchase, (x.sm).orders, (x.sm).frequency, (x.sm).transactions,
       (x.sm).recency_days, (x.sm).tenure_days, (x.sm).days_since_last_purchase, (x.sm).monetary,
       (x.sm).total_spend, (x.sm).first_seen, (x.sm).last_seen, (x.sm).active_days,
       (x.sm).days_since_last_seen, (x.sm).mean_gap_days,
       (x.sc).r_score, (x.sc).f_score, (x.sc).m_score, (x.sc).rfm_code,
       (@extschema@.rfm_segment((x.sc).r_score, (x.sc).f_score, (x.sc).m_score, %5$L)).segment AS rfm_segment,
       (x.st).stage, (x.st).reason AS stage_reason, (x.st).expected_gap_days,
       @extschema@.p_alive(x.model, (x.b).x, (x.b).t_x, (x.b).t) AS p_alive,
       @extschema@.churn_probability(x.model, (x.b).x, (x.b).t_x, (x.b).t) AS churn_probability,
       @extschema@.expected_purchases(x.model, 30 / 7.0, (x.b).x, (x.b).t_x, (x.b).t) AS expected_purchases_30d,
       @extschema@.expected_purchases(x.model, 90 / 7.0, (x.b).x, (x.b).t_x, (x.b).t) AS expected_purchases_90d,
       @extschema@.expected_purchases(x.model, 365 / 7.0, (x.b).x, (x.b).t_x, (x.b).t) AS expected_purchases_365d,
       x.spend AS expected_spend,
       @extschema@.clv(x.model, %1$s, %2$s, %3$s::float8, x.spend, (x.b).x, (x.b).t_x, (x.b).t) AS clv,
       @extschema@.preferred_channel(x.profile, x.as_of, %4$s::float8) AS preferred_channel,
       x.changed_at AS profile_changed_at
  FROM (SELECT y.*,
               CASE WHEN (y.b).x = 0 OR (y.b).mean_spend > 0
                    THEN @extschema@.expected_spend(y.spend_model, (y.b).x, (y.b).mean_spend::float8) END AS spend
          FROM (SELECT r.customer_id, r.profile, r.changed_at, f.as_of, f.model, f.spend_model,
                       @extschema@.summary(r.profile, f.as_of) AS sm,
                       @extschema@.rfm_score(r.profile, f.breakpoints, f.as_of) AS sc,
                       @extschema@.stage(r.profile, f.as_of, f.population_gap, %7$s) AS st,
                       @extschema@.btyd_inputs(r.profile, f.as_of, 'week') AS b
                  FROM %6$s r CROSS JOIN %8$I.clm_fit f
                OFFSET 0) y
        OFFSET 0) x
$q$,
        (s->>'clv_horizon_weeks')::int, weekly_rate, quote_literal(s->>'margin'),
        quote_literal(s->>'half_life_days'), s->>'rfm_map', rel, @extschema@.track_stage_args(s), target);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_customers_sql(text, name, jsonb) IS 'internal: the query computing the customers rows of a tracked source';

-- The column comments of the customers table.
CREATE FUNCTION @extschema@.track_customers_comments(OUT col text, OUT doc text)
    RETURNS SETOF record LANGUAGE sql IMMUTABLE
AS $fn$
VALUES
 ('customer_id', 'customer id (as in the source)'),
 ('as_of', 'day the row describes (date): the refresh day in the source''s time zone, or the fixed as_of setting'),
 ('first_purchase', 'first purchase day (date)'),
 ('last_purchase', 'last purchase day (date)'),
 ('orders', 'purchase days (count; orders on one day count once)'),
 ('frequency', 'repeat purchase days = orders - 1 (count)'),
 ('transactions', 'purchase events, every order counted (count)'),
 ('recency_days', 'last_purchase - first_purchase (days)'),
 ('tenure_days', 'as_of - first_purchase (days)'),
 ('days_since_last_purchase', 'as_of - last_purchase (days)'),
 ('monetary', 'mean spend of the repeat purchase days (currency units; NULL with no repeat purchase)'),
 ('total_spend', 'net spend of all purchase days, refunds subtracted (currency units)'),
 ('first_seen', 'first day with any event (date)'),
 ('last_seen', 'last day with any event (date)'),
 ('active_days', 'days with any event (count)'),
 ('days_since_last_seen', 'as_of - last_seen (days)'),
 ('mean_gap_days', 'mean gap between purchase days = recency_days / frequency (days)'),
 ('r_score', 'RFM recency score, 1 (longest ago) to n (most recent), population breakpoints of the last refit'),
 ('f_score', 'RFM frequency score, 1 (fewest purchase days) to n'),
 ('m_score', 'RFM monetary score, 1 (lowest total spend) to n'),
 ('rfm_code', 'r, f and m scores as three digits'),
 ('rfm_segment', 'segment of the score cell in the configured segment map (rfm_map setting)'),
 ('stage', 'lifecycle stage: prospect, new, active, at_risk, lapsed, churned or reactivated (clm.stage)'),
 ('stage_reason', 'why the customer is in that stage, in words'),
 ('expected_gap_days', 'the customer''s expected gap between purchases, shrunk toward the population''s (days)'),
 ('p_alive', 'probability that the customer is still active, from the fitted purchase model (0 to 1)'),
 ('churn_probability', '1 - p_alive (0 to 1)'),
 ('expected_purchases_30d', 'expected purchase days in the next 30 days (count)'),
 ('expected_purchases_90d', 'expected purchase days in the next 90 days (count)'),
 ('expected_purchases_365d', 'expected purchase days in the next 365 days (count)'),
 ('expected_spend', 'expected spend per purchase day, Gamma-Gamma conditional mean (currency units; NULL when refunds make the mean repeat spend zero or negative)'),
 ('clv', 'customer lifetime value over clv_horizon_weeks: margin x expected spend x discounted expected purchases (currency units)'),
 ('preferred_channel', 'channel with the highest recency-weighted engagement (clm.preferred_channel)'),
 ('profile_changed_at', 'when the customer''s stored profile last changed (refresh time)')
$fn$;
COMMENT ON FUNCTION @extschema@.track_customers_comments() IS 'internal: the column comments of a tracked source''s customers table';

-- Creates (or re-creates) the population materialised views of a tracked source.
-- (jit = off here and in the refit, customers, refresh and rebuild functions:
-- their statements spend their time in clm's C functions, which JIT cannot
-- speed up, and the planner's estimates of the LATERAL function joins
-- (one-row clm_fit estimated at hundreds of rows) trigger JIT with inlining and
-- optimisation, 0.2 to 0.3 s of compilation per statement.)
CREATE FUNCTION @extschema@.track_create_views(t name, s jsonb)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    stage_args text := @extschema@.track_stage_args(s);
    c record;
BEGIN
    -- stage counts per day: one pass of clm.stage_counts over the profiles
    -- (each customer's stage on the first day, then its changes); the outer
    -- join gives zero rows, not none, when there is no profile yet
    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.stage_counts_daily AS
SELECT r.day, r.stage, r.customers, a.as_of
  FROM (SELECT @extschema@.stage_counts(p.profile, f.as_of - %2$s + 1, f.as_of, f.population_gap, %3$s) AS c
          FROM %1$I.clm_fit f LEFT JOIN %1$I.profiles p ON true) agg
       CROSS JOIN LATERAL @extschema@.stage_count_rows(agg.c) r
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
$q$, t, (s->>'stage_days')::int, stage_args);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.stage_counts_daily (day, stage)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.lifecycle_weekly AS
SELECT l.period_start AS week_start, l.new_customers, l.returning_customers, l.resurrecting_customers,
       l.dormant_customers, l.active_customers, l.pulse, a.as_of
  FROM (SELECT @extschema@.lifecycle(p.profile, f.as_of - 7 * %2$s, f.as_of, 'week', 1, false, %3$s) AS c
          FROM %1$I.profiles p CROSS JOIN %1$I.clm_fit f) agg
       CROSS JOIN LATERAL @extschema@.lifecycle_rows(agg.c) l
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
$q$, t, (s->>'lifecycle_weeks')::int, (s->>'week_start')::int);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.lifecycle_weekly (week_start)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.cohort_retention_monthly AS
SELECT r.cohort, r.period_offset AS month_offset, r.cohort_customers, r.retained_customers,
       r.retention_rate, r.revenue, a.as_of
  FROM (SELECT @extschema@.retention(p.profile,
                   (date_trunc('month', f.as_of) - interval '%2$s months')::date, f.as_of, 'month') AS c
          FROM %1$I.profiles p CROSS JOIN %1$I.clm_fit f) agg
       CROSS JOIN LATERAL @extschema@.retention_rows(agg.c) r
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
 WHERE r.cohort IS NOT NULL
$q$, t, (s->>'cohort_months')::int);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.cohort_retention_monthly (cohort, month_offset)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.stage_transitions AS
SELECT coalesce(r.from_stage, 'none') AS from_stage, coalesce(r.to_stage, 'none') AS to_stage,
       r.customers, a.as_of - %2$s AS from_day, a.as_of AS to_day
  FROM (SELECT @extschema@.stage_transitions(p.profile, f.as_of - %2$s, f.as_of, f.population_gap, %3$s) AS m
          FROM %1$I.profiles p CROSS JOIN %1$I.clm_fit f) agg
       CROSS JOIN LATERAL @extschema@.transition_rows(agg.m) r
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
$q$, t, (s->>'transition_days')::int, stage_args);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.stage_transitions (from_stage, to_stage)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.segment_summary AS
SELECT coalesce(c.rfm_segment, 'no purchase') AS segment,
       count(*) AS customers,
       coalesce(sum(c.total_spend), 0) AS revenue,
       avg(c.clv) AS mean_clv,
       sum(c.clv) AS total_clv,
       avg(c.churn_probability) AS mean_churn_probability,
       count(*) FILTER (WHERE c.stage IN ('at_risk', 'lapsed')) AS at_risk_customers,
       max(c.as_of) AS as_of
  FROM %1$I.customers c
 GROUP BY 1
$q$, t);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.segment_summary (segment)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.models AS
SELECT m.role, i.kind, i.parameter_names, i.parameters, i.std_errors, i.log_likelihood,
       i.n_customers, i.n_distinct, i.converged, i.iterations, i.message,
       2 * cardinality(i.parameters) - 2 * i.log_likelihood AS aic,
       cardinality(i.parameters) * ln(greatest(i.n_customers, 1)) - 2 * i.log_likelihood AS bic,
       m.error, f.fitted_at, f.fit_seconds, f.as_of, m.model
  FROM %1$I.clm_fit f
       CROSS JOIN LATERAL (VALUES ('purchase', f.model, f.model_error),
                                  ('spend', f.spend_model, f.spend_model_error)) m(role, model, error)
       LEFT JOIN LATERAL @extschema@.model_info(m.model) i ON true
$q$, t);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.models (role)', t);

    -- documentation of every view and column
    FOR c IN SELECT * FROM (VALUES
        ('stage_counts_daily', NULL, 'customers in each lifecycle stage on each of the last stage_days days (stage as clm.stage, rules of the tracked source)'),
        ('stage_counts_daily', 'day', 'the day (date)'),
        ('stage_counts_daily', 'stage', 'lifecycle stage'),
        ('stage_counts_daily', 'customers', 'customers in that stage at the end of the day (count)'),
        ('stage_counts_daily', 'as_of', 'day of the last refit (date)'),
        ('lifecycle_weekly', NULL, 'new, returning, resurrecting and dormant customers per week (clm.lifecycle, any event counts as activity)'),
        ('lifecycle_weekly', 'week_start', 'first day of the week (date; week_start setting, 1 = Monday)'),
        ('lifecycle_weekly', 'new_customers', 'customers whose first event ever is in the week (count)'),
        ('lifecycle_weekly', 'returning_customers', 'customers active in the week and in the week before (count)'),
        ('lifecycle_weekly', 'resurrecting_customers', 'customers active in the week, inactive the week before and active in some earlier week (count)'),
        ('lifecycle_weekly', 'dormant_customers', 'customers active the week before and inactive in this week (count)'),
        ('lifecycle_weekly', 'active_customers', 'customers with an event in the week (count)'),
        ('lifecycle_weekly', 'pulse', '(new + resurrecting) / dormant (ratio; NULL with no dormant customer)'),
        ('lifecycle_weekly', 'as_of', 'day of the last refit (date)'),
        ('cohort_retention_monthly', NULL, 'monthly cohorts by first purchase: customers who bought again in each later month (clm.retention, exact period)'),
        ('cohort_retention_monthly', 'cohort', 'month of the first purchase (date, first of the month)'),
        ('cohort_retention_monthly', 'month_offset', 'months after the cohort month (0 = the cohort month)'),
        ('cohort_retention_monthly', 'cohort_customers', 'customers in the cohort (count)'),
        ('cohort_retention_monthly', 'retained_customers', 'cohort customers with a purchase in that month (count)'),
        ('cohort_retention_monthly', 'retention_rate', 'retained_customers / cohort_customers (0 to 1)'),
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
        ('segment_summary', 'mean_clv', 'mean CLV (currency units)'),
        ('segment_summary', 'total_clv', 'sum of CLV (currency units)'),
        ('segment_summary', 'mean_churn_probability', 'mean churn probability (0 to 1)'),
        ('segment_summary', 'at_risk_customers', 'customers in stage at_risk or lapsed (count)'),
        ('segment_summary', 'as_of', 'day of the customers rows (date)'),
        ('models', NULL, 'the fitted models of the last refit and their fit quality: purchase model (model setting) and Gamma-Gamma spend model'),
        ('models', 'role', 'purchase (BG/NBD, MBG/NBD or Pareto/NBD, time unit week) or spend (Gamma-Gamma)'),
        ('models', 'kind', 'model kind (clm.model_info)'),
        ('models', 'parameter_names', 'names of the parameters'),
        ('models', 'parameters', 'maximum-likelihood estimates (rates per week)'),
        ('models', 'std_errors', 'standard errors from the Hessian'),
        ('models', 'log_likelihood', 'log-likelihood at the estimates'),
        ('models', 'n_customers', 'customers in the fit (count)'),
        ('models', 'n_distinct', 'distinct input tuples in the fit (count)'),
        ('models', 'converged', 'true if the optimiser converged'),
        ('models', 'iterations', 'optimiser iterations'),
        ('models', 'message', 'optimiser message'),
        ('models', 'aic', 'Akaike information criterion = 2k - 2 log-likelihood'),
        ('models', 'bic', 'Bayesian information criterion = k ln(n) - 2 log-likelihood'),
        ('models', 'error', 'why the model could not be fitted (NULL if it was)'),
        ('models', 'fitted_at', 'when the fit ran (timestamptz)'),
        ('models', 'fit_seconds', 'duration of the refit (seconds)'),
        ('models', 'as_of', 'calibration end of the fit (date)'),
        ('models', 'model', 'the fitted clm.model value, for clm.p_alive, clm.clv and the other predictions')
    ) v(rel, col, doc) LOOP
        IF c.col IS NULL THEN
            EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', t, c.rel, c.doc);
        ELSE
            EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', t, c.rel, c.col, c.doc);
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_create_views(name, jsonb) IS 'internal: creates the population materialised views of a tracked source';

-- The tracked source row of a name, or an error.
CREATE FUNCTION @extschema@.track_lookup(source_name text)
    RETURNS @extschema@.tracked_source LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source;
BEGIN
    SELECT * INTO r FROM @extschema@.tracked_source ts WHERE ts.name = source_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'clm: no tracked source named "%"', source_name
            USING ERRCODE = '42704', HINT = 'SELECT name FROM clm.tracked_sources lists them.';
    END IF;
    RETURN r;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_lookup(text) IS 'internal: the catalog row of a tracked source, or error 42704';

-- Grants INSERT on the queue to every role that may write to the source.
CREATE FUNCTION @extschema@.track_grant_writers(src regclass, t name)
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
COMMENT ON FUNCTION @extschema@.track_grant_writers(regclass, name) IS 'internal: lets every role that writes to the source write to its queue';

-- Registers a source and builds its schema of views.
CREATE FUNCTION @extschema@.track(source regclass, customer_column name, time_column name,
    amount_column name, channel_column name DEFAULT NULL, target_schema name DEFAULT NULL,
    name text DEFAULT NULL, filter text DEFAULT NULL, reader name DEFAULT NULL,
    settings jsonb DEFAULT '{}')
    RETURNS @extschema@.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s jsonb := @extschema@.track_settings(settings);
    rel pg_class;
    t name;
    made_schema boolean := false;
    src_name text;
    ctype text;
    ttype text;
    atype text;
    tag text;
    col record;
    res @extschema@.refresh_result;
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
    incremental := rel.relkind IN ('r', 'p');
    t := coalesce(target_schema, left('clm_' || rel.relname, 63));
    src_name := coalesce(name, t);
    IF src_name = '' OR length(src_name) > 63 THEN
        RAISE EXCEPTION 'clm.track: name must have 1 to 63 characters' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.tracked_source ts WHERE ts.name = src_name) THEN
        RAISE EXCEPTION 'clm.track: a source named "%" is already tracked', src_name
            USING ERRCODE = '42710', HINT = 'Give another name, or clm.untrack it first.';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.tracked_source ts WHERE ts.target_schema = t) THEN
        RAISE EXCEPTION 'clm.track: schema "%" already holds a tracked source', t
            USING ERRCODE = '42710', HINT = 'Choose another target_schema.';
    END IF;
    IF t = '@extschema@' OR t IN ('pg_catalog', 'information_schema', 'public') OR t LIKE 'pg\_%' THEN
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

    INSERT INTO @extschema@.tracked_source (name, source, customer_column, time_column, amount_column,
        channel_column, filter, target_schema, created_schema, incremental, settings)
    VALUES (src_name, source, customer_column, time_column, amount_column, channel_column, filter, t,
            made_schema, incremental, s);

    EXECUTE format($q$CREATE TABLE %I.profiles (
        customer_id %s PRIMARY KEY,
        profile @extschema@.profile NOT NULL,
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
        model @extschema@.model,
        model_error text,
        spend_model @extschema@.model,
        spend_model_error text,
        breakpoints @extschema@.rfm_breakpoints,
        population_gap double precision NOT NULL)$q$, t);
    EXECUTE format('COMMENT ON TABLE %I.clm_fit IS %L', t,
        'clm internal: the population parameters of the last refit (one row): models, RFM breakpoints, population gap');

    IF incremental THEN
        EXECUTE format($q$CREATE TABLE %I.clm_pending (
            customer_id %s,
            occurred_at %s,
            amount %s,
            channel text,
            op text)$q$, t, ctype, ttype, atype);
        EXECUTE format('COMMENT ON TABLE %I.clm_pending IS %L', t,
            format('clm internal: events inserted into %s and not yet merged by clm.refresh; op = a change that needs a rebuild', source));
        PERFORM @extschema@.track_grant_writers(source, t);

        EXECUTE format($q$CREATE FUNCTION %1$I.clm_capture() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    INSERT INTO %1$I.clm_pending (customer_id, occurred_at, amount, channel)
    SELECT %2$I, %3$I, %4$I, %5$s FROM clm_new_rows
     WHERE %2$I IS NOT NULL AND %3$I IS NOT NULL AND (%6$s);
    RETURN NULL;
END
$body$$q$, t, customer_column, time_column, amount_column,
            CASE WHEN channel_column IS NULL THEN 'NULL::text' ELSE format('%I::text', channel_column) END,
            coalesce(filter, 'true'));
        EXECUTE format('COMMENT ON FUNCTION %I.clm_capture() IS %L', t,
            format('clm internal: queues the rows inserted into %s for clm.refresh', source));
        EXECUTE format($q$CREATE FUNCTION %1$I.clm_invalidate() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    INSERT INTO %1$I.clm_pending (op) VALUES (TG_OP);
    RETURN NULL;
END
$body$$q$, t);
        EXECUTE format('COMMENT ON FUNCTION %I.clm_invalidate() IS %L', t,
            format('clm internal: records an UPDATE, DELETE or TRUNCATE of %s, after which clm.refresh rebuilds', source));
        tag := left(md5(src_name), 12);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS clm_new_rows FOR EACH STATEMENT EXECUTE FUNCTION %I.clm_capture()',
                       'clm_capture_' || tag, source, t);
        IF filter IS NULL THEN
            EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %I, %I, %I%s OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.clm_invalidate()',
                           'clm_invalidate_' || tag, customer_column, time_column, amount_column,
                           CASE WHEN channel_column IS NULL THEN '' ELSE format(', %I', channel_column) END,
                           source, t);
        ELSE
            EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.clm_invalidate()',
                           'clm_invalidate_' || tag, source, t);
        END IF;
    END IF;

    -- the customers table and the views, created empty and filled by the rebuild
    EXECUTE format('CREATE TABLE %I.customers AS %s WITH NO DATA', t,
                   @extschema@.track_customers_sql(format('%I.profiles', t), t, s));
    EXECUTE format('ALTER TABLE %I.customers ADD PRIMARY KEY (customer_id)', t);
    EXECUTE format('COMMENT ON TABLE %I.customers IS %L', t,
        format('one row per customer of %s: summary, RFM, stage, churn and CLV; kept fresh by clm.refresh(%L) (rows of changed customers are replaced; all rows at each refit)', source, src_name));
    FOR col IN SELECT * FROM @extschema@.track_customers_comments() LOOP
        EXECUTE format('COMMENT ON COLUMN %I.customers.%I IS %L', t, col.col, col.doc);
    END LOOP;
    -- no index but the primary key: the segment and stage columns have a
    -- dozen values, where a sequential scan wins, and every index costs each
    -- refresh and refit (add your own if a query needs one)

    res := @extschema@.rebuild_internal(src_name, true);
    PERFORM @extschema@.track_create_views(t, s);
    UPDATE @extschema@.tracked_source ts SET last_views_refresh = now() WHERE ts.name = src_name;
    res.views_refreshed := true;
    IF reader IS NOT NULL THEN
        PERFORM @extschema@.grant_reader(src_name, reader);
    END IF;
    res.action := 'track';
    res.seconds := extract(epoch FROM clock_timestamp() - now());
    RETURN res;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track(regclass, name, name, name, name, name, text, text, name, jsonb) IS 'registers an event table or view and builds its schema of customer views (profiles, customers, stage_counts_daily, lifecycle_weekly, cohort_retention_monthly, stage_transitions, segment_summary, models)';

-- The SQL expressions reading one event of a tracked source (or its queue).
CREATE FUNCTION @extschema@.track_profile_sql(r @extschema@.tracked_source, from_queue boolean)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tcol text := CASE WHEN from_queue THEN 'occurred_at' ELSE quote_ident(r.time_column) END;
    acol text := CASE WHEN from_queue THEN 'amount' ELSE quote_ident(r.amount_column) END;
    ccol text := CASE WHEN from_queue THEN 'channel'
                      WHEN r.channel_column IS NOT NULL THEN format('%I::text', r.channel_column) END;
    atype text;
BEGIN
    SELECT a.atttypid::regtype::text INTO atype
      FROM pg_attribute a WHERE a.attrelid = r.source AND a.attname = r.amount_column;
    IF atype NOT IN ('numeric', 'double precision') THEN
        acol := acol || '::numeric';
    END IF;
    IF r.channel_column IS NULL THEN
        RETURN format('@extschema@.profile(%s, %s)', tcol, acol);
    END IF;
    RETURN format('@extschema@.profile(%s, %s, %s)', tcol, acol, ccol);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_profile_sql(@extschema@.tracked_source, boolean) IS 'internal: the clm.profile call over a tracked source''s rows or its queue, as SQL text';

-- Takes the refresh lock of a tracked source: true if taken.
CREATE FUNCTION @extschema@.track_lock(source_name text, wait boolean)
    RETURNS boolean LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF wait THEN
        PERFORM pg_advisory_xact_lock(6515053, hashtext(source_name));
        RETURN true;
    END IF;
    RETURN pg_try_advisory_xact_lock(6515053, hashtext(source_name));
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_lock(text, boolean) IS 'internal: the transaction advisory lock (6515053, hashtext(name)) that serialises refreshes of a tracked source';

-- Recomputes the population parameters: models, RFM breakpoints, population gap.
CREATE FUNCTION @extschema@.track_refit(r @extschema@.tracked_source, as_of date)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    t name := r.target_schema;
    s jsonb := r.settings;
    started timestamptz := clock_timestamp();
    bp @extschema@.rfm_breakpoints;
    gap float8;
    m @extschema@.model;
    g @extschema@.model;
    merr text;
    gerr text;
BEGIN
    -- one scan for everything; if a model cannot be fitted, again piece by
    -- piece to keep what can be (the fits read the profiles directly and skip
    -- customers with T = 0, whose first purchase is on as_of)
    BEGIN
        EXECUTE format('SELECT @extschema@.rfm_breakpoints(p.profile, $1, $2), @extschema@.population_gap(p.profile, $1),'
                       ' @extschema@.%s_fit(p.profile, $1, ''week''), @extschema@.gg_fit(p.profile, $1, ''week'')'
                       ' FROM %I.profiles p', s->>'model', t)
            INTO bp, gap, m, g USING as_of, (s->>'rfm_scores')::int;
    EXCEPTION WHEN OTHERS THEN
        EXECUTE format('SELECT @extschema@.rfm_breakpoints(p.profile, $1, $2), @extschema@.population_gap(p.profile, $1) FROM %I.profiles p', t)
            INTO bp, gap USING as_of, (s->>'rfm_scores')::int;
        BEGIN
            EXECUTE format('SELECT @extschema@.%s_fit(p.profile, $1, ''week'') FROM %I.profiles p', s->>'model', t)
                INTO m USING as_of;
        EXCEPTION WHEN OTHERS THEN
            merr := SQLERRM;
        END;
        BEGIN
            EXECUTE format('SELECT @extschema@.gg_fit(p.profile, $1, ''week'') FROM %I.profiles p', t)
                INTO g USING as_of;
        EXCEPTION WHEN OTHERS THEN
            gerr := SQLERRM;
        END;
    END;
    gap := coalesce((s->>'population_gap_days')::float8, gap, 30);
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
COMMENT ON FUNCTION @extschema@.track_refit(@extschema@.tracked_source, date) IS 'internal: refits the models and recomputes the RFM breakpoints and population gap of a tracked source';

-- The relations of a tracked source's schema that readers see, in refresh order.
CREATE FUNCTION @extschema@.track_views(with_customers boolean)
    RETURNS text[] LANGUAGE sql IMMUTABLE
AS $fn$
    SELECT CASE WHEN with_customers THEN ARRAY['customers'] ELSE '{}'::text[] END
           || ARRAY['stage_counts_daily', 'lifecycle_weekly', 'cohort_retention_monthly',
                    'stage_transitions', 'segment_summary', 'models']
$fn$;
COMMENT ON FUNCTION @extschema@.track_views(boolean) IS 'internal: the materialised views of a tracked source (and the customers table), in refresh order';

-- Refreshes the population materialised views of a tracked source.
CREATE FUNCTION @extschema@.track_refresh_views(t name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY @extschema@.track_views(false) LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I.%I', t, v);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_refresh_views(name) IS 'internal: REFRESH MATERIALIZED VIEW CONCURRENTLY of each population view of a tracked source';

-- Recomputes every row of the customers table.
CREATE FUNCTION @extschema@.track_customers_all(r @extschema@.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
BEGIN
    EXECUTE format('DELETE FROM %I.customers', r.target_schema);
    EXECUTE format('INSERT INTO %I.customers %s', r.target_schema,
                   @extschema@.track_customers_sql(format('%I.profiles', r.target_schema), r.target_schema, r.settings));
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_customers_all(@extschema@.tracked_source) IS 'internal: recomputes every row of a tracked source''s customers table';

-- The day the views describe: the fixed as_of setting or today in the source's zone.
CREATE FUNCTION @extschema@.track_as_of(s jsonb)
    RETURNS date LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT coalesce((s->>'as_of')::date, (now() AT TIME ZONE (s->>'time_zone'))::date)
$fn$;
COMMENT ON FUNCTION @extschema@.track_as_of(jsonb) IS 'internal: the as_of day of a tracked source (the as_of setting, else today in its time_zone)';

-- Full rebuild of the profiles and customers; the caller holds the lock.
CREATE FUNCTION @extschema@.rebuild_internal(source_name text, creating boolean)
    RETURNS @extschema@.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    t name := r.target_schema;
    old_tz text := current_setting('TimeZone');
    res @extschema@.refresh_result;
    n bigint;
    ev bigint;
BEGIN
    PERFORM set_config('TimeZone', r.settings->>'time_zone', true);
    EXECUTE format('DELETE FROM %I.profiles', t);
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
        RETURNING @extschema@.event_count(profile) AS events)
SELECT count(*), coalesce(sum(events), 0) FROM ins$q$,
        CASE WHEN r.incremental THEN format('gone AS (DELETE FROM %I.clm_pending),', t) ELSE '' END,
        r.customer_column, @extschema@.track_profile_sql(r, false), r.source,
        r.customer_column, r.time_column, coalesce(r.filter, 'true'), t)
        INTO n, ev;
    PERFORM @extschema@.track_refit(r, @extschema@.track_as_of(r.settings));
    PERFORM @extschema@.track_customers_all(r);
    IF NOT creating THEN
        PERFORM @extschema@.track_refresh_views(t);
    END IF;
    PERFORM set_config('TimeZone', old_tz, true);
    UPDATE @extschema@.tracked_source ts
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
COMMENT ON FUNCTION @extschema@.rebuild_internal(text, boolean) IS 'internal: the full rebuild of a tracked source (caller holds the refresh lock)';

-- Full rebuild from the source: for deletions, corrections and changed time zones.
CREATE FUNCTION @extschema@.rebuild(source_name text, wait boolean DEFAULT true)
    RETURNS @extschema@.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM @extschema@.track_lookup(source_name);
    IF NOT @extschema@.track_lock(source_name, wait) THEN
        RAISE NOTICE 'clm.rebuild: source "%" is being refreshed by another session; skipped', source_name;
        RETURN ROW(source_name, 'skipped', 0, 0, NULL, false, false, 0)::@extschema@.refresh_result;
    END IF;
    RETURN @extschema@.rebuild_internal(source_name, false);
END
$fn$;
COMMENT ON FUNCTION @extschema@.rebuild(text, boolean) IS 'rebuilds a tracked source''s profiles, customers and views from the whole source (after deletions or corrections); wait = false skips with a notice if a refresh is running';

-- Incremental refresh: merges the queued events into the stored profiles.
CREATE FUNCTION @extschema@.refresh(source_name text, refit boolean DEFAULT NULL,
    views boolean DEFAULT NULL, wait boolean DEFAULT false)
    RETURNS @extschema@.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
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
    res @extschema@.refresh_result;
BEGIN
    IF NOT @extschema@.track_lock(source_name, wait) THEN
        RAISE NOTICE 'clm.refresh: source "%" is being refreshed by another session; skipped', source_name
            USING HINT = 'Pass wait => true to wait for it instead.';
        RETURN ROW(source_name, 'skipped', 0, 0, r.customers, false, false, 0)::@extschema@.refresh_result;
    END IF;
    IF NOT r.incremental THEN
        RETURN @extschema@.rebuild_internal(source_name, false);
    END IF;
    EXECUTE format('SELECT op FROM %I.clm_pending WHERE op IS NOT NULL LIMIT 1', t) INTO upd;
    IF upd IS NOT NULL THEN
        RAISE NOTICE 'clm.refresh: % on the source of "%" since the last refresh: rebuilding', upd, source_name;
        RETURN @extschema@.rebuild_internal(source_name, false);
    END IF;

    old_tz := current_setting('TimeZone');
    PERFORM set_config('TimeZone', s->>'time_zone', true);
    today := @extschema@.track_as_of(s);
    EXECUTE format('SELECT as_of, fitted_at FROM %I.clm_fit', t) INTO fit_as_of, fitted;
    do_refit := coalesce(refit, fit_as_of IS DISTINCT FROM today
                                OR now() - fitted >= (s->>'refit_interval')::interval);
    do_views := do_refit OR coalesce(views, r.last_views_refresh IS NULL
                                     OR now() - r.last_views_refresh >= (s->>'views_interval')::interval);

    -- merge the queued events; without a refit, the customers rows of the
    -- changed customers are replaced in the same statement (cust)
    IF NOT do_refit THEN
        SELECT string_agg(format('%I = excluded.%I', a.attname, a.attname), ', ' ORDER BY a.attnum)
          INTO upd
          FROM pg_attribute a
         WHERE a.attrelid = format('%I.customers', t)::regclass AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attname <> 'customer_id';
        upd := format($q$,
cust AS (INSERT INTO %I.customers %s
         ON CONFLICT (customer_id) DO UPDATE SET %s
         RETURNING 1)$q$, t, @extschema@.track_customers_sql('up', t, s), upd);
    END IF;
    EXECUTE format($q$
WITH moved AS (DELETE FROM %1$I.clm_pending WHERE op IS NULL RETURNING customer_id, occurred_at, amount, channel),
fresh AS (SELECT customer_id, %2$s AS profile FROM moved GROUP BY 1),
up AS (INSERT INTO %1$I.profiles AS o (customer_id, profile, changed_at)
       SELECT customer_id, profile, now() FROM fresh WHERE profile IS NOT NULL
       ON CONFLICT (customer_id) DO UPDATE
          SET profile = @extschema@.profile_merge(o.profile, excluded.profile), changed_at = excluded.changed_at
       RETURNING o.customer_id, o.profile, o.changed_at, (o.xmax = 0) AS inserted)%3$s
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM up), (SELECT count(*) FROM up WHERE inserted)$q$,
        t, @extschema@.track_profile_sql(r, true), coalesce(upd, ''))
        INTO ev, changed, added;
    IF do_refit THEN
        -- then recompute the population parameters and every customers row
        PERFORM @extschema@.track_refit(r, today);
        PERFORM @extschema@.track_customers_all(r);
    END IF;
    IF do_views THEN
        PERFORM @extschema@.track_refresh_views(t);
    END IF;
    PERFORM set_config('TimeZone', old_tz, true);

    UPDATE @extschema@.tracked_source ts
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
COMMENT ON FUNCTION @extschema@.refresh(text, boolean, boolean, boolean) IS 'merges the events inserted since the last refresh into the stored profiles and updates the customers rows; refits (refit_interval) and refreshes the materialised views CONCURRENTLY (views_interval) when due or when asked; wait = false skips with a notice if another session is refreshing the source';

-- Gives a role read access to the views of a tracked source.
CREATE FUNCTION @extschema@.grant_reader(source_name text, reader name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    v text;
BEGIN
    IF reader IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN
        RAISE EXCEPTION 'clm.grant_reader: role "%" does not exist', reader USING ERRCODE = '42704';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', r.target_schema, reader);
    FOREACH v IN ARRAY @extschema@.track_views(true) LOOP
        EXECUTE format('GRANT SELECT ON %I.%I TO %I', r.target_schema, v, reader);
    END LOOP;
    UPDATE @extschema@.tracked_source ts SET readers = array_append(array_remove(readers, reader), reader)
     WHERE ts.name = source_name;
END
$fn$;
COMMENT ON FUNCTION @extschema@.grant_reader(text, name) IS 'gives a role SELECT on the customers table and the materialised views of a tracked source (and USAGE on its schema), nothing more';

-- Takes the read access of a role away again.
CREATE FUNCTION @extschema@.revoke_reader(source_name text, reader name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    v text;
BEGIN
    IF reader IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN
        RAISE EXCEPTION 'clm.revoke_reader: role "%" does not exist', reader USING ERRCODE = '42704';
    END IF;
    FOREACH v IN ARRAY @extschema@.track_views(true) LOOP
        EXECUTE format('REVOKE SELECT ON %I.%I FROM %I', r.target_schema, v, reader);
    END LOOP;
    EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM %I', r.target_schema, reader);
    UPDATE @extschema@.tracked_source ts SET readers = array_remove(readers, reader) WHERE ts.name = source_name;
END
$fn$;
COMMENT ON FUNCTION @extschema@.revoke_reader(text, name) IS 'takes back what clm.grant_reader gave a role';

-- Lets a role that writes to the source (granted after clm.track) feed the queue.
CREATE FUNCTION @extschema@.grant_writer(source_name text, writer name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
BEGIN
    IF NOT r.incremental THEN
        RETURN;
    END IF;
    IF writer IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = writer) THEN
        RAISE EXCEPTION 'clm.grant_writer: role "%" does not exist', writer USING ERRCODE = '42704';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', r.target_schema, writer);
    EXECUTE format('GRANT INSERT ON %I.clm_pending TO %I', r.target_schema, writer);
END
$fn$;
COMMENT ON FUNCTION @extschema@.grant_writer(text, name) IS 'lets a role write to a tracked source: its inserts fire the capture trigger, which needs INSERT on the queue table (clm.track grants it to the roles that could write to the source at the time)';

-- Removes what clm.track created, and nothing else.
CREATE FUNCTION @extschema@.untrack(source_name text)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    t name := r.target_schema;
    tag text := left(md5(r.name), 12);
    v text;
BEGIN
    PERFORM @extschema@.track_lock(source_name, true);
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
        EXECUTE format('DROP TABLE IF EXISTS %I.clm_pending', t);
        EXECUTE format('DROP FUNCTION IF EXISTS %I.clm_capture(), %I.clm_invalidate()', t, t);
    END IF;
    IF r.created_schema THEN
        BEGIN
            EXECUTE format('DROP SCHEMA IF EXISTS %I', t);
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'clm.untrack: schema "%" is not empty: kept', t;
        END;
    END IF;
    DELETE FROM @extschema@.tracked_source ts WHERE ts.name = source_name;
END
$fn$;
COMMENT ON FUNCTION @extschema@.untrack(text) IS 'removes the triggers, tables, views and functions clm.track created for a source (and its schema if clm.track created it and it is left empty); fails, changing nothing, if other objects depend on them';

-- Events waiting in the queue of a tracked source.
CREATE FUNCTION @extschema@.pending_events(source_name text)
    RETURNS bigint LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    n bigint;
BEGIN
    IF NOT r.incremental THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT count(*) FROM %I.clm_pending WHERE op IS NULL', r.target_schema) INTO n;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION @extschema@.pending_events(text) IS 'events inserted into a tracked source and not yet merged by clm.refresh (NULL for a source that every refresh rebuilds)';

CREATE VIEW @extschema@.tracked_sources AS
SELECT name, source, target_schema, owner, incremental, customers,
       last_refresh, last_refresh_action, last_refresh_seconds, last_refresh_events, last_refresh_customers,
       last_rebuild, last_rebuild_seconds, last_refit, last_views_refresh, refreshes, readers,
       customer_column, time_column, amount_column, channel_column, filter, settings, created_at
  FROM @extschema@.tracked_source;
COMMENT ON VIEW @extschema@.tracked_sources IS 'the tracked sources with their last refresh, row counts and timings (clm.pending_events(name) counts the events waiting)';
GRANT SELECT ON @extschema@.tracked_sources TO PUBLIC;
