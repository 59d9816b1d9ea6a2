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

-- The queued events of a tracked source as SQL text: a query over a relation
-- "moved" with the queue's columns, giving customer_id, occurred_at, amount
-- and channel.  With a filter, the whole rows queued since 0.2 are read back
-- as rows of the source and filtered here, by the owner (the caller switched
-- to it); rows queued by 0.1 were filtered when queued.
CREATE FUNCTION @extschema@.track_queue_sql(r @extschema@.tracked_source)
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
        @extschema@.track_channel_sql(r.source, r.channel_column),
        (SELECT c.reltype::regtype::text FROM pg_class c WHERE c.oid = r.source), r.filter);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_queue_sql(@extschema@.tracked_source) IS 'internal: the query reading the queued events of a tracked source (filter applied), as SQL text';

-- Whether the current role may run a tracked source's SQL: true if it must
-- switch to the owner first (it is not the owner but may SET ROLE to it);
-- false if it is the owner; else error 42501.  (The switch itself is made by
-- the caller: a SET LOCAL ROLE made here would end when this function does.)
CREATE FUNCTION @extschema@.track_act_as(r @extschema@.tracked_source, fn text)
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
COMMENT ON FUNCTION @extschema@.track_act_as(@extschema@.tracked_source, text) IS 'internal: whether the current role must switch to a tracked source''s owner to run its SQL (true), is the owner (false), or may not (error 42501)';

-- Takes the refresh lock of a tracked source: true if taken.  The lock is an
-- EXCLUSIVE lock on its clm_fit table, so only a role with rights on the
-- source's schema (its owner) can take it; readers (ACCESS SHARE) pass.
CREATE FUNCTION @extschema@.track_lock(r @extschema@.tracked_source, wait boolean)
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
COMMENT ON FUNCTION @extschema@.track_lock(@extschema@.tracked_source, boolean) IS 'internal: the refresh lock of a tracked source (EXCLUSIVE on its clm_fit table, to the end of the transaction): true if taken; wait = false does not wait';

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
COMMENT ON FUNCTION @extschema@.track_refit(@extschema@.tracked_source, date) IS 'internal: refits the models and recomputes the RFM breakpoints and population gap of a tracked source';

-- The relations of a tracked source's schema that readers see, in refresh order.
CREATE FUNCTION @extschema@.track_views(with_customers boolean)
    RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT CASE WHEN with_customers THEN ARRAY['customers'] ELSE '{}'::text[] END
           || ARRAY['stage_counts_daily', 'lifecycle_weekly', 'cohort_retention_monthly',
                    'stage_transitions', 'segment_summary', 'models']
$fn$;
COMMENT ON FUNCTION @extschema@.track_views(boolean) IS 'internal: the materialised views of a tracked source (and the customers table), in refresh order';

-- Refreshes the population materialised views of a tracked source.
CREATE FUNCTION @extschema@.track_refresh_views(r @extschema@.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    v text;
BEGIN
    IF @extschema@.track_act_as(r, 'clm.track_refresh_views') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    FOREACH v IN ARRAY @extschema@.track_views(false) LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I.%I', r.target_schema, v);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_refresh_views(@extschema@.tracked_source) IS 'internal: REFRESH MATERIALIZED VIEW CONCURRENTLY of each population view of a tracked source';

-- Recomputes every row of the customers table.
CREATE FUNCTION @extschema@.track_customers_all(r @extschema@.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
BEGIN
    IF @extschema@.track_act_as(r, 'clm.track_customers_all') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF @extschema@.track_citus_distributed(r.target_schema) THEN
        -- one statement per shard group on its node (87_track_citus.sql)
        PERFORM @extschema@.track_citus_customers_run(r);
        RETURN;
    END IF;
    EXECUTE format('DELETE FROM %I.customers', r.target_schema);
    EXECUTE format('INSERT INTO %I.customers (%s) %s', r.target_schema, @extschema@.track_customers_list(),
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
    old_wm text := current_setting('work_mem');
    res @extschema@.refresh_result;
    n bigint;
    ev bigint;
BEGIN
    IF @extschema@.track_act_as(r, 'clm.rebuild') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    PERFORM set_config('TimeZone', r.settings->>'time_zone', true);
    IF @extschema@.track_citus_distributed(t) THEN
        -- distributed (87_track_citus.sql): when creating, the source is
        -- locked against writes by the new triggers until clm.track commits
        -- and the queue is empty, so one co-located INSERT ... SELECT runs
        -- on the workers; later, one statement per shard group, each in one
        -- snapshot with its queue shard
        IF creating THEN
            EXECUTE format('INSERT INTO %I.profiles (customer_id, profile, changed_at)'
                           ' SELECT %I, %s, now() FROM %s WHERE %I IS NOT NULL AND %I IS NOT NULL GROUP BY 1',
                           t, r.customer_column, @extschema@.track_profile_sql(r, false), r.source,
                           r.customer_column, r.time_column);
            EXECUTE format('SELECT count(*), coalesce(sum(@extschema@.event_count(profile)), 0) FROM %I.profiles', t)
                INTO n, ev;
        ELSE
            SELECT x.events INTO ev FROM @extschema@.track_citus_run(r, true, false) x;
            EXECUTE format('SELECT count(*) FROM %I.profiles', t) INTO n;
        END IF;
    ELSE
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
            RETURNING @extschema@.event_count(profile) AS events)
    SELECT count(*), coalesce(sum(events), 0) FROM ins$q$,
            CASE WHEN r.incremental THEN format('gone AS (DELETE FROM %I.clm_pending),', t) ELSE '' END,
            r.customer_column, @extschema@.track_profile_sql(r, false), r.source,
            r.customer_column, r.time_column, coalesce(r.filter, 'true'), t)
            INTO n, ev;
        PERFORM set_config('work_mem', old_wm, true);
    END IF;
    PERFORM @extschema@.contact_refresh(r, true);  -- the messages sent, if any (87_contact.sql)
    PERFORM @extschema@.track_refit(r, @extschema@.track_as_of(r.settings));
    IF creating AND @extschema@.track_citus_distributed(t) THEN
        -- (the new tables are not committed: no statement on other
        -- connections; the fit as literals, through the coordinator)
        EXECUTE format('INSERT INTO %I.customers (%s) %s', t, @extschema@.track_customers_list(),
                       @extschema@.track_citus_customers_sql(r, format('%I.profiles', t), @extschema@.track_citus_fit_sql(r)));
    ELSE
        PERFORM @extschema@.track_customers_all(r);
    END IF;
    PERFORM @extschema@.contact_derive(r, true);  -- contact columns, if contacts (87_contact_state.sql)
    PERFORM @extschema@.audience_refresh(r);  -- audience changes, if recorded (87_contact_audience.sql)
    IF NOT creating THEN
        PERFORM @extschema@.track_refresh_views(r);
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
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
BEGIN
    IF @extschema@.track_act_as(r, 'clm.rebuild') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF NOT @extschema@.track_lock(r, wait) THEN
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
    evsql text;
    res @extschema@.refresh_result;
    distributed boolean;
BEGIN
    IF @extschema@.track_act_as(r, 'clm.refresh') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF NOT @extschema@.track_lock(r, wait) THEN
        RAISE NOTICE 'clm.refresh: source "%" is being refreshed by another session; skipped', source_name
            USING HINT = 'Pass wait => true to wait for it instead.';
        RETURN ROW(source_name, 'skipped', 0, 0, r.customers, false, false, 0)::@extschema@.refresh_result;
    END IF;
    IF NOT r.incremental THEN
        RETURN @extschema@.rebuild_internal(source_name, false);
    END IF;
    distributed := @extschema@.track_citus_distributed(t);
    IF NOT distributed THEN
        EXECUTE format('SELECT op FROM %I.clm_pending WHERE op IS NOT NULL LIMIT 1', t) INTO upd;
        IF upd IS NOT NULL THEN
            RAISE NOTICE 'clm.refresh: % on the source of "%" since the last refresh: rebuilding', upd, source_name;
            RETURN @extschema@.rebuild_internal(source_name, false);
        END IF;
    END IF;

    old_tz := current_setting('TimeZone');
    PERFORM set_config('TimeZone', s->>'time_zone', true);
    today := @extschema@.track_as_of(s);
    EXECUTE format('SELECT as_of, fitted_at FROM %I.clm_fit', t) INTO fit_as_of, fitted;
    do_refit := coalesce(refit, fit_as_of IS DISTINCT FROM today
                                OR now() - fitted >= (s->>'refit_interval')::interval);
    do_views := do_refit OR coalesce(views, r.last_views_refresh IS NULL
                                     OR now() - r.last_views_refresh >= (s->>'views_interval')::interval);

    IF distributed THEN
        -- one statement per shard group on its node (87_track_citus.sql):
        -- queued events merged, customers an update or delete touched
        -- recomputed from the source, their customers rows replaced
        SELECT x.events, x.changed, x.added INTO ev, changed, added
          FROM @extschema@.track_citus_run(r, false, NOT do_refit) x;
    END IF;
    -- merge the queued events; without a refit, the customers rows of the
    -- changed customers are replaced in the same statement (cust)
    IF NOT do_refit AND NOT distributed THEN
        SELECT string_agg(format('%I = excluded.%I', c.col, c.col), ', ')
          INTO upd
          FROM @extschema@.track_customers_columns() c
         WHERE c.col <> 'customer_id';
        upd := format($q$,
cust AS (INSERT INTO %I.customers (%s) %s
         ON CONFLICT (customer_id) DO UPDATE SET %s
         RETURNING 1)$q$, t, @extschema@.track_customers_list(), @extschema@.track_customers_sql('up', t, s), upd);
    END IF;
    evsql := @extschema@.track_queue_sql(r);
    IF NOT distributed THEN
        EXECUTE format($q$
    WITH moved AS (DELETE FROM %1$I.clm_pending WHERE op IS NULL RETURNING *),
    ev AS (%4$s),
    fresh AS (SELECT customer_id, %2$s AS profile FROM ev GROUP BY 1),
    up AS (INSERT INTO %1$I.profiles AS o (customer_id, profile, changed_at)
           SELECT customer_id, profile, now() FROM fresh WHERE profile IS NOT NULL
           ON CONFLICT (customer_id) DO UPDATE
              SET profile = @extschema@.profile_merge(o.profile, excluded.profile), changed_at = excluded.changed_at
           RETURNING o.customer_id, o.profile, o.changed_at, (o.xmax = 0) AS inserted)%3$s
    SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM up), (SELECT count(*) FROM up WHERE inserted)$q$,
            t, @extschema@.track_profile_sql(r, true), coalesce(upd, ''), evsql)
            INTO ev, changed, added;
    END IF;
    PERFORM @extschema@.contact_refresh(r, false);  -- the messages sent, if any (87_contact.sql)
    IF do_refit THEN
        -- then recompute the population parameters and every customers row
        PERFORM @extschema@.track_refit(r, today);
        PERFORM @extschema@.track_customers_all(r);
    END IF;
    -- the contact columns of the customers with new messages or purchases
    -- (of every customer after a refit), if the source has contacts
    PERFORM @extschema@.contact_derive(r, do_refit);  -- 87_contact_state.sql
    IF do_views THEN
        PERFORM @extschema@.track_refresh_views(r);
    END IF;
    PERFORM @extschema@.audience_refresh(r);  -- audience changes, if recorded (87_contact_audience.sql)
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
