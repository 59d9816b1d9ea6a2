--
-- RFM: tie-aware breakpoints, scores, segment maps (presets and a broken
-- user map), bad input.  Every number is worked out by hand in the comments.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set VERBOSITY default

-- Nine customers, as of 2025-01-31 (amounts in currency units):
--   c1  buys 01-10 (50), 01-20 (50), 01-30 (100)   R = 1,  F = 3, M = 200
--   c2  buys 01-30 twice (100 + 20): one day         R = 1,  F = 1, M = 120
--   c3  buys 01-11 (10), 01-21 (10)                  R = 10, F = 2, M = 20
--   c4  buys 01-21 (300)                             R = 10, F = 1, M = 300
--   c5  buys 2024-11-01, 12-01, 12-22 (40 each)      R = 40, F = 3, M = 120
--   c6  buys 2024-11-02 (5)                          R = 90, F = 1, M = 5
--   c7  only a visit (01-25): no purchase            excluded
--   c8  buys 2025-02-15 (500): after as_of           excluded (as_of before its first event)
--   c9  buys 2024-12-22 (60), refund 01-05 (-10)     R = 40, F = 1, M = 50
-- R = days since the last purchase day, F = purchase days, M = net spend.
CREATE TABLE rfm_ev (customer_id text, occurred_at date, amount numeric);
INSERT INTO rfm_ev VALUES
  ('c1', '2025-01-10', 50), ('c1', '2025-01-20', 50), ('c1', '2025-01-30', 100),
  ('c2', '2025-01-30', 100), ('c2', '2025-01-30', 20),
  ('c3', '2025-01-11', 10), ('c3', '2025-01-21', 10),
  ('c4', '2025-01-21', 300),
  ('c5', '2024-11-01', 40), ('c5', '2024-12-01', 40), ('c5', '2024-12-22', 40),
  ('c6', '2024-11-02', 5),
  ('c7', '2025-01-25', NULL),
  ('c8', '2025-02-15', 500),
  ('c9', '2024-12-22', 60), ('c9', '2025-01-05', -10);
CREATE TABLE rfm_prof AS
  SELECT customer_id, clm.profile(occurred_at, amount) AS p FROM rfm_ev GROUP BY customer_id;

-- Quintile breakpoints (n = 5).  N = 7 customers with a purchase, 2 excluded.
-- score(v) = 1 + floor(5 * worse(v) / 7), worse(v) = customers with a
-- strictly worse value; the cut of score s+1 is the first value, worst to
-- best, with 5 * worse >= s * 7 (s = 1..4: 7, 14, 21, 28).
--  R worst to best: 90 (1), 40 (2), 10 (2), 1 (2); worse = 0, 1, 3, 5
--    5*worse = 0, 5, 15, 25: cuts 10 (15 >= 7), 10 (15 >= 14), 1 (25 >= 21),
--    none reaches 28: one step past the best, 1 - 1 = 0.    r<=10,10,1,0
--    scores: 90 -> 1, 40 -> 1, 10 -> 3, 1 -> 4 (the tie of two at 1 holds
--    2/7 > 1/5 of the population, so no one gets 5: ties are never split)
--  F worst to best: 1 (4), 2 (1), 3 (2); worse = 0, 4, 5; 5*worse = 0, 20, 25
--    cuts 2, 2, 3, and 3 + 1 = 4.                            f>=2,2,3,4
--    scores: 1 -> 1, 2 -> 3, 3 -> 4
--  M: 5 (1), 20 (1), 50 (1), 120 (2), 200 (1), 300 (1); worse = 0,1,2,3,5,6
--    5*worse = 0, 5, 10, 15, 25, 30: cuts 50, 120, 200, 300.  m>=50,120,200,300
--    scores: 5 -> 1, 20 -> 1, 50 -> 2, 120 -> 3, 200 -> 4, 300 -> 5
SELECT clm.rfm_breakpoints(p, '2025-01-31') FROM rfm_prof;
SELECT * FROM clm.rfm_cut_points((SELECT clm.rfm_breakpoints(p, '2025-01-31') FROM rfm_prof));

-- Scores: c1 = 444, c2 = 413, c3 = 331, c4 = 315, c5 = 143, c6 = 111,
-- c9 = 112; c7 and c8 have no purchase on or before 2025-01-31: NULL.
-- The tie c1/c2 at R = 1 and c5/c9 at R = 40 share scores, and so do
-- c2/c5 at M = 120 (NTILE would split each tie).
CREATE TABLE rfm_bp AS SELECT 'q1'::text AS name, clm.rfm_breakpoints(p, '2025-01-31') AS bp FROM rfm_prof;
SELECT customer_id, (s).*
FROM (SELECT customer_id, clm.rfm_score(p, bp, '2025-01-31') AS s FROM rfm_prof, rfm_bp) x
ORDER BY customer_id;

-- n = 3: score = 1 + floor(3 * worse / 7), cuts where 3 * worse >= 7, 14
--  R: 3*worse = 0, 3, 9, 15: cuts 10, 1               r<=10,1
--  F: 3*worse = 0, 12, 15: cuts 2, 3                   f>=2,3
--  M: 3*worse = 0, 3, 6, 9, 15, 18: cuts 120, 200      m>=120,200
SELECT clm.rfm_breakpoints(p, '2025-01-31', 3) FROM rfm_prof;

-- as_of before every first event: nobody has a purchase, no breakpoints,
-- and no score
SELECT clm.rfm_breakpoints(p, '2024-10-01') IS NULL AS no_breakpoints FROM rfm_prof;
SELECT clm.rfm_score(p, bp, '2024-10-01') IS NULL AS no_score FROM rfm_prof, rfm_bp WHERE customer_id = 'c1';
-- no rows at all: NULL as well
SELECT clm.rfm_breakpoints(p, '2025-01-31') IS NULL AS empty FROM rfm_prof WHERE false;

-- Frozen breakpoints: the 2025-01-31 breakpoints applied on 2025-03-01 score
-- behaviour, not a re-binning.  c1: R = 30 (> 10) -> 1, F = 3 -> 4,
-- M = 200 -> 4: 144.  c8: R = 14 -> 1, F = 1 -> 1, M = 500 -> 5: 115.
-- c7 still has no purchase: NULL.
SELECT customer_id, (clm.rfm_score(p, bp, '2025-03-01')).rfm_code
FROM rfm_prof, rfm_bp WHERE customer_id IN ('c1', 'c7', 'c8') ORDER BY customer_id;

-- The value is storable and its text form round-trips exactly.
SELECT bp::text::clm.rfm_breakpoints::text = bp::text AS round_trip FROM rfm_bp;

-- Binary I/O (COPY BINARY, the binary protocol): a version byte and the
-- text form, validated on input; both types round-trip.
SELECT '/tmp/clm_rfm_' || pg_backend_pid() || '.bin' AS binfile \gset
COPY (SELECT bp, 'n=5 as_of=2025-01-31 excluded=2 r=1:2,10:2,40:2,90:1 f=1:4,2:1,3:2 m=50000:1,200000:1,500000:1,1200000:2,2000000:1,3000000:1'::clm.rfm_state AS st
      FROM rfm_bp) TO :'binfile' (FORMAT binary);
CREATE TABLE rfm_bin (bp clm.rfm_breakpoints, st clm.rfm_state);
COPY rfm_bin FROM :'binfile' (FORMAT binary);
SELECT b.bp::text = a.bp::text AS same_bp, clm.rfm_state_final(b.st)::text = a.bp::text AS same_state
FROM rfm_bin b, rfm_bp a;
SELECT substr(clm.rfm_breakpoints_send(bp), 1, 8) AS binary_start FROM rfm_bp;

-- The aggregate state is a real type (what Citus ships between nodes):
-- exact (value, count) histograms.  Finalising the state of the population
-- above gives the same breakpoints.
SELECT 'n=5 as_of=2025-01-31 excluded=2 r=1:2,10:2,40:2,90:1 f=1:4,2:1,3:2 m=50000:1,200000:1,500000:1,1200000:2,2000000:1,3000000:1'::clm.rfm_state;
SELECT clm.rfm_state_final('n=5 as_of=2025-01-31 excluded=2 r=1:2,10:2,40:2,90:1 f=1:4,2:1,3:2 m=50000:1,200000:1,500000:1,1200000:2,2000000:1,3000000:1')::text
       = (SELECT bp::text FROM rfm_bp) AS same;

-- Fixed business thresholds for scores 2..5: R <= 30, 14, 7, 3 days;
-- F >= 2, 3, 5, 8 purchase days; M >= 50, 100, 250, 1000.
-- Raw values 7 days, 3 days, 99.99: R passes 30, 14, 7 -> 4; F passes 2, 3
-- -> 3; M passes 50 -> 2: 432.  c4 on 2025-01-31 (10, 1, 300): R passes 30,
-- 14 -> 3; F -> 1; M passes 50, 100, 250 -> 4: 314.
SELECT clm.rfm_breakpoints_fixed('{30,14,7,3}', '{2,3,5,8}', '{50,100,250,1000}');
SELECT (clm.rfm_score(7, 3, 99.99, clm.rfm_breakpoints_fixed('{30,14,7,3}', '{2,3,5,8}', '{50,100,250,1000}'))).*;
SELECT (clm.rfm_score(p, clm.rfm_breakpoints_fixed('{30,14,7,3}', '{2,3,5,8}', '{50,100,250,1000}'), '2025-01-31')).rfm_code
FROM rfm_prof WHERE customer_id = 'c4';
-- the same through text input; trailing zeros of numeric do not count as decimals
SELECT 'n=5 r<=30,14,7,3 f>=2,3,5,8 m>=50,100,250,1000'::clm.rfm_breakpoints::text;
SELECT clm.rfm_breakpoints_fixed('{5}', '{2}', '{19.90000}');

-- Segment maps.  The presets are total and disjoint over all 125 cells for
-- n = 5: every cell covered by exactly one rule.
SELECT map_name, count(*) AS cells, count(segment) AS labelled,
       count(*) FILTER (WHERE covering_rules = 1) AS covered_once,
       count(DISTINCT segment) AS segments
FROM (SELECT 'grid10' AS map_name, * FROM clm.rfm_map_cells('grid10')
      UNION ALL SELECT 'rfm11', * FROM clm.rfm_map_cells('rfm11')) c
GROUP BY map_name ORDER BY map_name;
-- and the validator finds no gap, no overlap and no dead rule in either
SELECT count(*) AS problems FROM clm.rfm_map_check('grid10');
SELECT count(*) AS problems FROM clm.rfm_map_check('rfm11');
-- cells per segment of rfm11 (by hand: champions 2*2*2 = 8; loyal 2*2*3 +
-- 1*2*5 = 22; potential loyalists 2*2*5 = 20; new 5; promising 5; need
-- attention 5; about to sleep 10; can't lose them 8; at risk 12 + 10 = 22;
-- hibernating 10; lost 10; total 125)
SELECT segment, count(*) AS cells FROM clm.rfm_map_cells('rfm11') GROUP BY segment ORDER BY min(rule_id);

-- The customers' segments: c1 444 -> champions (rule 1; grid10: loyal
-- customers, rule 2); c2 413 -> promising; c3 331 -> need attention; c4 315
-- -> about to sleep; c5 143 -> at risk (rule 10); c6 111 and c9 112 -> lost.
SELECT customer_id, (s).rfm_code, (clm.rfm_segment(s)).*, (clm.rfm_segment(s, 'grid10')).segment AS grid10
FROM (SELECT customer_id, clm.rfm_score(p, bp, '2025-01-31') AS s FROM rfm_prof, rfm_bp) x
WHERE s IS NOT NULL ORDER BY customer_id;
-- the map may change from row to row (the cached map is reloaded)
SELECT m, (clm.rfm_segment(4, 4, 4, m)).* FROM (VALUES (1, 'rfm11'), (2, 'grid10'), (3, 'rfm11')) v(i, m) ORDER BY i;
-- a cell outside the map, an unknown map: NULL
SELECT clm.rfm_segment(9, 9, 9) IS NULL AS outside, clm.rfm_segment(1, 1, 1, 'nope') IS NULL AS unknown;

-- A broken user map:
--   1 recent    prio 1  r 4-5                     (50 cells)
--   2 old       prio 1  r 1-3  f 1-4              (60 cells)
--   3 old big   prio 2  r 1-2  f 5                (10 cells)
--     gaps: r = 3, f = 5, m = 1..5                (5 rows)
--   4 vip       prio 1  r 5 f 5 m 5: overlaps rule 1 at equal priority
--     with another segment                        (1 row)
--     and never fires: rule 1 wins the tie (lower rule_id), so rule 4 is
--     dead as well
--   5 ghost     prio 3  r 4-5 f 1: every cell taken by rule 1 (dead)
--   6 empty     prio 4  r 3-2: empty range (dead)
--   7 beyond    prio 5  r 6-9: no cell for n = 5 (dead)
INSERT INTO clm.rfm_segment_map (map_name, rule_id, segment, priority, r_min, r_max, f_min, f_max, m_min, m_max) VALUES
  ('broken', 1, 'recent', 1, 4, 5, 1, 5, 1, 5),
  ('broken', 2, 'old', 1, 1, 3, 1, 4, 1, 5),
  ('broken', 3, 'old big', 2, 1, 2, 5, 5, 1, 5),
  ('broken', 4, 'vip', 1, 5, 5, 5, 5, 5, 5),
  ('broken', 5, 'ghost', 3, 4, 5, 1, 1, 1, 5),
  ('broken', 6, 'empty', 4, 3, 2, 1, 5, 1, 5),
  ('broken', 7, 'beyond', 5, 6, 9, 1, 5, 1, 5);
SELECT * FROM clm.rfm_map_check('broken');
-- at the overlap the lowest rule_id fires
SELECT * FROM clm.rfm_segment(5, 5, 5, 'broken');
-- user rows are dumped by pg_dump, preset rows are not
SELECT c.relname, x.condition
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) x(tbl, condition) JOIN pg_class c ON c.oid = x.tbl
 WHERE e.extname = 'clm' ORDER BY 1;
SELECT count(*) FILTER (WHERE preset) AS preset_rows, count(*) FILTER (WHERE NOT preset) AS user_rows
FROM clm.rfm_segment_map;

-- Bad input, each with its SQLSTATE.
\set VERBOSITY sqlstate
SELECT clm.rfm_breakpoints(p, '2025-01-31', 1) FROM rfm_prof;            -- n < 2
SELECT clm.rfm_breakpoints(p, '2025-01-31', 10) FROM rfm_prof;           -- n > 9
SELECT clm.rfm_breakpoints(p, 'infinity') FROM rfm_prof;                 -- as_of not finite
SELECT clm.rfm_breakpoints(p, CASE WHEN customer_id = 'c1' THEN date '2025-01-31' ELSE date '2025-01-30' END) FROM rfm_prof;  -- as_of varies
SELECT clm.rfm_score(p, bp, '-infinity') FROM rfm_prof, rfm_bp;
SELECT clm.rfm_breakpoints(p, NULL) FROM rfm_prof;                   -- as_of NULL
SELECT clm.rfm_breakpoints_fixed('{30,14,7}', '{2,3,5,8}', '{50,100,250,1000}');   -- lengths differ
SELECT clm.rfm_breakpoints_fixed('{}', '{}', '{}');                                -- n = 1
SELECT clm.rfm_breakpoints_fixed('{3,7}', '{2,3}', '{50,100}');                    -- r increasing
SELECT clm.rfm_breakpoints_fixed('{7,3}', '{3,2}', '{50,100}');                    -- f decreasing
SELECT clm.rfm_breakpoints_fixed('{7,3}', '{2,3}', '{100,50}');                    -- m decreasing
SELECT clm.rfm_breakpoints_fixed('{7,3}', '{2,NULL}', '{50,100}');                 -- NULL threshold
SELECT clm.rfm_breakpoints_fixed('{7,3}', '{2,3}', '{50,100.00001}');              -- 5 decimals
SELECT clm.rfm_breakpoints_fixed('{7,3}', '{2,3}', '{50,NaN}');                    -- NaN
SELECT clm.rfm_score(-1, 1, 10, bp) FROM rfm_bp;                                       -- negative days
SELECT clm.rfm_score(1, 0, 10, bp) FROM rfm_bp;                                        -- no purchase
INSERT INTO clm.rfm_segment_map (map_name, rule_id, segment, priority, r_min) VALUES ('x', 1, 'x', 1, 0);  -- score range
-- corrupt text input of the breakpoints and of the state
SELECT ''::clm.rfm_breakpoints;
SELECT 'n=5 r<=1 f>=1 m>=1'::clm.rfm_breakpoints;                  -- too few thresholds
SELECT 'n=10 r<=1 f>=1 m>=1'::clm.rfm_breakpoints;                 -- n out of range
SELECT 'n=2 r<=1 f>=1 m>=1 '::clm.rfm_breakpoints;                 -- trailing text
SELECT 'n=3 r<=1,2 f>=1,2 m>=1,2'::clm.rfm_breakpoints;            -- r increasing
SELECT 'n=2 r<=1 f>=1 m>=1.00001'::clm.rfm_breakpoints;            -- 5 decimals
SELECT 'n=2 r<=99999999999 f>=1 m>=1'::clm.rfm_breakpoints;        -- r out of range
SELECT 'n=2 as_of=2025-02-30 customers=1 excluded=0 r<=1 f>=1 m>=1'::clm.rfm_breakpoints;  -- no such date
SELECT 'n=2 as_of=2025-01-31 customers=0 excluded=0 r<=1 f>=1 m>=1'::clm.rfm_breakpoints;  -- no customer
SELECT 'n=2 as_of=2025-01-31 customers=1 excluded=0 r<=1 f>=1 m>=1,2'::clm.rfm_breakpoints;  -- too many thresholds
SELECT 'n=2 as_of=2025-01-31 customers=1 excluded=0 r<=x f>=1 m>=1'::clm.rfm_breakpoints;  -- not a number
SELECT 'n=5 as_of=2025-01-31 excluded=0 r=1:1 f=1:2 m=1:1'::clm.rfm_state;                 -- counts differ
SELECT 'n=5 as_of=2025-01-31 excluded=0 r=2:1,1:1 f=1:2 m=1:2'::clm.rfm_state;             -- unsorted
SELECT 'n=5 as_of=2025-01-31 excluded=0 r=1:0 f=1:0 m=1:0'::clm.rfm_state;                 -- zero count
SELECT 'n=5 as_of=2025-01-31 excluded=-1 r= f= m='::clm.rfm_state;                         -- negative
SELECT 'n=5 as_of=2025-01-31 excluded=0 r=-1:1 f=1:1 m=1:1'::clm.rfm_state;                -- negative days
SELECT 'n=5 as_of=2025-01-31 excluded=0 r=1:1 f=0:1 m=1:1'::clm.rfm_state;                 -- F below 1
\set VERBOSITY default
-- the full message of one of them
SELECT 'n=3 r<=1,2 f>=1,2 m>=1,2'::clm.rfm_breakpoints;
SELECT clm.rfm_breakpoints_fixed('{30,14,7}', '{2,3,5,8}', '{50,100,250,1000}');

-- Parallel plan equals serial plan: 30,000 generated customers.
CREATE TABLE rfm_many AS
  SELECT i AS customer_id,
         clm.profile(d, amt) AS p
  FROM generate_series(1, 30000) i,
       LATERAL (SELECT date '2024-01-01' + (hashint4(i * 31 + k) & 255) AS d,
                       CASE WHEN i % 11 = 0 THEN NULL
                            ELSE ((hashint4(i * 17 + k) & 65535) / 100.0)::numeric END AS amt
                FROM generate_series(1, 1 + (i % 7)) k) e
  GROUP BY i;
ANALYZE rfm_many;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE rfm_s_bp AS SELECT clm.rfm_breakpoints(p, '2025-01-31') AS bp, clm.rfm_breakpoints(p, '2024-06-30', 7) AS bp7 FROM rfm_many;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT clm.rfm_breakpoints(p, '2025-01-31') FROM rfm_many;
CREATE TABLE rfm_p_bp AS SELECT clm.rfm_breakpoints(p, '2025-01-31') AS bp, clm.rfm_breakpoints(p, '2024-06-30', 7) AS bp7 FROM rfm_many;
SELECT s.bp::text = p.bp::text AS same5, s.bp7::text = p.bp7::text AS same7,
       (s.bp::text LIKE '%customers=27273 excluded=2727 %') AS counts
FROM rfm_s_bp s, rfm_p_bp p;
-- rfm_score and rfm_segment (which reads the map table through SPI) run in
-- the parallel workers and give the serial labels
EXPLAIN (COSTS OFF)
SELECT (clm.rfm_segment(clm.rfm_score(p, 'n=5 r<=60,30,14,7 f>=2,3,4,6 m>=50,150,300,600', '2024-09-12'))).segment, count(*)
FROM rfm_many GROUP BY 1;
CREATE TABLE rfm_p_seg AS
SELECT (clm.rfm_segment(clm.rfm_score(p, 'n=5 r<=60,30,14,7 f>=2,3,4,6 m>=50,150,300,600', '2024-09-12'))).segment, count(*)
FROM rfm_many GROUP BY 1;
RESET parallel_leader_participation;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE rfm_s_seg AS
SELECT (clm.rfm_segment(clm.rfm_score(p, 'n=5 r<=60,30,14,7 f>=2,3,4,6 m>=50,150,300,600', '2024-09-12'))).segment, count(*)
FROM rfm_many GROUP BY 1;
SELECT (SELECT count(*) FROM rfm_s_seg) AS segments,
       (SELECT sum(count) FROM rfm_s_seg) AS customers,
       (SELECT count(*) FROM (SELECT * FROM rfm_s_seg EXCEPT SELECT * FROM rfm_p_seg) d) AS differ;
RESET max_parallel_workers_per_gather;

-- The quantiles agree with plain SQL on the generated population: the
-- score of every customer equals 1 + floor(5 * worse / N) computed with
-- window functions.
WITH v AS (
  SELECT customer_id, (clm.summary(p, '2025-01-31')).* FROM rfm_many
), w AS (
  SELECT customer_id, days_since_last_purchase AS r, orders AS f, total_spend AS m,
         count(*) OVER () AS n,
         count(*) OVER (ORDER BY days_since_last_purchase DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
           - count(*) OVER (PARTITION BY days_since_last_purchase) AS worse_r,
         count(*) OVER (ORDER BY orders RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
           - count(*) OVER (PARTITION BY orders) AS worse_f,
         count(*) OVER (ORDER BY total_spend RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
           - count(*) OVER (PARTITION BY total_spend) AS worse_m
  FROM v WHERE orders > 0
)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE (s).r_score = 1 + (5 * worse_r) / n
                          AND (s).f_score = 1 + (5 * worse_f) / n
                          AND (s).m_score = 1 + (5 * worse_m) / n) AS agree
FROM w JOIN (SELECT customer_id, clm.rfm_score(p, bp, '2025-01-31') AS s FROM rfm_many, rfm_s_bp) x USING (customer_id);
