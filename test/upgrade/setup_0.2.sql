-- test/upgrade/setup_0.2.sql: stored values of what 0.2 added, after
-- test/upgrade/setup.sql in the same database: stage rules kept in a table, a
-- contact rule set of one's own, messages sent tracked on the source shop
-- (clm.track_contacts).  Run under 0.2 before an update from 0.2, after the
-- update from 0.1 (0.1 has none of these), and on a fresh install;
-- test/upgrade/results.sql reads them back.
SET TimeZone = 'UTC';
CREATE TABLE kept_rules (name text PRIMARY KEY, r clm.stage_rules);
INSERT INTO kept_rules VALUES
  ('default', clm.stage_rules()),
  ('custom', clm.stage_rules(45, 1, 20, 1.5, 3, 6, false)),
  ('fixed', clm.stage_rules(60, fixed_days => true));
INSERT INTO clm.contact_rule_set (name, rules, description)
VALUES ('mine_weekly', '{"caps": [{"channel": "email", "days": 7, "max": 1}], "promotion_quiet_days": 14}',
        'one email a week, no promotion for 14 days after a purchase');
CREATE TABLE msgs (customer_id bigint, sent_at timestamptz, channel text, campaign text, opened boolean, clicked boolean);
INSERT INTO msgs
  SELECT customer_id, prm.as_of - k * 4 + interval '9 hours', CASE WHEN k % 3 = 0 THEN 'sms' ELSE 'email' END,
         'c' || k, (customer_id + k) % 2 = 0, (customer_id + k) % 5 = 0
    FROM (SELECT DISTINCT customer_id FROM src) s, generate_series(1, 6) k, prm
   WHERE k > 1 OR customer_id % 2 = 0;   -- an email 4 days before as_of to half of them
SELECT clm.track_contacts('shop', 'msgs', 'customer_id', 'sent_at', 'channel', 'campaign',
                          opened_column => 'opened', clicked_column => 'clicked') AS contacts_loaded;
INSERT INTO msgs SELECT customer_id, sent_at + interval '1 day', channel, campaign || 'b', NOT opened, clicked
  FROM msgs WHERE customer_id % 2 = 0 AND sent_at < (SELECT as_of - 10 FROM prm);
SELECT action FROM clm.refresh('shop');
