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
       clm.stage_transitions(p, '2024-09-01', '2025-03-01', 20)::text AS par_tm20,
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
       clm.stage_transitions(p, '2024-09-01', '2025-03-01', 20)::text = :'par_tm20' AS same_tm20,
       clm.lifecycle(p, '2024-06-01', '2025-06-30', 'week')::text = :'par_lc_week' AS same_lc_week,
       clm.lifecycle(p, '2024-01-01', '2025-12-31', 'month', 2, true, 7)::text = :'par_lc_month' AS same_lc_month,
       clm.retention(p, '2024-01-01', '2025-08-31', 'month')::text = :'par_rt' AS same_rt,
       clm.retention(p, '2024-01-01', '2025-08-31', 'month', 'on_or_after')::text = :'par_rt_after' AS same_rt_after,
       clm.retention(p, '2024-03-01', '2025-08-31', 'week', ARRAY[0, 1, 4, 13])::text = :'par_rt_br' AS same_rt_br,
       round(clm.population_gap(p, '2025-06-30')::numeric, 9) = :par_gap AS same_gap
FROM journey_par;

-- Cross-checks with the per-customer functions (serially):
-- the transition matrix's row totals are the stages on the window's ends,
SELECT (SELECT sum(customers) FROM clm.transition_rows(:'par_tm'::bigint[]) WHERE to_stage = 'active')
     = (SELECT count(*) FROM journey_par WHERE (clm.stage(p, '2025-03-01')).stage = 'active') AS tm_matches_stage;
-- every customer is new exactly once over a range holding the whole history,
SELECT (SELECT sum(new_customers) FROM clm.lifecycle_rows(
          (SELECT clm.lifecycle(p, '2024-01-01', '2025-12-31', 'month') FROM journey_par)))
     = (SELECT count(*) FROM journey_par) AS each_new_once;
-- and the cohort sizes add up to the customers with a purchase by as_of.
SELECT (SELECT cohort_customers FROM clm.retention_rows(:'par_rt'::bigint[]) WHERE cohort IS NULL AND period_offset = 0)
     = (SELECT count(*) FROM journey_par WHERE (clm.summary(p, '2025-08-31')).orders > 0) AS cohorts_add_up;

DROP TABLE journey_par;
