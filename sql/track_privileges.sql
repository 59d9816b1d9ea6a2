--
-- Tracked sources and privileges: nothing in clm is SECURITY DEFINER, so a
-- non-superuser that owns the source and the target schema can do
-- everything; writers and readers get exactly what they need; the catalog
-- clm.tracked_source shows a role the sources it owns or may read and lets
-- only the owner change them (row-level security); refresh and the other
-- operations run as the owner, and refuse (42501) a role that is not it or a
-- member of it (sql/track_security.sql has the rest).  pg_regress runs as a
-- superuser: the roles are made here (clm_test_*), used with SET ROLE, and
-- dropped at the end.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set VERBOSITY default
CREATE SCHEMA priv_test;
GRANT USAGE ON SCHEMA priv_test TO PUBLIC;
SET search_path = priv_test, public;
-- tt_err(sql): runs one statement as the current role; 'ok' or 'SQLSTATE: message'
CREATE FUNCTION tt_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- no SECURITY DEFINER function in the extension: the offending functions are
-- listed (none expected), so the output does not change when a function is
-- added; the extension's functions (pg_depend) are every function of schema
-- clm, and there are many, so the list is taken over all of them
WITH ext AS (
    SELECT p.oid, p.prosecdef
      FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'clm'))
SELECT count(*) > 300 AS many_functions,
       count(*) = (SELECT count(*) FROM pg_proc WHERE pronamespace = 'clm'::regnamespace) AS all_of_schema_clm
  FROM ext;
SELECT p.oid::regprocedure AS security_definer_function
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'clm')
   AND p.prosecdef
 ORDER BY 1::text;

CREATE ROLE clm_test_owner;
CREATE ROLE clm_test_writer;
CREATE ROLE clm_test_late_writer;
CREATE ROLE clm_test_reader;
CREATE ROLE clm_test_other;
-- users of clm need USAGE on its schema
GRANT USAGE ON SCHEMA clm TO clm_test_owner, clm_test_writer, clm_test_late_writer, clm_test_reader, clm_test_other;
-- the owner's schemas, made for it: the source's and a target schema
CREATE SCHEMA priv_src AUTHORIZATION clm_test_owner;
CREATE SCHEMA priv_trk AUTHORIZATION clm_test_owner;

------------------------------------------------------------------------------
-- the owner tracks its table into its pre-created schema (no CREATE on the database)
------------------------------------------------------------------------------
SET ROLE clm_test_owner;
CREATE TABLE priv_src.orders (cust bigint, at timestamptz, amount numeric, channel text);
INSERT INTO priv_src.orders SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(300, seed => 5);
GRANT USAGE ON SCHEMA priv_src TO clm_test_writer, clm_test_late_writer, clm_test_reader;
-- a writer with INSERT before clm.track
GRANT INSERT ON priv_src.orders TO clm_test_writer;
-- without CREATE on the database it cannot have clm.track create a schema
SELECT tt_err($$SELECT clm.track('priv_src.orders', 'cust', 'at', 'amount', 'channel', target_schema => 'priv_new')$$);
SELECT name, action, events, customers
  FROM clm.track('priv_src.orders', 'cust', 'at', 'amount', 'channel', target_schema => 'priv_trk', name => 'priv',
                 reader => 'clm_test_reader', settings => '{"as_of": "2024-12-31"}');
RESET ROLE;
SELECT count(*) AS sources FROM clm.tracked_source;
SELECT count(*) AS schema_made FROM pg_namespace WHERE nspname = 'priv_new';
SELECT name, owner, readers FROM clm.tracked_sources;
-- everything it created belongs to the owner; nothing is SECURITY DEFINER
SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
 WHERE c.relnamespace = 'priv_trk'::regnamespace AND c.relkind IN ('r', 'm') ORDER BY 1;
SELECT p.proname, pg_get_userbyid(p.proowner) AS owner, p.prosecdef FROM pg_proc p
 WHERE p.pronamespace = 'priv_trk'::regnamespace ORDER BY 1;

------------------------------------------------------------------------------
-- writers
------------------------------------------------------------------------------
-- the writer granted INSERT before clm.track can insert; its events are queued
SET ROLE clm_test_writer;
INSERT INTO priv_src.orders VALUES (1001, '2024-12-01 10:00+00', 25, 'web'), (1, '2024-12-02 10:00+00', 5, 'app');
-- the queue is write-only for it
SELECT tt_err('SELECT count(*) FROM priv_trk.clm_pending');
RESET ROLE;
-- a writer granted INSERT after clm.track: its inserts fail (nothing is lost
-- silently) until clm.grant_writer
SET ROLE clm_test_owner;
GRANT INSERT ON priv_src.orders TO clm_test_late_writer;
RESET ROLE;
SET ROLE clm_test_late_writer;
SELECT tt_err($$INSERT INTO priv_src.orders VALUES (1002, '2024-12-03 10:00+00', 30, 'web')$$);
RESET ROLE;
SET ROLE clm_test_owner;
SELECT clm.grant_writer('priv', 'clm_test_late_writer');
RESET ROLE;
SET ROLE clm_test_late_writer;
SELECT tt_err($$INSERT INTO priv_src.orders VALUES (1002, '2024-12-03 10:00+00', 30, 'web')$$);
RESET ROLE;

-- the owner refreshes: the writers' events are merged
SET ROLE clm_test_owner;
SELECT clm.pending_events('priv');
SELECT name, action, events, customers_changed, customers FROM clm.refresh('priv');
SELECT count(*) AS profile_mismatches
  FROM priv_trk.profiles s
       FULL JOIN (SELECT cust AS customer_id, clm.profile(at, amount, channel) AS p FROM priv_src.orders GROUP BY 1) d
       USING (customer_id)
 WHERE s.customer_id IS NULL OR d.customer_id IS NULL OR NOT s.profile OPERATOR(clm.=) d.p;
SELECT customer_id, orders, total_spend FROM priv_trk.customers WHERE customer_id IN (1001, 1002) ORDER BY 1;
SELECT name, action, customers, views_refreshed FROM clm.refresh('priv', refit => true);
SELECT name, action, customers FROM clm.rebuild('priv');
RESET ROLE;

------------------------------------------------------------------------------
-- readers: customers and the views, nothing else
------------------------------------------------------------------------------
SET ROLE clm_test_reader;
SELECT count(*) AS customers FROM priv_trk.customers;
SELECT q, tt_err(q) FROM (VALUES
  ('SELECT count(*) FROM priv_trk.stage_counts_daily'),
  ('SELECT count(*) FROM priv_trk.lifecycle_weekly'),
  ('SELECT count(*) FROM priv_trk.cohort_retention_monthly'),
  ('SELECT count(*) FROM priv_trk.stage_transitions'),
  ('SELECT count(*) FROM priv_trk.segment_summary'),
  ('SELECT count(*) FROM priv_trk.models'),
  ('SELECT count(*) FROM priv_trk.profiles'),
  ('SELECT count(*) FROM priv_trk.clm_pending'),
  ('SELECT count(*) FROM priv_trk.clm_fit'),
  ('SELECT count(*) FROM priv_src.orders'),
  ($$INSERT INTO priv_trk.customers (customer_id) VALUES (-1)$$),
  ($$SELECT clm.refresh('priv')$$)
) v(q);
RESET ROLE;
SET ROLE clm_test_owner;
SELECT clm.revoke_reader('priv', 'clm_test_reader');
RESET ROLE;
SELECT readers FROM clm.tracked_sources WHERE name = 'priv';
SET ROLE clm_test_reader;
SELECT tt_err('SELECT count(*) FROM priv_trk.customers'), tt_err('SELECT count(*) FROM priv_trk.segment_summary');
RESET ROLE;
SET ROLE clm_test_owner;
SELECT clm.grant_reader('priv', 'clm_test_reader');
RESET ROLE;
SET ROLE clm_test_reader;
SELECT tt_err('SELECT count(*) FROM priv_trk.customers'), tt_err('SELECT count(*) FROM priv_trk.profiles');
RESET ROLE;

------------------------------------------------------------------------------
-- another role reads the catalog but cannot change or drop the registration
------------------------------------------------------------------------------
-- (it may see the source and the target schema, so that what stops it is the
-- catalog's row-level security and the ownership of the objects)
SET ROLE clm_test_owner;
GRANT USAGE ON SCHEMA priv_src, priv_trk TO clm_test_other;
GRANT SELECT ON priv_src.orders TO clm_test_other;
RESET ROLE;
CREATE TABLE priv_test.snapshot AS SELECT * FROM clm.tracked_source;
SET ROLE clm_test_other;
SELECT name, source, target_schema, owner, customers, readers FROM clm.tracked_sources ORDER BY name;
WITH u AS (UPDATE clm.tracked_source SET settings = '{}', owner = 'clm_test_other' RETURNING 1)
SELECT count(*) AS updated FROM u;
WITH d AS (DELETE FROM clm.tracked_source RETURNING 1) SELECT count(*) AS deleted FROM d;
SELECT q, tt_err(q) FROM (VALUES
  ($$INSERT INTO clm.tracked_source (name, source, customer_column, time_column, amount_column, target_schema, incremental, settings, owner)
     VALUES ('fake', 'priv_src.orders', 'cust', 'at', 'amount', 'fake', true, '{}', 'clm_test_owner')$$),
  ($$SELECT clm.untrack('priv')$$),
  ($$SELECT clm.refresh('priv')$$),
  ($$SELECT clm.rebuild('priv')$$),
  ($$SELECT clm.grant_reader('priv', 'clm_test_other')$$),
  ($$SELECT clm.grant_writer('priv', 'clm_test_other')$$),
  ($$SELECT clm.pending_events('priv')$$)
) v(q);
RESET ROLE;
-- the registration and its objects are unchanged
SELECT (SELECT count(*) FROM (SELECT * FROM clm.tracked_source EXCEPT ALL SELECT * FROM priv_test.snapshot) a) +
       (SELECT count(*) FROM (SELECT * FROM priv_test.snapshot EXCEPT ALL SELECT * FROM clm.tracked_source) b) AS catalog_changes;
SELECT count(*) AS relations FROM pg_class WHERE relnamespace = 'priv_trk'::regnamespace AND relkind IN ('r', 'm');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'priv_src.orders'::regclass;
SELECT has_table_privilege('clm_test_other', 'priv_trk.customers', 'SELECT') AS other_reads_customers,
       has_table_privilege('clm_test_other', 'priv_trk.clm_pending', 'INSERT') AS other_writes_queue;

------------------------------------------------------------------------------
-- with CREATE on the database the owner can have clm.track create the schema;
-- untrack drops it again
------------------------------------------------------------------------------
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO clm_test_owner', current_database()); END $$;
SET ROLE clm_test_owner;
SELECT name, action, events, customers
  FROM clm.track('priv_src.orders', 'cust', 'at', 'amount', target_schema => 'priv_new', name => 'priv_new',
                 settings => '{"as_of": "2024-12-31"}');
SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'priv_new';
SELECT clm.untrack('priv_new');
SELECT count(*) AS schema_left FROM pg_namespace WHERE nspname = 'priv_new';
-- and the owner untracks its first source: its pre-created schema stays, empty
SELECT clm.untrack('priv');
SELECT count(*) AS relations FROM pg_class WHERE relnamespace = 'priv_trk'::regnamespace;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'priv_src.orders'::regclass;
SELECT count(*) AS source_rows FROM priv_src.orders;
RESET ROLE;
SELECT count(*) AS sources FROM clm.tracked_source;

-- clean up
SET client_min_messages = warning;
DROP SCHEMA priv_src, priv_trk, priv_test CASCADE;
DROP OWNED BY clm_test_owner, clm_test_writer, clm_test_late_writer, clm_test_reader, clm_test_other;
DROP ROLE clm_test_owner, clm_test_writer, clm_test_late_writer, clm_test_reader, clm_test_other;
SELECT count(*) AS roles_left FROM pg_roles WHERE rolname LIKE 'clm\_test\_%';
