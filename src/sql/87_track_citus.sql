-- Tracked sources on Citus: clm.track captures changes with triggers on the
-- source, which Citus does not run on the shards of a distributed or
-- reference table (with citus.enable_unsafe_triggers the trigger fires on
-- the workers, where the queue does not exist, and deletes go unseen).
-- clm.track calls this before it creates anything.  Citus's catalog is read
-- only where Citus is installed (dynamic SQL: no reference to it otherwise).
CREATE FUNCTION @extschema@.track_citus_check(source regclass)
    RETURNS void LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    kind text;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN;
    END IF;
    EXECUTE 'SELECT CASE WHEN partmethod <> ''n'' THEN ''distributed'' WHEN repmodel = ''t'' THEN ''reference'' END
             FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1'
        INTO kind USING source;
    IF kind IS NOT NULL THEN
        RAISE EXCEPTION 'clm.track: % is a Citus % table', source, kind
            USING ERRCODE = '0A000',
                  DETAIL = 'clm.track captures changes with triggers, which Citus does not run correctly on the shards of distributed and reference tables.',
                  HINT = 'Build profiles with INSERT ... SELECT into a co-located distributed table (docs/citus.md), or track a plain table.';
    END IF;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_check(regclass) IS 'internal: refuses (0A000) a source that is a Citus distributed or reference table, before clm.track creates anything; does nothing where Citus is not installed';
