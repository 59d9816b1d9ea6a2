-- Citus (issue 13): clm.profile with an explicit time zone (src/sql/12_profile_zone.sql)
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamptz, numeric, text, text) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamptz, numeric, text, text) IS 'aggregate support: add one event to a profile state, its day counted in the named time zone (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at timestamptz, amount numeric, channel text, time_zone text) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(timestamptz, numeric, text, text) IS 'profile of one customer''s events with days counted in the named time zone (a name of pg_timezone_names), whatever the session''s or server''s TimeZone: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped; NULL channel = none counted; NULL time_zone is an error (22004).';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamptz, float8, text, text) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamptz, float8, text, text) IS 'aggregate support: add one event to a profile state, its day counted in the named time zone (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at timestamptz, amount float8, channel text, time_zone text) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(timestamptz, float8, text, text) IS 'profile of one customer''s events with days counted in the named time zone (a name of pg_timezone_names), whatever the session''s or server''s TimeZone: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped; NULL channel = none counted; NULL time_zone is an error (22004).';

-- Citus (issue 13): clm.track refuses Citus distributed and reference tables (src/sql/87_track_citus.sql)
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
