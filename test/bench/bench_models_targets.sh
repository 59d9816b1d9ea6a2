#!/bin/sh
# The performance targets of the models (issue 4), as ratios in one session:
# BG/NBD fit <= 10%, Pareto/NBD fit <= 50% and scoring every customer
# (P(alive), expected purchases in 52 weeks, expected spend, 52-week CLV)
# <= 25% of the time it takes to build the profiles they run on.
#
# Usage (the extension must be installed; all helpers share one server
# installation, so take the lock):
#   flock /tmp/clm-pg.lock sh -c 'make install && pg_virtualenv test/bench/bench_models_targets.sh [N]'
#
# N customers from clm.generate_events(N) (default 1000000; about 30 s to
# generate), serial plans, default work_mem.
set -e
N=${1:-1000000}
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'DROP DATABASE IF EXISTS clm_bench' -c 'CREATE DATABASE clm_bench'
psql -X -q -v ON_ERROR_STOP=1 -d clm_bench -c 'CREATE EXTENSION clm' \
	-c "CREATE TABLE events AS SELECT * FROM clm.generate_events($N) ORDER BY occurred_at" \
	-c 'VACUUM ANALYZE events'
psql -X -q -v ON_ERROR_STOP=1 -d clm_bench <<'SQL' | tee /tmp/clm_bench_models_targets.$$ | grep -v '^$'
SET max_parallel_workers_per_gather = 0;
\echo @@ profile_build
\timing on
CREATE TEMP TABLE prof AS SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM events GROUP BY customer_id;
\timing off
\echo @@ bgnbd_fit
\timing on
CREATE TEMP TABLE m_bg AS SELECT clm.bgnbd_fit(b.x, b.t_x, b.t) AS m FROM prof, clm.btyd_inputs(p, '2024-12-31', 'week') b;
\timing off
\echo @@ bgnbd_fit_profile
\timing on
CREATE TEMP TABLE m_bgp AS SELECT clm.bgnbd_fit(p, '2024-12-31', 'week') AS m FROM prof;
\timing off
\echo @@ paretonbd_fit_profile
\timing on
CREATE TEMP TABLE m_pnp AS SELECT clm.paretonbd_fit(p, '2024-12-31', 'week') AS m FROM prof;
\timing off
\echo @@ paretonbd_fit
\timing on
CREATE TEMP TABLE m_pn AS SELECT clm.paretonbd_fit(b.x, b.t_x, b.t) AS m FROM prof, clm.btyd_inputs(p, '2024-12-31', 'week') b;
\timing off
\echo @@ gg_fit
\timing on
CREATE TEMP TABLE m_gg AS SELECT clm.gg_fit(b.x, b.mean_spend::float8) AS m FROM prof, clm.btyd_inputs(p, '2024-12-31', 'week') b;
\timing off
\echo @@ scoring
\timing on
CREATE TEMP TABLE scores AS
SELECT customer_id,
       clm.p_alive(bg.m, b.x, b.t_x, b.t) AS p_alive,
       clm.expected_purchases(bg.m, 52, b.x, b.t_x, b.t) AS expected_purchases_52w,
       clm.expected_spend(gg.m, b.x, b.mean_spend::float8) AS expected_spend,
       clm.clv(bg.m, 52, 0.002, 0.3, clm.expected_spend(gg.m, b.x, b.mean_spend::float8), b.x, b.t_x, b.t) AS clv_52w
FROM prof, clm.btyd_inputs(p, '2024-12-31', 'week') b, m_bg bg, m_gg gg;
\timing off
SELECT count(DISTINCT (b.x, b.t_x, b.t)) AS distinct_tuples, count(b.x) AS customers_with_inputs FROM prof, clm.btyd_inputs(p, '2024-12-31', 'week') b;
SELECT (clm.model_info(m)).iterations AS bgnbd_iterations FROM m_bg;
SELECT (SELECT m::text FROM m_bg) = (SELECT m::text FROM m_bgp) AS bgnbd_profile_form_same,
       (SELECT m::text FROM m_pn) = (SELECT m::text FROM m_pnp) AS paretonbd_profile_form_same;
SELECT (clm.model_info(m)).iterations AS paretonbd_iterations FROM m_pn;
SQL
awk '/^@@/ { step = $2 } /^Time:/ { t[step] = $2 }
	END {
		printf "RESULT profile build %.2f s; bgnbd fit %.2f s (%.0f%%, target 10%%), over profiles %.2f s (%.0f%%); paretonbd fit %.2f s (%.0f%%, target 50%%), over profiles %.2f s (%.0f%%); gg fit %.2f s (%.0f%%); scoring %.2f s (%.0f%%, target 25%%)\n",
			t["profile_build"] / 1000,
			t["bgnbd_fit"] / 1000, 100 * t["bgnbd_fit"] / t["profile_build"],
			t["bgnbd_fit_profile"] / 1000, 100 * t["bgnbd_fit_profile"] / t["profile_build"],
			t["paretonbd_fit"] / 1000, 100 * t["paretonbd_fit"] / t["profile_build"],
			t["paretonbd_fit_profile"] / 1000, 100 * t["paretonbd_fit_profile"] / t["profile_build"],
			t["gg_fit"] / 1000, 100 * t["gg_fit"] / t["profile_build"],
			t["scoring"] / 1000, 100 * t["scoring"] / t["profile_build"]
	}' /tmp/clm_bench_models_targets.$$
rm -f /tmp/clm_bench_models_targets.$$
psql -X -q -d postgres -c 'DROP DATABASE clm_bench'
