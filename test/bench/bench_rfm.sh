#!/bin/sh
# RFM with segments from stored profiles vs the plain-SQL baseline (Q1 + Q2
# of /work/shared/bench/plain_sql_baseline.sql: a BTYD summary from the
# events, then NTILE quintiles and an 11-segment CASE over it).
#
# Usage: test/bench/bench_rfm.sh [customers [asof]]
#   customers  default 1000000 (clm.generate_events(customers): about 15
#              events per customer); use e.g. 20000 for a smoke run
#   asof       default 2025-01-01; events strictly before it count, so clm
#              uses as_of = asof - 1 day (days on or before as_of)
# Connection: the usual PG* environment variables (creates the extension if
# missing), e.g. pg_virtualenv -t sh test/bench/bench_rfm.sh 1000000.  Set REUSE=1 to keep an
# existing bench_events table of the same size instead of regenerating it.
# PARALLEL=W sets max_parallel_workers_per_gather (default 0: serial, as the
# yardstick's own figures are).
#
# Everything runs in one psql session on one table; every result is
# materialised into a temp table so client transfer is not measured.
# Printed: the time of each step in ms and the ratios
#   Q2 / write floor        (the ceiling: writing Q2's result rows alone)
#   Q2 / clm RFM            (Q2 starts from Q1's per-customer summary)
#   (Q1 + Q2) / clm RFM     (the issue's target, >= 10: plain SQL from the
#                            events, clm from the stored profiles, as for the
#                            stage, lifecycle and cohort queries)
#   (Q1 + Q2) / clm 2-pass  (clm.rfm_breakpoints, then clm.rfm_score and
#                            clm.rfm_segment per customer, for reference)
#   (Q1 + Q2) / (profile build + clm RFM)
set -eu
CUSTOMERS=${1:-1000000}
ASOF=${2:-2025-01-01}
REUSE=${REUSE:-0}
PARALLEL=${PARALLEL:-0}

psql -X -q -v ON_ERROR_STOP=1 -v customers="$CUSTOMERS" -v asof="$ASOF" -v reuse="$REUSE" -v parallel="$PARALLEL" <<'SQL'
\pset pager off
\pset footer off
SET client_min_messages = warning;
SET max_parallel_workers_per_gather = :parallel;
CREATE EXTENSION IF NOT EXISTS clm;
SELECT (:reuse = 1 AND to_regclass('bench_events') IS NOT NULL) AS keep \gset
\if :keep
SELECT (SELECT count(DISTINCT customer_id) FROM bench_events) = :customers AS keep \gset
\endif
\if :keep
\else
DROP TABLE IF EXISTS bench_events, bench_profiles;
CREATE UNLOGGED TABLE bench_events AS SELECT * FROM clm.generate_events(:customers::bigint);
ANALYZE bench_events;
\endif
DROP TABLE IF EXISTS bench_profiles;
CREATE TEMP VIEW events AS SELECT * FROM bench_events;
SELECT count(*) AS events, count(DISTINCT customer_id) AS customers FROM bench_events;

-- 1. profile build (clm's one pass over the events)
SELECT clock_timestamp() AS t0 \gset
CREATE UNLOGGED TABLE bench_profiles AS
SELECT customer_id,
       clm.profile(occurred_at,
                   CASE WHEN event_type = 'purchase' THEN amount END,
                   channel) AS p
FROM bench_events
WHERE occurred_at < :'asof'::timestamptz
GROUP BY customer_id;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000) AS ms_build \gset
ANALYZE bench_profiles;

-- 2. baseline Q1 (summary from the events), as in plain_sql_baseline.sql
SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE q1_btyd AS
WITH p AS (
  SELECT customer_id, occurred_at, amount,
         occurred_at::date AS d,
         min(occurred_at::date) OVER (PARTITION BY customer_id) AS first_d
  FROM events
  WHERE event_type = 'purchase' AND occurred_at < :'asof'::timestamptz
)
SELECT customer_id,
       min(occurred_at)                                  AS first_purchase,
       max(occurred_at)                                  AS last_purchase,
       count(DISTINCT d) - 1                             AS frequency,
       max(d) - min(d)                                   AS recency,
       :'asof'::date - min(d)                            AS t,
       coalesce(round(sum(amount) FILTER (WHERE d > first_d)
                      / nullif(count(DISTINCT d) - 1, 0), 2), 0) AS monetary,
       sum(amount)                                       AS revenue
FROM p
GROUP BY customer_id;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000) AS ms_q1 \gset

-- 3. baseline Q2 (reads Q1's result), as in plain_sql_baseline.sql
SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE q2_rfm AS
WITH s AS (
  SELECT customer_id,
         :'asof'::date - last_purchase::date AS days_since_last,
         frequency, revenue,
         ntile(5) OVER (ORDER BY :'asof'::date - last_purchase::date DESC) AS r,
         ntile(5) OVER (ORDER BY frequency)                                AS f,
         ntile(5) OVER (ORDER BY revenue)                                  AS m
  FROM q1_btyd
), s2 AS (
  SELECT *, round((f + m) / 2.0)::int AS fm FROM s
)
SELECT customer_id, days_since_last, frequency, revenue, r, f, m,
       r::text || f::text || m::text AS rfm,
       CASE
         WHEN r >= 4 AND fm >= 4 THEN 'Champions'
         WHEN r = 3  AND fm >= 4 THEN 'Loyal Customers'
         WHEN r >= 4 AND fm >= 2 THEN 'Potential Loyalist'
         WHEN r = 5  AND fm = 1  THEN 'Recent Customers'
         WHEN r = 4  AND fm = 1  THEN 'Promising'
         WHEN r = 3  AND fm = 3  THEN 'Need Attention'
         WHEN r = 3  AND fm <= 2 THEN 'About To Sleep'
         WHEN r = 1  AND fm >= 4 THEN 'Can''t Lose Them'
         WHEN r <= 2 AND fm >= 3 THEN 'At Risk'
         WHEN r = 2  AND fm <= 2 THEN 'Hibernating'
         ELSE 'Lost'
       END AS segment
FROM s2;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000) AS ms_q2 \gset

-- 4. clm: breakpoints, scores and rfm11 segments from the stored profiles,
-- in one pass (clm.customer_rfm + clm.customer_rfm_rows)
SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE clm_rfm AS
SELECT r.* FROM (SELECT clm.customer_rfm(customer_id, p, :'asof'::date - 1) AS s FROM bench_profiles) x,
     clm.customer_rfm_rows(x.s, 5, 'rfm11') r;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000) AS ms_clm \gset

-- 4b. the same with the per-customer functions (breakpoints, then
-- clm.rfm_score and clm.rfm_segment per row: two passes), for reference
SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE clm_rfm_2pass AS
SELECT customer_id, (s).days_since_last_purchase, (s).orders, (s).total_spend,
       (s).r_score, (s).f_score, (s).m_score, (s).rfm_code,
       (clm.rfm_segment((s).r_score, (s).f_score, (s).m_score, 'rfm11')).segment AS rfm_segment
FROM (SELECT x.customer_id, clm.rfm_score(x.p, b.bp, :'asof'::date - 1) AS s
      FROM bench_profiles x,
           (SELECT clm.rfm_breakpoints(p, :'asof'::date - 1) AS bp FROM bench_profiles) b
      OFFSET 0) q          -- OFFSET 0: rfm_score once per row, not once per column
WHERE s IS NOT NULL;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000) AS ms_clm_2pass \gset
SELECT count(*) AS rows_differing_between_the_two_clm_forms
FROM (SELECT * FROM clm_rfm EXCEPT ALL SELECT * FROM clm_rfm_2pass) d;

-- 5. the floor of any answer: writing Q2's result rows (already computed)
-- into a temp table again, the part of both queries that no computation
-- can avoid; Q2 / floor is the largest ratio any implementation can reach
SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE floor_rfm AS SELECT * FROM q2_rfm;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000) AS ms_floor \gset

SELECT (SELECT count(*) FROM q2_rfm) AS baseline_rows, (SELECT count(*) FROM clm_rfm) AS clm_rows;
SELECT :ms_build AS profile_build_ms, :ms_q1 AS q1_ms, :ms_q2 AS q2_ms, :ms_clm AS clm_rfm_ms,
       :ms_clm_2pass AS clm_rfm_2pass_ms, :ms_floor AS write_floor_ms;
SELECT round(:ms_q2::numeric / greatest(:ms_floor, 1), 2) AS "Q2 / write floor (ceiling)",
       round(:ms_q2::numeric / greatest(:ms_clm, 1), 2) AS "Q2 / clm RFM",
       round((:ms_q1 + :ms_q2)::numeric / greatest(:ms_clm, 1), 2) AS "(Q1+Q2) / clm RFM",
       round((:ms_q1 + :ms_q2)::numeric / greatest(:ms_clm_2pass, 1), 2) AS "(Q1+Q2) / clm 2-pass",
       round((:ms_q1 + :ms_q2)::numeric / greatest(:ms_build + :ms_clm, 1), 2) AS "(Q1+Q2) / (build + clm RFM)";
-- segment sizes on both sides (different definitions: tie-aware vs NTILE, rfm11 vs the CASE)
SELECT segment, count(*) FROM clm_rfm GROUP BY 1 ORDER BY 2 DESC;
SQL
