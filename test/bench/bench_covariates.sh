#!/bin/sh
# Static covariates (issue 15, part 3): the cost of a fit with two
# covariates against the fit without, as ratios in one session (target: at
# most 3 at 1,000,000 customers).
#
# Usage, in a cluster of your own with clm installed (PGHOST, PGPORT set):
#   sh test/bench/bench_covariates.sh [N]
# or in a throwaway cluster:
#   pg_virtualenv sh test/bench/bench_covariates.sh [N]
#
# N customers (default 1000000) from clm.generate_events(N) with purchases
# only (no visits, no prospects), profiles stored in a table; two dummy
# covariates: z1 = customer_id odd (half the customers), z2 = a third of the
# customers by a hash of the id.  Each fit reads the stored profiles
# (calibration end 2025-01-01, unit week), serial plans, default work_mem;
# one run of each, in one session.
set -e
N=${1:-1000000}
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'DROP DATABASE IF EXISTS clm_bench_cov' -c 'CREATE DATABASE clm_bench_cov'
psql -X -q -v ON_ERROR_STOP=1 -d clm_bench_cov -c 'CREATE EXTENSION clm' \
	-c "CREATE TABLE prof AS
	    SELECT customer_id, (customer_id % 2)::float8 AS z1,
	           (hashint8(customer_id) % 3 = 0)::int::float8 AS z2,
	           clm.profile(occurred_at, amount) AS p
	    FROM clm.generate_events($N, visit_ratio => 0, prospect_share => 0)
	    WHERE event_type = 'purchase' GROUP BY customer_id" \
	-c 'VACUUM ANALYZE prof'
OUT=/tmp/clm_bench_covariates.$$
psql -X -q -v ON_ERROR_STOP=1 -d clm_bench_cov <<'SQL' | tee $OUT | grep -v '^$'
SET max_parallel_workers_per_gather = 0;
\echo @@ scan
\timing on
SELECT count(*) FROM prof WHERE p IS NOT NULL;
\timing off
\echo @@ bgnbd
\timing on
CREATE TEMP TABLE m_bg AS SELECT clm.bgnbd_fit(p, '2025-01-01', 'week') AS m FROM prof;
\timing off
\echo @@ bgnbd_cov
\timing on
CREATE TEMP TABLE m_bgc AS SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[z1, z2], '{z1,z2}') AS m FROM prof;
\timing off
\echo @@ paretonbd
\timing on
CREATE TEMP TABLE m_pn AS SELECT clm.paretonbd_fit(p, '2025-01-01', 'week') AS m FROM prof;
\timing off
\echo @@ paretonbd_cov
\timing on
CREATE TEMP TABLE m_pnc AS SELECT clm.paretonbd_fit(p, '2025-01-01', 'week', ARRAY[z1, z2], '{z1,z2}') AS m FROM prof;
\timing off
\echo @@ gg
\timing on
CREATE TEMP TABLE m_gg AS SELECT clm.gg_fit(p, '2025-01-01', 'week') AS m FROM prof;
\timing off
\echo @@ gg_cov
\timing on
CREATE TEMP TABLE m_ggc AS SELECT clm.gg_fit(p, '2025-01-01', 'week', ARRAY[z1, z2], '{z1,z2}') AS m FROM prof;
\timing off
\echo @@ models
SELECT name, (clm.model_info(m)).n_distinct, (clm.model_info(m)).iterations, (clm.model_info(m)).converged
FROM (SELECT 'bgnbd' AS name, m FROM m_bg UNION ALL SELECT 'bgnbd_cov', m FROM m_bgc
      UNION ALL SELECT 'paretonbd', m FROM m_pn UNION ALL SELECT 'paretonbd_cov', m FROM m_pnc
      UNION ALL SELECT 'gg', m FROM m_gg UNION ALL SELECT 'gg_cov', m FROM m_ggc) s;
SQL
awk '/^@@/ { q = $2 } /^Time:/ { t[q] = $2 }
     END {
       printf "scan of the profiles: %.0f ms\n", t["scan"];
       n = split("bgnbd paretonbd gg", k, " ");
       for (i = 1; i <= n; i++)
         printf "%-10s without %8.0f ms, with two covariates %8.0f ms: ratio %.2f\n",
                k[i], t[k[i]], t[k[i] "_cov"], t[k[i] "_cov"] / t[k[i]];
     }' $OUT
rm -f $OUT
psql -X -q -d postgres -c 'DROP DATABASE clm_bench_cov'
