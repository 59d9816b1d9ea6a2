
-- 0.2 -> 0.3, release fixes (the release helper's part).
--
-- The queries of a tracked source's population views have one definition,
-- clm.track_view_sql (src/sql/83_track_views.sql), which the materialised
-- views and clm.report_profiles both run: 0.2's clm.report_profiles had its
-- own copy of four of them.  The two functions are made again from their new
-- files (the links 20_release_fixes_track_views.sql and
-- 20_release_fixes_report_profiles.sql, which follow); the views of tracked
-- sources are unchanged (the same queries).
DROP FUNCTION @extschema@.track_create_views(@extschema@.tracked_source);
DROP FUNCTION @extschema@.report_profiles(regclass, date, jsonb, text, name, name);

-- A quoted population gap (clm.stage(p, '2025-01-01', '30')) resolves as in
-- 0.1 again: forms taking it as text (src/sql/63_stage_quoted.sql, from the
-- link 20_release_fixes_stage_quoted.sql) next to 0.2's clm.stage_rules forms.
