-- clm.profile with an explicit time zone (src/profile_agg.c, src/rowconv.c):
-- the days of a timestamptz are counted in the named zone, not in the
-- TimeZone of the session or of the server that runs the aggregate (on
-- Citus, each worker's own setting), so the profile is the same wherever it
-- is computed.  IMMUTABLE like timezone(text, timestamptz): the result
-- depends on the arguments and the time-zone database only.  channel may be
-- NULL (no channel counted).
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
