-- Row-level security of the tracked-source catalog: a role sees the
-- registrations of the sources it owns (or whose owner it is a member of),
-- may read (SELECT on the source) or reads the views of (clm.grant_reader),
-- and changes only its own.  (to_regrole: an
-- owner role that no longer exists hides the row rather than failing every
-- query of the catalog.)
CREATE POLICY tracked_source_read ON @extschema@.tracked_source FOR SELECT
    USING (pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(owner)), 'MEMBER')
           OR pg_catalog.has_table_privilege(source, 'SELECT')
           OR EXISTS (SELECT FROM pg_catalog.unnest(readers) AS rd(r)
                       WHERE pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(rd.r)), 'MEMBER')));
CREATE POLICY tracked_source_own ON @extschema@.tracked_source
    USING (pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(owner)), 'MEMBER'))
    WITH CHECK (pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(owner)), 'MEMBER'));
