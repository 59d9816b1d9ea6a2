--
-- Contacts of a tracked source (clm.track_contacts): captured incrementally
-- like the events (nothing lost or doubled: the stored contacts equal the
-- source table after inserts, a rolled-back insert, COPY, UPDATE, DELETE and
-- TRUNCATE), run as the owner, and the contact_pressure view checked against
-- figures worked by hand.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set VERBOSITY default
CREATE SCHEMA ct;
SET search_path = ct, public;
CREATE FUNCTION ct_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE TABLE orders AS SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(200, seed => 7);
SELECT name, action FROM clm.track('ct.orders', 'customer_id', 'occurred_at', 'amount', 'channel',
                                   target_schema => 'ct_crm', name => 'ct', settings => '{"as_of": "2025-01-01"}');
CREATE TABLE messages (id serial, customer_id bigint, sent_at timestamptz, channel text, campaign text,
                       opened boolean, clicked boolean, note text);
-- rows of ct.messages missing from ct_crm.contacts plus rows too many (0 = equal, as multisets)
CREATE FUNCTION ct_diff() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM (SELECT customer_id, sent_at, channel, campaign, opened, clicked FROM ct.messages WHERE customer_id IS NOT NULL AND sent_at IS NOT NULL
                                  EXCEPT ALL
                                  SELECT customer_id, sent_at, channel, campaign, opened, clicked FROM ct_crm.contacts) a)
         + (SELECT count(*) FROM (SELECT customer_id, sent_at, channel, campaign, opened, clicked FROM ct_crm.contacts
                                  EXCEPT ALL
                                  SELECT customer_id, sent_at, channel, campaign, opened, clicked FROM ct.messages WHERE customer_id IS NOT NULL AND sent_at IS NOT NULL) b);
END $$;

INSERT INTO messages (customer_id, sent_at, channel, campaign, opened)
    SELECT 1 + i % 150, '2024-09-01'::timestamptz + i * interval '7 hours', (ARRAY['email', 'sms', 'push'])[1 + i % 3],
           'c' || i % 5, i % 4 = 0
      FROM generate_series(1, 300) i;

-- bad registrations, each with its SQLSTATE
SELECT ct_err($$SELECT clm.track_contacts('nope', 'ct.messages', 'customer_id', 'sent_at')$$);
SELECT ct_err($$SELECT clm.track_contacts('ct', NULL, 'customer_id', 'sent_at')$$);
SELECT ct_err($$SELECT clm.track_contacts('ct', 'ct.messages', 'customer', 'sent_at')$$);
SELECT ct_err($$SELECT clm.track_contacts('ct', 'ct.messages', 'channel', 'sent_at')$$);
SELECT ct_err($$SELECT clm.track_contacts('ct', 'ct.messages', 'customer_id', 'channel')$$);
SELECT ct_err($$SELECT clm.track_contacts('ct', 'ct.messages', 'customer_id', 'sent_at', opened_column => 'note')$$);
SELECT ct_err($$SELECT clm.track_contacts('ct', 'ct.messages_id_seq', 'customer_id', 'sent_at')$$);

-- registration loads the table
SELECT clm.track_contacts('ct', 'ct.messages', 'customer_id', 'sent_at', channel_column => 'channel',
                          campaign_column => 'campaign', opened_column => 'opened', clicked_column => 'clicked');
SELECT ct_err($$SELECT clm.track_contacts('ct', 'ct.messages', 'customer_id', 'sent_at')$$);
SELECT count(*) AS contacts, ct_diff() AS diff FROM ct_crm.contacts;
SELECT name, source, channel_column, opened_column, delivered_column, incremental FROM clm.tracked_contacts;

-- inserts are queued and merged by clm.refresh, once
INSERT INTO messages (customer_id, sent_at, channel, campaign, clicked)
    SELECT 1 + i % 150, '2024-12-01'::timestamptz + i * interval '3 hours', 'email', 'late', i % 2 = 0
      FROM generate_series(1, 100) i;
INSERT INTO messages (customer_id, sent_at, channel) VALUES (NULL, '2024-12-01', 'email'), (5, NULL, 'email');
BEGIN;
INSERT INTO messages (customer_id, sent_at, channel) VALUES (5, '2024-12-02', 'lost');
ROLLBACK;
COPY messages (customer_id, sent_at, channel, campaign) FROM stdin;
7	2024-12-24 10:00:00+00	sms	xmas
8	2024-12-24 11:00:00+00	sms	xmas
\.
SELECT count(*) AS queued FROM ct_crm.clm_contacts_pending;
SELECT action, events FROM clm.refresh('ct');
SELECT count(*) AS contacts, ct_diff() AS diff,
       (SELECT count(*) FROM ct_crm.clm_contacts_pending) AS queued FROM ct_crm.contacts;
SELECT action FROM clm.refresh('ct');
SELECT count(*) AS contacts, ct_diff() AS diff FROM ct_crm.contacts;
-- responded = opened or clicked; sent_day in the source's time zone (UTC here)
SELECT count(*) FILTER (WHERE responded IS DISTINCT FROM (coalesce(opened, false) OR coalesce(clicked, false))) AS bad_responded,
       count(*) FILTER (WHERE sent_day <> (sent_at AT TIME ZONE 'UTC')::date) AS bad_day
  FROM ct_crm.contacts;

-- UPDATE, DELETE and TRUNCATE queue a marker: the next refresh reloads
UPDATE messages SET opened = true WHERE id % 10 = 0;
DELETE FROM messages WHERE id % 7 = 0;
SELECT count(*) FILTER (WHERE op IS NOT NULL) AS markers FROM ct_crm.clm_contacts_pending;
SELECT action FROM clm.refresh('ct');
SELECT count(*) AS contacts, ct_diff() AS diff,
       (SELECT count(*) FROM ct_crm.clm_contacts_pending) AS queued FROM ct_crm.contacts;
-- clm.rebuild reloads them too
SELECT action FROM clm.rebuild('ct');
SELECT count(*) AS contacts, ct_diff() AS diff FROM ct_crm.contacts;

-- contact pressure, worked by hand for customer 1001 as of 2025-01-01
-- (messages: email 09-01 opened, 10-10 opened, 11-15 opened, 12-20 not,
-- 12-28 opened, 12-31 not, 2025-01-05 (after as_of: ignored); sms 12-30 not)
INSERT INTO messages (customer_id, sent_at, channel, opened) VALUES
    (1001, '2024-09-01 12:00+00', 'email', true), (1001, '2024-10-10 12:00+00', 'email', true),
    (1001, '2024-11-15 12:00+00', 'email', true), (1001, '2024-12-20 12:00+00', 'email', false),
    (1001, '2024-12-28 12:00+00', 'email', true), (1001, '2024-12-31 23:00+00', 'email', false),
    (1001, '2025-01-05 12:00+00', 'email', true), (1001, '2024-12-30 12:00+00', 'sms', false);
SELECT action FROM clm.refresh('ct');
-- email: 7 days (12-26..01-01) 2; 30 days (12-03..) 3; 90 days (10-04..) 5;
-- last 12-31, 1 day ago; responded 3 of 5 = 0.6.  Pressure of each message
-- (others in the 30 days to its day, any channel): 10-10 0, 11-15 0, 12-20 0,
-- 12-28 1 (12-20), 12-31 3 (12-20, 12-28, 12-30).  x = (0,0,0,1,3),
-- y = (1,1,0,1,0): Sxy = -1.4, Sxx = 6.8, Syy = 1.2, fatigue = 1.4 / sqrt(8.16)
-- = 0.49010.  sms: one message (1, 1, 1), 2 days ago, rate 0, fatigue NULL.
SELECT channel, as_of, sent_7d, sent_30d, sent_90d, last_contact, days_since_contact, days_since_any_contact,
       measured_90d, response_rate_90d, round(fatigue_90d::numeric, 5) AS fatigue_90d,
       round((1.4 / sqrt(8.16))::numeric, 5) AS by_hand
  FROM ct_crm.contact_pressure WHERE customer_id = 1001 ORDER BY channel;
-- every customer: the view's counts equal direct counts
SELECT count(*) AS mismatches
  FROM ct_crm.contact_pressure p
  FULL JOIN (SELECT customer_id, channel, count(*) FILTER (WHERE sent_at >= '2024-12-26') AS n7,
                    count(*) FILTER (WHERE sent_at >= '2024-10-04') AS n90, max(sent_at::date) AS last
               FROM messages WHERE sent_at < '2025-01-02' AND customer_id IS NOT NULL GROUP BY 1, 2) d
    ON d.customer_id = p.customer_id AND d.channel IS NOT DISTINCT FROM p.channel
 WHERE p.sent_7d IS DISTINCT FROM d.n7 OR p.sent_90d IS DISTINCT FROM d.n90 OR p.last_contact IS DISTINCT FROM d.last;

-- a writer who may only insert into the messages queues them; the owner's
-- refresh merges them; a role that is not the owner may not register contacts
CREATE ROLE ct_writer;
GRANT USAGE ON SCHEMA ct TO ct_writer;
GRANT INSERT ON messages TO ct_writer;
GRANT USAGE ON SEQUENCE messages_id_seq TO ct_writer;
GRANT USAGE ON SCHEMA clm TO ct_writer;
SELECT clm.grant_writer('ct', 'ct_writer');
SET ROLE ct_writer;
INSERT INTO ct.messages (customer_id, sent_at, channel) VALUES (9, '2024-12-31 08:00+00', 'push');
SELECT ct_err($$SELECT clm.untrack_contacts('ct')$$);
RESET ROLE;
SELECT action FROM clm.refresh('ct');
SELECT count(*) AS contacts, ct_diff() AS diff FROM ct_crm.contacts;

-- TRUNCATE, then untrack removes the triggers and tables
TRUNCATE messages;
SELECT action FROM clm.refresh('ct');
SELECT count(*) AS contacts FROM ct_crm.contacts;
SELECT clm.untrack('ct');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'ct.messages'::regclass;
SELECT count(*) AS registrations FROM clm.tracked_contacts;
INSERT INTO messages (customer_id, sent_at) VALUES (1, '2024-12-01');
DROP SCHEMA ct CASCADE;
REVOKE USAGE ON SCHEMA clm FROM ct_writer;
DROP ROLE ct_writer;
