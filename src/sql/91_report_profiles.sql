-- clm.report_profiles: the page of clm.report (90_report.sql) for a table of
-- profiles, without a tracked source.  New in 0.3 as a file of its own:
-- src/upgrade/0.2--0.3/20_release_fixes_report_profiles.sql is a link to it.

-- The report of a table of profiles, without a tracked source: the customers
-- rows and the population tables are computed into temporary tables (as
-- clm.track computes them, with the same settings), reported on and dropped.
CREATE FUNCTION @extschema@.report_profiles(profiles regclass, as_of date DEFAULT NULL, settings jsonb DEFAULT '{}',
    title text DEFAULT NULL, customer_column name DEFAULT 'customer_id', profile_column name DEFAULT 'profile')
    RETURNS text LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    s jsonb;
    d date;
    r @extschema@.tracked_source;
    clash text;
    html text;
    choice @extschema@.tracked_model_choice;
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
       <> '@extschema@.profile'::regtype THEN
        RAISE EXCEPTION 'clm.report_profiles: column "%" of % is not a clm.profile', profile_column, profiles
            USING ERRCODE = '42804';
    END IF;
    -- the settings of clm.track, checked the same way; as_of: the argument, else the setting, else today
    s := @extschema@.track_settings(coalesce(settings, '{}')
                                    || CASE WHEN as_of IS NULL THEN '{}' ELSE jsonb_build_object('as_of', as_of) END);
    d := @extschema@.track_as_of(s);
    SELECT string_agg(c.relname, ', ') INTO clash
      FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema()
       AND c.relname IN ('profiles', 'clm_fit', 'clm_report_customers', 'clm_report_lifecycle', 'clm_report_cohorts',
                         'clm_report_transitions', 'clm_report_segments', 'clm_report_models');
    IF clash IS NOT NULL THEN
        RAISE EXCEPTION 'clm.report_profiles: this session already has temporary tables named %', clash
            USING ERRCODE = '42P07', HINT = 'clm.report_profiles makes and drops temporary tables of these names: drop yours or use another session.';
    END IF;

    -- the profiles (one per customer, merged if the table has several) and the fit
    EXECUTE format('CREATE TEMPORARY TABLE profiles AS SELECT %1$I AS customer_id, @extschema@.profile_merge(%2$I) AS profile, now() AS changed_at'
                   ' FROM %3$s WHERE %1$I IS NOT NULL AND %2$I IS NOT NULL GROUP BY 1', customer_column, profile_column, profiles);
    CREATE TEMPORARY TABLE clm_fit (as_of date NOT NULL, fitted_at timestamptz NOT NULL, fit_seconds double precision,
        model @extschema@.model, model_error text, spend_model @extschema@.model, spend_model_error text,
        breakpoints @extschema@.rfm_breakpoints, population_gap double precision NOT NULL);
    r.name := 'clm.report_profiles';
    r.target_schema := 'pg_temp';
    r.settings := s;
    -- model 'auto': chosen here as clm.track_refit would (recorded nowhere:
    -- there is no tracked source), and the chosen model fitted
    IF s->>'model' = 'auto' THEN
        SELECT * INTO choice
          FROM @extschema@.track_model_choice(r.name, 'pg_temp.profiles', d, (s->>'model_holdout_weeks')::integer) c
         WHERE c.chosen;
        r.settings := jsonb_set(s, '{model}', to_jsonb(choice.model));
    END IF;
    PERFORM @extschema@.track_refit(r, d);
    EXECUTE format('CREATE TEMPORARY TABLE clm_report_customers AS %s',
                   @extschema@.track_customers_sql('pg_temp.profiles', 'pg_temp', s));

    -- the population tables the report reads: the queries of the tracked
    -- source's materialised views (clm.track_view_sql) over the tables above
    EXECUTE format('CREATE TEMPORARY TABLE clm_report_lifecycle AS %s',
                   @extschema@.track_view_sql('lifecycle_weekly', 'pg_temp', s));
    EXECUTE format('CREATE TEMPORARY TABLE clm_report_cohorts AS %s',
                   @extschema@.track_view_sql('cohort_retention_monthly', 'pg_temp', s));
    EXECUTE format('CREATE TEMPORARY TABLE clm_report_transitions AS %s',
                   @extschema@.track_view_sql('stage_transitions', 'pg_temp', s));
    EXECUTE format('CREATE TEMPORARY TABLE clm_report_segments AS %s',
                   @extschema@.track_view_sql('segment_summary', 'pg_temp', s, 'pg_temp.clm_report_customers'));
    EXECUTE format('CREATE TEMPORARY TABLE clm_report_models AS %s',
                   @extschema@.track_view_sql('models', 'pg_temp', s));

    html := @extschema@.report_render(
        coalesce(title, 'Customer report'),
        format('Profiles of %s (%s customers), settings %s.', @extschema@.html_escape(profiles::text),
               @extschema@.report_num((SELECT count(*) FROM pg_temp.profiles)),
               @extschema@.html_escape((SELECT string_agg(format('%s = %s', k, v), ', ' ORDER BY k)
                                          FROM jsonb_each_text(s) e(k, v)
                                         WHERE k IN ('model', 'rfm_map', 'rfm_scores', 'clv_horizon_weeks', 'margin',
                                                     'annual_discount_rate', 'time_zone'))))
            || CASE WHEN s->>'model' = 'auto' THEN @extschema@.report_model_choice(choice) ELSE '' END,
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
COMMENT ON FUNCTION @extschema@.report_profiles(regclass, date, jsonb, text, name, name) IS 'the page of clm.report for a table of profiles (customer id and clm.profile columns), without a tracked source: the customers rows, models and population tables are computed as clm.track would with the given settings, in temporary tables dropped afterwards; volatile (it makes temporary tables)';
