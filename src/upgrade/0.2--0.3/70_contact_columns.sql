-- Contacts, item 6 of issue 16 (0.2 -> 0.3): the rule set of a source's
-- contact columns (clm.tracked_contacts.rule_set).  The functions that
-- changed to keep the contact state and the customers columns best_channel,
-- best_hour and contactable_from are replaced in place from src/sql by
-- 70_contact_columns_functions.replace (clm.refresh and
-- clm.rebuild_internal, which call clm.contact_derive, by
-- 80_citus_track_functions.replace, as they changed again there).  The new
-- objects come from 70_contact_state.sql, a link to
-- src/sql/87_contact_state.sql.  The customers tables get the three columns
-- from clm.upgrade_tracked (99_track_upgrade.sql); a source with contacts
-- gets its contact state at its first clm.refresh.
-- (added without a default, filled, then given it: a column added with a
-- default keeps it as a "missing value" in pg_attribute, which a fresh table
-- has not; superuser: row security does not hide rows from the update)
ALTER TABLE @extschema@.tracked_contacts ADD COLUMN rule_set text;
UPDATE @extschema@.tracked_contacts SET rule_set = 'default';
ALTER TABLE @extschema@.tracked_contacts ALTER COLUMN rule_set SET DEFAULT 'default',
    ALTER COLUMN rule_set SET NOT NULL;
COMMENT ON COLUMN @extschema@.tracked_contacts.rule_set IS 'the contact rule set (clm.contact_rule_set) of the customers'' contactable_from and the view contact_now (clm.set_contact_rule_set)';

