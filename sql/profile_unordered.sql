--
-- clm.profile over rows in any order: the aggregate's build state appends
-- days unsorted and sorts/merges them when it runs out of room or at the end.
-- Every order of the same rows must give the same profile (clm.profile =)
-- and the same counts.  (Found by test/concurrency: an event on the latest
-- day arriving just when a full, unsorted state was compacted was kept as a
-- second entry for that day, so the day counted twice.)
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE SCHEMA profile_unordered;
SET search_path = profile_unordered, public;

-- For n = 1 .. 300: the latest day (2024-12-31) first, then n earlier days in
-- ascending order, then the latest day again.  The state is unsorted from the
-- second row on; for some n it is full when the last row comes, and the
-- compaction puts 2024-12-31 at the end just before that row is added.
-- Sorted input gives n + 1 purchase days and n + 2 purchase rows.
CREATE TABLE pattern AS
  SELECT n, k, CASE WHEN k = 0 OR k = n + 1 THEN date '2024-12-31' ELSE date '2024-01-01' + k END AS d
    FROM generate_series(1, 300) n, generate_series(0, 301) k
   WHERE k <= n + 1;
SELECT count(*) AS cases,
       count(*) FILTER (WHERE NOT (unordered OPERATOR(clm.=) sorted)) AS profiles_differ,
       count(*) FILTER (WHERE (clm.summary(unordered, '2025-01-01')).orders <> n + 1) AS wrong_orders,
       count(*) FILTER (WHERE (clm.summary(unordered, '2025-01-01')).transactions <> n + 2) AS wrong_transactions,
       count(*) FILTER (WHERE (clm.summary(unordered, '2025-01-01')).active_days <> n + 1) AS wrong_active_days
  FROM (SELECT n, clm.profile(d, 10::numeric ORDER BY k) AS unordered,
                  clm.profile(d, 10::numeric ORDER BY d) AS sorted
          FROM pattern GROUP BY n) x;

-- The same with the repeated latest day arriving several times, and with
-- timestamptz input: every pattern against sorted input.
SELECT count(*) AS cases,
       count(*) FILTER (WHERE NOT (unordered OPERATOR(clm.=) sorted)) AS profiles_differ
  FROM (SELECT n, clm.profile(d + time '12:00', 1.5 ORDER BY k, r) AS unordered,
                  clm.profile(d + time '12:00', 1.5 ORDER BY d, k, r) AS sorted
          FROM pattern, generate_series(1, 3) r GROUP BY n) x;

-- The same patterns around 2000-01-01, day 0 of the state's tail_day: a
-- build state whose last day is 2000-01-01 keeps tail_day 0, as a canonical
-- profile does, and the days are read to tell them apart.  Every order must
-- give the sorted input's profile: n + 1 purchase days, n + 2 purchase rows.
SELECT count(*) AS cases,
       count(*) FILTER (WHERE NOT (unordered OPERATOR(clm.=) sorted)) AS profiles_differ,
       count(*) FILTER (WHERE (clm.summary(unordered, '2000-01-02')).orders <> n + 1) AS wrong_orders,
       count(*) FILTER (WHERE (clm.summary(unordered, '2000-01-02')).transactions <> n + 2) AS wrong_transactions
  FROM (SELECT n, clm.profile(d - date '2024-12-31' + date '2000-01-01', 2 ORDER BY k) AS unordered,
                  clm.profile(d - date '2024-12-31' + date '2000-01-01', 2 ORDER BY d) AS sorted
          FROM pattern GROUP BY n) x;
-- 2000-01-01 after a later day and before it again: three days, four rows
SELECT clm.event_count(p) AS events, (clm.summary(p, '2000-02-01')).orders AS days,
       (SELECT array_agg(day ORDER BY day) FROM clm.profile_days(p)) AS day_list
  FROM (SELECT clm.profile(d, 1 ORDER BY k) AS p
          FROM (VALUES (1, date '2000-01-05'), (2, '2000-01-01'), (3, '1999-12-31'),
                       (4, '2000-01-01')) v(k, d)) x;

-- Generated customers, each customer's events in a random order (fixed
-- seed) against time order: same profiles, same summaries.
SELECT setseed(0.42);
CREATE TABLE ev AS
  SELECT customer_id, occurred_at, amount, channel, random() AS shuffle
    FROM clm.generate_events(300, seed => 11);
SELECT count(*) AS customers,
       count(*) FILTER (WHERE NOT (shuffled OPERATOR(clm.=) ordered)) AS profiles_differ,
       count(*) FILTER (WHERE clm.summary(shuffled, '2025-01-01') IS DISTINCT FROM
                              clm.summary(ordered, '2025-01-01')) AS summaries_differ
  FROM (SELECT customer_id,
               clm.profile(occurred_at, amount, channel ORDER BY shuffle) AS shuffled,
               clm.profile(occurred_at, amount, channel ORDER BY occurred_at) AS ordered
          FROM ev GROUP BY customer_id) x;

-- Channels arriving between days.  A build state keeps its channel area
-- right after the header and moves the days when a channel is added or
-- evicted (past the cap of 16, the names that sort first are kept).  For
-- n = 1 .. 40 channels (names of 1 to 64 bytes, in an order unrelated to
-- their name order): 3 days per channel, in time order, each channel first
-- seen on its own day; and the same rows in reverse order.  Against
-- GROUP BY over the rows: the days (date, orders, spend), the 16 kept
-- channels (events, purchases, last day) and the "other" bucket's events.
CREATE TABLE chan_rows AS
  SELECT n, k, date '2024-01-01' + k AS d, (k % 4) * 2.5 - 2.5 AS amount,
         repeat(chr(97 + (c * 7) % 26), 1 + (c * 37) % 64) || c AS channel
    FROM generate_series(1, 40) n, generate_series(0, 3 * n - 1) k,
         LATERAL (SELECT CASE WHEN k % 3 = 0 THEN k / 3 ELSE (k * 5) % (k / 3 + 1) END AS c) cc
   WHERE length(repeat(chr(97 + (c * 7) % 26), 1 + (c * 37) % 64) || c) <= 64;
CREATE TABLE chan_profiles AS
  SELECT n, clm.profile(d, amount, channel ORDER BY k) AS fwd,
            clm.profile(d, amount, channel ORDER BY k DESC) AS rev
    FROM chan_rows GROUP BY n;
WITH want_days AS (
  SELECT n, d AS day, count(*) FILTER (WHERE amount >= 0) AS orders, sum(amount) AS spend
    FROM chan_rows GROUP BY n, d),
got_days AS (
  SELECT n, x.* FROM chan_profiles, clm.profile_days(fwd) x),
want_all AS (
  SELECT n, channel, count(*) AS events, count(*) FILTER (WHERE amount >= 0) AS purchases, max(d) AS last_day,
         rank() OVER (PARTITION BY n ORDER BY channel COLLATE "C") AS r
    FROM chan_rows GROUP BY n, channel),
want_chan AS (
  SELECT n, channel, events, purchases, last_day FROM want_all WHERE r <= 16
  UNION ALL
  SELECT n, NULL, sum(events), sum(purchases), max(last_day) FROM want_all WHERE r > 16 GROUP BY n),
got_chan AS (
  SELECT n, x.* FROM chan_profiles, clm.profile_channels(fwd) x)
SELECT (SELECT count(*) FROM chan_profiles) AS customers,
       (SELECT count(*) FROM chan_profiles WHERE NOT (fwd OPERATOR(clm.=) rev)) AS orders_differ,
       (SELECT count(*) FROM (SELECT * FROM want_days EXCEPT SELECT * FROM got_days) a) +
       (SELECT count(*) FROM (SELECT * FROM got_days EXCEPT SELECT * FROM want_days) a) AS days_differ,
       (SELECT count(*) FROM (SELECT * FROM want_chan EXCEPT SELECT * FROM got_chan) a) +
       (SELECT count(*) FROM (SELECT * FROM got_chan EXCEPT SELECT * FROM want_chan) a) AS channels_differ,
       (SELECT count(*) FROM got_chan WHERE channel IS NOT NULL) AS kept_channels,
       (SELECT count(*) FROM got_chan WHERE channel IS NULL) AS with_other;

RESET search_path;
DROP SCHEMA profile_unordered CASCADE;
