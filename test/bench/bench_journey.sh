#!/bin/bash
# bench_journey.sh -- the journey benchmark of issue 3 (stages, lifecycle
# counts, cohort retention) against the plain-SQL baseline.
#
# In a throwaway PostgreSQL cluster (pg_virtualenv), with the extension built
# and installed from this tree:
#   1. events := clm.generate_events(N) ordered by occurred_at, VACUUM ANALYZE
#      (if clm.generate_events is not installed, a plain-SQL generator with
#      the same columns is used instead, and the script says so);
#   2. in ONE psql session: the plain-SQL baseline (Q0 .. Q5 of
#      ../shared/bench/plain_sql_baseline.sql, as of ASOF), then
#        J_profile    profiles := clm.profile(occurred_at, amount, channel) GROUP BY customer
#        J_stage      clm.customer_stages + clm.customer_stage_rows: every
#                     customer's stage with the population gap of the same
#                     customers, one pass over the profiles (the counterpart of Q5)
#        J_stage_2pass the same rows with clm.population_gap, then clm.stage per
#                     customer (two passes; for reference, not in the ratios)
#        J_lifecycle  clm.lifecycle weekly over the 52 full ISO weeks before ASOF
#                     (Q4)
#        J_cohort     clm.retention monthly, cohorts from COHORTS_FROM (Q3)
#      each materialised into a temp table, like the baseline;
#   3. prints the times and the ratios Q5/J_stage, Q4/J_lifecycle,
#      Q3/J_cohort (target >= 10 each, from stored profiles) and
#      (Q3 + Q4 + Q5) / (J_profile + J_stage + J_lifecycle + J_cohort) (>= 3).
#
# As of: the baseline counts events with occurred_at < ASOF; the clm queries
# use as_of = ASOF - 1 day (as_of is inclusive).
#
# Usage: test/bench/bench_journey.sh [--customers N] [--asof DATE]
#            [--cohorts-from DATE] [--baseline FILE] [--work-mem SIZE]
#            [--parallel W] [--no-install] [--keep-log DIR]
#   --customers N       customers (default 1000000, ~15 events each)
#   --asof DATE         default 2025-01-01
#   --cohorts-from DATE first cohort month of J_cohort (default 2023-01-01)
#   --baseline FILE     default ../shared/bench/plain_sql_baseline.sql from the
#                       repository root, or $CLM_BENCH_BASELINE
#   --work-mem SIZE     work_mem of the timed queries (default: the server's
#                       own setting, 4MB out of the box)
#   --parallel W        max_parallel_workers_per_gather (default 0: serial)
#   --no-install        do not build and install first
#   --keep-log DIR      keep the raw psql output in DIR
#
# The whole run holds the lock shared by everything that installs or uses the
# installed extension ($CLM_PG_LOCK, default /tmp/clm-pg.lock).
# Smoke test: test/bench/bench_journey.sh --customers 2000
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SELF="$ROOT/test/bench/$(basename "$0")"
CUSTOMERS=1000000
ASOF=2025-01-01
COHORTS_FROM=2023-01-01
BASELINE=${CLM_BENCH_BASELINE:-$ROOT/../shared/bench/plain_sql_baseline.sql}
WORK_MEM=default
PARALLEL=0
INSTALL=1
KEEP_LOG=
LOCK=${CLM_PG_LOCK:-/tmp/clm-pg.lock}

usage() { sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
	case "$1" in
		--customers) CUSTOMERS=$2; shift 2 ;;
		--asof) ASOF=$2; shift 2 ;;
		--cohorts-from) COHORTS_FROM=$2; shift 2 ;;
		--baseline) BASELINE=$2; shift 2 ;;
		--work-mem) WORK_MEM=$2; shift 2 ;;
		--parallel) PARALLEL=$2; shift 2 ;;
		--no-install) INSTALL=0; shift ;;
		--keep-log) KEEP_LOG=$2; shift 2 ;;
		-h|--help) usage 0 ;;
		*) echo "unknown option: $1" >&2; usage 2 ;;
	esac
done

[ -r "$BASELINE" ] || { echo "baseline not found: $BASELINE" >&2; exit 2; }

# re-enter under the lock, then inside a throwaway cluster
if [ -z "${CLM_BENCH_LOCKED:-}" ]; then
	export CLM_BENCH_LOCKED=1
	exec flock "$LOCK" "$SELF" "$@" \
		--customers "$CUSTOMERS" --asof "$ASOF" --cohorts-from "$COHORTS_FROM" \
		--baseline "$BASELINE" --work-mem "$WORK_MEM" --parallel "$PARALLEL" \
		$([ "$INSTALL" = 1 ] || echo --no-install) \
		$([ -z "$KEEP_LOG" ] || echo --keep-log "$KEEP_LOG")
fi
if [ -z "${CLM_BENCH_IN_CLUSTER:-}" ]; then
	if [ "$INSTALL" = 1 ]; then
		make -C "$ROOT" >/dev/null
		make -C "$ROOT" install >/dev/null
	fi
	export CLM_BENCH_IN_CLUSTER=1
	exec pg_virtualenv -t "$SELF" --customers "$CUSTOMERS" --asof "$ASOF" \
		--cohorts-from "$COHORTS_FROM" --baseline "$BASELINE" --work-mem "$WORK_MEM" \
		--parallel "$PARALLEL" --no-install $([ -z "$KEEP_LOG" ] || echo --keep-log "$KEEP_LOG")
fi

LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

"${PSQL[@]}" -c "CREATE EXTENSION clm"
HAS_GEN=$("${PSQL[@]}" -Atc "SELECT count(*) FROM pg_proc WHERE proname = 'generate_events' AND pronamespace = 'clm'::regnamespace")
if [ "$HAS_GEN" != 0 ]; then
	GEN="SELECT customer_id, occurred_at, event_type, amount, channel FROM clm.generate_events($CUSTOMERS)"
else
	echo "note: clm.generate_events is not installed; using a plain-SQL generator"
	GEN="SELECT c AS customer_id,
	        timestamptz '2023-01-01 00:00+00' + (((c * 7919 + k * 104729) % 730) * interval '1 day')
	            + ((c * 31 + k * 17) % 86400) * interval '1 second' AS occurred_at,
	        CASE WHEN (c + k) % 2 = 0 THEN 'purchase' ELSE 'visit' END AS event_type,
	        CASE WHEN (c + k) % 2 = 0 THEN ((c * 13 + k * 7) % 20000) / 100.0 END AS amount,
	        (ARRAY['web','app','store','email'])[1 + (c + k) % 4] AS channel
	 FROM generate_series(1, $CUSTOMERS) c, generate_series(1, 1 + (c * 7) % 29) k"
fi
echo "generating events for $CUSTOMERS customers ..."
"${PSQL[@]}" <<SQL
SET work_mem = '1GB';
CREATE TABLE events AS $GEN ORDER BY occurred_at;
VACUUM ANALYZE events;
SQL
"${PSQL[@]}" -Atc "SELECT 'events: ' || count(*) || ', customers: ' || count(DISTINCT customer_id) FROM events"

if [ "$WORK_MEM" = default ]; then WM_SQL="RESET work_mem;"; else WM_SQL="SET work_mem = '$WORK_MEM';"; fi
cat > "$LOG/journey.sql" <<SQL
$WM_SQL
SET max_parallel_workers_per_gather = $PARALLEL;
\\i $BASELINE
\\set ON_ERROR_STOP on
SET client_min_messages = warning;

\\set QN J_profile
SELECT '@@Q ' || :'QN' || ' ' || extract(epoch FROM clock_timestamp()) AS m \\g
CREATE TEMP TABLE profiles AS
SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p
FROM events WHERE occurred_at < '$ASOF'::timestamptz GROUP BY customer_id;
SELECT '@@E ' || :'QN' || ' ' || extract(epoch FROM clock_timestamp()) AS m \\g
ANALYZE profiles;

\\set QN J_stage
SELECT '@@Q ' || :'QN' || ' ' || extract(epoch FROM clock_timestamp()) AS m \\g
CREATE TEMP TABLE j_stage AS
SELECT r.* FROM (SELECT clm.customer_stages(customer_id, p, date '$ASOF' - 1) AS s FROM profiles) x,
     clm.customer_stage_rows(x.s, population_gap_days => NULL) r;
SELECT '@@E ' || :'QN' || ' ' || extract(epoch FROM clock_timestamp()) AS m \\g

\\set QN J_stage_2pass
SELECT '@@Q ' || :'QN' || ' ' || extract(epoch FROM clock_timestamp()) AS m \\g
CREATE TEMP TABLE j_stage_2pass AS
WITH g AS (SELECT clm.population_gap(p, date '$ASOF' - 1) AS gap FROM profiles)
SELECT customer_id, (s).*
FROM (SELECT customer_id, clm.stage(p, date '$ASOF' - 1, population_gap_days => coalesce(g.gap, 30)) AS s
      FROM profiles, g OFFSET 0) x;
SELECT '@@E ' || :'QN' || ' ' || extract(epoch FROM clock_timestamp()) AS m \\g
SELECT '@@C stage_2pass_differ ' || count(*) FROM (SELECT * FROM j_stage EXCEPT ALL SELECT * FROM j_stage_2pass) d \\g

\\set QN J_lifecycle
SELECT '@@Q ' || :'QN' || ' ' || extract(epoch FROM clock_timestamp()) AS m \\g
CREATE TEMP TABLE j_lifecycle AS
SELECT r.* FROM (SELECT clm.lifecycle(p, date_trunc('week', date '$ASOF')::date - 364,
                                      date_trunc('week', date '$ASOF')::date - 1, 'week') AS lc
                 FROM profiles) s, clm.lifecycle_rows(s.lc) r;
SELECT '@@E ' || :'QN' || ' ' || extract(epoch FROM clock_timestamp()) AS m \\g

\\set QN J_cohort
SELECT '@@Q ' || :'QN' || ' ' || extract(epoch FROM clock_timestamp()) AS m \\g
CREATE TEMP TABLE j_cohort AS
SELECT r.* FROM (SELECT clm.retention(p, date '$COHORTS_FROM', date '$ASOF' - 1, 'month') AS v
                 FROM profiles) s, clm.retention_rows(s.v) r;
SELECT '@@E ' || :'QN' || ' ' || extract(epoch FROM clock_timestamp()) AS m \\g

SELECT '@@C stage_rows ' || count(*) FROM j_stage \\g
SELECT '@@C q5_rows ' || count(*) FROM q5_stage \\g
SELECT '@@C lifecycle_weeks ' || count(*) FROM j_lifecycle \\g
SELECT '@@C cohort_cells ' || count(*) FROM j_cohort WHERE cohort IS NOT NULL \\g
SQL

echo "running the baseline and the clm queries in one session (as of $ASOF) ..."
"${PSQL[@]}" -At -v asof="$ASOF" -f "$LOG/journey.sql" > "$LOG/out.txt"
[ -z "$KEEP_LOG" ] || { mkdir -p "$KEEP_LOG"; cp "$LOG"/* "$KEEP_LOG"/; }

awk '
	/^@@Q / { start[$2] = $3 }
	/^@@E / { t[$2] = ($3 - start[$2]) * 1000 }
	/^@@C / { c[$2] = $3 }
	END {
		printf "%-14s %12s\n", "query", "ms";
		n = split("Q0_count Q0_groupby Q3_cohort Q4_lifecycle Q5_stage J_profile J_stage J_stage_2pass J_lifecycle J_cohort", q, " ");
		for (i = 1; i <= n; i++)
			if (q[i] in t) printf "%-14s %12.1f\n", q[i], t[q[i]];
		for (k in c) printf "rows %-18s %d\n", k, c[k];
		printf "\nratios (plain SQL / clm; targets >= 10 from stored profiles, >= 3 all-in)\n";
		if (t["J_stage"] > 0)     printf "  Q5 stage     / J_stage     %8.1f\n", t["Q5_stage"] / t["J_stage"];
		if (t["J_stage_2pass"] > 0) printf "  Q5 stage     / J_stage_2pass %6.1f  (per-customer clm.stage, for reference)\n", t["Q5_stage"] / t["J_stage_2pass"];
		if (t["J_lifecycle"] > 0) printf "  Q4 lifecycle / J_lifecycle %8.1f\n", t["Q4_lifecycle"] / t["J_lifecycle"];
		if (t["J_cohort"] > 0)    printf "  Q3 cohort    / J_cohort    %8.1f\n", t["Q3_cohort"] / t["J_cohort"];
		all = t["J_profile"] + t["J_stage"] + t["J_lifecycle"] + t["J_cohort"];
		if (all > 0)
			printf "  (Q3+Q4+Q5) / (profile build + the three) %8.1f\n",
				(t["Q3_cohort"] + t["Q4_lifecycle"] + t["Q5_stage"]) / all;
	}' "$LOG/out.txt"
