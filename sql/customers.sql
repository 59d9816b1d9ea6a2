-- The one-pass forms: clm.customer_stages + clm.customer_stage_rows and
-- clm.customer_rfm + clm.customer_rfm_rows.  Hand-worked answers first, then
-- agreement with the per-customer functions on generated data, parallel =
-- serial, and bad input.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TEMP TABLE cev (customer bigint, occurred_at date, amount numeric);
INSERT INTO cev VALUES
  -- 1: purchases 2025-01-01, -11, -21 (k = 3, mean gap 20 / 2 = 10)
  (1, '2025-01-01', 10), (1, '2025-01-11', 10), (1, '2025-01-21', 10),
  -- 2: purchases 2024-01-01 and 2024-07-01 (k = 2, mean gap 182)
  (2, '2024-01-01', 40), (2, '2024-07-01', 40),
  -- 3: one purchase 2024-12-01 (not in the population gap)
  (3, '2024-12-01', 25),
  -- 4: activity only, 2025-02-01
  (4, '2025-02-01', NULL),
  -- 5: its only event is after as_of
  (5, '2025-04-01', 99);
CREATE TEMP TABLE cpr AS
  SELECT customer, clm.profile(occurred_at, amount) AS p FROM cev GROUP BY customer;

-- Stages as of 2025-03-01.  Population gap g = (10 + 182) / 2 = 96.
-- 1: E = (2*96 + 20) / (2 + 2) = 53, t = 2025-03-01 - 2025-01-21 = 39,
--    ratio 0.74 <= 2, first purchase 59 days ago -> active (the day before
--    the last purchase: t' = 9, E' = (192 + 10) / 3 = 67.3, 9 <= 4 E': no win-back)
-- 2: E = (192 + 182) / 3 = 124.67, t = 243 (2024-07-01 .. 2025-03-01),
--    ratio 1.95 -> active (t' = 181 <= 4 * 96: no win-back)
-- 3: E = g = 96, t = 90, ratio 0.94 -> active
-- 4: prospect, last seen 28 days ago
-- 5: no event on or before the day: NULL stage
SELECT r.* FROM (SELECT clm.customer_stages(customer, p, '2025-03-01') AS s FROM cpr) x,
     clm.customer_stage_rows(x.s, population_gap_days => NULL) r ORDER BY customer_id;
-- with g = 30 given: 3 has E = 30, ratio 3 -> at_risk; 1: E = (60 + 20)/4 = 20,
-- ratio 1.95 -> active; 2: E = (60 + 182)/3 = 80.67, ratio 3.01 -> at_risk
SELECT customer_id, stage, reason
FROM (SELECT clm.customer_stages(customer, p, '2025-03-01') AS s FROM cpr) x,
     clm.customer_stage_rows(x.s, population_gap_days => 30) r ORDER BY customer_id;
-- fixed rules as clm.stage takes them: fixed_days, new_days
SELECT customer_id, stage, expected_gap_days
FROM (SELECT clm.customer_stages(customer, p, '2025-03-01') AS s FROM cpr) x,
     clm.customer_stage_rows(x.s, 40, 2, 60, 2, 4, 8, true) r ORDER BY customer_id;
-- nobody with two purchase days: the population gap is 30 (customer 3 alone:
-- E = 30, t = 90 -> at_risk)
SELECT customer_id, stage, expected_gap_days
FROM (SELECT clm.customer_stages(customer, p, '2025-03-01') AS s FROM cpr WHERE customer IN (3, 4)) x,
     clm.customer_stage_rows(x.s, population_gap_days => NULL) r ORDER BY customer_id;

-- RFM as of 2025-03-01 with n = 3: N = 3 customers have a purchase on or
-- before the day (4 has none, 5 buys later: no rows), no segment map.
--   1: R = 39,  F = 3, M = 30
--   2: R = 243, F = 2, M = 80
--   3: R = 90,  F = 1, M = 25
-- score(v) = 1 + floor(n * worse(v) / N), N = 3, n = 3:
--   R worst to best 243, 90, 39: worse 0, 1, 2 -> 1, 2, 3
--   F 1, 2, 3 -> 1, 2, 3;  M 25, 30, 80 -> 1, 2, 3
--   codes: 1 "332", 2 "123", 3 "211"
SELECT r.* FROM (SELECT clm.customer_rfm(customer, p, '2025-03-01') AS s FROM cpr) x,
     clm.customer_rfm_rows(x.s, 3, NULL) r ORDER BY customer_id;

-- Ties (n = 3, N = 5), as of 2025-03-01:
--   10: R = 1,   F = 1, M = 100     11: R = 28, F = 2, M = 100
--   12: R = 90,  F = 1, M = 20      13: R = 1,  F = 1, M = 60 (two orders, one day)
--   14: R = 212, F = 3, M = 30      15: visits only (no row)
-- R worst to best 212, 90, 28, 1(x2): worse 0, 1, 2, 3 -> 1, 1, 2, 2
--   (1 + floor(3*2/5) = 2, 1 + floor(9/5) = 2: the tie at the top shares 2)
-- F 1(x3), 2, 3: worse 0, 3, 4 -> 1, 2, 3;  M 20, 30, 60, 100(x2): worse
--   0, 1, 2, 3 -> 1, 1, 2, 2
CREATE TEMP TABLE tev (customer bigint, occurred_at date, amount numeric);
INSERT INTO tev VALUES
  (10, '2025-02-28', 100),
  (11, '2025-01-01', 50), (11, '2025-02-01', 50),
  (12, '2024-12-01', 20),
  (13, '2025-02-28', 30), (13, '2025-02-28', 30),
  (14, '2024-06-01', 10), (14, '2024-07-01', 10), (14, '2024-08-01', 10),
  (15, '2025-01-05', NULL);
CREATE TEMP TABLE tpr AS
  SELECT customer, clm.profile(occurred_at, amount) AS p FROM tev GROUP BY customer;
SELECT r.* FROM (SELECT clm.customer_rfm(customer, p, '2025-03-01') AS s FROM tpr) x,
     clm.customer_rfm_rows(x.s, 3, NULL) r ORDER BY customer_id;
-- the same scores as clm.rfm_score with clm.rfm_breakpoints of the same customers
SELECT clm.rfm_breakpoints(p, '2025-03-01', 3) FROM tpr;
-- frozen or fixed breakpoints are used as given; rfm11 labels (5 scores):
-- 10: R = 1 <= 7 -> r 5, F = 1 -> f 1, M = 100 >= 25, 50, 100 -> m 4: 514
-- 11: R = 28 <= 180, 90, 30 -> 4, F = 2 -> 2, M = 100 -> 4: 424
-- 12: R = 90 -> 3, F = 1 -> 1, M = 20 -> 1: 311;  13: 5, 1, M = 60 -> 3: 513
-- 14: R = 212 -> 1, F = 3 -> 3, M = 30 -> 2: 132; segments as clm.rfm_segment:
SELECT r.customer_id, r.rfm_code, r.segment
FROM (SELECT clm.customer_rfm(customer, p, '2025-03-01') AS s FROM tpr) x,
     clm.customer_rfm_rows(x.s, 'n=5 r<=180,90,30,7 f>=2,3,5,8 m>=25,50,100,250'::clm.rfm_breakpoints) r
ORDER BY customer_id;
SELECT (clm.rfm_segment(5, 1, 4)).segment AS s514, (clm.rfm_segment(4, 2, 4)).segment AS s424,
       (clm.rfm_segment(3, 1, 1)).segment AS s311, (clm.rfm_segment(5, 1, 3)).segment AS s513,
       (clm.rfm_segment(1, 3, 2)).segment AS s132;

-- Agreement with the per-customer functions on 3000 generated customers
CREATE TEMP TABLE gpr AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p
  FROM clm.generate_events(3000) GROUP BY customer_id;
-- stages: clm.stage with clm.population_gap of the same rows
SELECT count(*) AS customers,
       count(*) FILTER (WHERE o.stage IS DISTINCT FROM (s).stage OR o.reason <> (s).reason
                          OR o.expected_gap_days IS DISTINCT FROM (s).expected_gap_days
                          OR o.days_since_last_purchase IS DISTINCT FROM (s).days_since_last_purchase
                          OR o.gap_ratio IS DISTINCT FROM (s).gap_ratio) AS differ
FROM (SELECT clm.customer_stages(customer_id, p, '2025-06-30') AS st FROM gpr) x,
     clm.customer_stage_rows(x.st, population_gap_days => NULL) o
JOIN (SELECT customer_id,
             clm.stage(p, '2025-06-30', (SELECT clm.population_gap(p, '2025-06-30') FROM gpr)) AS s
      FROM gpr) e USING (customer_id);
-- the select-list form (one row a call, no tuplestore) gives the same rows in
-- the same order as the FROM form, with the gap computed, given, or as rules
SELECT count(*) AS customers,
       count(*) FILTER (WHERE f IS DISTINCT FROM l) AS differ
FROM (SELECT row_number() OVER () AS n, r AS f
      FROM (SELECT clm.customer_stages(customer_id, p, '2025-06-30') AS st FROM gpr) x,
           clm.customer_stage_rows(x.st, population_gap_days => NULL) r) a
FULL JOIN (SELECT row_number() OVER () AS n, r AS l
           FROM (SELECT clm.customer_stage_rows(x.st, population_gap_days => NULL::float8) AS r
                 FROM (SELECT clm.customer_stages(customer_id, p, '2025-06-30') AS st FROM gpr) x) y) b
  USING (n);
SELECT (SELECT array_agg(r ORDER BY r.customer_id)
        FROM (SELECT clm.customer_stages(customer_id, p, '2025-06-30') AS st FROM gpr) x,
             clm.customer_stage_rows(x.st, 20, 3, 10, 1.5, 3, 6, false) r)
     = (SELECT array_agg(r ORDER BY (r).customer_id)
        FROM (SELECT clm.customer_stage_rows(x.st, 20, 3, 10, 1.5, 3, 6, false) AS r
              FROM (SELECT clm.customer_stages(customer_id, p, '2025-06-30') AS st FROM gpr) x) y)
       AS given_gap_same,
       (SELECT array_agg(r ORDER BY r.customer_id)
        FROM (SELECT clm.customer_stages(customer_id, p, '2025-06-30') AS st FROM gpr) x,
             clm.customer_stage_rows(x.st, clm.stage_rules(NULL)) r)
     = (SELECT array_agg(r ORDER BY (r).customer_id)
        FROM (SELECT clm.customer_stage_rows(x.st, clm.stage_rules(NULL)) AS r
              FROM (SELECT clm.customer_stages(customer_id, p, '2025-06-30') AS st FROM gpr) x) y)
       AS rules_same;
-- the hand-worked customers from the select list; NULL state: no row
SELECT (clm.customer_stage_rows(x.s, population_gap_days => NULL::float8)).*
FROM (SELECT clm.customer_stages(customer, p, '2025-03-01') AS s FROM cpr) x ORDER BY customer_id;
SELECT count(*) AS null_state_rows FROM (SELECT clm.customer_stage_rows(NULL::bigint[]) AS r) y;
-- Inside an aggregate the state is an expanded array grown in place; as a
-- running (window) aggregate every row's value holds the customers so far,
-- the last one the aggregate's; a user's aggregate over the transition
-- function with an initial state (flat) carries it on; direct calls (flat
-- states, copied) give the same value
WITH w AS (
  SELECT clm.customer_stages(customer_id, p, '2025-06-30') OVER w AS s,
         clm.customer_rfm(customer_id, p, '2025-06-30') OVER w AS r,
         row_number() OVER w AS n
  FROM gpr WINDOW w AS (ORDER BY customer_id))
SELECT (SELECT bool_and(s[2] = n AND array_length(s, 1) = 4 + 4 * n) FROM w) AS running_counts,
       (SELECT s FROM w ORDER BY n DESC LIMIT 1)
         = (SELECT clm.customer_stages(customer_id, p, '2025-06-30' ORDER BY customer_id) FROM gpr) AS last_is_aggregate,
       (SELECT r FROM w ORDER BY n DESC LIMIT 1)
         = (SELECT clm.customer_rfm(customer_id, p, '2025-06-30' ORDER BY customer_id) FROM gpr) AS rfm_last_is_aggregate;
CREATE AGGREGATE pg_temp.stages_from(bigint, clm.profile, date) (
  SFUNC = clm.customer_stages_trans, STYPE = bigint[],
  FINALFUNC = clm.customer_stages_final,
  INITCOND = '{101,1,9191,4,77,4294976487,4294976487,39475044417536}');
-- the initial record: customer 77, 1 activity day and 1 purchase day, all
-- 2025-03-01 (day 9191): new; then the 5 customers of cpr
SELECT customer_id, stage FROM clm.customer_stage_rows(
  (SELECT pg_temp.stages_from(customer, p, '2025-03-01') FROM cpr)) ORDER BY customer_id;
SELECT clm.customer_stages_trans(clm.customer_stages_trans(NULL, 1, p1, '2025-06-30'), 2, p2, '2025-06-30')
       = (SELECT clm.customer_stages(customer_id, p, '2025-06-30' ORDER BY customer_id)
          FROM gpr WHERE customer_id IN (1, 2)) AS direct_calls
FROM (SELECT (SELECT p FROM gpr WHERE customer_id = 1) AS p1, (SELECT p FROM gpr WHERE customer_id = 2) AS p2) x;
\set VERBOSITY sqlstate
SELECT pg_temp.stages_from(customer, p, '2025-03-02') FROM cpr;
CREATE AGGREGATE pg_temp.stages_bad(bigint, clm.profile, date) (
  SFUNC = clm.customer_stages_trans, STYPE = bigint[], INITCOND = '{101,2,9191,4,77,0,0,0}');
SELECT pg_temp.stages_bad(customer, p, '2025-03-01') FROM cpr;
\set VERBOSITY default
-- RFM: clm.rfm_score with clm.rfm_breakpoints, clm.rfm_segment (rfm11)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE (o.days_since_last_purchase, o.orders, o.total_spend,
                               o.r_score, o.f_score, o.m_score, o.rfm_code)
                              IS DISTINCT FROM
                              ((s).days_since_last_purchase, (s).orders, (s).total_spend,
                               (s).r_score, (s).f_score, (s).m_score, (s).rfm_code)
                          OR o.segment IS DISTINCT FROM (clm.rfm_segment(s)).segment) AS differ
FROM (SELECT clm.customer_rfm(customer_id, p, '2025-06-30') AS st FROM gpr) x,
     clm.customer_rfm_rows(x.st) o
JOIN (SELECT customer_id, clm.rfm_score(p, (SELECT clm.rfm_breakpoints(p, '2025-06-30') FROM gpr), '2025-06-30') AS s
      FROM gpr) e USING (customer_id);
-- the select-list form (one row a call): the same rows in the same order,
-- with the customers' own breakpoints, given ones and no map
SELECT (SELECT array_agg(r ORDER BY r.customer_id)
        FROM (SELECT clm.customer_rfm(customer_id, p, '2025-06-30') AS st FROM gpr) x,
             clm.customer_rfm_rows(x.st) r)
     = (SELECT array_agg(r ORDER BY (r).customer_id)
        FROM (SELECT clm.customer_rfm_rows(x.st) AS r
              FROM (SELECT clm.customer_rfm(customer_id, p, '2025-06-30') AS st FROM gpr) x) y)
       AS own_same,
       (SELECT array_agg(r ORDER BY r.customer_id)
        FROM (SELECT clm.customer_rfm(customer_id, p, '2025-06-30') AS st FROM gpr) x,
             clm.customer_rfm_rows(x.st, 'n=5 r<=180,90,30,7 f>=2,3,5,8 m>=25,50,100,250'::clm.rfm_breakpoints) r)
     = (SELECT array_agg(r ORDER BY (r).customer_id)
        FROM (SELECT clm.customer_rfm_rows(x.st, 'n=5 r<=180,90,30,7 f>=2,3,5,8 m>=25,50,100,250'::clm.rfm_breakpoints) AS r
              FROM (SELECT clm.customer_rfm(customer_id, p, '2025-06-30') AS st FROM gpr) x) y)
       AS given_same,
       (SELECT count(*) FILTER (WHERE (r).segment IS NOT NULL)
        FROM (SELECT clm.customer_rfm_rows(x.st, 4, NULL) AS r
              FROM (SELECT clm.customer_rfm(customer_id, p, '2025-06-30') AS st FROM gpr) x) y)
       AS no_map_segments;
-- customers without a purchase on or before the day have no RFM row
SELECT (SELECT count(*) FROM clm.customer_rfm_rows((SELECT clm.customer_rfm(customer_id, p, '2025-06-30') FROM gpr)))
     = (SELECT count(*) FROM gpr WHERE clm.rfm_score(p, 'n=5 r<=4,3,2,1 f>=2,3,4,5 m>=1,2,3,4', '2025-06-30') IS NOT NULL)
       AS rows_are_purchasers;

-- Per group: the population is the group (RFM within each group), n = 2.
-- Group 0 = {10, 12, 14}, N = 3: R 212, 90, 1 -> 1, 1, 2 (1 + floor(2*2/3));
--   F 1, 1, 3 -> 1, 1, 2;  M 20, 30, 100 -> 1, 1, 2:  10 "212", 12 "111", 14 "121"
-- Group 1 = {11, 13}, N = 2: R 28, 1 -> 1, 2;  F 1, 2 -> 1, 2 (13, 11);
--   M 60, 100 -> 1, 2 (13, 11):  11 "122", 13 "211"
SELECT x.grp, r.customer_id, r.rfm_code
FROM (SELECT customer % 2 AS grp, clm.customer_rfm(customer, p, '2025-03-01') AS s
      FROM tpr GROUP BY 1) x,
     clm.customer_rfm_rows(x.s, 2, NULL) r ORDER BY 1, 2;
-- the same from the select list, one set per group (the rfm11 map read for
-- each set: segments of 2-score codes as clm.rfm_segment gives them)
SELECT grp, (r).customer_id, (r).rfm_code, (r).segment,
       (r).segment IS NOT DISTINCT FROM (clm.rfm_segment((r).r_score, (r).f_score, (r).m_score)).segment AS as_rfm_segment
FROM (SELECT grp, clm.customer_rfm_rows(s, 2) AS r
      FROM (SELECT customer % 2 AS grp, clm.customer_rfm(customer, p, '2025-03-01') AS s
            FROM tpr GROUP BY 1) x) y ORDER BY 1, 2;

-- Empty input: NULL state, no rows
SELECT clm.customer_stages(customer, p, '2025-03-01') IS NULL AS empty_stages,
       clm.customer_rfm(customer, p, '2025-03-01') IS NULL AS empty_rfm
FROM cpr WHERE false;
SELECT count(*) FROM clm.customer_stage_rows(NULL);
SELECT count(*) FROM clm.customer_rfm_rows(NULL);
-- nobody with a purchase: no RFM state
SELECT clm.customer_rfm(customer, p, '2025-03-01') IS NULL AS no_purchasers FROM cpr WHERE customer = 4;

-- Bad input
\set VERBOSITY sqlstate
SELECT clm.customer_stages(customer, p, NULL) FROM cpr;
SELECT clm.customer_stages(customer, p, 'infinity') FROM cpr;
SELECT clm.customer_stages(NULL, p, '2025-03-01') FROM cpr;
SELECT clm.customer_stages(customer, p, '2025-03-01'::date + (customer % 2)::int) FROM cpr;
SELECT clm.customer_rfm(customer, p, NULL) FROM cpr;
SELECT clm.customer_rfm(customer, p, '-infinity') FROM cpr;
SELECT clm.customer_rfm(NULL, p, '2025-03-01') FROM cpr;
SELECT clm.customer_rfm(customer, p, '2025-03-01'::date + (customer % 2)::int) FROM cpr;
-- rules
SELECT * FROM clm.customer_stage_rows((SELECT clm.customer_stages(customer, p, '2025-03-01') FROM cpr), prior_strength => NULL);
SELECT * FROM clm.customer_stage_rows((SELECT clm.customer_stages(customer, p, '2025-03-01') FROM cpr), population_gap_days => -1);
SELECT * FROM clm.customer_stage_rows((SELECT clm.customer_stages(customer, p, '2025-03-01') FROM cpr), active_ratio => 5);
SELECT * FROM clm.customer_stage_rows((SELECT clm.customer_stages(customer, p, '2025-03-01') FROM cpr), population_gap_days => 'NaN');
SELECT * FROM clm.customer_stage_rows((SELECT clm.customer_stages(customer, p, '2025-03-01') FROM cpr), population_gap_days => 'Infinity');
SELECT * FROM clm.customer_stage_rows((SELECT clm.customer_stages(customer, p, '2025-03-01') FROM cpr), lapsed_ratio => 'Infinity');
SELECT * FROM clm.customer_rfm_rows((SELECT clm.customer_rfm(customer, p, '2025-03-01') FROM cpr), 1);
SELECT * FROM clm.customer_rfm_rows((SELECT clm.customer_rfm(customer, p, '2025-03-01') FROM cpr), NULL::int);
SELECT * FROM clm.customer_rfm_rows((SELECT clm.customer_rfm(customer, p, '2025-03-01') FROM cpr), NULL::clm.rfm_breakpoints);
SELECT * FROM clm.customer_rfm_rows((SELECT clm.customer_rfm(customer, p, '2025-03-01') FROM cpr), 5, 'no such map');
-- wrong or corrupt states: the other aggregate's, a short one, a count that
-- does not match, a state still being built, impossible records
SELECT * FROM clm.customer_rfm_rows((SELECT clm.customer_stages(customer, p, '2025-03-01') FROM cpr));
SELECT * FROM clm.customer_stage_rows(ARRAY[101, 0, 9190]::bigint[]);
SELECT * FROM clm.customer_stage_rows(ARRAY[101, 2, 9190, 4, 1, 0, 0, 0]::bigint[]);
SELECT * FROM clm.customer_stage_rows(ARRAY[101, 1, 9190, 4, 1, 0, 0, 0, 0, 0, 0, 0]::bigint[]);
SELECT * FROM clm.customer_stage_rows(ARRAY[101, 1, 9190, 3, 1, 0, 0]::bigint[]);
SELECT * FROM clm.customer_stage_rows(ARRAY[101, 1, 9190, 4, 1, (1::bigint << 32) | 9999, 0, 0]::bigint[]);
SELECT * FROM clm.customer_stage_rows(ARRAY[101, 1, 9190, 4, 1, (1::bigint << 32) | 9000, (5::bigint << 32) | 9000, 0]::bigint[]);
SELECT * FROM clm.customer_stage_rows(ARRAY[101, 1, 9190, 4, 1, -1, 0, 0]::bigint[]);
SELECT * FROM clm.customer_rfm_rows(ARRAY[102, 1, 9190, 4, 1, -5, 1, 100]::bigint[]);
SELECT * FROM clm.customer_rfm_rows(ARRAY[102, 1, 9190, 4, 1, 5, 0, 100]::bigint[]);
SELECT * FROM clm.customer_rfm_rows(ARRAY[102, 1, 9190, 4, 1, 5, 1, 100, NULL]::bigint[]);
SELECT * FROM clm.customer_rfm_rows('{{102, 1}, {9190, 4}}'::bigint[]);
\set VERBOSITY default
-- a valid hand-made state is read like the aggregate's: one customer, R = 5,
-- F = 1, M = 100 (units of 1/10000): alone, it scores 1 everywhere
SELECT * FROM clm.customer_rfm_rows(ARRAY[102, 1, 9190, 4, 7, 5, 1, 1000000]::bigint[], 5, NULL);
