-- Model choice (issue 15): the changed functions of tracked sources, as
-- src/sql/82_track_settings.sql and 85_track_refresh.sql define them:
-- clm.track_settings accepts model = 'auto' and the setting
-- model_holdout_weeks (default 26); clm.track_refit runs the choice
-- (clm.track_choose_model) when the model is 'auto'.  The settings stored by
-- sources tracked before stay as they are (model_holdout_weeks is read with
-- its default, 26, where it is missing).
CREATE OR REPLACE FUNCTION @extschema@.track_settings(settings jsonb DEFAULT '{}')
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
        'model_holdout_weeks', 26,
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
        || pg_catalog.to_jsonb(@extschema@.stage_rules());
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
                                 'stage_days', 'lifecycle_weeks', 'cohort_months', 'transition_days',
                                 'model_holdout_weeks'] LOOP
            PERFORM (s->>k)::integer;
        END LOOP;
        FOREACH k IN ARRAY ARRAY['annual_discount_rate', 'margin', 'prior_strength',
                                 'active_ratio', 'at_risk_ratio', 'lapsed_ratio', 'half_life_days'] LOOP
            PERFORM (s->>k)::float8;
        END LOOP;
        -- the stage rules, checked as clm.stage_rules checks them
        PERFORM @extschema@.stage_rules(nullif(s->>'population_gap_days', 'population')::float8,
                                        (s->>'prior_strength')::float8, (s->>'new_days')::integer,
                                        (s->>'active_ratio')::float8, (s->>'at_risk_ratio')::float8,
                                        (s->>'lapsed_ratio')::float8, (s->>'fixed_days')::boolean);
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
    IF s->>'model' NOT IN ('bgnbd', 'mbgnbd', 'paretonbd', 'auto') THEN
        RAISE EXCEPTION 'clm: model must be bgnbd, mbgnbd, paretonbd or auto, not "%"', s->>'model'
            USING ERRCODE = '22023';
    END IF;
    IF (s->>'model_holdout_weeks')::int NOT BETWEEN 1 AND 520 THEN
        RAISE EXCEPTION 'clm: model_holdout_weeks must be between 1 and 520' USING ERRCODE = '22023';
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

CREATE OR REPLACE FUNCTION @extschema@.track_refit(r @extschema@.tracked_source, as_of date)
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
    kind text := s->>'model';
BEGIN
    IF @extschema@.track_act_as(r, 'clm.track_refit') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    -- model 'auto': the model that predicts the last model_holdout_weeks best
    IF kind = 'auto' THEN
        kind := @extschema@.track_choose_model(r, as_of);
    END IF;
    -- one scan for everything; if a model cannot be fitted, again piece by
    -- piece to keep what can be (the fits read the profiles directly and skip
    -- customers with T = 0, whose first purchase is on as_of)
    BEGIN
        EXECUTE format('SELECT @extschema@.rfm_breakpoints(p.profile, $1, $2), @extschema@.population_gap(p.profile, $1),'
                       ' @extschema@.%s_fit(p.profile, $1, ''week''), @extschema@.gg_fit(p.profile, $1, ''week'')'
                       ' FROM %I.profiles p', kind, t)
            INTO bp, gap, m, g USING as_of, (s->>'rfm_scores')::int;
    EXCEPTION WHEN OTHERS THEN
        EXECUTE format('SELECT @extschema@.rfm_breakpoints(p.profile, $1, $2), @extschema@.population_gap(p.profile, $1) FROM %I.profiles p', t)
            INTO bp, gap USING as_of, (s->>'rfm_scores')::int;
        BEGIN
            EXECUTE format('SELECT @extschema@.%s_fit(p.profile, $1, ''week'') FROM %I.profiles p', kind, t)
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

