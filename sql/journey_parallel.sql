-- The journey aggregates (clm.stage_transitions, clm.population_gap,
-- clm.lifecycle, clm.retention) give the same value under a parallel plan (partial
-- aggregates in workers, merged by the combine function) as serially.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- 20000 customers, 1 to 7 events each over 2024-2025, a third of them
-- activity only.  A regular table: temporary tables are not scanned in parallel.
CREATE TABLE journey_par AS
SELECT c AS customer,
       clm.profile(date '2024-01-01' + ((c * 37 + k * k * 13 + k * 29) % 600),
                   CASE WHEN (c + k) % 3 = 0 THEN NULL ELSE ((c + k) % 50)::numeric END) AS p
FROM generate_series(1, 20000) c, generate_series(1, 1 + c % 7) k
GROUP BY c;
ANALYZE journey_par;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;

EXPLAIN (COSTS OFF)
SELECT clm.lifecycle(p, '2024-06-01', '2025-06-30', 'week') FROM journey_par;

SELECT clm.stage_transitions(p, '2024-09-01', '2025-03-01')::text AS par_tm,
       clm.stage_counts(p, '2024-09-01', '2025-03-01', 20)::text AS par_sc,
       clm.stage_transitions(p, '2024-09-01', '2025-03-01', 20)::text AS par_tm20,
       clm.stage_transitions(p, '2024-09-01', '2025-03-01', '20')::text AS par_tm20_quoted,
       clm.stage_counts(p, '2024-09-01', '2025-03-01', '20')::text AS par_sc_quoted,
       clm.lifecycle(p, '2024-06-01', '2025-06-30', 'week')::text AS par_lc_week,
       clm.lifecycle(p, '2024-01-01', '2025-12-31', 'month', 2, true, 7)::text AS par_lc_month,
       clm.retention(p, '2024-01-01', '2025-08-31', 'month')::text AS par_rt,
       clm.retention(p, '2024-01-01', '2025-08-31', 'month', 'on_or_after')::text AS par_rt_after,
       clm.retention(p, '2024-03-01', '2025-08-31', 'week', ARRAY[0, 1, 4, 13])::text AS par_rt_br,
       round(clm.population_gap(p, '2025-06-30')::numeric, 9) AS par_gap
FROM journey_par \gset

SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF)
SELECT clm.lifecycle(p, '2024-06-01', '2025-06-30', 'week') FROM journey_par;

SELECT clm.stage_transitions(p, '2024-09-01', '2025-03-01')::text = :'par_tm' AS same_tm,
       clm.stage_counts(p, '2024-09-01', '2025-03-01', 20)::text = :'par_sc' AS same_sc,
       clm.stage_transitions(p, '2024-09-01', '2025-03-01', 20)::text = :'par_tm20' AS same_tm20,
       clm.stage_transitions(p, '2024-09-01', '2025-03-01', '20')::text = :'par_tm20_quoted' AS same_tm20_quoted,
       clm.stage_counts(p, '2024-09-01', '2025-03-01', '20')::text = :'par_sc_quoted' AS same_sc_quoted,
       :'par_sc_quoted' = :'par_sc' AND :'par_tm20_quoted' = :'par_tm20' AS quoted_as_typed,
       clm.lifecycle(p, '2024-06-01', '2025-06-30', 'week')::text = :'par_lc_week' AS same_lc_week,
       clm.lifecycle(p, '2024-01-01', '2025-12-31', 'month', 2, true, 7)::text = :'par_lc_month' AS same_lc_month,
       clm.retention(p, '2024-01-01', '2025-08-31', 'month')::text = :'par_rt' AS same_rt,
       clm.retention(p, '2024-01-01', '2025-08-31', 'month', 'on_or_after')::text = :'par_rt_after' AS same_rt_after,
       clm.retention(p, '2024-03-01', '2025-08-31', 'week', ARRAY[0, 1, 4, 13])::text = :'par_rt_br' AS same_rt_br,
       round(clm.population_gap(p, '2025-06-30')::numeric, 9) = :par_gap AS same_gap
FROM journey_par;

-- The one-pass aggregates: the same rows under a parallel plan (the
-- customers' order in the state may differ; the population gap may differ in
-- its last bits, being summed in another order, so floats are rounded).
SET max_parallel_workers_per_gather = 2;
SELECT md5(string_agg(format('%s %s %s %s %s', customer_id, stage, reason,
                             round(expected_gap_days::numeric, 9), round(gap_ratio::numeric, 9)),
                      ',' ORDER BY customer_id)) AS par_cs
FROM clm.customer_stage_rows((SELECT clm.customer_stages(customer, p, '2025-06-30') FROM journey_par), population_gap_days => NULL) \gset
SELECT md5(string_agg(format('%s %s %s %s', customer_id, rfm_code, total_spend, segment),
                      ',' ORDER BY customer_id)) AS par_cr
FROM clm.customer_rfm_rows((SELECT clm.customer_rfm(customer, p, '2025-06-30') FROM journey_par)) \gset
EXPLAIN (COSTS OFF) SELECT clm.customer_rfm(customer, p, '2025-06-30') FROM journey_par;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT clm.customer_rfm(customer, p, '2025-06-30') FROM journey_par;
SELECT md5(string_agg(format('%s %s %s %s %s', customer_id, stage, reason,
                             round(expected_gap_days::numeric, 9), round(gap_ratio::numeric, 9)),
                      ',' ORDER BY customer_id)) = :'par_cs' AS same_customer_stages,
       count(*) AS customers
FROM clm.customer_stage_rows((SELECT clm.customer_stages(customer, p, '2025-06-30') FROM journey_par), population_gap_days => NULL);
SELECT md5(string_agg(format('%s %s %s %s', customer_id, rfm_code, total_spend, segment),
                      ',' ORDER BY customer_id)) = :'par_cr' AS same_customer_rfm,
       count(*) AS customers
FROM clm.customer_rfm_rows((SELECT clm.customer_rfm(customer, p, '2025-06-30') FROM journey_par));

-- Cross-checks with the per-customer functions (serially):
-- the transition matrix's row totals are the stages on the window's ends,
SELECT (SELECT sum(customers) FROM clm.transition_rows(:'par_tm'::bigint[]) WHERE to_stage = 'active')
     = (SELECT count(*) FROM journey_par WHERE (clm.stage(p, '2025-03-01')).stage = 'active') AS tm_matches_stage;
-- the stage counts are the stages counted customer by customer, on the
-- first, a middle and the last day,
SELECT count(*) AS sc_days_checked, count(*) FILTER (WHERE r.customers <> b.n) AS sc_differ
FROM clm.stage_count_rows(:'par_sc'::bigint[]) r,
     LATERAL (SELECT count(*) AS n FROM journey_par WHERE clm.stage_name(p, r.day, 20) = r.stage) b
WHERE r.day IN ('2024-09-01', '2024-12-01', '2025-03-01');
-- every customer is new exactly once over a range holding the whole history,
SELECT (SELECT sum(new_customers) FROM clm.lifecycle_rows(
          (SELECT clm.lifecycle(p, '2024-01-01', '2025-12-31', 'month') FROM journey_par)))
     = (SELECT count(*) FROM journey_par) AS each_new_once;
-- and the cohort sizes add up to the customers with a purchase by as_of.
SELECT (SELECT cohort_customers FROM clm.retention_rows(:'par_rt'::bigint[]) WHERE cohort IS NULL AND period_offset = 0)
     = (SELECT count(*) FROM journey_par WHERE (clm.summary(p, '2025-08-31')).orders > 0) AS cohorts_add_up;

-- Independent re-computations in plain SQL over the same profiles:
-- stage_history and stage_changes agree with clm.stage on every day asked,
SELECT count(*) AS history_mismatches
FROM journey_par j, clm.stage_history(j.p, '2024-01-01', '2025-12-31', 'week') h
WHERE j.customer <= 300 AND h.stage IS DISTINCT FROM clm.stage_name(j.p, h.period_start);
SELECT count(*) AS changes_mismatches
FROM journey_par j, generate_series(date '2024-01-01', date '2025-12-31', interval '13 days') d
WHERE j.customer <= 100
  AND clm.stage_name(j.p, d::date) IS DISTINCT FROM
      (SELECT c.to_stage FROM clm.stage_changes(j.p, '2023-01-01', d::date) c
       ORDER BY c.changed_on DESC LIMIT 1);
-- and weekly lifecycle counts (K = 1, any event) equal the window-function
-- formulation over the profiles' days (ISO weeks of the stored days; the
-- range 2024-06-01 .. 2025-06-30 covers the whole weeks 2024-05-27 .. 2025-06-30).
WITH w AS (
  SELECT DISTINCT customer, d.day - (extract(isodow FROM d.day)::int - 1) AS wk
  FROM journey_par, clm.profile_days(p) d
), s AS (
  SELECT customer, wk, lag(wk) OVER (PARTITION BY customer ORDER BY wk) AS prev,
         lead(wk) OVER (PARTITION BY customer ORDER BY wk) AS next
  FROM w
), st AS (
  SELECT wk AS period_start,
         CASE WHEN prev IS NULL THEN 'new' WHEN prev = wk - 7 THEN 'returning' ELSE 'resurrecting' END AS status
  FROM s
  UNION ALL
  SELECT wk + 7, 'dormant' FROM s WHERE next IS NULL OR next > wk + 7
), plain AS (
  SELECT period_start,
         count(*) FILTER (WHERE status = 'new') AS n, count(*) FILTER (WHERE status = 'returning') AS r,
         count(*) FILTER (WHERE status = 'resurrecting') AS z, count(*) FILTER (WHERE status = 'dormant') AS d
  FROM st WHERE period_start BETWEEN '2024-05-27' AND '2025-06-30' GROUP BY 1
), ours AS (
  SELECT period_start, new_customers AS n, returning_customers AS r, resurrecting_customers AS z,
         dormant_customers AS d
  FROM clm.lifecycle_rows(:'par_lc_week'::bigint[])
  WHERE new_customers + returning_customers + resurrecting_customers + dormant_customers > 0
)
SELECT (SELECT count(*) FROM (SELECT * FROM plain EXCEPT SELECT * FROM ours) x) AS only_plain,
       (SELECT count(*) FROM (SELECT * FROM ours EXCEPT SELECT * FROM plain) x) AS only_ours,
       (SELECT count(*) FROM ours) AS weeks;

-- Monthly exact retention equals the GROUP BY month-offset formulation
-- (Q3 of the plain-SQL baseline) over the same purchase days; every cohort
-- from 2024-01 on is complete through August 2025.
WITH pm AS (
  SELECT DISTINCT customer, date_trunc('month', d.day)::date AS m
  FROM journey_par, clm.profile_days(p) d WHERE d.orders > 0 AND d.day <= '2025-08-31'
), c AS (
  SELECT customer, min(m) AS cohort FROM pm GROUP BY 1
), plain AS (
  SELECT c.cohort, ((extract(year FROM pm.m) * 12 + extract(month FROM pm.m))
                    - (extract(year FROM c.cohort) * 12 + extract(month FROM c.cohort)))::int AS o,
         count(*) AS retained
  FROM pm JOIN c USING (customer) GROUP BY 1, 2
), ours AS (
  SELECT cohort, period_offset AS o, retained_customers AS retained
  FROM clm.retention_rows(:'par_rt'::bigint[]) WHERE cohort IS NOT NULL AND retained_customers > 0
)
SELECT (SELECT count(*) FROM (SELECT * FROM plain EXCEPT SELECT * FROM ours) x) AS only_plain,
       (SELECT count(*) FROM (SELECT * FROM ours EXCEPT SELECT * FROM plain) x) AS only_ours,
       (SELECT count(*) FROM ours) AS cells;

DROP TABLE journey_par;
