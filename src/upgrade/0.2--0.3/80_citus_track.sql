-- Tracked sources on Citus distributed tables (issue 13): the functions of
-- src/sql/87_track_citus.sql (81_citus_track_functions.sql, a link to it;
-- clm.track_citus_check changes its arguments), and the functions of
-- src/sql/83 to 86 that call them, here as they are there (CREATE OR
-- REPLACE keeps their grants; this file sorts after 70_contact_columns.sql,
-- which replaces refresh and rebuild_internal as they were before): clm.track
-- distributes a distributed source's tables, the refresh, rebuild and untrack
-- of a distributed source, and every tracked source's profiles of a
-- timestamptz column count days in its time_zone setting explicitly
-- (clm.track_profile_sql).
DROP FUNCTION @extschema@.track_citus_check(regclass);

CREATE OR REPLACE FUNCTION @extschema@.track_profile_sql(r @extschema@.tracked_source, from_queue boolean)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tcol text := CASE WHEN from_queue THEN 'occurred_at' ELSE quote_ident(r.time_column) END;
    acol text := CASE WHEN from_queue THEN 'amount' ELSE quote_ident(r.amount_column) END;
    ccol text := CASE WHEN from_queue THEN 'channel'
                      WHEN r.channel_column IS NOT NULL THEN @extschema@.track_channel_sql(r.source, r.channel_column) END;
    atype text;
BEGIN
    SELECT a.atttypid::regtype::text INTO atype
      FROM pg_attribute a WHERE a.attrelid = r.source AND a.attname = r.amount_column;
    IF atype NOT IN ('numeric', 'double precision') THEN
        acol := acol || '::numeric';
    END IF;
    -- timestamptz: days counted in the source's time_zone, named in the call,
    -- so that the profile does not depend on the TimeZone of the session or
    -- of the server computing it (a Citus worker)
    IF (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = r.source AND a.attname = r.time_column)
       = 'timestamptz'::regtype THEN
        RETURN format('@extschema@.profile(%s, %s, %s, %L)', tcol, acol, coalesce(ccol, 'NULL::text'),
                      r.settings->>'time_zone');
    END IF;
    IF r.channel_column IS NULL THEN
        RETURN format('@extschema@.profile(%s, %s)', tcol, acol);
    END IF;
    RETURN format('@extschema@.profile(%s, %s, %s)', tcol, acol, ccol);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_profile_sql(@extschema@.tracked_source, boolean) IS 'internal: the clm.profile call over a tracked source''s rows or its queue, as SQL text (a timestamptz time column with the time_zone setting named in the call)';

CREATE OR REPLACE FUNCTION @extschema@.track(source regclass, customer_column name, time_column name,
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
    col record;
    res @extschema@.refresh_result;
    incremental boolean;
    distributed boolean;
BEGIN
    IF source IS NULL OR customer_column IS NULL OR time_column IS NULL OR amount_column IS NULL THEN
        RAISE EXCEPTION 'clm.track: source, customer_column, time_column and amount_column are required'
            USING ERRCODE = '22004';
    END IF;
    SELECT * INTO rel FROM pg_class WHERE oid = source;
    IF rel.relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION 'clm.track: % is not a table or view', source USING ERRCODE = '42809';
    END IF;
    distributed := @extschema@.track_citus_check(source, customer_column, filter);  -- 87_track_citus.sql
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
        -- the queue (source_row: the whole rows of a source with a filter)
        EXECUTE format($q$CREATE TABLE %I.clm_pending (
            customer_id %s,
            occurred_at %s,
            amount %s,
            channel text,
            op text%s)$q$, t, @extschema@.track_base_type(source, customer_column), ttype, atype,
            CASE WHEN filter IS NULL THEN '' ELSE ',
            source_row text' END);
        EXECUTE format('COMMENT ON TABLE %I.clm_pending IS %L', t,
            format('clm internal: events inserted into %s and not yet merged by clm.refresh; op = a change that needs a rebuild', source));
    END IF;

    -- the customers table and the views, created empty and filled by the rebuild
    EXECUTE format('CREATE TABLE %I.customers (%s, PRIMARY KEY (customer_id))', t,
                   (SELECT string_agg(format('%I %s', c.col, coalesce(c.type, ctype)), ', ')
                      FROM @extschema@.track_customers_columns() c));
    IF distributed THEN
        -- queue, profiles and customers co-located with the source (87_track_citus.sql)
        PERFORM @extschema@.track_citus_distribute(@extschema@.track_lookup(src_name));
    END IF;
    IF incremental THEN
        PERFORM @extschema@.track_grant_writers(source, t);
        PERFORM @extschema@.track_create_triggers(@extschema@.track_lookup(src_name));
    END IF;
    EXECUTE format('COMMENT ON TABLE %I.customers IS %L', t,
        format('one row per customer of %s: summary, RFM, stage, churn and CLV; kept fresh by clm.refresh(%L) (rows of changed customers are replaced; all rows at each refit)', source, src_name));
    FOR col IN SELECT * FROM @extschema@.track_customers_columns() LOOP
        EXECUTE format('COMMENT ON COLUMN %I.customers.%I IS %L', t, col.col, col.doc);
    END LOOP;
    -- no index but the primary key: the segment and stage columns have a
    -- dozen values, where a sequential scan wins, and every index costs each
    -- refresh and refit (add your own if a query needs one)

    res := @extschema@.rebuild_internal(src_name, true);
    PERFORM @extschema@.track_create_views(@extschema@.track_lookup(src_name));
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

CREATE OR REPLACE FUNCTION @extschema@.track_create_triggers(r @extschema@.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tag text := left(md5(r.name), 12);
BEGIN
    IF @extschema@.track_citus_distributed(r.target_schema) THEN
        PERFORM @extschema@.track_citus_create_triggers(r);  -- 87_track_citus.sql
        RETURN;
    END IF;
    IF r.filter IS NULL THEN
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS clm_new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_capture(%L, %L, %L, %L, %L)',
                       'clm_capture_' || tag, r.source, r.target_schema, r.customer_column, r.time_column,
                       r.amount_column, coalesce(r.channel_column, ''));
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %I, %I, %I%s OR DELETE OR TRUNCATE ON %s'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_invalidate(%L)',
                       'clm_invalidate_' || tag, r.customer_column, r.time_column, r.amount_column,
                       CASE WHEN r.channel_column IS NULL THEN '' ELSE format(', %I', r.channel_column) END,
                       r.source, r.target_schema);
    ELSE
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS clm_new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_capture(%L)',
                       'clm_capture_' || tag, r.source, r.target_schema);
        -- any updated column may change what the filter selects
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OR DELETE OR TRUNCATE ON %s'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_invalidate(%L)',
                       'clm_invalidate_' || tag, r.source, r.target_schema);
    END IF;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_create_triggers(@extschema@.tracked_source) IS 'internal: creates the capture and invalidation triggers of a tracked source, calling clm.track_capture and clm.track_invalidate (on a distributed source, clm.track_citus_create_triggers)';

CREATE OR REPLACE FUNCTION @extschema@.track_customers_all(r @extschema@.tracked_source)
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

CREATE OR REPLACE FUNCTION @extschema@.rebuild_internal(source_name text, creating boolean)
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

CREATE OR REPLACE FUNCTION @extschema@.refresh(source_name text, refit boolean DEFAULT NULL,
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

CREATE OR REPLACE FUNCTION @extschema@.untrack(source_name text)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    t name := r.target_schema;
    tag text := left(md5(r.name), 12);
    v text;
BEGIN
    IF @extschema@.track_act_as(r, 'clm.untrack') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF to_regclass(format('%I.clm_fit', t)) IS NOT NULL THEN
        PERFORM @extschema@.track_lock(r, true);
    END IF;
    IF @extschema@.track_citus_distributed(t) THEN
        -- a distributed source (87_track_citus.sql): Citus drops the shards'
        -- triggers only with unsafe triggers on, and its DDL must not follow
        -- parallel multi-shard commands in the transaction
        PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
        PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    END IF;
    PERFORM @extschema@.untrack_contacts(source_name);  -- 87_contact.sql
    PERFORM @extschema@.untrack_audiences(source_name);  -- 87_contact_audience.sql
    IF r.incremental AND to_regclass(r.source::text) IS NOT NULL THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_capture_' || tag, r.source);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_invalidate_' || tag, r.source);
        IF @extschema@.track_citus_distributed(t) THEN
            -- (the further triggers of a distributed source)
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_delete_' || tag, r.source);
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_truncate_' || tag, r.source);
        END IF;
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
    DELETE FROM @extschema@.tracked_source ts WHERE ts.name = source_name;
END
$fn$;
COMMENT ON FUNCTION @extschema@.untrack(text) IS 'removes the triggers, tables and views clm.track created for a source (and its schema if clm.track created it and it is left empty); fails, changing nothing, if other objects depend on them';

CREATE OR REPLACE FUNCTION @extschema@.upgrade_tracked(source_name text)
    RETURNS SETOF text LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
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
                      AND g.tgfoid NOT IN (SELECT p.oid FROM pg_proc p
                                            WHERE p.oid IN (to_regprocedure('@extschema@.track_capture()'),
                                                            to_regprocedure('@extschema@.track_invalidate()'),
                                                            to_regprocedure('@extschema@.track_capture_shard()'))))
           OR NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = r.source AND g.tgname = 'clm_capture_' || tag) THEN
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_capture_' || tag, r.source);
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_invalidate_' || tag, r.source);
            PERFORM @extschema@.track_create_triggers(r);
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
        base := @extschema@.track_base_type(r.source, r.customer_column);
        IF base IS DISTINCT FROM (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                                   WHERE a.attrelid = q AND a.attname = 'customer_id') THEN
            EXECUTE format('ALTER TABLE %I.clm_pending ALTER COLUMN customer_id TYPE %s', t, base);
            RETURN NEXT 'queue customer_id type';
        END IF;
    END IF;
    IF to_regclass(format('%I.customers', t)) IS NOT NULL THEN
        FOR c IN SELECT x.* FROM @extschema@.track_customers_columns() x
                  WHERE x.type IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                                     WHERE a.attrelid = format('%I.customers', t)::regclass
                                       AND a.attname = x.col AND NOT a.attisdropped) LOOP
            EXECUTE format('ALTER TABLE %I.customers ADD COLUMN %I %s', t, c.col, c.type);
            EXECUTE format('COMMENT ON COLUMN %I.customers.%I IS %L', t, c.col, c.doc);
            RETURN NEXT 'customers column ' || c.col;
        END LOOP;
        FOR c IN SELECT x.col, x.doc FROM @extschema@.track_customers_columns() x
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
       AND EXISTS (SELECT 1 FROM @extschema@.track_views_docs() d
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
            PERFORM @extschema@.track_create_views(r);
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
COMMENT ON FUNCTION @extschema@.upgrade_tracked(text) IS 'brings the schema of a source tracked by an earlier clm version up to this version (ALTER EXTENSION clm UPDATE runs it for every tracked source); DDL only; returns what it changed';
