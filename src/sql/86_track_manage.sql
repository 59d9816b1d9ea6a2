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
