--
-- Tracked sources made by clm 0.1 keep working after ALTER EXTENSION clm
-- UPDATE: in a database of its own, clm 0.1 tracks two sources (one with a
-- channel, one with a filter), events are inserted (some left queued), the
-- extension is updated, and then more inserts, a delete, refresh and rebuild:
-- each time the stored profiles equal a GROUP BY over the source (with the
-- filter), computed here independently of the tracked schema.
--
SET client_min_messages = error;
SELECT current_database() AS regress_db \gset
DROP DATABASE IF EXISTS clm_track_upgrade;
CREATE DATABASE clm_track_upgrade;
\c clm_track_upgrade
SET client_min_messages = error;
SET TimeZone = 'UTC';
CREATE EXTENSION clm VERSION '0.1';
SELECT extversion, extnamespace::regnamespace AS schema FROM pg_extension WHERE extname = 'clm';
CREATE TABLE ev AS SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(200, seed => 11);
CREATE TABLE fev AS SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(150, seed => 12);
SELECT name, action, customers FROM clm.track('ev', 'customer_id', 'occurred_at', 'amount', 'channel',
    name => 'up_ev', settings => '{"as_of": "2025-01-01", "time_zone": "UTC"}');
SELECT name, action, customers FROM clm.track('fev', 'customer_id', 'occurred_at', 'amount', 'channel',
    name => 'up_fev', filter => 'amount > 20', settings => '{"as_of": "2025-01-01", "time_zone": "UTC"}');
-- events merged under 0.1, and events still queued at the update
INSERT INTO ev SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(20, seed => 21, first_customer => 190);
INSERT INTO fev SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(20, seed => 22, first_customer => 140);
SELECT name, action, events > 0 AS merged FROM clm.refresh('up_ev')
UNION ALL SELECT name, action, events > 0 FROM clm.refresh('up_fev');
INSERT INTO ev VALUES (1, '2024-12-01 10:00+00', 30, 'web'), (5000, '2024-12-02 11:00+00', 12, 'app');
INSERT INTO fev VALUES (1, '2024-12-01 10:00+00', 30, 'web'), (2, '2024-12-01 11:00+00', 5, 'web'),
                       (6000, '2024-12-03 09:00+00', 50, NULL);
SELECT clm.pending_events('up_ev') AS ev_queued, clm.pending_events('up_fev') AS fev_queued;
SELECT p.pronamespace::regnamespace AS schema, p.proname FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
 WHERE g.tgrelid IN ('ev'::regclass, 'fev'::regclass) ORDER BY 1, 2;
-- 0.1's views: the partial week of as_of (Wednesday 2025-01-01) in lifecycle_weekly, unrounded figures
SELECT max(week_start) AS last_week, (SELECT max(length(pulse::text)) FROM clm_ev.lifecycle_weekly) > 6 AS long_pulse
  FROM clm_ev.lifecycle_weekly;

ALTER EXTENSION clm UPDATE;
SELECT e.extversion = a.default_version AS default_version, e.extnamespace::regnamespace AS schema
  FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname WHERE e.extname = 'clm';
-- the triggers now call the extension's functions; 0.1's per-source ones are gone
SELECT g.tgrelid::regclass AS source, p.pronamespace::regnamespace AS schema, p.proname, g.tgnargs
  FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
 WHERE g.tgrelid IN ('ev'::regclass, 'fev'::regclass) ORDER BY 1, 3;
SELECT count(*) AS functions_left FROM pg_proc WHERE pronamespace IN ('clm_ev'::regnamespace, 'clm_fev'::regnamespace);
SELECT attname FROM pg_attribute WHERE attrelid = 'clm_fev.clm_pending'::regclass AND attnum > 0 ORDER BY attnum;
-- upgrading again changes nothing
SELECT count(*) AS changes FROM clm.tracked_source ts, clm.upgrade_tracked(ts.name);
-- the views were made again: whole weeks only, figures rounded, comments as
-- clm.track_views_docs, owned as the customers table, not extension members;
-- the customers columns' comments are this version's
CREATE FUNCTION view_state(t name) RETURNS TABLE (views bigint, other_owner bigint, members bigint, stale_comments bigint,
                                                   stale_customers_comments bigint)
LANGUAGE sql AS $f$
    SELECT count(*), count(*) FILTER (WHERE k.relowner <> (SELECT relowner FROM pg_class WHERE oid = format('%I.customers', t)::regclass)),
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = k.oid AND d.deptype = 'e')),
           (SELECT count(*) FROM clm.track_views_docs() x
             WHERE CASE WHEN x.col IS NULL THEN obj_description(format('%I.%I', t, x.rel)::regclass, 'pg_class')
                        ELSE col_description(format('%I.%I', t, x.rel)::regclass,
                                             (SELECT attnum FROM pg_attribute WHERE attrelid = format('%I.%I', t, x.rel)::regclass AND attname = x.col))
                   END IS DISTINCT FROM x.doc),
           (SELECT count(*) FROM clm.track_customers_columns() x
             WHERE col_description(format('%I.customers', t)::regclass,
                                   (SELECT attnum FROM pg_attribute WHERE attrelid = format('%I.customers', t)::regclass AND attname = x.col))
                   IS DISTINCT FROM x.doc)
      FROM pg_class k WHERE k.relnamespace = t::regnamespace AND k.relkind = 'm'
$f$;
SELECT * FROM view_state('clm_ev') UNION ALL SELECT * FROM view_state('clm_fev');
SELECT max(week_start) AS last_week, bool_and(pulse IS NULL OR pulse = round(pulse::numeric, 4)::float8) AS pulse_rounded
  FROM clm_ev.lifecycle_weekly;
-- the events queued under 0.1 are still queued
SELECT clm.pending_events('up_ev') AS ev_queued, clm.pending_events('up_fev') AS fev_queued;

-- same(source, schema, filter): customers whose stored profile differs from
-- clm.profile over their source rows (or on one side only), and stored customers
CREATE FUNCTION same(src regclass, t name, flt text) RETURNS TABLE (mismatches bigint, stored bigint)
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $f$
BEGIN
    RETURN QUERY EXECUTE format($q$
      WITH f AS (SELECT customer_id, clm.profile(occurred_at, amount, channel) AS profile
                   FROM %1$s WHERE %3$s GROUP BY customer_id)
      SELECT (SELECT count(*) FROM f FULL JOIN %2$I.profiles s USING (customer_id)
               WHERE f.profile IS NULL OR s.profile IS NULL OR f.profile OPERATOR(clm.<>) s.profile),
             (SELECT count(*) FROM %2$I.profiles)$q$, src, t, flt);
END $f$;

-- inserted after the update: queued by clm.track_capture, the filter applied at refresh
INSERT INTO ev SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(15, seed => 31, first_customer => 300);
INSERT INTO fev SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(15, seed => 32, first_customer => 300);
INSERT INTO fev VALUES (3, '2024-12-04 10:00+00', 25, 'app'), (3, '2024-12-05 10:00+00', 15, 'app');
SELECT (SELECT count(*) FROM clm_fev.clm_pending WHERE source_row IS NULL) AS queued_by_01,
       (SELECT count(*) FROM clm_fev.clm_pending WHERE source_row IS NOT NULL) AS queued_rows_02,
       clm.pending_events('up_fev') AS fev_events_queued,
       (SELECT count(*) FROM fev WHERE amount > 20) - (SELECT sum(clm.event_count(profile)) FROM clm_fev.profiles) AS fev_events_expected;
SELECT name, action, events FROM clm.refresh('up_ev') UNION ALL SELECT name, action, events FROM clm.refresh('up_fev');
SELECT * FROM same('ev', 'clm_ev', 'true');
SELECT * FROM same('fev', 'clm_fev', 'amount > 20');
SELECT clm.pending_events('up_ev') AS ev_queued, clm.pending_events('up_fev') AS fev_queued;
-- the customers rows follow (one catalog of columns, named in the INSERT)
SELECT count(*) AS customers_rows, count(*) FILTER (WHERE c.total_spend IS DISTINCT FROM s.total_spend) AS stale
  FROM clm_ev.customers c JOIN LATERAL clm.summary((SELECT p.profile FROM clm_ev.profiles p WHERE p.customer_id = c.customer_id), c.as_of) s ON true;

-- a delete: the next refresh rebuilds
DELETE FROM ev WHERE customer_id < 20;
DELETE FROM fev WHERE customer_id < 20;
SELECT name, action FROM clm.refresh('up_ev') UNION ALL SELECT name, action FROM clm.refresh('up_fev');
SELECT * FROM same('ev', 'clm_ev', 'true');
SELECT * FROM same('fev', 'clm_fev', 'amount > 20');
SELECT name, action FROM clm.rebuild('up_ev') UNION ALL SELECT name, action FROM clm.rebuild('up_fev');
SELECT * FROM same('ev', 'clm_ev', 'true');
SELECT * FROM same('fev', 'clm_fev', 'amount > 20');
SELECT name, customers = (SELECT count(DISTINCT customer_id) FROM ev) AS ev_ok FROM clm.tracked_sources WHERE name = 'up_ev';
-- after the rebuild the customers rows are rounded as a fresh source's, and
-- segment_summary is this version's: CLV to 2 decimals, churn probability to
-- 4, the lifecycle stage at_risk only (0.1 added lapsed)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE p_alive <> round(p_alive::numeric, 4)::float8 OR clv <> round(clv::numeric, 2)::float8
                           OR expected_spend <> round(expected_spend::numeric, 2)::float8) AS unrounded,
       count(*) FILTER (WHERE stage IN ('at_risk', 'lapsed')) > count(*) FILTER (WHERE stage = 'at_risk') AS some_lapsed
  FROM clm_ev.customers;
SELECT count(*) AS segment_mismatches FROM (
    (SELECT segment, mean_clv, total_clv, mean_churn_probability, at_risk_customers FROM clm_ev.segment_summary
     EXCEPT ALL
     SELECT coalesce(rfm_segment, 'no purchase'), round(avg(clv)::numeric, 2)::float8, round(sum(clv)::numeric, 2)::float8,
            round(avg(churn_probability)::numeric, 4)::float8, count(*) FILTER (WHERE stage = 'at_risk')
       FROM clm_ev.customers GROUP BY 1)
    UNION ALL
    (SELECT coalesce(rfm_segment, 'no purchase'), round(avg(clv)::numeric, 2)::float8, round(sum(clv)::numeric, 2)::float8,
            round(avg(churn_probability)::numeric, 4)::float8, count(*) FILTER (WHERE stage = 'at_risk')
       FROM clm_ev.customers GROUP BY 1
     EXCEPT ALL
     SELECT segment, mean_clv, total_clv, mean_churn_probability, at_risk_customers FROM clm_ev.segment_summary)) x;

-- a view that another object depends on is kept, with a warning, until that
-- object is gone (a changed comment stands for a view of an older version)
COMMENT ON MATERIALIZED VIEW clm_ev.segment_summary IS 'older';
CREATE VIEW mine_top AS SELECT segment, mean_clv FROM clm_ev.segment_summary;
SET client_min_messages = warning;
SELECT clm.upgrade_tracked('up_ev');
SET client_min_messages = error;
SELECT obj_description('clm_ev.segment_summary'::regclass, 'pg_class') AS kept_comment;
DROP VIEW mine_top;
SELECT clm.upgrade_tracked('up_ev');
SELECT * FROM view_state('clm_ev');

-- untrack removes what 0.1 made too
SELECT clm.untrack('up_ev'), clm.untrack('up_fev');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid IN ('ev'::regclass, 'fev'::regclass);
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname IN ('clm_ev', 'clm_fev');

\c :regress_db
SET client_min_messages = error;
DROP DATABASE clm_track_upgrade;
