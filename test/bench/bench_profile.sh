#!/bin/bash
# bench_profile.sh -- the performance benchmark of issue 2 (profiles).
#
# In a throwaway PostgreSQL cluster (pg_virtualenv), with the extension built
# and installed from this tree:
#   1. events := clm.generate_events(N) ordered by occurred_at (an append-only
#      table), VACUUM ANALYZE;
#   2. in ONE psql session with \timing, RUNS times each (median reported),
#      serial (max_parallel_workers_per_gather = 0) and parallel (= 2):
#        floor    CREATE TEMP TABLE AS SELECT customer_id, count(*) ... GROUP BY
#        profile  CREATE TEMP TABLE AS SELECT customer_id, clm.profile(...) ... GROUP BY
#   3. the profile build + clm.summary(p, ASOF) for every customer vs the
#      plain-SQL Q1 and Q1b read from ../shared/bench/plain_sql_baseline.sql;
#   4. average and largest pg_column_size(profile);
#   5. peak memory of the aggregation (EXPLAIN ANALYZE: HashAgg Memory Usage,
#      Batches, Disk Usage), serial and parallel;
# then prints a table of medians and ratios.  Targets (issue 2):
#   profile / floor <= 1.5 serial and parallel;  Q1 / (profile + summary) >= 2.
#
# Usage: test/bench/bench_profile.sh [--customers N] [--runs R] [--asof DATE]
#            [--baseline FILE] [--work-mem SIZE] [--no-install] [--keep-log DIR]
#   --customers N   customers to generate (default 1000000, ~15.3 events each)
#   --runs R        repetitions per query and mode, median reported (default 3)
#   --asof DATE     as-of date of the summaries and of Q1 (default 2025-01-01)
#   --baseline FILE plain-SQL baseline (default ../shared/bench/plain_sql_baseline.sql
#                   relative to the repository root, or $CLM_BENCH_BASELINE)
#   --work-mem SIZE work_mem for every timed query (default: the server's own
#                   setting, 4MB out of the box, which is what users run with)
#   --no-install    do not run make install first
#   --keep-log DIR  keep the raw psql output and plans in DIR
#
# The whole run holds the lock shared by everything that installs or uses the
# installed extension on this machine ($CLM_PG_LOCK, default /tmp/clm-pg.lock),
# because pg_virtualenv clusters load the installed clm.  Smoke test:
#   test/bench/bench_profile.sh --customers 20000 --runs 1
# If clm.profile is not installed, only the generator, the floor and the plain
# SQL queries run, and the script says so.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SELF="$ROOT/test/bench/$(basename "$0")"
CUSTOMERS=1000000
RUNS=3
ASOF=2025-01-01
BASELINE=${CLM_BENCH_BASELINE:-$ROOT/../shared/bench/plain_sql_baseline.sql}
WORK_MEM=default
INSTALL=1
KEEP_LOG=
LOCK=${CLM_PG_LOCK:-/tmp/clm-pg.lock}

ORIG_ARGS=("$@")
usage() { sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
	case "$1" in
		--customers) CUSTOMERS=$2; shift 2 ;;
		--runs) RUNS=$2; shift 2 ;;
		--asof) ASOF=$2; shift 2 ;;
		--baseline) BASELINE=$2; shift 2 ;;
		--work-mem) WORK_MEM=$2; shift 2 ;;
		--no-install) INSTALL=0; shift ;;
		--keep-log) KEEP_LOG=$2; shift 2 ;;
		-h|--help) usage 0 ;;
		*) echo "bench_profile: unknown argument: $1" >&2; usage 2 >&2 ;;
	esac
done
case "$CUSTOMERS" in ''|*[!0-9]*) echo "bench_profile: --customers must be a number" >&2; exit 2 ;; esac
case "$RUNS" in ''|*[!0-9]*|0) echo "bench_profile: --runs must be a positive number" >&2; exit 2 ;; esac
case "$ASOF" in [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;; *) echo "bench_profile: --asof must be YYYY-MM-DD" >&2; exit 2 ;; esac
case "$WORK_MEM" in ''|*[!0-9A-Za-z]*) echo "bench_profile: bad --work-mem" >&2; exit 2 ;; esac
[ -r "$BASELINE" ] || { echo "bench_profile: baseline not found: $BASELINE (use --baseline)" >&2; exit 2; }
BASELINE=$(cd "$(dirname "$BASELINE")" && pwd)/$(basename "$BASELINE")

# Outer level: take the lock, install, and re-run this script inside a
# throwaway cluster.
if [ -z "${CLM_BENCH_INNER:-}" ]; then
	export CLM_BENCH_INNER=1
	echo "bench_profile: waiting for the lock $LOCK ..."
	exec flock "$LOCK" sh -c '
		set -e
		root=$1 install=$2
		shift 2
		cd "$root"
		if [ "$install" = 1 ]; then
			echo "bench_profile: make install"
			make -s >/dev/null && make -s install >/dev/null
		fi
		echo "bench_profile: starting a throwaway cluster (pg_virtualenv)"
		pg_virtualenv -t "$@" </dev/null
	' sh "$ROOT" "$INSTALL" "$SELF" ${ORIG_ARGS[@]+"${ORIG_ARGS[@]}"}
fi

# Inner level: inside pg_virtualenv (PGHOST, PGPORT ... are set).
WORK=$(mktemp -d /tmp/clm-bench.XXXXXX)
chmod 755 "$WORK"
trap 'if [ -n "$KEEP_LOG" ]; then mkdir -p "$KEEP_LOG"; cp "$WORK"/* "$KEEP_LOG"/; fi; rm -rf "$WORK"' EXIT
PSQL=(psql -X -v ON_ERROR_STOP=1 -v "asof=$ASOF" -v "n=$CUSTOMERS" -v "wm=$WORK_MEM")

# the text of one baseline query: from ":X CREATE TEMP TABLE <name> AS" to ";"
baseline_query() {
	awk -v t="$1" '
		$0 ~ "^:X CREATE TEMP TABLE " t " AS" { on = 1; sub(/^:X /, "") }
		on { print }
		on && /;[[:space:]]*$/ { exit }
	' "$BASELINE"
}
Q1=$(baseline_query q1_btyd)
Q1B=$(baseline_query q1b_btyd)
[ -n "$Q1" ] && [ -n "$Q1B" ] || { echo "bench_profile: Q1/Q1b not found in $BASELINE" >&2; exit 1; }

echo "bench_profile: generating $CUSTOMERS customers"
"${PSQL[@]}" -q <<'EOF'
CREATE EXTENSION clm;
SET work_mem = '1GB';
\timing on
CREATE TABLE events AS
SELECT * FROM clm.generate_events(:n) ORDER BY occurred_at;
\timing off
VACUUM (ANALYZE) events;
SELECT count(*) AS events, count(DISTINCT customer_id) AS customers,
       round(count(*)::numeric / nullif(count(DISTINCT customer_id), 0), 2) AS events_per_customer,
       count(*) FILTER (WHERE event_type = 'purchase') AS purchases,
       pg_size_pretty(pg_total_relation_size('events')) AS table_size
FROM events;
EOF

HAVE_PROFILE=$("${PSQL[@]}" -Atc "SELECT count(*) FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'clm' AND p.proname = 'profile' AND p.prokind = 'a'")
HAVE_SUMMARY=$("${PSQL[@]}" -Atc "SELECT count(*) FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'clm' AND p.proname = 'summary'")
[ "$HAVE_PROFILE" != 0 ] || echo "bench_profile: clm.profile is not installed: profile queries skipped"
[ "$HAVE_SUMMARY" != 0 ] || echo "bench_profile: clm.summary is not installed: summary query skipped"

PROFILE_Q="SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM events GROUP BY customer_id"
FLOOR_Q="SELECT customer_id, count(*) AS n FROM events GROUP BY customer_id"
SUMMARY_Q="SELECT x.customer_id, s.* FROM ($PROFILE_Q) x CROSS JOIN LATERAL clm.summary(x.p, :'asof') s"

# one timed statement, preceded by the marker the parser keys on
timed() {	# name mode rep sql
	printf '\\echo @@T %s %s %s\n\\timing on\n%s\n\\timing off\n' "$1" "$2" "$3" "$4"
}

{
	if [ "$WORK_MEM" = default ]; then echo "RESET work_mem;"; else echo "SET work_mem = :'wm';"; fi
	echo "SET temp_buffers = '1GB';"
	echo "SHOW jit;"
	echo "SELECT count(*) FROM events;"		# warm the cache
	for mode in serial parallel; do
		if [ $mode = serial ]; then w=0; else w=2; fi
		echo "SET max_parallel_workers_per_gather = $w;"
		for rep in $(seq 1 "$RUNS"); do
			echo "DROP TABLE IF EXISTS b_floor, b_profile, b_summary, q1_btyd, q1b_btyd;"
			timed floor $mode "$rep" "CREATE TEMP TABLE b_floor AS $FLOOR_Q;"
			[ "$HAVE_PROFILE" = 0 ] || timed profile $mode "$rep" "CREATE TEMP TABLE b_profile AS $PROFILE_Q;"
			[ "$HAVE_PROFILE" = 0 ] || [ "$HAVE_SUMMARY" = 0 ] ||
				timed summary $mode "$rep" "CREATE TEMP TABLE b_summary AS $SUMMARY_Q;"
			timed q1 $mode "$rep" "$Q1"
			timed q1b $mode "$rep" "$Q1B"
		done
		if [ "$HAVE_PROFILE" != 0 ]; then
			echo "\\echo @@SIZE $mode"
			echo "SELECT '@@SIZE', count(*), round(avg(pg_column_size(p)), 1), max(pg_column_size(p)), sum(pg_column_size(p)) FROM b_profile;"
			echo "\\echo @@PLAN profile $mode"
			echo "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $PROFILE_Q;"
		fi
		echo "\\echo @@PLAN floor $mode"
		echo "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $FLOOR_Q;"
	done
	if [ "$HAVE_SUMMARY" != 0 ]; then
		# sanity check, not timed: frequency agrees with the plain SQL
		echo "\\set ON_ERROR_STOP off"
		echo "SELECT '@@CHECK', count(*) FILTER (WHERE s.frequency IS DISTINCT FROM q.frequency) FROM b_summary s JOIN q1b_btyd q USING (customer_id);"
	fi
} > "$WORK/bench.sql"

echo "bench_profile: timing ($RUNS runs per query and mode; this takes a while)"
"${PSQL[@]}" -f "$WORK/bench.sql" > "$WORK/bench.out" 2>&1 || { tail -30 "$WORK/bench.out"; exit 1; }

echo
echo "setup: $(nproc) cores, PostgreSQL $("${PSQL[@]}" -Atc 'SHOW server_version'), work_mem $WORK_MEM, jit $("${PSQL[@]}" -Atc 'SHOW jit'), temp_buffers 1GB, events ordered by occurred_at"
echo "events: $("${PSQL[@]}" -Atc "SELECT count(*) || ' rows, ' || pg_size_pretty(pg_total_relation_size('events')) FROM events")"

# parse: medians, sizes, memory lines
awk -v runs="$RUNS" -v n="$CUSTOMERS" '
	function median(key,   k, i, j, t, a) {
		k = cnt[key]
		if (k == 0) return ""
		for (i = 1; i <= k; i++) a[i] = ms[key, i]
		for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	function fmt(x) { return x == "" ? "-" : sprintf("%.0f", x) }
	function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2f", a / b) }
	/^@@T / { key = $2 SUBSEP $3; next }
	/^Time: / && key != "" { cnt[key]++; ms[key, cnt[key]] = $2; key = ""; next }
	/^@@PLAN / { plan = $2 " " $3; next }
	plan != "" && /(Memory Usage|Batches|Disk Usage|Peak Memory|Workers Launched|Aggregate|Worker [0-9]+:)/ {
		line = $0; sub(/^[[:space:]]+/, "", line); mem[plan] = mem[plan] "    " line "\n"; next }
	plan != "" && /^\(/ { plan = ""; next }
	$1 == "@@SIZE" && NF >= 9 { sz = sprintf("%s profiles, average %s bytes, largest %s bytes, total %.1f MB", $3, $5, $7, $9 / 1048576) }
	$1 == "@@CHECK" && NF >= 3 { check = $3 }
	END {
		for (m = 1; m <= 2; m++) {
			mode = (m == 1) ? "serial" : "parallel"
			for (q = 1; q <= 5; q++) {
				name = (q == 1) ? "floor" : (q == 2) ? "profile" : (q == 3) ? "summary" : (q == 4) ? "q1" : "q1b"
				med[name, mode] = median(name SUBSEP mode)
			}
		}
		printf "\n== clm profile benchmark: %d customers, median of %d runs, times in ms ==\n\n", n, runs
		printf "%-44s %12s %12s\n", "query", "serial", "parallel"
		printf "%-44s %12s %12s\n", "floor: count(*) GROUP BY customer_id", fmt(med["floor", "serial"]), fmt(med["floor", "parallel"])
		printf "%-44s %12s %12s\n", "profile: clm.profile(...) GROUP BY", fmt(med["profile", "serial"]), fmt(med["profile", "parallel"])
		printf "%-44s %12s %12s\n", "profile + clm.summary(p, asof)", fmt(med["summary", "serial"]), fmt(med["summary", "parallel"])
		printf "%-44s %12s %12s\n", "plain SQL Q1 (window + count DISTINCT)", fmt(med["q1", "serial"]), fmt(med["q1", "parallel"])
		printf "%-44s %12s %12s\n", "plain SQL Q1b (per-day rollup)", fmt(med["q1b", "serial"]), fmt(med["q1b", "parallel"])
		printf "\n%-44s %12s %12s   %s\n", "ratio", "serial", "parallel", "target"
		printf "%-44s %12s %12s   %s\n", "profile / floor", ratio(med["profile", "serial"], med["floor", "serial"]), ratio(med["profile", "parallel"], med["floor", "parallel"]), "<= 1.5"
		printf "%-44s %12s %12s   %s\n", "Q1 / (profile + summary)", ratio(med["q1", "serial"], med["summary", "serial"]), ratio(med["q1", "parallel"], med["summary", "parallel"]), ">= 2"
		printf "%-44s %12s %12s   %s\n", "Q1b / (profile + summary)", ratio(med["q1b", "serial"], med["summary", "serial"]), ratio(med["q1b", "parallel"], med["summary", "parallel"]), "(info)"
		if (sz != "") printf "\nprofile size: %s\n", sz
		if (check != "") printf "summary vs Q1b: %s customers with a different frequency (expected 0)\n", check
		printf "\naggregation memory (EXPLAIN ANALYZE):\n"
		split("profile serial,profile parallel,floor serial,floor parallel", order, ",")
		for (i = 1; i <= 4; i++) if (order[i] in mem) printf "  %s\n%s", order[i], mem[order[i]]
	}
' "$WORK/bench.out"
