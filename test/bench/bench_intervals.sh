#!/bin/sh
# Prediction intervals (issue 15, part 2): coverage by simulation and cost.
#
# Usage (clm installed in the server that PGHOST/PGPORT/PGUSER point to, e.g.
# a private one from test/pgenv.sh):
#   sh test/bench/bench_intervals.sh coverage [REPS] [N]   (default 200 2000)
#   sh test/bench/bench_intervals.sh perf [N]              (default 1000000)
#   sh test/bench/bench_intervals.sh                       (both, defaults)
# (KEEP=1 keeps the database clm_bench_intervals for a look afterwards.)
#
# coverage: REPS replications, each of N customers simulated by
# clm.generate_events (seed = replication; BG/NBD r = 0.75, alpha = $ALPHA
# (default 2), a = 0.8, b = 2.5 per week, acquired in 2023, no visits or
# prospects).  The inputs (x, t_x, T) and the holdout count are taken from
# the events' instants, in continuous time as the model has them.  (A
# profile counts purchase days: two purchases on one day are one, which the
# model does not know.  At alpha = 2, a mean rate of 0.375 a week, that
# cuts the holdout totals by 2.7% (166 of 6251 expected with the true
# parameters, 0.64 of their standard deviation), and the 90% intervals of
# the totals of profiles' day counts cover 81% even with the true
# parameters.)
# Each replication fits BG/NBD on the calibration year (to 2024-01-01) and
# predicts the holdout year (366 days = 52.29 weeks) at the nominal 90%:
#   - the total of the holdout purchases (clm.expected_purchases_total) with
#     the fitted model, with the fitted parameters taken as known (no
#     parameter uncertainty: clm.make_model of the estimates), and with the
#     true parameters (known, exact);
#   - every customer's holdout count (clm.expected_purchases_interval): the
#     share covered; the model's probability of the interval (a count is
#     whole: at least 90%); and the randomized coverage, where a count on a
#     bound of the interval counts as the share of that bound's probability
#     that makes the interval's probability exactly 90% (the textbook
#     randomized interval of a discrete variable; probabilities from
#     clm.p_purchases at the estimates).
# perf: N customers (clm.generate_events, seed 1) scored for the holdout by
# clm.expected_purchases (the point scoring) and by
# clm.expected_purchases_interval, each over every customer in one query,
# medians of 3 runs in one session, and their ratio.
set -e
mode=${1:-both}
db=clm_bench_intervals
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
[ -n "$KEEP" ] || trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT
psql -X -q -v ON_ERROR_STOP=1 -d $db -c 'CREATE EXTENSION clm'

coverage() {
	reps=${1:-200}
	n=${2:-2000}
	alpha=${ALPHA:-2}
	echo "== coverage: $reps replications of $n customers, alpha $alpha, nominal 90%"
	psql -X -q -v ON_ERROR_STOP=1 -d $db <<SQL
SET max_parallel_workers_per_gather = 0;
SET enable_hashagg = off;
\timing on
CREATE TABLE cal AS
SELECT rep, x::float8, t_x, t, y
FROM (SELECT rep, count(*) FILTER (WHERE occurred_at < '2024-01-01 00:00+00') - 1 AS x,
             extract(epoch FROM max(occurred_at) FILTER (WHERE occurred_at < '2024-01-01 00:00+00')
                                - min(occurred_at))::float8 / 604800 AS t_x,
             extract(epoch FROM '2024-01-01 00:00+00' - min(occurred_at))::float8 / 604800 AS t,
             count(*) FILTER (WHERE occurred_at >= '2024-01-01 00:00+00') AS y
      FROM generate_series(1, $reps) AS rep,
           LATERAL clm.generate_events($n, seed => rep, alpha => $alpha, visit_ratio => 0, prospect_share => 0) AS e
      GROUP BY rep, customer_id) s
WHERE x >= 0;
CREATE TABLE fits AS
SELECT rep, m, clm.make_model('bgnbd', (clm.model_info(m)).parameters) AS m_known
FROM (SELECT rep, clm.bgnbd_fit(x, t_x, t) AS m FROM cal GROUP BY rep) s;
SELECT count(*) AS fits, count(*) FILTER (WHERE (clm.model_info(m)).converged) AS converged FROM fits;
CREATE TABLE totals AS
SELECT rep, sum(y) AS actual,
       clm.expected_purchases_total(f.m, 366 / 7.0, x, t_x, t) AS fitted,
       clm.expected_purchases_total(f.m_known, 366 / 7.0, x, t_x, t) AS known,
       clm.expected_purchases_total(clm.make_model('bgnbd', ARRAY[0.75, $alpha, 0.8, 2.5]), 366 / 7.0, x, t_x, t) AS truth
FROM cal JOIN fits f USING (rep) GROUP BY rep;
\timing off
SELECT count(*) AS replications,
       round(avg(((fitted).lower <= actual AND actual <= (fitted).upper)::int), 3) AS total_coverage,
       round(avg(((known).lower <= actual AND actual <= (known).upper)::int), 3) AS coverage_parameters_known,
       round(avg(((truth).lower <= actual AND actual <= (truth).upper)::int), 3) AS coverage_true_parameters,
       round(avg((actual < (fitted).lower)::int), 3) AS below,
       round(avg((actual > (fitted).upper)::int), 3) AS above,
       round(avg(actual), 1) AS mean_total,
       round(avg((fitted).upper - (fitted).lower)::numeric, 1) AS mean_width,
       round(avg((known).upper - (known).lower)::numeric, 1) AS mean_width_known
FROM totals;
-- the simulated totals against the true model: bias and spread
SELECT round(avg(actual - (truth).estimate)::numeric, 1) AS bias_vs_truth,
       round(stddev(actual - (truth).estimate)::numeric, 1) AS sd_vs_truth,
       round(avg(((truth).upper - (truth).lower) / 3.2897)::numeric, 1) AS model_sd_truth,
       round(stddev(actual - (fitted).estimate)::numeric, 1) AS sd_vs_fitted,
       round(avg(((fitted).upper - (fitted).lower) / 3.2897)::numeric, 1) AS model_sd_fitted
FROM totals;
\timing on
CREATE TABLE pc AS
SELECT c.rep, c.y, c.x, c.t_x, c.t, f.m, (e).lower::int AS lo, (e).upper::int AS hi
FROM cal c JOIN fits f USING (rep),
     LATERAL clm.expected_purchases_interval(f.m, 366 / 7.0, c.x, c.t_x, c.t) AS e;
CREATE TABLE pcp AS
SELECT rep, y, lo, hi,
       (SELECT coalesce(sum(clm.p_purchases(m, k, 366 / 7.0, x, t_x, t)), 0)
          FROM generate_series(0, lo - 1) k) AS f_below,
       (SELECT sum(clm.p_purchases(m, k, 366 / 7.0, x, t_x, t)) FROM generate_series(0, hi) k) AS f_hi,
       clm.p_purchases(m, lo, 366 / 7.0, x, t_x, t) AS p_lo,
       clm.p_purchases(m, hi, 366 / 7.0, x, t_x, t) AS p_hi
FROM pc;
\timing off
SELECT count(*) AS customer_predictions,
       round(avg((lo <= y AND y <= hi)::int), 4) AS customer_coverage,
       round(avg(f_hi - f_below)::numeric, 4) AS model_probability_of_interval,
       round(avg(CASE WHEN y < lo OR y > hi THEN 0
                      WHEN y > lo AND y < hi THEN 1
                      WHEN lo = hi THEN least(1, greatest(0, ((f_below + p_lo - 0.05) + (0.95 - (f_hi - p_hi))) / p_lo - 1))
                      WHEN y = lo THEN least(1, greatest(0, (f_below + p_lo - 0.05) / p_lo))
                      ELSE least(1, greatest(0, (0.95 - (f_hi - p_hi)) / p_hi)) END)::numeric, 4) AS randomized_coverage,
       round(avg((y < lo)::int), 4) AS below,
       round(avg((y > hi)::int), 4) AS above
FROM pcp;
SELECT round(min(c), 3) AS min_per_replication, round(max(c), 3) AS max_per_replication
FROM (SELECT rep, avg((lo <= y AND y <= hi)::int) AS c FROM pcp GROUP BY rep) s;
SQL
}

perf() {
	n=${1:-1000000}
	echo "== perf: $n customers"
	psql -X -q -v ON_ERROR_STOP=1 -d $db <<SQL
\timing on
CREATE TABLE big AS
SELECT b.x, b.t_x, b.t
FROM (SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p
      FROM clm.generate_events($n, seed => 1, visit_ratio => 0, prospect_share => 0)
      GROUP BY customer_id) s,
     clm.btyd_inputs(p, '2024-01-01', 'week') AS b
WHERE b.x IS NOT NULL;
\timing off
VACUUM ANALYZE big;
SELECT count(*) AS customers, count(DISTINCT (x, t_x, t)) AS distinct_x_tx_t, count(DISTINCT (x, t)) AS distinct_x_t FROM big;
CREATE TABLE bm AS SELECT clm.bgnbd_fit(x, t_x, t) AS m FROM big;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE timings (what text, run int, ms float8);
DO \$\$
DECLARE
	m clm.model := (SELECT bm.m FROM bm);
	t0 timestamptz;
	v float8;
	i int;
BEGIN
	FOR i IN 1..3 LOOP
		t0 := clock_timestamp();
		SELECT sum(clm.expected_purchases(m, 366 / 7.0, x, t_x, t)) INTO v FROM big;
		INSERT INTO timings VALUES ('point', i, extract(epoch FROM clock_timestamp() - t0) * 1000);
		t0 := clock_timestamp();
		SELECT sum((clm.expected_purchases_interval(m, 366 / 7.0, x, t_x, t)).upper) INTO v FROM big;
		INSERT INTO timings VALUES ('interval', i, extract(epoch FROM clock_timestamp() - t0) * 1000);
		t0 := clock_timestamp();
		SELECT (clm.expected_purchases_total(m, 366 / 7.0, x, t_x, t)).upper INTO v FROM big;
		INSERT INTO timings VALUES ('total', i, extract(epoch FROM clock_timestamp() - t0) * 1000);
	END LOOP;
END
\$\$;
SELECT what, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric) AS median_ms
FROM timings GROUP BY what ORDER BY what;
SELECT round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM timings WHERE what = 'interval')::numeric
           / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM timings WHERE what = 'point')::numeric, 2)
       AS interval_over_point,
       round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM timings WHERE what = 'total')::numeric
           / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM timings WHERE what = 'point')::numeric, 2)
       AS total_over_point;
SQL
}

case $mode in
	coverage) coverage "$2" "$3" ;;
	perf) perf "$2" ;;
	both) coverage; perf ;;
	*) echo "usage: $0 [coverage [REPS] [N] | perf [N]]" >&2; exit 2 ;;
esac
