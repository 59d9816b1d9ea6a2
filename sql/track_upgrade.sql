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

ALTER EXTENSION clm UPDATE;
SELECT extversion, extnamespace::regnamespace AS schema FROM pg_extension WHERE extname = 'clm';
-- the triggers now call the extension's functions; 0.1's per-source ones are gone
SELECT g.tgrelid::regclass AS source, p.pronamespace::regnamespace AS schema, p.proname, g.tgnargs
  FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
 WHERE g.tgrelid IN ('ev'::regclass, 'fev'::regclass) ORDER BY 1, 3;
SELECT count(*) AS functions_left FROM pg_proc WHERE pronamespace IN ('clm_ev'::regnamespace, 'clm_fev'::regnamespace);
SELECT attname FROM pg_attribute WHERE attrelid = 'clm_fev.clm_pending'::regclass AND attnum > 0 ORDER BY attnum;
-- upgrading again changes nothing
SELECT count(*) AS changes FROM clm.tracked_source ts, clm.upgrade_tracked(ts.name);
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

-- untrack removes what 0.1 made too
SELECT clm.untrack('up_ev'), clm.untrack('up_fev');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid IN ('ev'::regclass, 'fev'::regclass);
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname IN ('clm_ev', 'clm_fev');

\c :regress_db
SET client_min_messages = error;
DROP DATABASE clm_track_upgrade;
