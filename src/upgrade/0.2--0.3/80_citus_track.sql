-- Tracked sources on Citus distributed tables (issue 13): the functions of
-- src/sql/87_track_citus.sql come from 81_citus_track_functions.sql (a link
-- to it), clm.track_citus_check changes its arguments (dropped here), and
-- the functions of src/sql/83 to 86 that call them are replaced in place by
-- 80_citus_track_functions.replace: clm.track distributes a distributed
-- source's tables, the refresh, rebuild and untrack of a distributed source,
-- and every tracked source's profiles of a timestamptz column count days in
-- its time_zone setting explicitly (clm.track_profile_sql).
DROP FUNCTION @extschema@.track_citus_check(regclass);
