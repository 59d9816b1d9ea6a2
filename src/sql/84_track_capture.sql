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
CREATE FUNCTION @extschema@.track_channel_sql(rel regclass, col name)
    RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT CASE WHEN col IS NULL THEN 'NULL::text'
                WHEN (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = col AND a.attnum > 0)
                     IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'name'::regtype)
                THEN format('%I::pg_catalog.text', col)
                ELSE format('CASE WHEN %1$I IS NOT NULL THEN pg_catalog.format(''%%s'', %1$I) END', col) END
$fn$;
COMMENT ON FUNCTION @extschema@.track_channel_sql(regclass, name) IS 'internal: the SQL expression reading a tracked source''s channel column as text (a cast for the built-in string types, else the type''s output function: never a user-defined cast)';

-- The type of a column of a relation, domains replaced by their base type, as SQL text.
CREATE FUNCTION @extschema@.track_base_type(rel regclass, col name)
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
COMMENT ON FUNCTION @extschema@.track_base_type(regclass, name) IS 'internal: the type of a column, a domain replaced by its base type (the queue of a tracked source holds base types, so that queuing runs no domain check)';

-- Trigger function: queues the rows an INSERT statement added to a tracked source.
-- Arguments: target schema, then customer, time, amount and channel column
-- ('' for none); or the target schema alone for a source with a filter.
-- (C, src/track_capture.c: its INSERT into the queue is planned once per
-- trigger and session.)
CREATE FUNCTION @extschema@.track_capture()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'clm_track_capture' LANGUAGE C
    SET search_path = pg_catalog, pg_temp
    SET DateStyle = 'ISO, YMD'
    SET IntervalStyle = 'postgres'
    SET extra_float_digits = 1;
COMMENT ON FUNCTION @extschema@.track_capture() IS 'internal: the statement-level AFTER INSERT trigger of a tracked source: queues the new rows for clm.refresh (runs as the writer, evaluates none of the owner''s SQL)';

-- Trigger function: records an UPDATE, DELETE or TRUNCATE of a tracked source.
-- Argument: the target schema.  (C, src/track_capture.c.)
CREATE FUNCTION @extschema@.track_invalidate()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'clm_track_invalidate' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.track_invalidate() IS 'internal: the statement-level trigger recording an UPDATE, DELETE or TRUNCATE of a tracked source, after which clm.refresh rebuilds';

-- Creates the two triggers of a tracked source (DDL only: runs no user SQL).
CREATE FUNCTION @extschema@.track_create_triggers(r @extschema@.tracked_source)
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
