--
-- Audiences (clm.track_audiences): stage and segment membership changes as
-- rows, each once; worked by hand on five customers buying every 30 days.
-- The concurrent case is specs/contact_conc_audience.spec.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set VERBOSITY default
CREATE SCHEMA ca;
SET search_path = ca, public;
CREATE FUNCTION ca_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- memberships that differ from the customers table (0 = the members are exact)
CREATE FUNCTION ca_mismatch() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM (
        SELECT customer_id, 'stage:' || stage FROM ca_crm.customers
        UNION ALL SELECT customer_id, 'segment:' || rfm_segment FROM ca_crm.customers WHERE rfm_segment IS NOT NULL) c(customer_id, audience)
        FULL JOIN ca_crm.audience_members m USING (customer_id, audience)
        WHERE m.customer_id IS NULL OR c.customer_id IS NULL);
END $$;
-- A: active (last 1 day ago), C: lapsed (148 days), D: churned (295 days), E: at_risk (90 days)
CREATE TABLE orders (customer_id bigint, occurred_at timestamptz, amount numeric);
INSERT INTO orders
    SELECT c, (last - 30 * k)::timestamptz + interval '12 hours', 10
      FROM (VALUES (1, date '2024-12-31'), (3, date '2024-08-06'), (4, date '2024-03-12'), (5, date '2024-10-03')) v(c, last),
           generate_series(0, 3) k;
SET client_min_messages = error;
SELECT name FROM clm.track('ca.orders', 'customer_id', 'occurred_at', 'amount',
                           target_schema => 'ca_crm', name => 'ca', settings => '{"as_of": "2025-01-01"}');
RESET client_min_messages;
SELECT ca_err($$SELECT clm.acknowledge_audience_changes('ca', 0)$$);
-- every current membership is recorded as entered: 4 stages + 4 segments
SELECT clm.track_audiences('ca');
SELECT ca_err($$SELECT clm.track_audiences('ca')$$);
SELECT customer_id, audience, change FROM ca_crm.audience_changes WHERE audience LIKE 'stage:%' ORDER BY 1;
SELECT ca_mismatch() AS mismatches;
-- D buys on 2025-01-01 (churned -> reactivated), E on 2024-12-31 (at_risk ->
-- active), a new customer 6 on 2025-01-01 (new): five stage changes
INSERT INTO orders VALUES (4, '2025-01-01 10:00+00', 20), (5, '2024-12-31 10:00+00', 20), (6, '2025-01-01 11:00+00', 5);
SET client_min_messages = error;
SELECT action FROM clm.refresh('ca');
RESET client_min_messages;
SELECT customer_id, audience, change FROM ca_crm.audience_changes
 WHERE audience LIKE 'stage:%' AND change_id > 8 ORDER BY 1, 3 DESC;
SELECT ca_mismatch() AS mismatches;
-- a second refresh records nothing new; a rebuild (which refits the RFM
-- breakpoints, so segments may move) records no change twice
CREATE TABLE before AS SELECT count(*) AS n FROM ca_crm.audience_changes;
SET client_min_messages = error;
SELECT action FROM clm.refresh('ca');
SELECT (SELECT count(*) FROM ca_crm.audience_changes) - n AS new_changes FROM before;
SELECT action FROM clm.rebuild('ca');
RESET client_min_messages;
SELECT ca_mismatch() AS mismatches;
SELECT count(*) AS changes, count(DISTINCT (customer_id, audience, change, at)) AS distinct_changes
  FROM ca_crm.audience_changes;
-- a sync tool acknowledges what it read
SELECT clm.acknowledge_audience_changes('ca', 8);
SELECT ca_err($$SELECT clm.acknowledge_audience_changes('ca', NULL)$$);
SELECT count(*) AS left_to_sync FROM ca_crm.audience_changes;
SELECT clm.untrack('ca');
DROP SCHEMA ca CASCADE;
