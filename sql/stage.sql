-- Lifecycle stages: clm.stage, clm.stage_history, clm.stage_changes,
-- clm.stage_transitions.  Every answer below is worked out by hand.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;

-- Defaults: population_gap_days g = 30, prior_strength k = 2, new_days 30,
-- active <= 2 E, at_risk <= 4 E, lapsed <= 8 E, churned beyond, where
-- E = (k g + last - first purchase day) / (k + purchase days - 1), E = g for
-- a one-purchase-day customer.
CREATE TEMP TABLE ev (customer text, occurred_at date, amount numeric);
INSERT INTO ev VALUES
  -- a: a single purchase
  ('a', '2025-01-01', 10),
  -- b: two orders on the same day = one purchase day, plus a refund later
  ('b', '2025-01-01', 10), ('b', '2025-01-01', 5), ('b', '2025-01-10', -5),
  -- c: activity without a purchase
  ('c', '2025-01-05', NULL), ('c', '2025-01-07', NULL),
  -- d: three purchases 10 days apart, lapses, returns, lapses, returns again
  ('d', '2025-01-01', 20), ('d', '2025-01-11', 20), ('d', '2025-01-21', 20),
  ('d', '2025-06-01', 30), ('d', '2025-06-11', 30), ('d', '2026-01-01', 40);
CREATE TEMP TABLE pr AS
  SELECT customer, clm.profile(occurred_at, amount) AS p FROM ev GROUP BY customer;

-- a, one purchase on 2025-01-01, E = g = 30:
--   2024-12-31 before the first event: NULL stage
--   +0, +29 days: new (first purchase < 30 days ago)
--   +30: active (30 <= 60, ratio 1)   +60: active (ratio 2)   +61: at_risk
--   +120: at_risk (ratio 4)  +121: lapsed  +240: lapsed (ratio 8)  +241: churned
SELECT o AS days_after, s.*
FROM pr, LATERAL (VALUES (-1), (0), (29), (30), (60), (61), (120), (121), (240), (241)) v(o),
     LATERAL clm.stage(p, date '2025-01-01' + o) s
WHERE customer = 'a' ORDER BY o;

-- b: same-day orders are one purchase day, so b is exactly like a;
-- the refund-only day is activity, not a purchase.
SELECT o AS days_after, (clm.stage(p, date '2025-01-01' + o)).stage
FROM pr, LATERAL (VALUES (0), (30), (61), (121), (241)) v(o)
WHERE customer = 'b' ORDER BY o;

-- clm.stage_name: the stage alone, same rules; with a population gap of 100
-- days a (one purchase, E = 100) is active up to t = 200, at_risk up to 400
SELECT o AS days_after, clm.stage_name(p, date '2025-01-01' + o) AS stage,
       clm.stage_name(p, date '2025-01-01' + o, population_gap_days => 100) AS stage_gap_100
FROM pr, LATERAL (VALUES (-1), (0), (61), (121), (241)) v(o)
WHERE customer = 'a' ORDER BY o;

-- c: activity on 2 days, no purchase: prospect from 2025-01-05, NULL before.
SELECT d, s.* FROM pr, LATERAL (VALUES (date '2025-01-04'), ('2025-01-05'), ('2025-03-01')) v(d),
     LATERAL clm.stage(p, d) s
WHERE customer = 'c' ORDER BY d;

-- d on chosen days:
--  2025-02-15: 3 purchase days Jan 1, 11, 21: E = (2*30 + 20)/(2 + 2) = 20,
--    t = 25, ratio 1.25 -> active
--  2025-04-11: t = 80 = 4 E -> at_risk;  2025-04-12: t = 81 -> lapsed
--  2025-06-01: bought after 130 days without a purchase (Jan 22 .. May 31);
--    on May 31 ratio 130/20 = 6.5 > 4 -> it was lapsed -> reactivated;
--    now E = (60 + 151)/(2 + 3) = 42.2, t = 0
--  2025-06-11: the day before (Jun 10) was reactivated, not lapsed -> active,
--    E = (60 + 161)/6 = 36.83
--  2025-12-31: t = 203, ratio 5.51 -> lapsed
--  2026-01-01: 203 days without a purchase (Jun 12 .. Dec 31); lapsed the
--    day before (203/36.83 = 5.51 > 4) -> reactivated, E = (60 + 365)/7 = 60.71
SELECT d, s.* FROM pr,
     LATERAL (VALUES (date '2025-02-15'), ('2025-04-11'), ('2025-04-12'), ('2025-06-01'),
                     ('2025-06-11'), ('2025-12-31'), ('2026-01-01')) v(d),
     LATERAL clm.stage(p, d) s
WHERE customer = 'd' ORDER BY d;

-- Options.  fixed_days: E = 30 for d too; on 2025-03-03 t = 41 <= 60 -> active
-- (with the default shrinkage E = 20 and 41 > 40 -> at_risk).
SELECT (clm.stage(p, '2025-03-03')).stage AS shrunk,
       (clm.stage(p, '2025-03-03', fixed_days => true)).stage AS fixed,
       (clm.stage(p, '2025-03-03', fixed_days => true)).reason
FROM pr WHERE customer = 'd';
-- prior_strength 0: E = own mean gap = 10; 2025-02-15: t = 25 <= 40 -> at_risk
-- new_days 0: never new; a on 2025-01-01 is active (t = 0)
SELECT (clm.stage(p, '2025-02-15', prior_strength => 0)).*
FROM pr WHERE customer = 'd';
SELECT (clm.stage(p, '2025-01-01', new_days => 0)).stage FROM pr WHERE customer = 'a';
-- the population gap as a query computes it once: median of the customers'
-- mean gaps (only d has two purchase days: on 2025-02-15 its mean gap is 10)
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (clm.summary(p, '2025-02-15')).mean_gap_days)
FROM pr;
-- or the mean with clm.population_gap: on 2025-02-15 only d counts (10);
-- on 2025-06-15 d has 5 purchase days over 161 days: 161/4 = 40.25; before
-- anyone's second purchase: NULL
SELECT clm.population_gap(p, '2025-02-15') AS feb, clm.population_gap(p, '2025-06-15') AS jun,
       clm.population_gap(p, '2025-01-05') AS none
FROM pr;
-- used once per query: with g = 40.25 on 2025-06-15, a and b (t = 165 >
-- 4 * 40.25 = 161) are lapsed; d: E = (2 * 40.25 + 161)/(2 + 4) = 40.25,
-- t = 4 -> active
SELECT customer, (clm.stage(p, '2025-06-15', population_gap_days => g.gap)).stage
FROM pr, (SELECT clm.population_gap(p, '2025-06-15') AS gap FROM pr) g ORDER BY 1;

-- Stage history of d, monthly 2025-01-01 .. 2025-07-01 (first of each month):
--  Jan 1 new; Feb 1 active (t = 11, E = 20); Mar 1 active (t = 39 <= 40);
--  Apr 1 at_risk (t = 70); May 1 lapsed (t = 100); Jun 1 reactivated;
--  Jul 1 active (E = 36.83, t = 20)
SELECT period_start, stage, round(expected_gap_days::numeric, 2) AS e,
       days_since_last_purchase AS t
FROM pr, clm.stage_history(p, '2025-01-01', '2025-07-01', 'month')
WHERE customer = 'd';
-- weeks start on Monday: 2025-01-01 is a Wednesday, so the week starts in
-- [2025-01-01, 2025-01-20] are Jan 6, 13 and 20; with week_start 7 (Sunday)
-- they are Jan 5, 12 and 19.  A range starting mid-month: first row Feb 1.
SELECT period_start, stage FROM pr, clm.stage_history(p, '2025-01-01', '2025-01-20', 'week')
WHERE customer = 'd';
SELECT period_start, stage FROM pr, clm.stage_history(p, '2025-01-01', '2025-01-20', 'week', 7)
WHERE customer = 'd';
SELECT period_start, stage FROM pr, clm.stage_history(p, '2025-01-15', '2025-02-10', 'month')
WHERE customer = 'd';

-- Stage changes of d from 2025-01-01 to 2026-01-15:
--  2025-01-01 NULL -> new
--  2025-01-31 new -> active (first day with 30 days since first purchase), 30 days new
--  2025-03-03 active -> at_risk (t = 41 > 40), 31 days active
--  2025-04-12 at_risk -> lapsed (t = 81 > 80), 40 days at risk
--  2025-06-01 lapsed -> reactivated, 50 days lapsed, dormant 50 days
--  2025-06-11 reactivated -> active, 10 days
--  2025-08-24 active -> at_risk (t = 74 > 2 * 36.83 = 73.67), 74 days
--  2025-11-06 at_risk -> lapsed (t = 148 > 147.33), 74 days
--  2026-01-01 lapsed -> reactivated, 56 days lapsed, dormant 56 days
SELECT c.* FROM pr, clm.stage_changes(p, '2025-01-01', '2026-01-15') c WHERE customer = 'd';
-- a window that starts late still knows how long the previous stage lasted
SELECT changed_on, from_stage, to_stage, days_in_previous_stage, days_dormant
FROM pr, clm.stage_changes(p, '2025-06-01', '2025-06-30') WHERE customer = 'd';
-- a (one purchase): new, active on Jan 31, at_risk Mar 3 (+61), lapsed May 2
-- (+121), churned Aug 30 (+241)
SELECT changed_on, from_stage, to_stage, days_in_previous_stage
FROM pr, clm.stage_changes(p, '2024-12-01', '2025-12-31') WHERE customer = 'a';

-- Transition matrix from 2025-01-01 to 2025-06-01:
--  a, b: new -> lapsed (t = 151, 121 <= 151 <= 240); c: no event -> prospect;
--  d: new -> reactivated
SELECT r.* FROM (SELECT clm.stage_transitions(p, '2025-01-01', '2025-06-01') AS m FROM pr) s,
     clm.transition_rows(s.m) r ORDER BY 1 NULLS FIRST, 2;
-- with population gap 100 for everyone: a, b on Jun 1: t = 151 <= 200 -> active
SELECT r.* FROM (SELECT clm.stage_transitions(p, '2025-01-01', '2025-06-01', 100, 2, 30, 2, 4, 8, true) AS m FROM pr) s,
     clm.transition_rows(s.m) r ORDER BY 1 NULLS FIRST, 2;

-- Stage counts per day, 2025-01-29 .. 2025-02-01 (the changes above):
--  a, b: new until Jan 30 (29 days after Jan 1), active from Jan 31;
--  c: prospect every day;  d: new until Jan 30, active from Jan 31.
--  Jan 29, 30: new 3, prospect 1;  Jan 31, Feb 1: active 3, prospect 1.
SELECT r.* FROM (SELECT clm.stage_counts(p, '2025-01-29', '2025-02-01') AS c FROM pr) s,
     clm.stage_count_rows(s.c) r WHERE r.customers > 0 ORDER BY 1, 2;
-- every day lists all 7 stages (0 included): 4 days x 7 rows, 4 customers a day
SELECT count(*) AS rows, count(DISTINCT day) AS days, sum(customers) / count(DISTINCT day) AS per_day
FROM clm.stage_count_rows((SELECT clm.stage_counts(p, '2025-01-29', '2025-02-01') FROM pr));
-- a window before anyone's first event (2024-12-30 .. 2024-12-31): c and the
-- others have no stage yet, so no one is counted
SELECT sum(customers) FROM clm.stage_count_rows((SELECT clm.stage_counts(p, '2024-12-30', '2024-12-31') FROM pr));
-- 2025-04-10 .. 2025-04-13 with d's at_risk -> lapsed on Apr 12 (t = 81) and
-- a, b lapsed from May 2 (still at_risk here): at_risk 3 then 2, lapsed 0 then 1
SELECT day, stage, customers FROM clm.stage_count_rows(
         (SELECT clm.stage_counts(p, '2025-04-10', '2025-04-13') FROM pr))
WHERE stage IN ('at_risk', 'lapsed') ORDER BY 1, 2;
-- the same as counting clm.stage_name day by day, with each rule set: over
-- 2024-12-25 .. 2026-01-10 (every change of a, b, c and d), default rules,
-- a population gap of 100, and all options changed
SELECT g.args, count(*) FILTER (WHERE r.customers IS DISTINCT FROM b.n) AS differ, count(*) AS cells
FROM (VALUES ('default'), ('gap100'), ('options')) g(args)
CROSS JOIN LATERAL (
  SELECT CASE g.args
           WHEN 'default' THEN clm.stage_counts(p, '2024-12-25', '2026-01-10')
           WHEN 'gap100' THEN clm.stage_counts(p, '2024-12-25', '2026-01-10', 100)
           ELSE clm.stage_counts(p, '2024-12-25', '2026-01-10', 25, 0.5, 10, 1.5, 3, 5, true) END AS c
  FROM pr) s
CROSS JOIN LATERAL clm.stage_count_rows(s.c) r
LEFT JOIN LATERAL (
  SELECT count(*) AS n FROM pr
   WHERE CASE g.args
           WHEN 'default' THEN clm.stage_name(p, r.day)
           WHEN 'gap100' THEN clm.stage_name(p, r.day, 100)
           ELSE clm.stage_name(p, r.day, 25, 0.5, 10, 1.5, 3, 5, true) END = r.stage) b ON true
GROUP BY g.args ORDER BY g.args;

-- A tiny population gap: a (one purchase, E = g = 1e-14 days) on 2025-06-01,
-- t = 151: the ratio 151 / 1e-14 = 1.51e16 is beyond the integer formatting
-- (printf, trailing zeros trimmed), the expected gap rounds to 0
SELECT (clm.stage(p, '2025-06-01', population_gap_days => 1e-14)).reason FROM pr WHERE customer = 'a';
-- and from 1e50 on in scientific notation: 151 / 1e-300 = 1.51e302
SELECT (clm.stage(p, '2025-06-01', population_gap_days => 1e-300)).reason FROM pr WHERE customer = 'a';

-- Bad inputs.
\set VERBOSITY sqlstate
SELECT clm.stage(p, '2025-01-01', population_gap_days => 0) FROM pr WHERE customer = 'a';
SELECT clm.stage(p, '2025-01-01', prior_strength => -1) FROM pr WHERE customer = 'a';
SELECT clm.stage(p, '2025-01-01', new_days => -1) FROM pr WHERE customer = 'a';
SELECT clm.stage(p, '2025-01-01', active_ratio => 5) FROM pr WHERE customer = 'a';
SELECT clm.stage_name(p, '2025-01-01', lapsed_ratio => 'Infinity') FROM pr WHERE customer = 'a';
SELECT clm.stage(p, 'infinity') FROM pr WHERE customer = 'a';
SELECT * FROM pr, clm.stage_history(p, '2025-01-01', '2025-02-01', 'year') WHERE customer = 'a';
SELECT * FROM pr, clm.stage_history(p, '2025-01-01', '2025-02-01', 'week', 0) WHERE customer = 'a';
SELECT * FROM pr, clm.stage_history(p, '2025-02-01', '2025-01-01') WHERE customer = 'a';
SELECT * FROM pr, clm.stage_changes(p, '2025-01-01', '5000-01-01') WHERE customer = 'a';
SELECT clm.stage_transitions(p, '2025-01-01', x) FROM pr, (VALUES (date '2025-02-01'), ('2025-03-01')) v(x);
SELECT * FROM clm.transition_rows('{1,2,3}');
SELECT * FROM clm.transition_rows(array_fill(0::bigint, ARRAY[67]));
SELECT clm.stage_counts(p, NULL, '2025-01-01') FROM pr;
SELECT clm.stage_counts(p, '2025-01-02', '2025-01-01') FROM pr;
SELECT clm.stage_counts(p, '1900-01-01', '2025-01-01') FROM pr;
SELECT clm.stage_counts(p, '2025-01-01', x) FROM pr, (VALUES (date '2025-02-01'), ('2025-03-01')) v(x);
SELECT clm.stage_counts(p, '2025-01-01', '2025-02-01', 0) FROM pr;
SELECT clm.stage_counts(p, '-infinity', '2025-02-01') FROM pr;
SELECT clm.stage_counts(p, '2025-01-01', 'infinity') FROM pr;
-- (a quoted number needs its type since the clm.stage_rules form exists)
SELECT clm.stage_counts(p, '2025-01-01', '2025-02-01', 'NaN'::float8) FROM pr;
SELECT clm.stage_counts(p, '2025-01-01', '2025-02-01', 30, 2, 30, 2, 4, 'Infinity', false) FROM pr;
-- a state (layout 1), not the aggregate's value (layout 2); a wrong length;
-- a negative count
SELECT * FROM clm.stage_count_rows(ARRAY[1, 9000, 9000, 0, 0, 0, 0, 0, 0, 0, 0]::bigint[]);
SELECT * FROM clm.stage_count_rows(ARRAY[2, 9000, 9001, 0, 0, 0, 0, 0, 0, 0, 0]::bigint[]);
SELECT * FROM clm.stage_count_rows(ARRAY[2, 9000, 9000, 0, 1, 0, -1, 0, 0, 0, 0]::bigint[]);
SELECT * FROM clm.stage_count_rows('{2,1,2}');
\set VERBOSITY default
