--
-- Tracked sources: whose rights each operation runs with, who sees a
-- registration, who can take the refresh lock (docs/tracked-sources-security.md).
-- Roles (made here, dropped at the end; pg_regress runs as a superuser):
--   clm_sec_alice  owns the source sec_src.orders, tracks it with a filter
--                  that calls her function sec_src.escalate(), which tries
--                  ALTER ROLE clm_sec_alice SUPERUSER and records the role
--                  that ran it (current_user) in sec_src.runs;
--   clm_sec_bob    may INSERT into the source (a writer), nothing else;
--   clm_sec_carol  may SELECT the source, nothing else;
--   clm_sec_team   a member of clm_sec_alice.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
-- (fit warnings of the tiny sample are not what this tests)
SET client_min_messages = error;
\set VERBOSITY default
CREATE FUNCTION pg_temp.tt_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE ROLE clm_sec_alice;
CREATE ROLE clm_sec_bob;
CREATE ROLE clm_sec_carol;
CREATE ROLE clm_sec_team IN ROLE clm_sec_alice;
GRANT USAGE ON SCHEMA clm TO clm_sec_alice, clm_sec_bob, clm_sec_carol, clm_sec_team;
CREATE SCHEMA sec_src AUTHORIZATION clm_sec_alice;
CREATE SCHEMA sec_trk AUTHORIZATION clm_sec_alice;
CREATE SCHEMA sec_trk2 AUTHORIZATION clm_sec_alice;

SET ROLE clm_sec_alice;
CREATE TABLE sec_src.orders (cust bigint, at timestamptz, amount numeric, channel text);
INSERT INTO sec_src.orders SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(60, seed => 3);
CREATE TABLE sec_src.runs (role name);
GRANT INSERT ON sec_src.runs TO PUBLIC;
CREATE FUNCTION sec_src.escalate() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        EXECUTE 'ALTER ROLE clm_sec_alice SUPERUSER';
    EXCEPTION WHEN insufficient_privilege THEN
        NULL;
    END;
    INSERT INTO sec_src.runs VALUES (current_user);
    RETURN true;
END $$;
GRANT USAGE ON SCHEMA sec_src TO clm_sec_bob, clm_sec_carol;
GRANT INSERT ON sec_src.orders TO clm_sec_bob;
GRANT SELECT ON sec_src.orders TO clm_sec_carol;
SELECT name, action, customers
  FROM clm.track('sec_src.orders', 'cust', 'at', 'amount', 'channel', target_schema => 'sec_trk', name => 'sec',
                 filter => 'amount > 10 AND sec_src.escalate()', settings => '{"as_of": "2024-12-31"}');
-- the filter ran as alice (clm.track's caller, the owner) and failed to escalate
SELECT role, count(*) > 0 AS ran FROM sec_src.runs GROUP BY 1 ORDER BY 1;
TRUNCATE sec_src.runs;
RESET ROLE;

------------------------------------------------------------------------------
-- capture runs none of alice's SQL as the writer: bob's insert does not
-- evaluate the filter (it is applied at refresh, as alice)
------------------------------------------------------------------------------
SET ROLE clm_sec_bob;
INSERT INTO sec_src.orders VALUES (1001, '2024-12-01 10:00+00', 25, 'web'), (1002, '2024-12-02 10:00+00', 5, 'app'),
                                  (1, '2024-12-03 10:00+00', 40, NULL);
RESET ROLE;
SELECT count(*) AS filter_runs_by_insert FROM sec_src.runs;
SELECT count(*) AS queued_rows, count(*) FILTER (WHERE source_row IS NOT NULL) AS whole_rows FROM sec_trk.clm_pending;

-- nor a cast of alice's: her channel type has a cast to text that records
-- who runs it; bob's insert queues the channel through the type's output
-- function, and so does the refresh
SET ROLE clm_sec_alice;
CREATE TYPE sec_src.chan AS (v text);
CREATE FUNCTION sec_src.chan_text(c sec_src.chan) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sec_src.runs VALUES (current_user);
    RETURN 'cast:' || c.v;
END $$;
CREATE CAST (sec_src.chan AS text) WITH FUNCTION sec_src.chan_text(sec_src.chan);
CREATE TABLE sec_src.visits (cust bigint, at timestamptz, amount numeric, ch sec_src.chan);
GRANT INSERT ON sec_src.visits TO clm_sec_bob;
INSERT INTO sec_src.visits VALUES (1, '2024-11-01 10:00+00', 10, ROW('web'));
SELECT name, action FROM clm.track('sec_src.visits', 'cust', 'at', 'amount', 'ch', target_schema => 'sec_trk2',
                                   name => 'sec_visits', settings => '{"as_of": "2024-12-31"}');
RESET ROLE;
SET ROLE clm_sec_bob;
INSERT INTO sec_src.visits VALUES (2, '2024-11-02 10:00+00', 20, ROW('app'));
RESET ROLE;
SELECT customer_id, channel FROM sec_trk2.clm_pending;
SELECT name, action, events FROM clm.refresh('sec_visits');
SELECT clm.profile_channels(profile) AS channels FROM sec_trk2.profiles ORDER BY customer_id;
SELECT count(*) AS cast_runs FROM sec_src.runs;
SET ROLE clm_sec_alice;
SELECT clm.untrack('sec_visits');
RESET ROLE;

------------------------------------------------------------------------------
-- a superuser refreshes and rebuilds alice's source: her filter runs as alice
-- (SET LOCAL ROLE), so the ALTER ROLE in it fails; she is no superuser
------------------------------------------------------------------------------
SELECT current_user = session_user AS as_superuser, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser;
SELECT name, action, events, customers_changed FROM clm.refresh('sec');
SELECT name, action, customers FROM clm.rebuild('sec');
SELECT rolname, rolsuper FROM pg_roles WHERE rolname = 'clm_sec_alice';
SELECT role, count(*) > 0 AS ran FROM sec_src.runs GROUP BY 1 ORDER BY 1;
SELECT current_user = session_user AS role_restored;
-- the filter applied at refresh is the same as over the source: the stored
-- profiles equal a GROUP BY over the filtered source (1002's 5 is left out)
SELECT count(*) AS profile_mismatches,
       (SELECT count(*) FROM sec_trk.profiles) AS stored,
       (SELECT count(*) FROM sec_trk.profiles WHERE customer_id = 1002) AS customer_1002
  FROM sec_trk.profiles s
       FULL JOIN (SELECT cust AS customer_id, clm.profile(at, amount, channel) AS p
                    FROM sec_src.orders WHERE amount > 10 GROUP BY 1) d USING (customer_id)
 WHERE s.customer_id IS NULL OR d.customer_id IS NULL OR NOT s.profile OPERATOR(clm.=) d.p;
TRUNCATE sec_src.runs;

-- a member of alice may refresh: as alice
SET ROLE clm_sec_team;
INSERT INTO sec_src.orders VALUES (1003, '2024-12-04 10:00+00', 60, 'web');
SELECT name, action, events FROM clm.refresh('sec');
RESET ROLE;
SELECT role, count(*) > 0 AS ran FROM sec_src.runs GROUP BY 1 ORDER BY 1;

-- carol, who may read the source but is not alice, is refused (42501), even
-- in a session whose user (this superuser) could SET ROLE alice
SET ROLE clm_sec_carol;
\set VERBOSITY sqlstate
SELECT clm.refresh('sec');
SELECT clm.rebuild('sec');
\set VERBOSITY default
SELECT clm.refresh('sec');
SELECT q, pg_temp.tt_err(q) FROM (VALUES
  ($$SELECT clm.untrack('sec')$$),
  ($$SELECT clm.pending_events('sec')$$),
  ($$SELECT clm.grant_reader('sec', 'clm_sec_carol')$$),
  ($$SELECT clm.grant_writer('sec', 'clm_sec_carol')$$),
  ($$SELECT clm.revoke_reader('sec', 'clm_sec_carol')$$),
  ($$SELECT clm.rebuild_internal('sec', false)$$),
  ($$SELECT clm.track_refit(ts, '2024-12-31') FROM clm.tracked_source ts WHERE name = 'sec'$$),
  ($$SELECT clm.track_customers_all(ts) FROM clm.tracked_source ts WHERE name = 'sec'$$)
) v(q);
RESET ROLE;
SELECT count(*) AS filter_runs_by_carol FROM sec_src.runs WHERE role = 'clm_sec_carol';

------------------------------------------------------------------------------
-- the refresh lock: only a role with rights on the source's schema takes it
------------------------------------------------------------------------------
SET ROLE clm_sec_carol;
SELECT pg_temp.tt_err($$SELECT clm.track_lock(ts, false) FROM clm.tracked_source ts WHERE name = 'sec'$$) AS carol_lock;
SELECT pg_temp.tt_err('LOCK TABLE sec_trk.clm_fit IN EXCLUSIVE MODE NOWAIT') AS carol_lock_table;
RESET ROLE;
SET ROLE clm_sec_alice;
SELECT clm.track_lock(ts, false) AS alice_lock FROM clm.tracked_source ts WHERE name = 'sec';
RESET ROLE;
-- (two sessions: specs/track_conc_lockrights.spec)

------------------------------------------------------------------------------
-- who sees the registration: alice and her members (owner), carol (SELECT on
-- the source), not bob (INSERT only)
------------------------------------------------------------------------------
SET ROLE clm_sec_alice;
SELECT current_user, count(*) AS sources, count(*) FILTER (WHERE filter IS NOT NULL) AS filters_shown FROM clm.tracked_sources;
RESET ROLE;
SET ROLE clm_sec_team;
SELECT current_user, count(*) AS sources FROM clm.tracked_sources;
RESET ROLE;
SET ROLE clm_sec_carol;
SELECT current_user, count(*) AS sources FROM clm.tracked_sources;
RESET ROLE;
SET ROLE clm_sec_bob;
SELECT current_user, count(*) AS sources FROM clm.tracked_sources;
SELECT current_user, count(*) AS catalog_rows FROM clm.tracked_source;
\set VERBOSITY sqlstate
SELECT clm.refresh('sec');
\set VERBOSITY default
-- bob still writes to the source: his events are queued
INSERT INTO sec_src.orders VALUES (1004, '2024-12-05 10:00+00', 70, 'app');
RESET ROLE;
SELECT clm.pending_events('sec') AS pending;

------------------------------------------------------------------------------
-- every SQL and plpgsql function of the tracked-source code pins its
-- search_path (or is BEGIN ATOMIC), none is SECURITY DEFINER
------------------------------------------------------------------------------
-- (the offending functions are listed, none expected, so that the output does
-- not change when a function is added; the selection is checked not to be
-- empty by the functions it must hold)
CREATE TEMP VIEW track_fn AS
SELECT p.oid::regprocedure AS fn, p.proname,
       p.prosqlbody IS NULL
         AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%') AS unpinned,
       p.prosecdef AS security_definer
  FROM pg_proc p
 WHERE p.pronamespace = 'clm'::regnamespace AND p.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
   AND (p.proname LIKE 'track%' OR p.proname IN ('refresh', 'rebuild', 'rebuild_internal', 'untrack', 'grant_reader',
                                                 'revoke_reader', 'grant_writer', 'pending_events', 'upgrade_tracked'));
SELECT count(*) > 40 AS many_functions,
       count(DISTINCT proname) FILTER (WHERE proname IN ('track', 'refresh', 'rebuild', 'untrack', 'grant_reader',
                                                         'revoke_reader', 'grant_writer', 'pending_events')) AS named_present
  FROM track_fn;
SELECT fn, unpinned, security_definer FROM track_fn WHERE unpinned OR security_definer ORDER BY fn::text;
DROP VIEW track_fn;

-- clean up
SET ROLE clm_sec_alice;
SELECT clm.untrack('sec');
RESET ROLE;
SET client_min_messages = warning;
DROP SCHEMA sec_src, sec_trk, sec_trk2 CASCADE;
DROP OWNED BY clm_sec_alice, clm_sec_bob, clm_sec_carol, clm_sec_team;
DROP ROLE clm_sec_team, clm_sec_alice, clm_sec_bob, clm_sec_carol;
