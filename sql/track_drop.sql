--
-- DROP EXTENSION clm with tracked sources, in a database of its own: without
-- CASCADE it refuses (the triggers and the profiles depend on clm); with
-- CASCADE no clm trigger is left on the sources (pg_trigger), later inserts
-- queue nothing, the schema clm is gone, and what is left of each target
-- schema is listed (docs/tracked-sources-security.md describes it).  Then
-- clm can be created again and the sources tracked anew.
--
SET client_min_messages = error;
SELECT current_database() AS regress_db \gset
DROP DATABASE IF EXISTS clm_track_drop;
CREATE DATABASE clm_track_drop;
\c clm_track_drop
SET client_min_messages = error;
SET TimeZone = 'UTC';
CREATE EXTENSION clm;
-- the schema clm is a member of the extension
SELECT n.nspname, d.deptype FROM pg_depend d JOIN pg_namespace n ON n.oid = d.objid
 WHERE d.classid = 'pg_namespace'::regclass AND d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'clm');
CREATE TABLE ev AS SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(40, seed => 4);
CREATE TABLE fev AS SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(40, seed => 5);
CREATE VIEW vev AS SELECT * FROM ev;
SELECT name, action FROM clm.track('ev', 'customer_id', 'occurred_at', 'amount', 'channel', settings => '{"as_of": "2025-01-01"}');
SELECT name, action FROM clm.track('fev', 'customer_id', 'occurred_at', 'amount', filter => 'amount > 0',
                                   settings => '{"as_of": "2025-01-01"}');
SELECT name, action FROM clm.track('vev', 'customer_id', 'occurred_at', 'amount', settings => '{"as_of": "2025-01-01"}');
SELECT tgrelid::regclass AS source, count(*) AS triggers FROM pg_trigger
 WHERE tgrelid IN ('ev'::regclass, 'fev'::regclass) GROUP BY 1 ORDER BY 1;

\set VERBOSITY sqlstate
DROP EXTENSION clm;
\set VERBOSITY default
DROP EXTENSION clm CASCADE;
SELECT count(*) AS clm_triggers FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE NOT t.tgisinternal AND c.relnamespace NOT IN ('pg_catalog'::regnamespace);
SELECT count(*) AS clm_schema FROM pg_namespace WHERE nspname = 'clm';
SELECT count(*) AS clm_functions FROM pg_proc WHERE proname LIKE 'track%' OR proname LIKE 'clm\_%';
-- the sources keep working and nothing is queued any more
INSERT INTO ev VALUES (1, '2025-01-02 10:00+00', 10, 'web');
INSERT INTO fev VALUES (1, '2025-01-02 10:00+00', 10, 'web');
UPDATE ev SET amount = amount + 1 WHERE customer_id = 2;
SELECT (SELECT count(*) FROM clm_ev.clm_pending) AS ev_queue, (SELECT count(*) FROM clm_fev.clm_pending) AS fev_queue;
-- what is left of the target schemas: the schemas (the owner's), the tables
-- without their clm-typed columns; the materialised views are gone
SELECT n.nspname AS schema, c.relname, c.relkind,
       (SELECT CASE WHEN count(*) <= 8 THEN string_agg(a.attname, ', ' ORDER BY a.attnum)
                    ELSE count(*) || ' columns' END
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('clm_ev', 'clm_fev', 'clm_vev') AND c.relkind IN ('r', 'm', 'v')
 ORDER BY 1, 2;
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'clm\_%' ORDER BY 1;

-- clm again, the sources tracked anew once the old schemas are dropped
DROP SCHEMA clm_ev, clm_fev, clm_vev CASCADE;
CREATE EXTENSION clm;
SELECT name, action, customers = (SELECT count(DISTINCT customer_id) FROM ev) AS all_customers
  FROM clm.track('ev', 'customer_id', 'occurred_at', 'amount', 'channel', settings => '{"as_of": "2025-01-01"}');
INSERT INTO ev VALUES (1, '2025-01-03 10:00+00', 10, 'web');
SELECT clm.pending_events('clm_ev') AS pending;
DROP EXTENSION clm CASCADE;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'ev'::regclass;

\c :regress_db
SET client_min_messages = error;
DROP DATABASE clm_track_drop;
