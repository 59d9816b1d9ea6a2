--
-- clm.profile: row semantics and every field of clm.summary on a small
-- history whose answers are worked out by hand below.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE SCHEMA test_profile;
SET search_path = test_profile, public;
SET extra_float_digits = 0;

CREATE TABLE orders (customer text, occurred_at timestamptz, amount numeric, channel text);
INSERT INTO orders VALUES
  -- customer A
  ('A', '2025-01-03 10:00+00', 29.33,   'web'),   -- purchase day 1, first order
  ('A', '2025-01-03 18:00+00', 10.00,   'app'),   -- same day: one purchase day, 2 orders, 39.33
  ('A', '2025-01-04 09:00+00', NULL,    'web'),   -- a visit: active day, not a purchase
  ('A', '2025-01-10 09:00+00', -5.50,   'store'), -- a refund: reduces spend, not a purchase
  ('A', '2025-01-20 09:00+00', 12.3456, 'web'),   -- purchase day 2 (4 decimals kept)
  ('A', '2025-02-01 09:30:00.25+00', 0, NULL),    -- amount 0 is a purchase (day 3), no channel
  ('A', NULL, 99, 'web'),                         -- NULL occurred_at: skipped
  ('A', '2025-06-01 12:00+00', 100,     'web'),   -- after the as_of dates below but the last
  -- customer B: activity only (a prospect)
  ('B', '2025-01-05 08:00+00', NULL, 'email'),
  ('B', '2025-01-07 08:00+00', NULL, 'email'),
  -- customer C: a refund only
  ('C', '2025-01-05 08:00+00', -3, NULL);

CREATE TABLE profiles AS
  SELECT customer, clm.profile(occurred_at, amount, channel) AS p
  FROM orders GROUP BY customer;

-- The stored text form: days as [date, orders, net spend], channels as
-- [name, events, purchases, last day], instants in UTC.
SELECT customer, p FROM profiles ORDER BY customer;

-- A as of 2025-03-01.  Purchase days d1 = 01-03 (39.33), d2 = 01-20 (12.3456),
-- d3 = 02-01 (0); the refund day 01-10 and the visit day 01-04 are active days.
--   orders = 3, frequency = 2, transactions = 2 + 1 + 1 = 4
--   recency_days = 02-01 - 01-03 = 29; tenure_days = 03-01 - 01-03 = 57
--   days_since_last_purchase = 03-01 - 02-01 = 28
--   monetary = (12.3456 + 0) / 2 = 6.1728
--   total_spend = 39.33 + 0 - 5.50 + 12.3456 + 0 = 46.1756
--   first_seen 01-03, last_seen 02-01, active_days = 5, days_since_last_seen 28
--   mean_gap_days = 29 / 2 = 14.5
SELECT (clm.summary(p, '2025-03-01')).* FROM profiles WHERE customer = 'A';

-- A as of 2025-12-31 adds the purchase of 06-01 (100):
--   orders 4, frequency 3, recency 06-01 - 01-03 = 149, tenure 362, since last 213,
--   monetary = (12.3456 + 0 + 100) / 3 = 37.4485333..., total 146.1756,
--   mean gap 149 / 3 = 49.666...
SELECT (clm.summary(p, '2025-12-31')).* FROM profiles WHERE customer = 'A';

-- A as of 2025-01-05: only d1 is a purchase day; 01-04 is active:
--   orders 1, frequency 0, recency 0, tenure 2, monetary 0 (no repeat day),
--   total 39.33, active_days 2, mean gap NULL.
SELECT (clm.summary(p, '2025-01-05')).* FROM profiles WHERE customer = 'A';

-- as_of on the first day counts that day (on or before); the day before sees nothing.
SELECT s.orders, s.active_days, s.tenure_days, s.total_spend
FROM profiles, clm.summary(p, '2025-01-03') s WHERE customer = 'A';
SELECT (clm.summary(p, '2025-01-02')).* FROM profiles WHERE customer = 'A';

-- B: two visit days, no purchase: orders 0, frequency 0, purchase fields NULL.
-- C: a refund only: total_spend -3.00, one active day, no purchase day.
SELECT customer, (clm.summary(p, '2025-03-01')).* FROM profiles WHERE customer IN ('B', 'C') ORDER BY 1;

-- infinite as_of: everything counts, day differences are NULL
SELECT s.orders, s.tenure_days, s.days_since_last_purchase, s.days_since_last_seen
FROM profiles, clm.summary(p, 'infinity') s WHERE customer = 'A';
SELECT s.orders, s.active_days FROM profiles, clm.summary(p, '-infinity') s WHERE customer = 'A';

-- the default as_of is today: A's last event (2025-06-01) is in the past
SELECT (clm.summary(p)).orders FROM profiles WHERE customer = 'A';

-- accessors
SELECT * FROM clm.profile_days((SELECT p FROM profiles WHERE customer = 'A'));
SELECT * FROM clm.profile_channels((SELECT p FROM profiles WHERE customer = 'A'));
SELECT customer, clm.first_event(p), clm.last_event(p), clm.event_count(p)
FROM profiles ORDER BY 1;

-- amounts are kept to 4 decimals, rounded half away from zero;
-- the sign of the original value decides purchase versus refund
SELECT d.* FROM clm.profile_days((
  SELECT clm.profile(t, a) FROM (VALUES
    ('2025-01-01'::timestamptz, 0.00005::numeric),  -- 0.0001, purchase
    ('2025-01-02', -0.00005),                       -- -0.0001, refund
    ('2025-01-03', -0.00004),                       -- rounds to 0 but is a refund
    ('2025-01-04', 1.23454999),                     -- 1.2345
    ('2025-01-05', 123456789.98765)) v(t, a))) d;   -- 123456789.9877
-- the largest amount a profile can hold: (2^63 - 1) / 10000
SELECT spend FROM clm.profile_days((SELECT clm.profile('2025-01-01'::timestamptz, 922337203685477.5807::numeric)));
-- refund days: 01-02 and 01-03 have orders 0
SELECT (clm.summary(clm.profile(t, a), '2025-12-31')).orders
FROM (VALUES ('2025-01-01'::timestamptz, 1.0), ('2025-01-02', -1.0), ('2025-01-03', -0.00004)) v(t, a);

-- float8 and date variants, and timestamp without time zone
SELECT clm.profile(d, a) FROM (VALUES ('2025-01-01'::date, 19.99::float8), ('2025-01-01', 0.01), ('2025-01-02', NULL)) v(d, a);
SELECT clm.profile(t, a, c) FROM (VALUES ('2025-01-01 23:30'::timestamp, 5::numeric, 'web')) v(t, a, c);

-- an integer amount column resolves to the float8 variant and gives the same profile
SELECT clm.profile(t, a::int)::text = clm.profile(t, a::numeric)::text
FROM (VALUES ('2025-01-01'::timestamptz, 3), ('2025-01-09', 7)) v(t, a);

-- no rows, or only NULL occurred_at: NULL profile
SELECT clm.profile(occurred_at, amount) IS NULL FROM orders WHERE false;
SELECT clm.profile(NULL::timestamptz, 5::numeric) IS NULL;

-- text round trip is exact, for every profile above
SELECT customer, p::text::clm.profile::text = p::text AS round_trip FROM profiles ORDER BY 1;

-- equality operator (in schema clm)
SELECT a.p OPERATOR(clm.=) b.p AS same, a.p OPERATOR(clm.<>) b.p AS differ
FROM profiles a, profiles b WHERE a.customer = 'A' AND b.customer = 'B';

-- merge: profile of A's events before 01-10 merged with those after
-- equals the profile of all of A's events
SELECT clm.profile_merge(x, y)::text = (SELECT p::text FROM profiles WHERE customer = 'A') AS merged_equal
FROM (SELECT clm.profile(occurred_at, amount, channel) FILTER (WHERE occurred_at < '2025-01-10') x,
             clm.profile(occurred_at, amount, channel) FILTER (WHERE occurred_at >= '2025-01-10') y
      FROM orders WHERE customer = 'A') s;
-- identity stitching: B and C are one person
SELECT clm.profile_merge(p) FROM profiles WHERE customer IN ('B', 'C');
SELECT clm.profile_merge(p) IS NULL FROM profiles WHERE false;

-- a window use of the aggregate (running profile) works too
SELECT customer, occurred_at::date,
       (clm.summary(clm.profile(occurred_at, amount) OVER w, '2030-01-01')).orders
FROM orders WHERE customer = 'A' AND occurred_at IS NOT NULL
WINDOW w AS (ORDER BY occurred_at) ORDER BY occurred_at;

-- size: 72-byte header + 16 bytes per active day + channel records
SELECT customer, pg_column_size(p) FROM profiles ORDER BY 1;
