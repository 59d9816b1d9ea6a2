-- Row-level security of the tracked-source catalog.

CREATE POLICY tracked_source_read ON @extschema@.tracked_source FOR SELECT USING (true);
CREATE POLICY tracked_source_own ON @extschema@.tracked_source
    USING (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'))
    WITH CHECK (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));
