--
-- clm.contactable in C (src/contact_scan.c): on simulated customers and
-- messages, for every channel, kind, several days and two rule sets, exactly
-- the rows of the plain SQL recomputation (clm.contact_blocks over the stored
-- contact state, which is what the PL/pgSQL clm.contactable ran); the rules
-- each block someone (so the comparison can fail); it reads the state as its
-- caller (a reader's row security applies, a role without rights is refused);
-- bad arguments and a corrupt stored state raise their SQLSTATEs.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set VERBOSITY default
CREATE SCHEMA cq;
SET search_path = cq, public;
CREATE FUNCTION cq_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- 800 simulated customers; 8,000 messages over the last 60 days before the
-- as-of day and a few scheduled after it, on three channels (and some with no
-- channel), with unknown responses; messages of customers that never bought
SELECT setseed(0.42);
CREATE TABLE events AS SELECT customer_id, occurred_at, amount FROM clm.generate_events(800, seed => 7);
CREATE TABLE messages AS
    SELECT (1 + floor(random() * 820))::bigint AS customer_id,
           timestamptz '2024-11-02' + random() * interval '62 days' AS sent_at,
           (ARRAY['email', 'sms', 'push', NULL])[1 + floor(random() * 4)::int] AS channel,
           'c' || floor(random() * 5)::int AS campaign,
           CASE WHEN random() < 0.1 THEN NULL ELSE random() < 0.15 END AS opened
      FROM generate_series(1, 8000);
SELECT name FROM clm.track('cq.events', 'customer_id', 'occurred_at', 'amount',
                           target_schema => 'cq_crm', name => 'cq', settings => '{"as_of": "2025-01-01"}');
SELECT clm.track_contacts('cq', 'cq.messages', 'customer_id', 'sent_at', channel_column => 'channel',
                          campaign_column => 'campaign', opened_column => 'opened') IS NOT NULL AS tracked;
INSERT INTO clm.contact_rule_set (name, rules) VALUES ('cq_rules',
    '{"caps": [{"channel": "email", "days": 7, "max": 1}, {"channel": null, "days": 14, "max": 4},
               {"channel": "sms", "days": 30, "max": 3}],
      "quiet_days_after_purchase": 3, "promotion_quiet_days": 30,
      "winback_stages": ["lapsed", "at_risk"], "churned_unresponsive": 1}');
SELECT count(*) AS customers, count(*) FILTER (WHERE s.customer) AS in_customers,
       count(*) FILTER (WHERE NOT s.customer) AS messages_only
  FROM cq_crm.contact_state s;

-- every combination: the C function's rows, and the SQL recomputation's
CREATE TABLE answers AS
SELECT k.rule_set, k.channel, k.kind, k.day, z.*
  FROM (SELECT rs, ch, kd, d
          FROM unnest(ARRAY['default', 'cq_rules']) rs, unnest(ARRAY['email', 'sms', 'push', 'fax']) ch,
               unnest(ARRAY['message', 'promotion', 'winback']) kd,
               unnest(ARRAY[date '2025-01-01', '2025-01-04', '2024-12-01']) d) k(rule_set, channel, kind, day),
       LATERAL clm.contactable('cq', k.channel, k.kind, k.rule_set, k.day) z;
CREATE TABLE recomputed AS
SELECT k.rule_set, k.channel, k.kind, k.day, s.customer_id::text AS customer_id,
       (b).contactable, (b).reason, (b).next_allowed
  FROM (SELECT rs, ch, kd, d
          FROM unnest(ARRAY['default', 'cq_rules']) rs, unnest(ARRAY['email', 'sms', 'push', 'fax']) ch,
               unnest(ARRAY['message', 'promotion', 'winback']) kd,
               unnest(ARRAY[date '2025-01-01', '2025-01-04', '2024-12-01']) d) k(rule_set, channel, kind, day)
       JOIN clm.contact_rule_set r ON r.name = k.rule_set
       CROSS JOIN LATERAL clm.contact_rule_args(r.rules) a
       CROSS JOIN cq_crm.contact_state s
       CROSS JOIN LATERAL (SELECT clm.contact_blocks(s.sent_days, s.channels, s.responded, s.stage, s.last_purchase,
                                                     k.channel, k.kind, k.day, a.cap_channels, a.cap_days, a.cap_max,
                                                     a.quiet_days, a.promotion_quiet_days, a.winback_stages,
                                                     a.churned_unresponsive) AS b) x
 WHERE s.customer;
SELECT (SELECT count(*) FROM answers) AS rows, (SELECT count(*) FROM recomputed) AS recomputed_rows,
       (SELECT count(*) FROM (TABLE answers EXCEPT ALL TABLE recomputed) d) AS only_in_c,
       (SELECT count(*) FROM (TABLE recomputed EXCEPT ALL TABLE answers) d) AS only_in_sql;
-- one row per customer of the customers table in each call
SELECT count(*) AS calls, min(n) AS min_rows, max(n) AS max_rows
  FROM (SELECT count(*) AS n FROM answers GROUP BY rule_set, channel, kind, day) c;
SELECT (SELECT count(*) FROM cq_crm.customers) AS customers;
-- every rule blocks someone (the comparison covers each)
SELECT split_part(reason, ':', 1) = reason AS whole,
       CASE WHEN reason LIKE 'cap: %' THEN reason
            WHEN reason LIKE 'quiet period: %' THEN 'quiet period'
            WHEN reason LIKE 'no promotion within %' THEN 'no promotion within'
            WHEN reason LIKE 'win-back only to %' THEN 'win-back only to'
            WHEN reason LIKE 'churned and no response %' THEN 'churned and no response'
            ELSE reason END AS rule,
       count(*) > 0 AS blocks_some, bool_and(next_allowed IS NULL) AS never
  FROM answers GROUP BY 1, 2 ORDER BY 2;

-- in a query's select list as well
SELECT count(*) AS rows FROM (SELECT clm.contactable('cq', 'email', 'message', 'default') AS z) s;

-- as the caller: a reader sees what its row security lets it see; a role
-- with no rights on the source is refused
CREATE ROLE cq_reader;
CREATE ROLE cq_nobody;
GRANT USAGE ON SCHEMA clm, cq TO cq_reader, cq_nobody;
GRANT SELECT ON answers TO cq_reader;
SELECT clm.grant_reader('cq', 'cq_reader');
ALTER TABLE cq_crm.contact_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY cq_odd ON cq_crm.contact_state FOR SELECT TO cq_reader USING (customer_id % 2 = 1);
SET ROLE cq_reader;
SELECT count(*) AS seen, bool_and(customer_id::bigint % 2 = 1) AS only_odd
  FROM clm.contactable('cq', 'email', 'message', 'cq_rules');
-- (the day: the as-of day read from customers, which readers may read)
SELECT count(*) AS differ
  FROM clm.contactable('cq', 'sms', 'message', 'cq_rules') z
  JOIN answers a ON a.customer_id = z.customer_id AND a.rule_set = 'cq_rules' AND a.channel = 'sms'
                AND a.kind = 'message' AND a.day = '2025-01-01'
 WHERE (z.contactable, z.reason, z.next_allowed) IS DISTINCT FROM (a.contactable, a.reason, a.next_allowed);
RESET ROLE;
DROP POLICY cq_odd ON cq_crm.contact_state;
ALTER TABLE cq_crm.contact_state DISABLE ROW LEVEL SECURITY;
-- a reader whose right on the contact state is taken away is refused (42501):
-- the state is read with the caller's rights, not the function owner's
REVOKE SELECT ON cq_crm.contact_state FROM cq_reader;
SET ROLE cq_reader;
SELECT cq_err($$SELECT * FROM clm.contactable('cq', 'email')$$);
RESET ROLE;
GRANT SELECT ON cq_crm.contact_state TO cq_reader;
-- a role that is no reader of the source does not see it
SET ROLE cq_nobody;
SELECT cq_err($$SELECT * FROM clm.contactable('cq', 'email')$$);
RESET ROLE;

-- bad arguments
SELECT q, cq_err(q)
  FROM unnest(ARRAY[$$SELECT * FROM clm.contactable(NULL, 'email')$$,
                    $$SELECT * FROM clm.contactable('nope', 'email')$$,
                    $$SELECT * FROM clm.contactable('cq', NULL)$$,
                    $$SELECT * FROM clm.contactable('cq', 'email', NULL)$$,
                    $$SELECT * FROM clm.contactable('cq', 'email', 'message', NULL)$$,
                    $$SELECT * FROM clm.contactable('cq', 'email', 'spam')$$,
                    $$SELECT * FROM clm.contactable('cq', 'email', 'message', 'nope')$$,
                    $$SELECT * FROM clm.contactable('cq', 'email', at => 'infinity')$$,
                    $$SELECT * FROM clm.contactable('cq', 'email', at => '-infinity')$$,
                    -- (the last day a date can hold, and a channel of no cap: answered)
                    $$SELECT * FROM clm.contactable('cq', 'email', at => '5874897-12-31')$$,
                    $$SELECT * FROM clm.contactable('cq', '')$$]) q;
SELECT name FROM clm.track('cq.events', 'customer_id', 'occurred_at', 'amount',
                           target_schema => 'cq_plain', name => 'cq_plain', settings => '{"as_of": "2025-01-01"}');
SELECT cq_err($$SELECT * FROM clm.contactable('cq_plain', 'email')$$);

-- a corrupt stored state (written behind clm's back): each raises its SQLSTATE
-- and names clm.contactable
CREATE FUNCTION cq_corrupt(upd text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE res text;
BEGIN
    EXECUTE 'UPDATE cq_crm.contact_state SET ' || upd
         || ' WHERE customer_id = (SELECT min(customer_id) FROM cq_crm.contact_state WHERE customer AND cardinality(sent_days) > 1)';
    res := cq_err($q$SELECT * FROM clm.contactable('cq', 'email')$q$);
    RAISE EXCEPTION USING MESSAGE = res, ERRCODE = 'P0001';
EXCEPTION WHEN SQLSTATE 'P0001' THEN
    RETURN SQLERRM;  -- the update rolled back
END $$;
SELECT u, cq_corrupt(u)
  FROM unnest(ARRAY['sent_days = ARRAY(SELECT x FROM unnest(sent_days) x ORDER BY x)',
                    'sent_days[2] = NULL',
                    'sent_days[1] = ''infinity''',
                    'channels = channels[1:1]',
                    'responded = responded[1:1]',
                    'last_purchase = ''infinity''',
                    'sent_days = ''{{2024-12-01},{2024-12-02}}''']) u;
-- the state is untouched: the same answers again
SELECT count(*) AS differ
  FROM clm.contactable('cq', 'email', 'message', 'default', '2025-01-01') z
  FULL JOIN (SELECT * FROM answers WHERE rule_set = 'default' AND channel = 'email' AND kind = 'message'
                                     AND day = '2025-01-01') a USING (customer_id)
 WHERE (z.contactable, z.reason, z.next_allowed) IS DISTINCT FROM (a.contactable, a.reason, a.next_allowed);

SELECT clm.untrack('cq_plain');
SELECT clm.untrack('cq');
DELETE FROM clm.contact_rule_set WHERE name = 'cq_rules';
DROP SCHEMA cq CASCADE;
REVOKE USAGE ON SCHEMA clm FROM cq_reader, cq_nobody;
DROP OWNED BY cq_reader, cq_nobody;
DROP ROLE cq_reader;
DROP ROLE cq_nobody;
