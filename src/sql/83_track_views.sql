-- The population views of a tracked source (stage counts per day, lifecycle
-- per week, cohort retention per month, stage transitions, RFM segments, the
-- fitted models): their queries, one definition that the materialised views
-- of a tracked source (clm.track_create_views) and the temporary tables of
-- clm.report_profiles both run.  Their documentation is
-- clm.track_views_docs (83_track_schema.sql).  New in 0.3 as a file of its
-- own: src/upgrade/0.2--0.3/20_release_fixes_track_views.sql is a link to it.

-- The query of each population view of a tracked source, as SQL text over
-- the source's tables in the schema t (t.profiles, t.clm_fit, and t.customers
-- or the relation customers names): clm.track_create_views makes the
-- materialised views of these queries, clm.report_profiles its temporary
-- tables, so that both compute the same.  Figures are rounded for reading
-- (the models' model column keeps the exact fit): parameters and standard
-- errors to 6 significant digits, likelihoods and criteria to 2 decimals, the
-- fit's duration to milliseconds.
CREATE FUNCTION @extschema@.track_view_sql(view name, t name, s jsonb, customers text DEFAULT NULL)
    RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    stage_args text := @extschema@.track_stage_args(s);
    -- an array of double precision rounded to 6 significant digits (zeros,
    -- infinities, NaN and NULLs kept), NULL for NULL
    sig6 text := $s$CASE WHEN %1$s IS NOT NULL THEN ARRAY(
        SELECT CASE WHEN u.v = 0 OR u.v IN ('Infinity', '-Infinity', 'NaN') THEN u.v
                    ELSE round(u.v::numeric, 5 - floor(log(abs(u.v)::numeric))::integer)::float8 END
          FROM unnest(%1$s) WITH ORDINALITY u(v, o) ORDER BY u.o) END$s$;
BEGIN
    CASE view
    -- stage counts per day: one pass of clm.stage_counts over the profiles
    -- (each customer's stage on the first day, then its changes); the outer
    -- join gives zero rows, not none, when there is no profile yet
    WHEN 'stage_counts_daily' THEN RETURN format($q$
SELECT r.day, r.stage, r.customers, a.as_of
  FROM (SELECT @extschema@.stage_counts(p.profile, f.as_of - %2$s + 1, f.as_of, f.population_gap, %3$s) AS c
          FROM %1$I.clm_fit f LEFT JOIN %1$I.profiles p ON true) agg
       CROSS JOIN LATERAL @extschema@.stage_count_rows(agg.c) r
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
$q$, t, (s->>'stage_days')::int, stage_args);
    -- whole weeks only, as cohort_retention_monthly has whole months
    WHEN 'lifecycle_weekly' THEN RETURN format($q$
SELECT l.period_start AS week_start, l.new_customers, l.returning_customers, l.resurrecting_customers,
       l.dormant_customers, l.active_customers, round(l.pulse::numeric, 4)::float8 AS pulse, a.as_of
  FROM (SELECT @extschema@.lifecycle(p.profile, f.as_of - 7 * %2$s, f.as_of, 'week', 1, false, %3$s) AS c
          FROM %1$I.profiles p CROSS JOIN %1$I.clm_fit f) agg
       CROSS JOIN LATERAL @extschema@.lifecycle_rows(agg.c) l
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
 WHERE l.period_start + 6 <= a.as_of
$q$, t, (s->>'lifecycle_weeks')::int, (s->>'week_start')::int);
    WHEN 'cohort_retention_monthly' THEN RETURN format($q$
SELECT r.cohort, r.period_offset AS month_offset, r.cohort_customers, r.retained_customers,
       round(r.retention_rate::numeric, 4)::float8 AS retention_rate, r.revenue, a.as_of
  FROM (SELECT @extschema@.retention(p.profile,
                   (date_trunc('month', f.as_of) - interval '%2$s months')::date, f.as_of, 'month') AS c
          FROM %1$I.profiles p CROSS JOIN %1$I.clm_fit f) agg
       CROSS JOIN LATERAL @extschema@.retention_rows(agg.c) r
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
 WHERE r.cohort IS NOT NULL
$q$, t, (s->>'cohort_months')::int);
    WHEN 'stage_transitions' THEN RETURN format($q$
SELECT coalesce(r.from_stage, 'none') AS from_stage, coalesce(r.to_stage, 'none') AS to_stage,
       r.customers, a.as_of - %2$s AS from_day, a.as_of AS to_day
  FROM (SELECT @extschema@.stage_transitions(p.profile, f.as_of - %2$s, f.as_of, f.population_gap, %3$s) AS m
          FROM %1$I.profiles p CROSS JOIN %1$I.clm_fit f) agg
       CROSS JOIN LATERAL @extschema@.transition_rows(agg.m) r
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
$q$, t, (s->>'transition_days')::int, stage_args);
    WHEN 'segment_summary' THEN RETURN format($q$
SELECT coalesce(c.rfm_segment, 'no purchase') AS segment,
       count(*) AS customers,
       coalesce(sum(c.total_spend), 0) AS revenue,
       round(avg(c.clv)::numeric, 2)::float8 AS mean_clv,
       round(sum(c.clv)::numeric, 2)::float8 AS total_clv,
       round(avg(c.churn_probability)::numeric, 4)::float8 AS mean_churn_probability,
       count(*) FILTER (WHERE c.stage = 'at_risk') AS at_risk_customers,
       max(c.as_of) AS as_of
  FROM %1$s c
 GROUP BY 1
$q$, coalesce(customers, format('%I.customers', t)));
    WHEN 'models' THEN RETURN format($q$
SELECT m.role, i.kind, i.parameter_names, %2$s AS parameters, %3$s AS std_errors,
       round(i.log_likelihood::numeric, 2)::float8 AS log_likelihood,
       i.n_customers, i.n_distinct, i.converged, i.iterations, i.message,
       round((2 * cardinality(i.parameters) - 2 * i.log_likelihood)::numeric, 2)::float8 AS aic,
       round((cardinality(i.parameters) * ln(greatest(i.n_customers, 1)) - 2 * i.log_likelihood)::numeric, 2)::float8 AS bic,
       m.error, f.fitted_at, round(f.fit_seconds::numeric, 3)::float8 AS fit_seconds, f.as_of, m.model
  FROM %1$I.clm_fit f
       CROSS JOIN LATERAL (VALUES ('purchase', f.model, f.model_error),
                                  ('spend', f.spend_model, f.spend_model_error)) m(role, model, error)
       LEFT JOIN LATERAL @extschema@.model_info(m.model) i ON true
$q$, t, format(sig6, 'i.parameters'), format(sig6, 'i.std_errors'));
    ELSE
        RAISE EXCEPTION 'clm.track_view_sql: no population view named %', view USING ERRCODE = '22023';
    END CASE;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_view_sql(name, name, jsonb, text) IS 'internal: the query of a population view of a tracked source (stage_counts_daily, lifecycle_weekly, cohort_retention_monthly, stage_transitions, segment_summary, models) over its tables in a schema, as SQL text; the materialised views and clm.report_profiles run it';

-- Creates (or re-creates) the population materialised views of a tracked
-- source, from their queries (clm.track_view_sql), with their unique indexes
-- and comments.
-- (jit = off here and in the refit, customers, refresh and rebuild functions:
-- their statements spend their time in clm's C functions, which JIT cannot
-- speed up, and the planner's estimates of the LATERAL function joins
-- (one-row clm_fit estimated at hundreds of rows) trigger JIT with inlining and
-- optimisation, 0.2 to 0.3 s of compilation per statement.)
CREATE FUNCTION @extschema@.track_create_views(r @extschema@.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    t name := r.target_schema;
    v text;
    c record;
BEGIN
    IF @extschema@.track_act_as(r, 'clm.track') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    -- each view (clm.track_views) with the unique index that REFRESH ...
    -- CONCURRENTLY needs
    FOREACH v IN ARRAY @extschema@.track_views(false) LOOP
        EXECUTE format('CREATE MATERIALIZED VIEW %I.%I AS %s', t, v, @extschema@.track_view_sql(v, t, r.settings));
        EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (%s)', t, v,
                       CASE v WHEN 'stage_counts_daily' THEN 'day, stage' WHEN 'lifecycle_weekly' THEN 'week_start'
                              WHEN 'cohort_retention_monthly' THEN 'cohort, month_offset'
                              WHEN 'stage_transitions' THEN 'from_stage, to_stage'
                              WHEN 'segment_summary' THEN 'segment' WHEN 'models' THEN 'role' END);
    END LOOP;

    -- documentation of every view and column
    FOR c IN SELECT * FROM @extschema@.track_views_docs() LOOP
        IF c.col IS NULL THEN
            EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', t, c.rel, c.doc);
        ELSE
            EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', t, c.rel, c.col, c.doc);
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_create_views(@extschema@.tracked_source) IS 'internal: creates the population materialised views of a tracked source';
