-- Every tracked source made by 0.1 is brought up to 0.2: its triggers call
-- clm.track_capture and clm.track_invalidate (the functions 0.1 made in its
-- target schema are dropped), a filtered source's queue gets source_row.
-- Events still queued stay queued and are merged by the next clm.refresh.
-- DDL only (clm.upgrade_tracked runs none of the owners' SQL).
SELECT @extschema@.upgrade_tracked(ts.name) FROM @extschema@.tracked_source ts ORDER BY ts.name;
