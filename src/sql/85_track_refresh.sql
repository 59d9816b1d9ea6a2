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
