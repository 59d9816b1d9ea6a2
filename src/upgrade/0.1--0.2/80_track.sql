-- Tracked sources, 0.1 -> 0.2 (src/sql/80_track_*.sql): the catalog table
-- and the type refresh_result stay (with their rows); its policies, the view
-- and every function are dropped here and made again by the files that
-- follow, which are the install script's own (symbolic links to
-- src/sql/81_track_policies.sql ... 86_track_manage.sql); then
-- 89_track_upgrade.sql brings each tracked source's schema up to 0.2
-- (clm.upgrade_tracked).
COMMENT ON TABLE @extschema@.tracked_source IS 'clm catalog: one row per source registered by clm.track (kept by pg_dump; a role sees the rows of the sources it owns, may read or reads the views of, and changes only its own)';
DROP POLICY tracked_source_read ON @extschema@.tracked_source;
DROP POLICY tracked_source_own ON @extschema@.tracked_source;
DROP VIEW @extschema@.tracked_sources;
DROP FUNCTION @extschema@.track_settings(jsonb);
DROP FUNCTION @extschema@.track_stage_args(jsonb);
DROP FUNCTION @extschema@.track_customers_sql(text, name, jsonb);
DROP FUNCTION @extschema@.track_customers_comments();
DROP FUNCTION @extschema@.track_create_views(name, jsonb);
DROP FUNCTION @extschema@.track_lookup(text);
DROP FUNCTION @extschema@.track_grant_writers(regclass, name);
DROP FUNCTION @extschema@.track(regclass, name, name, name, name, name, text, text, name, jsonb);
DROP FUNCTION @extschema@.track_profile_sql(@extschema@.tracked_source, boolean);
DROP FUNCTION @extschema@.track_lock(text, boolean);
DROP FUNCTION @extschema@.track_refit(@extschema@.tracked_source, date);
DROP FUNCTION @extschema@.track_views(boolean);
DROP FUNCTION @extschema@.track_refresh_views(name);
DROP FUNCTION @extschema@.track_customers_all(@extschema@.tracked_source);
DROP FUNCTION @extschema@.track_as_of(jsonb);
DROP FUNCTION @extschema@.rebuild_internal(text, boolean);
DROP FUNCTION @extschema@.rebuild(text, boolean);
DROP FUNCTION @extschema@.refresh(text, boolean, boolean, boolean);
DROP FUNCTION @extschema@.grant_reader(text, name);
DROP FUNCTION @extschema@.revoke_reader(text, name);
DROP FUNCTION @extschema@.grant_writer(text, name);
DROP FUNCTION @extschema@.untrack(text);
DROP FUNCTION @extschema@.pending_events(text);
