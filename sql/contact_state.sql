--
-- The contact columns of the customers table (best_channel, best_hour,
-- contactable_from) and the view contact_now (issue 16, item 6): every value
-- worked by hand on five customers; the view right between refreshes as days
-- pass (equal to clm.contactable on every day, and monotone); a refresh
-- updates exactly the customers whose messages or purchases changed; a
-- simulated month in which every message is sent on the customer's best
-- channel on its contactable_from day never exceeds a cap (checked on the
-- messages directly); bad inputs (NULL channel, messages in the future, a
-- rule set deleted while in use, an unknown channel, crafted arrays).
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set VERBOSITY default
CREATE SCHEMA cs;
SET search_path = cs, public;
CREATE FUNCTION cs_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

INSERT INTO clm.contact_rule_set (name, rules) VALUES ('cs_rules',
    '{"caps": [{"channel": "email", "days": 7, "max": 2}, {"channel": null, "days": 30, "max": 3}],
      "quiet_days_after_purchase": 2, "churned_unresponsive": 2}');

-- five customers buying every 30 days: last purchases 1: 2024-12-31 (active),
-- 2: 12-20 (active), 3: 08-06 (lapsed), 4: 03-12 (churned), 5: 10-03 (at_risk)
CREATE TABLE orders (customer_id bigint, occurred_at timestamptz, amount numeric);
INSERT INTO orders
    SELECT c, (last - 30 * k)::timestamptz + interval '12 hours', 10
      FROM (VALUES (1, date '2024-12-31'), (2, date '2024-12-20'), (3, date '2024-08-06'),
                   (4, date '2024-03-12'), (5, date '2024-10-03')) v(c, last),
           generate_series(0, 3) k;
SELECT name FROM clm.track('cs.orders', 'customer_id', 'occurred_at', 'amount',
                           target_schema => 'cs_crm', name => 'cs', settings => '{"as_of": "2025-01-01"}');
-- without contacts the columns are NULL
SELECT count(*) AS customers, count(best_channel) AS with_best, count(contactable_from) AS with_from
  FROM cs_crm.customers;

-- the messages (hour of sending in UTC, the source's zone; opened or not):
--   1: email 12-30 09h opened, email 12-31 18h not
--   2: sms 12-01 20h opened, sms 12-10 20h opened, email 12-20 09h not, push 12-25 09h not
--   3: email 12-29 09h opened, email 2025-01-03 10h (after as_of: scheduled)
--   4: email 10-01, 10-05, 10-09 09h opened, 10-13 09h not; sms 11-01, 11-05,
--      11-09, 11-13 20h not
--   5: none
CREATE TABLE messages (customer_id bigint, sent_at timestamptz, channel text, opened boolean);
INSERT INTO messages VALUES
    (1, '2024-12-30 09:00+00', 'email', true), (1, '2024-12-31 18:00+00', 'email', false),
    (2, '2024-12-01 20:00+00', 'sms', true), (2, '2024-12-10 20:00+00', 'sms', true),
    (2, '2024-12-20 09:00+00', 'email', false), (2, '2024-12-25 09:00+00', 'push', false),
    (3, '2024-12-29 09:00+00', 'email', true), (3, '2025-01-03 10:00+00', 'email', false),
    (4, '2024-10-01 09:00+00', 'email', true), (4, '2024-10-05 09:00+00', 'email', true),
    (4, '2024-10-09 09:00+00', 'email', true), (4, '2024-10-13 09:00+00', 'email', false),
    (4, '2024-11-01 20:00+00', 'sms', false), (4, '2024-11-05 20:00+00', 'sms', false),
    (4, '2024-11-09 20:00+00', 'sms', false), (4, '2024-11-13 20:00+00', 'sms', false);
SELECT clm.track_contacts('cs', 'cs.messages', 'customer_id', 'sent_at', channel_column => 'channel',
                          opened_column => 'opened');
SELECT clm.set_contact_rule_set('cs', 'cs_rules');

-- the state: each customer's messages, latest first (3's scheduled one first)
SELECT customer_id, sent_days, channels, responded FROM cs_crm.contact_state ORDER BY 1;
-- the population as of 2025-01-01 (the message of 01-03 is after it):
--   email 8 messages, 5 opened (0.625); sms 6, 2 (1/3); push 1, 0
--   hour 9: 8, 5 (0.625); 18: 1, 0; 20: 6, 2 (1/3)
SELECT * FROM cs_crm.contact_population ORDER BY 1, 2;
-- best channel, shrunk rate (r + 5 p) / (n + 5), by hand:
--   1: email (1 + 3.125) / 7 = 0.589, sms (0 + 5/3) / 5 = 0.333   -> email
--   2: email (0 + 3.125) / 6 = 0.521, sms (2 + 5/3) / 7 = 0.524   -> sms
--   3: email (1 + 3.125) / 6 = 0.6875                             -> email
--   4: email (3 + 3.125) / 9 = 0.681, sms (0 + 5/3) / 9 = 0.185   -> email
--   5: no message: the population's best                          -> email
-- best hour: 1: 9 (1 + 3.125) / 6 = 0.6875 vs 18: 0 / 6; 2: 20 (2 + 5/3) / 7 =
--   0.524 vs 9: (0 + 3.125) / 7 = 0.446; 3: 9; 4: 9 (3 + 3.125) / 9 vs 20:
--   (0 + 5/3) / 9; 5: 9 (the population's)
-- contactable_from on the best channel, by hand (as of 2025-01-01):
--   1 email: quiet 12-31 + 2 = 01-02; email cap: 2nd latest email 12-30 + 7 = 01-06 -> 01-06
--   2 sms: all-channel cap 3 per 30: 3rd latest message 12-10 + 30 = 01-09          -> 01-09
--   3 email: email cap, the scheduled 01-03 counted: 2nd latest 12-29 + 7 = 01-05   -> 01-05
--   4 email: churned, but its last 2 emails include an opened one; nothing blocks  -> 01-01
--   5 email: nothing                                                               -> 01-01
SELECT customer_id, stage, best_channel, best_hour, contactable_from FROM cs_crm.customers ORDER BY 1;
-- the same from the rates as contact_response_rates computes them (whose
-- population is the same here): its rank-1 channel and hour
SELECT c.customer_id, c.best_channel = b.best_channel AS same_channel, c.best_hour = b.best_hour AS same_hour
  FROM cs_crm.customers c JOIN cs_crm.contact_best b USING (customer_id) ORDER BY 1;

-- contact_now: every customer and channel (email, push, sms: those of the
-- messages and of the caps), as of 2025-01-01.  4 on sms: churned, its last
-- two sms unanswered (never, NULL); 2: the all-channel cap on every channel;
-- 1: the quiet period first (rule order), allowed on email from 01-06 and on
-- the others from 01-02
SELECT customer_id, channel, today, contactable, reason, next_allowed, best, best_hour
  FROM cs_crm.contact_now ORDER BY 1, 2;

-- time passing, no refresh: for each day from 01-01 to 01-10 (the as_of
-- setting moved), contact_now equals clm.contactable of that day on every
-- channel, and a customer is contactable exactly from its stored next_allowed
CREATE TABLE first_answer AS SELECT customer_id, channel, next_allowed FROM cs_crm.contact_now;
CREATE TABLE days_checked (day date, rows bigint, differ bigint, not_monotone bigint, contactable bigint);
DO $$
DECLARE
    d date;
BEGIN
    FOR d IN SELECT generate_series(date '2025-01-01', date '2025-01-10', interval '1 day')::date LOOP
        UPDATE clm.tracked_source SET settings = settings || jsonb_build_object('as_of', d) WHERE name = 'cs';
        INSERT INTO cs.days_checked
        SELECT d, count(*),
               count(*) FILTER (WHERE (n.contactable, n.reason, n.next_allowed)
                                      IS DISTINCT FROM (z.contactable, z.reason, z.next_allowed)),
               count(*) FILTER (WHERE n.contactable IS DISTINCT FROM coalesce(f.next_allowed <= d, false)),
               count(*) FILTER (WHERE n.contactable)
          FROM cs_crm.contact_now n
          JOIN cs.first_answer f USING (customer_id, channel)
          JOIN LATERAL (SELECT * FROM clm.contactable('cs', n.channel, 'message', 'cs_rules', d) c
                         WHERE c.customer_id = n.customer_id::text) z ON true;
    END LOOP;
    UPDATE clm.tracked_source SET settings = settings || '{"as_of": "2025-01-01"}' WHERE name = 'cs';
END $$;
SELECT * FROM days_checked ORDER BY day;
-- the stored contactable_from says the same of the best channel
SELECT count(*) AS differ FROM cs_crm.customers c
  JOIN first_answer f ON f.customer_id = c.customer_id AND f.channel = c.best_channel
 WHERE f.next_allowed IS DISTINCT FROM c.contactable_from;

-- a refresh after a new message (1: email 2025-01-01 08h, not opened) and a
-- purchase (5: 2025-01-01) updates exactly those two customers:
--   1: emails 12-30, 12-31, 01-01: email cap 2nd latest 12-31 + 7 = 01-07;
--      all-channel cap 3rd latest 12-30 + 30 = 01-29 -> 01-29 (email stays
--      best: (1 + 3.125) / 8 = 0.516; hour 8 is not among the population's
--      hours of the last refit: 9 stays)
--   5: quiet period 01-01 + 2 = 01-03 -> 01-03
CREATE TABLE before AS SELECT customer_id, best_channel, best_hour, contactable_from FROM cs_crm.customers;
INSERT INTO messages VALUES (1, '2025-01-01 08:00+00', 'email', false);
INSERT INTO orders VALUES (5, '2025-01-01 11:00+00', 10);
SELECT action, events, refit FROM clm.refresh('cs', refit => false);
SELECT c.customer_id, b.contactable_from AS was, c.best_channel, c.best_hour, c.contactable_from
  FROM cs_crm.customers c JOIN before b USING (customer_id)
 WHERE (c.best_channel, c.best_hour, c.contactable_from) IS DISTINCT FROM (b.best_channel, b.best_hour, b.contactable_from)
 ORDER BY 1;
-- only customer 1's state row was remade
SELECT customer_id FROM cs_crm.contact_state
 WHERE changed_at = (SELECT max(changed_at) FROM cs_crm.contact_state) ORDER BY 1;
-- and a rebuild (new population, all rows) agrees on these two
SELECT action FROM clm.rebuild('cs');
SELECT customer_id, best_channel, best_hour, contactable_from FROM cs_crm.customers WHERE customer_id IN (1, 5) ORDER BY 1;

-- bad inputs
-- a message without channel counts toward the all-channel caps only: 5
-- (quiet to 01-03) gets two: all-channel cap not reached (2 < 3), email not
-- touched
INSERT INTO messages VALUES (5, '2024-12-28 10:00+00', NULL, true), (5, '2024-12-29 10:00+00', NULL, true);
SELECT action FROM clm.refresh('cs');
SELECT channels, sent_days FROM cs_crm.contact_state WHERE customer_id = 5;
SELECT channel, contactable, reason, next_allowed FROM cs_crm.contact_now WHERE customer_id = 5 ORDER BY 1;
-- a third makes 3 in 30 days: every channel blocked to 12-27 + 30 = 01-26
INSERT INTO messages VALUES (5, '2024-12-27 10:00+00', NULL, true);
SELECT action FROM clm.refresh('cs');
SELECT channel, contactable, reason, next_allowed FROM cs_crm.contact_now WHERE customer_id = 5 ORDER BY 1;
-- an unknown channel: only the all-channel caps and purchase rules apply
SELECT customer_id, contactable, reason, next_allowed FROM clm.contactable('cs', 'fax', rule_set => 'cs_rules') ORDER BY 1;
-- NULL channel or kind
SELECT cs_err($$SELECT * FROM clm.contactable('cs', NULL, rule_set => 'cs_rules')$$);
SELECT cs_err($$SELECT clm.contact_blocks(NULL, NULL, NULL, NULL, NULL, NULL, 'message', '2025-01-01', NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$);
-- a message in the far future: counted from now until it leaves its window
-- (conservative: a message sent on an allowed day never makes a later
-- window exceed the cap)
SELECT (clm.contact_blocks('{2025-06-01,2024-12-30}', '{email,email}', '{f,f}', 'active', NULL, 'email', 'message',
                           '2025-01-01', '{email}', '{7}', '{2}', NULL, NULL, NULL, NULL)).*;
-- a message of infinite time is not stored in the state (and clm.contact_blocks refuses it)
INSERT INTO messages VALUES (2, 'infinity', 'email', true);
SELECT action FROM clm.refresh('cs');
SELECT count(*) AS contacts_infinite, (SELECT sent_days FROM cs_crm.contact_state WHERE customer_id = 2) AS state_2
  FROM cs_crm.contacts WHERE NOT isfinite(sent_day);
DELETE FROM messages WHERE NOT isfinite(sent_at);
-- crafted arrays and rules: precise errors
SELECT q, cs_err('SELECT clm.contact_blocks(' || q || ')') FROM unnest(ARRAY[
    $$'{2024-12-01,2024-12-30}', '{email,email}', '{f,f}', NULL, NULL, 'email', 'message', '2025-01-01', NULL, NULL, NULL, NULL, NULL, NULL, NULL$$,
    $$'{2024-12-30}', '{email,email}', '{f}', NULL, NULL, 'email', 'message', '2025-01-01', NULL, NULL, NULL, NULL, NULL, NULL, NULL$$,
    $$'{{2024-12-30}}', '{{email}}', '{{f}}', NULL, NULL, 'email', 'message', '2025-01-01', NULL, NULL, NULL, NULL, NULL, NULL, NULL$$,
    $$'{NULL}', '{email}', '{f}', NULL, NULL, 'email', 'message', '2025-01-01', NULL, NULL, NULL, NULL, NULL, NULL, NULL$$,
    $$'{infinity}', '{email}', '{f}', NULL, NULL, 'email', 'message', '2025-01-01', NULL, NULL, NULL, NULL, NULL, NULL, NULL$$,
    $$NULL, NULL, NULL, NULL, NULL, 'email', 'message', 'infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL$$,
    $$NULL, NULL, NULL, NULL, NULL, 'email', 'spam', '2025-01-01', NULL, NULL, NULL, NULL, NULL, NULL, NULL$$,
    $$NULL, NULL, NULL, NULL, NULL, 'email', 'message', '2025-01-01', '{email}', '{0}', '{1}', NULL, NULL, NULL, NULL$$,
    $$NULL, NULL, NULL, NULL, NULL, 'email', 'message', '2025-01-01', '{email}', '{7}', '{NULL}', NULL, NULL, NULL, NULL$$,
    $$NULL, NULL, NULL, NULL, NULL, 'email', 'message', '2025-01-01', '{email}', '{7,7}', '{1}', NULL, NULL, NULL, NULL$$,
    $$NULL, NULL, NULL, NULL, NULL, 'email', 'message', '2025-01-01', NULL, NULL, NULL, -1, NULL, NULL, NULL$$,
    $$NULL, NULL, NULL, NULL, NULL, 'email', 'message', '2025-01-01', NULL, NULL, NULL, NULL, NULL, NULL, 0$$,
    $$NULL, NULL, NULL, NULL, '5874897-12-31', 'email', 'message', '2025-01-01', NULL, NULL, NULL, 3650, NULL, NULL, NULL$$]) q;
-- clm.contact_best_value by hand: email own 1 of 2 with p 0.625 -> (1 +
-- 3.125) / 7 = 0.589; sms no own data -> 0.6: sms; a tie (equal rates)
-- goes to the smaller value, as integers for hours ('9' before '10')
SELECT clm.contact_best_value('{email}', '{2}', '{1}', '{email,sms}', '{0.625,0.6}', false) AS best,
       clm.contact_best_value(NULL, NULL, NULL, '{10,9}', '{0.5,0.5}', true) AS tie_hours,
       clm.contact_best_value(NULL, NULL, NULL, '{10,9}', '{0.5,0.5}', false) AS tie_text,
       clm.contact_best_value(NULL, NULL, NULL, NULL, NULL, false) AS no_population;
SELECT q, cs_err('SELECT clm.contact_best_value(' || q || ')') FROM unnest(ARRAY[
    $$'{email}', '{2,3}', '{1}', '{email}', '{0.5}', false$$,
    $$'{email}', '{2}', '{3}', '{email}', '{0.5}', false$$,
    $$NULL, NULL, NULL, '{email}', '{1.5}', false$$,
    $$NULL, NULL, NULL, '{email}', '{NaN}', false$$,
    $$NULL, NULL, NULL, '{x,y}', '{0.5,0.5}', true$$]) q;
-- a rule set deleted while in use: the refresh warns and leaves
-- contactable_from NULL, contact_now says why, clm.contactable refuses it
DELETE FROM clm.contact_rule_set WHERE name = 'cs_rules';
SELECT action FROM clm.refresh('cs', refit => true);
SELECT count(*) AS customers, count(contactable_from) AS with_from, count(best_channel) AS with_best FROM cs_crm.customers;
SELECT DISTINCT contactable, reason, next_allowed FROM cs_crm.contact_now;
SELECT cs_err($$SELECT * FROM clm.contactable('cs', 'email', rule_set => 'cs_rules')$$);
SELECT cs_err($$SELECT clm.set_contact_rule_set('cs', 'cs_rules')$$);
SELECT cs_err($$SELECT clm.set_contact_rule_set('cs', NULL)$$);
SELECT clm.set_contact_rule_set('cs', 'default');
SELECT count(contactable_from) AS with_from FROM cs_crm.customers;
-- untrack_contacts clears the columns
SELECT clm.untrack_contacts('cs');
SELECT count(best_channel) + count(best_hour) + count(contactable_from) AS left_over FROM cs_crm.customers;
SELECT clm.untrack('cs');

-- a simulated month: 200 customers with a year of messages (three channels,
-- opened pseudo-randomly), then from 2025-01-01 to 01-30 each day: refresh as
-- of the day, send one message to every customer whose contactable_from is
-- that day or earlier, on its best channel at its best hour; then a second
-- campaign on sms to those contact_now calls contactable on sms
CREATE TABLE sim_orders AS SELECT customer_id, occurred_at, amount FROM clm.generate_events(200, seed => 12);
SELECT name FROM clm.track('cs.sim_orders', 'customer_id', 'occurred_at', 'amount',
                           target_schema => 'cs_sim', name => 'cs_sim', settings => '{"as_of": "2025-01-01"}');
CREATE TABLE sim_msgs (customer_id bigint, sent_at timestamptz, channel text, opened boolean);
INSERT INTO sim_msgs
    SELECT i, timestamptz '2024-01-01' + (i * 7919 + k * 104729) % 365 * interval '1 day' + ((i + k) % 24) * interval '1 hour',
           (ARRAY['email', 'sms', 'push'])[1 + (i + k * 7) % 3], (i * 31 + k * 17) % 5 < 2
      FROM generate_series(1, 200) i, generate_series(1, 8) k;
SELECT clm.track_contacts('cs_sim', 'cs.sim_msgs', 'customer_id', 'sent_at', channel_column => 'channel',
                          opened_column => 'opened');
DO $$
DECLARE
    d date;
BEGIN
    FOR d IN SELECT generate_series(date '2025-01-01', date '2025-01-30', interval '1 day')::date LOOP
        UPDATE clm.tracked_source SET settings = settings || jsonb_build_object('as_of', d) WHERE name = 'cs_sim';
        PERFORM clm.refresh('cs_sim');
        INSERT INTO cs.sim_msgs
            SELECT c.customer_id, d + c.best_hour * interval '1 hour', c.best_channel, (c.customer_id + (d - date '2025-01-01')) % 3 = 0
              FROM cs_sim.customers c WHERE c.contactable_from <= d;
        PERFORM clm.refresh('cs_sim');
        INSERT INTO cs.sim_msgs
            SELECT n.customer_id, d + interval '20 hours', 'sms', false
              FROM cs_sim.contact_now n WHERE n.channel = 'sms' AND n.contactable;
    END LOOP;
END $$;
-- checked on the messages directly: for every cap of the default set, every
-- customer and every day of the month, the messages in the window ending that
-- day (those sent before the month included)
CREATE FUNCTION cap_violations(msgs regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format($q$
SELECT count(*) FROM (
    SELECT m.customer_id, k.channel, k.days, k."max", d.d
      FROM jsonb_to_recordset((SELECT rules->'caps' FROM clm.contact_rule_set WHERE name = 'default'))
               AS k(channel text, days int, "max" int),
           generate_series(date '2025-01-01', date '2025-01-30', interval '1 day') d(d),
           %s m
     WHERE m.sent_at::date > d.d::date - k.days AND m.sent_at::date <= d.d::date
       AND (k.channel IS NULL OR m.channel = k.channel)
     GROUP BY 1, 2, 3, 4, 5
    HAVING count(*) > k."max") v$q$, msgs) INTO n;
    RETURN n;
END $$;
-- the same month sent every day to everyone on the best channel ignores the caps
CREATE TABLE naive_msgs AS
    SELECT customer_id, sent_at, channel FROM sim_msgs WHERE sent_at < '2025-01-01'
    UNION ALL
    SELECT c.customer_id, d + interval '10 hours', c.best_channel
      FROM cs_sim.customers c, generate_series(date '2025-01-01', date '2025-01-30', interval '1 day') d;
SELECT count(*) FILTER (WHERE sent_at >= '2025-01-01' AND channel <> 'sms') AS sent_best,
       count(*) FILTER (WHERE sent_at >= '2025-01-01' AND channel = 'sms') AS sent_sms,
       (SELECT count(*) FROM sim_msgs) = (SELECT count(*) FROM cs_sim.contacts) AS all_captured,
       cap_violations('cs.sim_msgs') AS violations, cap_violations('cs.naive_msgs') AS naive_violations
  FROM sim_msgs;
-- the caps were reached (the month is not trivially safe): customers with a
-- 7-day window holding 2 emails
SELECT count(DISTINCT customer_id) AS customers_at_email_cap
  FROM (SELECT customer_id, count(*) OVER (PARTITION BY customer_id ORDER BY sent_at::date
                                           RANGE BETWEEN '6 days'::interval PRECEDING AND CURRENT ROW) AS n
          FROM sim_msgs WHERE channel = 'email') w
 WHERE n = 2;
SELECT clm.untrack('cs_sim');
DROP SCHEMA cs CASCADE;
