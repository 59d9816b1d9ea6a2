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

RESET search_path;
DROP SCHEMA profile_unordered CASCADE;
