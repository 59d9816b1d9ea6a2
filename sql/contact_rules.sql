--
-- Contact rules (clm.contact_rule_set, clm.contactable): every rule worked by
-- hand on five customers whose stages follow from 30-day purchase gaps; bad
-- rule sets rejected with their SQLSTATE; and a simulated month of campaigns
-- sent only to contactable customers that never exceeds a cap, checked
-- against the messages directly (and the same month sent without the rules,
-- which does exceed them).
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set VERBOSITY default
CREATE SCHEMA cr;
SET search_path = cr, public;
CREATE FUNCTION cr_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- the preset is valid and protected from pg_dump (preset rows are not dumped)
SELECT name, preset, clm.contact_rules_check(rules) FROM clm.contact_rule_set;

-- bad rule sets, each rejected with 22023 (NULL rules: 23502, empty name: 23514)
SELECT r, cr_err(format('INSERT INTO clm.contact_rule_set (name, rules) VALUES (%L, %L)', 'bad', r))
  FROM unnest(ARRAY['[]', '{"cap": []}', '{"caps": {}}', '{"caps": [{"days": 7}]}',
                    '{"caps": [{"days": 0, "max": 1}]}', '{"caps": [{"days": 7, "max": 0}]}',
                    '{"caps": [{"days": 7, "max": 1.5}]}', '{"caps": [{"channel": 5, "days": 7, "max": 1}]}',
                    '{"caps": [{"days": 7, "max": 1, "per": "week"}]}', '{"quiet_days_after_purchase": -1}',
                    '{"promotion_quiet_days": "14"}', '{"churned_unresponsive": 0}',
                    '{"winback_stages": ["gone"]}', '{"winback_stages": "lapsed"}']) AS r;
SELECT cr_err($$INSERT INTO clm.contact_rule_set (name, rules) VALUES ('bad', NULL)$$);
SELECT cr_err($$INSERT INTO clm.contact_rule_set (name, rules) VALUES ('', '{}')$$);
SELECT count(*) AS bad_sets FROM clm.contact_rule_set WHERE name IN ('bad', '');

INSERT INTO clm.contact_rule_set (name, rules) VALUES ('cr_rules',
    '{"caps": [{"channel": "email", "days": 7, "max": 2}, {"channel": null, "days": 30, "max": 3}],
      "quiet_days_after_purchase": 2, "promotion_quiet_days": 14,
      "winback_stages": ["lapsed"], "churned_unresponsive": 2}');

-- five customers buying every 30 days (expected gap 30 days, as the
-- population gap): A last bought 1 day before 2025-01-01 (active), B 12 days
-- before (active), C 148 (4.9 gaps: lapsed), D 295 (9.8 gaps: churned), E 90
-- (3 gaps: at_risk)
CREATE TABLE orders (customer_id bigint, occurred_at timestamptz, amount numeric);
INSERT INTO orders
    SELECT c, (last - 30 * k)::timestamptz + interval '12 hours', 10
      FROM (VALUES (1, date '2024-12-31'), (2, date '2024-12-20'), (3, date '2024-08-06'),
                   (4, date '2024-03-12'), (5, date '2024-10-03')) v(c, last),
           generate_series(0, 3) k;
SELECT name FROM clm.track('cr.orders', 'customer_id', 'occurred_at', 'amount',
                           target_schema => 'cr_crm', name => 'cr', settings => '{"as_of": "2025-01-01"}');
SELECT customer_id, last_purchase, days_since_last_purchase, stage FROM cr_crm.customers ORDER BY 1;

CREATE ROLE cr_reader;
GRANT USAGE ON SCHEMA clm, cr TO cr_reader;
SELECT clm.grant_reader('cr', 'cr_reader');
CREATE TABLE messages (customer_id bigint, sent_at timestamptz, channel text, campaign text, opened boolean);
-- B: two emails this week (email cap 2 per 7 days reached; frees 12-27 + 7 = 01-03)
-- E: three messages in 30 days on three channels (all-channel cap 3 per 30
--    days reached; frees 12-05 + 30 = 01-04)
-- D: last two emails unanswered (an older one opened): churned and unresponsive on email
-- C: one email, opened
INSERT INTO messages VALUES
    (2, '2024-12-27 09:00+00', 'email', 'x', false), (2, '2024-12-30 09:00+00', 'email', 'x', false),
    (5, '2024-12-05 09:00+00', 'email', 'x', true), (5, '2024-12-10 09:00+00', 'sms', 'x', false),
    (5, '2024-12-15 09:00+00', 'push', 'x', false),
    (4, '2024-06-01 09:00+00', 'email', 'x', true), (4, '2024-11-01 09:00+00', 'email', 'x', false),
    (4, '2024-12-01 09:00+00', 'email', 'x', false),
    (3, '2024-12-15 09:00+00', 'email', 'x', true);
SELECT cr_err($$SELECT * FROM clm.contactable('cr', 'email')$$);
SELECT clm.track_contacts('cr', 'cr.messages', 'customer_id', 'sent_at', channel_column => 'channel',
                          campaign_column => 'campaign', opened_column => 'opened');

-- by hand, as of 2025-01-01:
-- email message: A quiet (1 day < 2; from 01-02); B email cap (from 01-03);
--   C ok; D churned, last 2 emails unanswered (never); E all-channel cap (from 01-04)
SELECT * FROM clm.contactable('cr', 'email', rule_set => 'cr_rules') ORDER BY 1;
-- email promotion: A quiet, then no promotion until 12-31 + 14 = 01-14; B no
--   promotion until 12-20 + 14 = 01-03 (the email cap frees the same day)
SELECT * FROM clm.contactable('cr', 'email', 'promotion', 'cr_rules') ORDER BY 1;
-- sms win-back: only C (lapsed); D is churned but has no sms: the stage rule speaks
SELECT * FROM clm.contactable('cr', 'sms', 'winback', 'cr_rules') ORDER BY 1;
-- sms message: E's all-channel cap; D may be reached by sms
SELECT * FROM clm.contactable('cr', 'sms', rule_set => 'cr_rules') ORDER BY 1;
-- next_allowed is exact: every customer blocked by a time rule is contactable
-- on its next_allowed day and not the day before (nothing sent meanwhile)
SELECT k.kind, k.channel, b.customer_id, b.next_allowed,
       (SELECT contactable FROM clm.contactable('cr', k.channel, k.kind, 'cr_rules', b.next_allowed - 1) z
         WHERE z.customer_id = b.customer_id) AS day_before,
       (SELECT contactable FROM clm.contactable('cr', k.channel, k.kind, 'cr_rules', b.next_allowed) z
         WHERE z.customer_id = b.customer_id) AS on_the_day
  FROM (VALUES ('message', 'email'), ('promotion', 'email'), ('message', 'sms')) k(kind, channel),
       clm.contactable('cr', k.channel, k.kind, 'cr_rules') b
 WHERE NOT b.contactable AND b.next_allowed IS NOT NULL
 ORDER BY 1, 2, 3;
-- a reader of the source (clm.grant_reader, given before the contacts were
-- registered) may call clm.contactable: it reads customers and contacts with
-- the reader's rights; after clm.revoke_reader it may not
SET ROLE cr_reader;
SELECT customer_id, contactable FROM clm.contactable('cr', 'email', rule_set => 'cr_rules') ORDER BY 1;
RESET ROLE;
SELECT clm.revoke_reader('cr', 'cr_reader');
SET ROLE cr_reader;
SELECT cr_err($$SELECT * FROM clm.contactable('cr', 'email', rule_set => 'cr_rules')$$);
RESET ROLE;
-- errors
SELECT cr_err($$SELECT * FROM clm.contactable('cr', 'email', rule_set => 'nope')$$);
SELECT cr_err($$SELECT * FROM clm.contactable('cr', 'email', 'newsletter')$$);
SELECT cr_err($$SELECT * FROM clm.contactable('cr', NULL)$$);
SELECT cr_err($$SELECT * FROM clm.contactable('nope', 'email')$$);

-- a simulated month: 300 customers, five campaigns a day from 2025-01-01 to
-- 01-30 under the default rules, each sent to the contactable customers of a
-- pseudo-random selection, refreshed after each campaign
CREATE TABLE sim_orders AS SELECT customer_id, occurred_at, amount FROM clm.generate_events(300, seed => 11);
SELECT name FROM clm.track('cr.sim_orders', 'customer_id', 'occurred_at', 'amount',
                           target_schema => 'cr_sim', name => 'cr_sim', settings => '{"as_of": "2025-01-01"}');
CREATE TABLE sim_msgs (customer_id bigint, sent_at timestamptz, channel text, campaign text);
SELECT clm.track_contacts('cr_sim', 'cr.sim_msgs', 'customer_id', 'sent_at', channel_column => 'channel',
                          campaign_column => 'campaign');
CREATE TABLE campaigns (id int, channel text, kind text, share int);
INSERT INTO campaigns VALUES (1, 'email', 'promotion', 7), (2, 'email', 'message', 5), (3, 'sms', 'message', 4),
                             (4, 'push', 'message', 6), (5, 'sms', 'winback', 8);
-- the selection of campaign c on day d: customer i when (i * 7919 + d * 31 + c * 17) % 10 < share
CREATE FUNCTION picked(i bigint, d date, c int, share int) RETURNS boolean LANGUAGE sql IMMUTABLE AS
    $$ SELECT (i * 7919 + (d - date '2025-01-01') * 31 + c * 17) % 10 < share $$;
DO $$
DECLARE
    d date;
    c record;
BEGIN
    FOR d IN SELECT generate_series(date '2025-01-01', date '2025-01-30', interval '1 day')::date LOOP
        FOR c IN SELECT * FROM cr.campaigns ORDER BY id LOOP
            INSERT INTO cr.sim_msgs
                SELECT z.customer_id::bigint, d + interval '10 hours' + c.id * interval '1 minute', c.channel, c.kind
                  FROM clm.contactable('cr_sim', c.channel, c.kind, 'default', d) z
                 WHERE z.contactable AND cr.picked(z.customer_id::bigint, d, c.id, c.share);
            PERFORM clm.refresh('cr_sim');
        END LOOP;
    END LOOP;
END $$;
-- checked on the messages directly: for every cap of the default set, every
-- customer and every day of the month, the messages in the window ending that
-- day; and the stage and purchase rules against the orders
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
CREATE TABLE naive_msgs AS
    SELECT c.customer_id, d + interval '10 hours' AS sent_at, k.channel, k.kind AS campaign
      FROM cr_sim.customers c, campaigns k,
           generate_series(date '2025-01-01', date '2025-01-30', interval '1 day') g(g), LATERAL (SELECT g::date AS d) dd
     WHERE picked(c.customer_id, d, k.id, k.share);
SELECT (SELECT count(*) FROM sim_msgs) AS sent, (SELECT count(*) FROM naive_msgs) AS naive_sent,
       (SELECT count(*) FROM sim_msgs) = (SELECT count(*) FROM cr_sim.contacts) AS all_captured,
       cap_violations('cr.sim_msgs') AS violations,
       cap_violations('cr.naive_msgs') AS naive_violations;
SELECT count(*) FILTER (WHERE m.campaign = 'promotion' AND m.sent_at::date - o.last < 14) AS promotion_too_soon,
       count(*) FILTER (WHERE m.sent_at::date - o.last < 1) AS quiet_broken,
       count(*) FILTER (WHERE m.campaign = 'winback' AND c.stage <> 'lapsed') AS winback_not_lapsed,
       count(*) FILTER (WHERE m.campaign = 'winback') > 0 AS some_winback
  FROM sim_msgs m
  JOIN (SELECT customer_id, max(occurred_at::date) FILTER (WHERE amount >= 0) AS last FROM sim_orders GROUP BY 1) o USING (customer_id)
  JOIN cr_sim.customers c USING (customer_id);

SELECT clm.untrack('cr');
SELECT clm.untrack('cr_sim');
DELETE FROM clm.contact_rule_set WHERE name = 'cr_rules';
DROP SCHEMA cr CASCADE;
REVOKE USAGE ON SCHEMA clm FROM cr_reader;
DROP OWNED BY cr_reader;
DROP ROLE cr_reader;
