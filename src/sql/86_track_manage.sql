-- Gives a role read access to the views of a tracked source.
CREATE FUNCTION @extschema@.grant_reader(source_name text, reader name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    v text;
BEGIN
    IF @extschema@.track_act_as(r, 'clm.grant_reader') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF reader IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN
        RAISE EXCEPTION 'clm.grant_reader: role "%" does not exist', reader USING ERRCODE = '42704';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', r.target_schema, reader);
    -- (and the contact and audience relations, 87_contact.sql)
    FOREACH v IN ARRAY @extschema@.track_views(true) || @extschema@.contact_reader_relations(r.target_schema) LOOP
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
    IF @extschema@.track_act_as(r, 'clm.revoke_reader') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF reader IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN
        RAISE EXCEPTION 'clm.revoke_reader: role "%" does not exist', reader USING ERRCODE = '42704';
    END IF;
    FOREACH v IN ARRAY @extschema@.track_views(true) || @extschema@.contact_reader_relations(r.target_schema) LOOP
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
    IF @extschema@.track_act_as(r, 'clm.grant_writer') THEN
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
COMMENT ON FUNCTION @extschema@.grant_writer(text, name) IS 'lets a role write to a tracked source: its inserts fire the capture trigger, which needs INSERT on the queue table (clm.track grants it to the roles that could write to the source at the time), and to its contacts table (clm.track_contacts)';

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

-- Events waiting in the queue of a tracked source.
CREATE FUNCTION @extschema@.pending_events(source_name text)
    RETURNS bigint LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    n bigint;
BEGIN
    IF @extschema@.track_act_as(r, 'clm.pending_events') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF NOT r.incremental THEN
        RETURN NULL;
    END IF;
    EXECUTE format('WITH moved AS (SELECT * FROM %I.clm_pending WHERE op IS NULL) SELECT count(*) FROM (%s) e',
                   r.target_schema, @extschema@.track_queue_sql(r)) INTO n;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION @extschema@.pending_events(text) IS 'events inserted into a tracked source and not yet merged by clm.refresh (with a filter: those that pass it; NULL for a source that every refresh rebuilds)';



CREATE VIEW @extschema@.tracked_sources WITH (security_invoker = true) AS
SELECT name, source, target_schema, owner, incremental, customers,
       last_refresh, last_refresh_action, last_refresh_seconds, last_refresh_events, last_refresh_customers,
       last_rebuild, last_rebuild_seconds, last_refit, last_views_refresh, refreshes, readers,
       customer_column, time_column, amount_column, channel_column, filter, settings, created_at
  FROM @extschema@.tracked_source;
COMMENT ON VIEW @extschema@.tracked_sources IS 'the tracked sources the current role owns or may read (SELECT on the source), with their last refresh, row counts and timings (clm.pending_events(name) counts the events waiting)';
GRANT SELECT ON @extschema@.tracked_sources TO PUBLIC;

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
CREATE FUNCTION @extschema@.upgrade_tracked(source_name text)
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
