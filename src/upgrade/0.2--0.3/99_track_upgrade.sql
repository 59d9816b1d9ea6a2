
-- Last (keep it last: it runs after every other change of this update): every
-- tracked source is brought up to 0.3 by clm.upgrade_tracked (as at every
-- update: its comment says so), with the triggers, the queue, the columns of
-- customers and the materialised views of this version; DDL only, none of the
-- owners' SQL.  A source already current is left as it is.
SELECT @extschema@.upgrade_tracked(ts.name) FROM @extschema@.tracked_source ts ORDER BY ts.name;
