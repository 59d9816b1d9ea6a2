-- Channel preference: clm.channel_ranking and clm.preferred_channel.
-- Every answer below is worked out by hand.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;

CREATE TEMP TABLE ev (customer text, occurred_at date, amount numeric, channel text);
INSERT INTO ev VALUES
  -- email: 4 events, 1 purchase, last used 2025-01-10
  ('x', '2025-01-02', NULL, 'email'), ('x', '2025-01-05', NULL, 'email'),
  ('x', '2025-01-08', 10, 'email'), ('x', '2025-01-10', NULL, 'email'),
  -- web: 2 events, 2 purchases; sms, fax: 2 events, no purchase; app: 1 event; all last used 2025-03-01
  ('x', '2025-02-20', 15, 'web'), ('x', '2025-03-01', 15, 'web'),
  ('x', '2025-02-25', NULL, 'sms'), ('x', '2025-03-01', NULL, 'sms'),
  ('x', '2025-02-26', NULL, 'fax'), ('x', '2025-03-01', NULL, 'fax'),
  ('x', '2025-03-01', NULL, 'app'),
  -- y: no channel at all
  ('y', '2025-01-01', 10, NULL);
CREATE TEMP TABLE pr AS
  SELECT customer, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY customer;

-- as_of 2025-03-01, half-life 30 days:
--  email: age 50 days, score 4 * 2^(-50/30) = 1.2599;  web, fax, sms: score 2
--  (age 0); app: 1.  Ties at 2: web first (2 purchases), then fax before sms
--  (name).  Order: web, fax, sms, email, app.
SELECT channel_rank, channel, round(score::numeric, 4) AS score, events, purchases, last_day, days_since_last
FROM pr, clm.channel_ranking(p, '2025-03-01') WHERE customer = 'x';
SELECT clm.preferred_channel(p, '2025-03-01') FROM pr WHERE customer = 'x';
-- a half-life of 1000 days: email 4 * 2^(-0.05) = 3.8631 comes first
SELECT clm.preferred_channel(p, '2025-03-01', 1000) FROM pr WHERE customer = 'x';
-- as_of 2025-01-10: later channel use counts as age 0 (days_since_last is
-- negative): email 4, then web, fax, sms at 2, app 1
SELECT channel_rank, channel, score, days_since_last
FROM pr, clm.channel_ranking(p, '2025-01-10') WHERE customer = 'x';
-- no channel: no rows, NULL preference
SELECT count(*) FROM pr, clm.channel_ranking(p, '2025-03-01') WHERE customer = 'y';
SELECT clm.preferred_channel(p, '2025-03-01') IS NULL AS no_channel FROM pr WHERE customer = 'y';

-- Bad inputs.
\set VERBOSITY sqlstate
SELECT clm.preferred_channel(p, '2025-03-01', 0) FROM pr WHERE customer = 'x';
SELECT clm.preferred_channel(p, 'infinity') FROM pr WHERE customer = 'x';
SELECT * FROM pr, clm.channel_ranking(p, '2025-03-01', 'NaN') WHERE customer = 'x';
\set VERBOSITY default
