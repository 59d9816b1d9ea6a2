#!/bin/bash
# bench_duckdb.sh -- clm against DuckDB on the same events, in one run (issue 17).
#
# Against the PostgreSQL server of the environment (PGHOST, PGPORT, PGUSER;
# clm installed there, e.g. a private server of test/pgenv.sh), in a database
# DB (default clm_bench_duckdb, dropped and made again):
#   1. events := clm.generate_events(N) ordered by occurred_at, VACUUM ANALYZE;
#   2. the events exported with COPY ... CSV (in UTC) to a temporary file;
#   3. DuckDB (the npm package @duckdb/node-api, installed on first use into
#      CACHE, outside the repository; THREADS threads, time zone UTC) loads the
#      CSV and runs the plain-SQL yardstick's Q1 .. Q5 read from BASELINE
#      (../shared/bench/plain_sql_baseline.sql from the repository root or
#      its parent, or $CLM_BENCH_BASELINE), the same text with :'asof'
#      replaced, twice (bench_duckdb.js): "tz", unchanged, over occurred_at
#      TIMESTAMPTZ like PostgreSQL's, and "ts", over occurred_at TIMESTAMP
#      with "::timestamptz" read as "::timestamp" (DuckDB's time zone code
#      is slow: this is DuckDB at its fastest, with the same results in UTC);
#      clm is compared with the faster of the two; checksums of the results
#      (row counts, column sums) of both, and with --check-pg of PostgreSQL
#      running the same queries, must agree;
#   4. PostgreSQL (serial, time zone UTC, work_mem 64MB): the profile build
#      (clm.profile GROUP BY customer_id over the events before ASOF), then
#      from the stored profiles RFM with segments (clm.customer_rfm, rfm11,
#      rows from the select list as docs/rfm.md recommends),
#      monthly cohorts (clm.retention), weekly lifecycle (clm.lifecycle, the
#      52 full ISO weeks before ASOF) and stage (clm.customer_stages, rows
#      from the select list as docs/journey.md recommends), each
#      materialised into a temp table like the yardstick's queries;
#   5. at each work_mem of WORK_MEMS: the floor
#      (SELECT customer_id, count(*) FROM events GROUP BY 1) and the profile
#      build over all events, RUNS times each, median;
# and prints the times and the ratios clm / DuckDB (below 0.5 meets issue 17's
# "at least twice as fast") and profile build / floor (target <= 1.5), in
# elapsed time and in CPU time (the backend's, and the DuckDB process's over
# its threads): on a busy machine DuckDB's threads wait for each other and its
# elapsed times are inflated, so compare the CPU columns there.  Step 5 also
# times array_agg(occurred_at) GROUP BY customer_id, a per-customer state of
# the same size class as a profile build state: the floor of any aggregate
# that keeps such a state, which large work_mem makes memory-latency bound.
#
# Usage: test/bench/bench_duckdb.sh [--customers N] [--asof DATE]
#            [--cohorts-from DATE] [--threads T] [--work-mems "4MB 64MB 1GB"]
#            [--runs R] [--db NAME] [--cache DIR] [--baseline FILE]
#            [--keep-log DIR] [--check-pg yes|no]
#   --customers N   customers (default $CUSTOMERS or 1000000, ~16 events each);
#                   use e.g. 100000 while the machine is busy
#   --asof DATE     default 2025-01-01 (clm's as_of is the day before: inclusive)
#   --cohorts-from  first cohort month of clm.retention (default 2023-01-01)
#   --threads T     DuckDB threads (default 2)
#   --work-mems L   work_mem settings of step 5 (default "4MB 64MB 1GB")
#   --runs R        repetitions in step 5, median reported (default 1)
#   --cache DIR     where @duckdb/node-api is installed
#                   (default $CLM_DUCKDB_CACHE or ~/.cache/clm-bench-duckdb)
#   --keep-log DIR  keep the raw outputs in DIR
#   --check-pg      also run the yardstick's queries in PostgreSQL (untimed)
#                   and compare their checksums with DuckDB's (default yes up
#                   to 100000 customers: at 1,000,000 they take a minute)
# Smoke test: CUSTOMERS=2000 test/bench/bench_duckdb.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SELF="$ROOT/test/bench/$(basename "$0")"
CUSTOMERS=${CUSTOMERS:-1000000}
ASOF=2025-01-01
COHORTS_FROM=2023-01-01
THREADS=2
WORK_MEMS="4MB 64MB 1GB"
RUNS=1
DB=clm_bench_duckdb
CACHE=${CLM_DUCKDB_CACHE:-$HOME/.cache/clm-bench-duckdb}
BASELINE=${CLM_BENCH_BASELINE:-$ROOT/../shared/bench/plain_sql_baseline.sql}
# a worktree lies one level deeper than the main checkout
[ -r "$BASELINE" ] || [ -n "${CLM_BENCH_BASELINE:-}" ] || BASELINE=$ROOT/../../shared/bench/plain_sql_baseline.sql
KEEP_LOG=
CHECK_PG=
DUCKDB_VERSION=1.5.6-r.1

usage() { sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
	case "$1" in
		--customers) CUSTOMERS=$2; shift 2 ;;
		--asof) ASOF=$2; shift 2 ;;
		--cohorts-from) COHORTS_FROM=$2; shift 2 ;;
		--threads) THREADS=$2; shift 2 ;;
		--work-mems) WORK_MEMS=$2; shift 2 ;;
		--runs) RUNS=$2; shift 2 ;;
		--db) DB=$2; shift 2 ;;
		--cache) CACHE=$2; shift 2 ;;
		--baseline) BASELINE=$2; shift 2 ;;
		--keep-log) KEEP_LOG=$2; shift 2 ;;
		--check-pg) CHECK_PG=$2; shift 2 ;;
		-h|--help) usage 0 ;;
		*) echo "bench_duckdb: unknown argument: $1" >&2; usage 2 >&2 ;;
	esac
done
case "$CUSTOMERS" in ''|*[!0-9]*) echo "bench_duckdb: --customers must be a number" >&2; exit 2 ;; esac
case "$THREADS" in ''|*[!0-9]*|0) echo "bench_duckdb: --threads must be a positive number" >&2; exit 2 ;; esac
case "$RUNS" in ''|*[!0-9]*|0) echo "bench_duckdb: --runs must be a positive number" >&2; exit 2 ;; esac
for d in "$ASOF" "$COHORTS_FROM"; do
	case "$d" in [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;; *) echo "bench_duckdb: dates must be YYYY-MM-DD" >&2; exit 2 ;; esac
done
for wm in $WORK_MEMS; do
	case "$wm" in *[!0-9A-Za-z]*) echo "bench_duckdb: bad work_mem $wm" >&2; exit 2 ;; esac
done
[ -n "$CHECK_PG" ] || { [ "$CUSTOMERS" -le 100000 ] && CHECK_PG=yes || CHECK_PG=no; }
case "$CHECK_PG" in yes|no) ;; *) echo "bench_duckdb: --check-pg must be yes or no" >&2; exit 2 ;; esac
case "$DB" in ''|*[!a-z0-9_]*) echo "bench_duckdb: --db must be a plain lower-case name" >&2; exit 2 ;; esac
[ -r "$BASELINE" ] || { echo "bench_duckdb: baseline not found: $BASELINE (use --baseline)" >&2; exit 2; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "bench_duckdb: needs node and npm" >&2; exit 2; }

# DuckDB: the npm package, installed once into the cache (never into the tree)
if [ ! -d "$CACHE/node_modules/@duckdb/node-api" ]; then
	echo "bench_duckdb: installing @duckdb/node-api@$DUCKDB_VERSION into $CACHE"
	mkdir -p "$CACHE"
	npm install --prefix "$CACHE" --no-audit --no-fund --no-save "@duckdb/node-api@$DUCKDB_VERSION" >/dev/null
fi

WORK=$(mktemp -d /tmp/clm-bench-duckdb.XXXXXX)
chmod 755 "$WORK"
trap 'if [ -n "$KEEP_LOG" ]; then mkdir -p "$KEEP_LOG"; cp "$WORK"/*.sql "$WORK"/*.out "$KEEP_LOG"/ 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
PSQL=(psql -X -v ON_ERROR_STOP=1 -d "$DB")

echo "bench_duckdb: generating $CUSTOMERS customers"
"${PSQL[@]}" -q -v n="$CUSTOMERS" <<'EOF'
SET client_min_messages = warning;
CREATE EXTENSION clm;
SET work_mem = '1GB';
CREATE TABLE events AS SELECT * FROM clm.generate_events(:n) ORDER BY occurred_at;
VACUUM (ANALYZE) events;
EOF

echo "bench_duckdb: exporting the events to CSV"
"${PSQL[@]}" -q -c "SET TimeZone = 'UTC'" \
	-c "\\copy events (customer_id, occurred_at, event_type, amount, channel) TO '$WORK/events.csv' WITH (FORMAT csv, HEADER)"

# the yardstick's queries: from ":X CREATE TEMP TABLE <name> AS" to ";"
baseline_query() {
	awk -v t="$1" '
		$0 ~ "^:X CREATE TEMP TABLE " t " AS" { on = 1; sub(/^:X /, "") }
		on { print }
		on && /;[[:space:]]*$/ { exit }
	' "$BASELINE" | sed "s/:'asof'/'$ASOF'/g"
}
: > "$WORK/duckdb.sql"
for q in Q1:q1_btyd Q2:q2_rfm Q3:q3_cohort Q4:q4_lifecycle Q5:q5_stage; do
	text=$(baseline_query "${q#*:}")
	[ -n "$text" ] || { echo "bench_duckdb: ${q#*:} not found in $BASELINE" >&2; exit 1; }
	printf -- '-- @@Q %s\n%s\n' "${q%%:*}" "$text" >> "$WORK/duckdb.sql"
done
# checksums of the results, one row of numbers each, in SQL that DuckDB and
# PostgreSQL both run: a row count and sums of the columns (Q2's sums only of
# the columns whose multiset is determined: ntile breaks ties in any order,
# so which customer gets which score, and so the segments, may differ)
cat > "$WORK/checks.sql" <<'CHK'
-- @@K Q1
SELECT count(*), sum(frequency), sum(recency), sum(t), sum(revenue),
       sum(first_purchase::date - date '2000-01-01'), sum(last_purchase::date - date '2000-01-01') FROM q1_btyd;
-- @@K Q1M
SELECT sum(monetary) FROM q1_btyd;
-- @@K Q2
SELECT count(*), sum(days_since_last), sum(frequency), sum(revenue), sum(r), sum(f), sum(m) FROM q2_rfm;
-- @@K Q3
SELECT count(*), sum(cohort - date '2000-01-01'), sum(month_offset), sum(customers), sum(cohort_size), sum(retention) FROM q3_cohort;
-- @@K Q4
SELECT count(*), sum(week::date - date '2000-01-01'), sum(customers),
       sum(customers) FILTER (WHERE status = 'new'), sum(customers) FILTER (WHERE status = 'returning'),
       sum(customers) FILTER (WHERE status = 'resurrecting'), sum(customers) FILTER (WHERE status = 'dormant') FROM q4_lifecycle;
-- @@K Q5
SELECT count(*), sum(n_events), sum(p_days), sum(mean_gap_days), sum(days_since_last),
       count(*) FILTER (WHERE stage = 'prospect'), count(*) FILTER (WHERE stage = 'new'), count(*) FILTER (WHERE stage = 'active'),
       count(*) FILTER (WHERE stage = 'at_risk'), count(*) FILTER (WHERE stage = 'lapsed') FROM q5_stage;
CHK
cat "$WORK/checks.sql" >> "$WORK/duckdb.sql"

echo "bench_duckdb: DuckDB ($THREADS threads): load and Q1 .. Q5"
node "$ROOT/test/bench/bench_duckdb.js" "$CACHE/node_modules" "$WORK/events.csv" \
	"$WORK/duckdb.sql" "$THREADS" UTC > "$WORK/duckdb.out"
rm -f "$WORK/events.csv"

# the backend's CPU time (user + system, ms) from /proc/self/stat: needs a
# superuser (pg_read_file) and Linux; otherwise the CPU columns stay empty
CPU_OK=$("${PSQL[@]}" -Atc "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user" 2>/dev/null || true)
[ -r /proc/self/stat ] || CPU_OK=f
CPU_FN="CREATE FUNCTION pg_temp.cpu_ms() RETURNS bigint LANGUAGE sql AS \$\$
SELECT (f[12]::bigint + f[13]::bigint) * 1000 / $(getconf CLK_TCK)
FROM pg_catalog.string_to_array(pg_catalog.split_part(pg_catalog.pg_read_file('/proc/self/stat'), ') ', 2), ' ') f \$\$;"

# one timed statement, preceded by the marker the parser keys on, followed
# by its CPU time
timed() {	# name sql
	[ "$CPU_OK" != t ] || printf 'SELECT pg_temp.cpu_ms() AS c0 \\gset\n'
	printf '\\echo @@T %s\n\\timing on\n%s\n\\timing off\n' "$1" "$2"
	[ "$CPU_OK" != t ] || printf "SELECT '@@C %s ' || (pg_temp.cpu_ms() - :c0) \\g\n" "$1"
}
BUILD="SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM events"
{
	echo "SET client_min_messages = warning;"
	echo "SET TimeZone = 'UTC';"
	echo "SET max_parallel_workers_per_gather = 0;"
	echo "SET work_mem = '64MB';"
	echo "SET temp_buffers = '1GB';"
	echo "SELECT count(*) FROM events;"	# warm the cache
	[ "$CPU_OK" != t ] || echo "$CPU_FN"
	timed build "CREATE TEMP TABLE profiles AS $BUILD WHERE occurred_at < '$ASOF'::timestamptz GROUP BY customer_id;"
	echo "ANALYZE profiles;"
	# RFM and stage: the rows functions in the select list, as docs/rfm.md
	# and docs/journey.md recommend for many customers (no tuplestore)
	timed rfm "CREATE TEMP TABLE c_rfm AS SELECT (clm.customer_rfm_rows(x.s, 5, 'rfm11')).* FROM (SELECT clm.customer_rfm(customer_id, p, date '$ASOF' - 1) AS s FROM profiles) x;"
	timed cohort "CREATE TEMP TABLE c_cohort AS SELECT r.* FROM (SELECT clm.retention(p, date '$COHORTS_FROM', date '$ASOF' - 1, 'month') AS v FROM profiles) s, clm.retention_rows(s.v) r;"
	timed lifecycle "CREATE TEMP TABLE c_lifecycle AS SELECT r.* FROM (SELECT clm.lifecycle(p, date_trunc('week', date '$ASOF')::date - 364, date_trunc('week', date '$ASOF')::date - 1, 'week') AS lc FROM profiles) s, clm.lifecycle_rows(s.lc) r;"
	timed stage "CREATE TEMP TABLE c_stage AS SELECT (clm.customer_stage_rows(x.s, population_gap_days => NULL::float8)).* FROM (SELECT clm.customer_stages(customer_id, p, date '$ASOF' - 1) AS s FROM profiles) x;"
	for t in rfm cohort lifecycle stage; do
		echo "SELECT '@@R $t ' || count(*) FROM c_$t \\g"
	done
	for wm in $WORK_MEMS; do
		echo "SET work_mem = '$wm';"
		for rep in $(seq 1 "$RUNS"); do
			echo "DROP TABLE IF EXISTS b_floor, b_profile, b_array;"
			timed "floor_$wm" "CREATE TEMP TABLE b_floor AS SELECT customer_id, count(*) AS n FROM events GROUP BY customer_id;"
			timed "profile_$wm" "CREATE TEMP TABLE b_profile AS $BUILD GROUP BY customer_id;"
			echo "DROP TABLE IF EXISTS b_array;"
			timed "array_$wm" "CREATE TEMP TABLE b_array AS SELECT customer_id, array_agg(occurred_at) AS a FROM events GROUP BY customer_id;"
		done
	done
	# the per-row floors (work_mem 64MB): the same rows folded into 100
	# customers, whose states stay in the caches (profile / count(*) there is
	# the CPU work of a profile row, without memory misses), and sum(customer_id)
	# per customer: a 48-byte by-reference state per customer, one miss a row
	echo "SET work_mem = '64MB';"
	for rep in $(seq 1 "$RUNS"); do
		echo "DROP TABLE IF EXISTS b_floor, b_profile, b_array;"
		timed "cached_floor" "CREATE TEMP TABLE b_floor AS SELECT customer_id % 100 AS c, count(*) AS n FROM events GROUP BY 1;"
		timed "cached_profile" "CREATE TEMP TABLE b_profile AS SELECT customer_id % 100 AS c, clm.profile(occurred_at, amount, channel) AS p FROM events GROUP BY 1;"
		timed "small_state" "CREATE TEMP TABLE b_array AS SELECT customer_id, sum(customer_id) AS s FROM events GROUP BY customer_id;"
	done
} > "$WORK/clm.sql"

echo "bench_duckdb: PostgreSQL (serial): profile build, analytics from stored profiles, build vs floor at $WORK_MEMS"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo -)
"${PSQL[@]}" -At -f "$WORK/clm.sql" > "$WORK/clm.out" 2>&1 || { tail -20 "$WORK/clm.out"; exit 1; }
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo -)

# the yardstick's queries in PostgreSQL too, for their checksums (untimed)
: > "$WORK/pg_check.out"
if [ "$CHECK_PG" = yes ]; then
	echo "bench_duckdb: PostgreSQL: the yardstick's Q1 .. Q5 for the checksums"
	{
		echo "SET client_min_messages = warning;"
		echo "SET TimeZone = 'UTC';"
		echo "SET work_mem = '64MB';"
		echo "\pset null null"
		sed -n '/^-- @@Q /,/^-- @@K /{/^-- @@/d;p;}' "$WORK/duckdb.sql"
		# each checksum query as one line, its row prefixed like DuckDB's
		awk -v q="'" '
			function flush() { if (name != "") { sub(/;[[:space:]]*$/, "", text); print "SELECT " q "@@K" q ", " q "pg" q ", " q name q ", * FROM (" text ") k;" } }
			/^-- @@K / { flush(); name = $3; text = ""; next }
			{ text = text " " $0 }
			END { flush() }
		' "$WORK/checks.sql"
	} > "$WORK/pg_check.sql"
	"${PSQL[@]}" -At -F ' ' -f "$WORK/pg_check.sql" > "$WORK/pg_check.out" 2>&1 || { tail -20 "$WORK/pg_check.out"; exit 1; }
fi

echo
echo "setup: $(nproc) cores, PostgreSQL $("${PSQL[@]}" -Atc 'SHOW server_version'), jit $("${PSQL[@]}" -Atc 'SHOW jit'), $(sed -n 's/^@@V //p' "$WORK/duckdb.out") with $THREADS threads"
echo "load average (1, 5, 15 min) before and after the PostgreSQL part: $LOAD_BEFORE; $LOAD_AFTER"
echo "events: $("${PSQL[@]}" -Atc "SELECT count(*) || ' rows, ' || count(DISTINCT customer_id) || ' customers, ' || pg_size_pretty(pg_total_relation_size('events')) FROM events"), as of $ASOF"

awk -v wms="$WORK_MEMS" -v threads="$THREADS" '
	function median(key,   k, i, j, t, a) {
		k = cnt[key]
		if (k == 0) return ""
		for (i = 1; i <= k; i++) a[i] = ms[key, i]
		for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	function fmt(x) { return x == "" ? "-" : sprintf("%.0f", x) }
	# two checksum rows agree: the same count of numbers, each equal within
	# 1e-9 relatively (sums of floating point in different orders)
	function same(a, b,   x, y, n, i, d) {
		if (a == "" || b == "") return 0
		n = split(a, x, " "); if (split(b, y, " ") != n) return 0
		for (i = 1; i <= n; i++) {
			if (x[i] == y[i]) continue
			if (x[i] == "null" || y[i] == "null") return 0
			d = x[i] - y[i]; if (d < 0) d = -d
			if (d > 1e-9 * ((x[i] < 0 ? -x[i] : x[i]) + 1)) return 0
		}
		return 1
	}
	function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2f", a / b) }
	FNR == 1 { file++ }
	file == 1 && /^@@D / { duck[$2] = $3; dcpu[$2] = $4; next }
	file == 1 && /^@@R / { drows[$2] = $3; next }
	file == 1 && /^@@K / { v = $0; sub(/^@@K [a-z]+ [A-Z0-9]+ /, "", v); kk[$2, $3] = v; next }
	file == 3 && /^@@K / { v = $0; sub(/^@@K [a-z]+ [A-Z0-9]+ /, "", v); kk[$2, $3] = v; haspg = 1; next }
	file == 2 && /^@@T / { key = $2; next }
	file == 2 && /^Time: / && key != "" { cnt[key]++; ms[key, cnt[key]] = $2; last = key; key = ""; next }
	file == 2 && /^@@C / { ccpu[$2] += $3; ncpu[$2]++; next }
	file == 2 && /^@@R / { crows[$2] = $3; next }
	END {
		for (k in cnt) med[k] = median(k)
		for (k in ncpu) cpu[k] = ccpu[k] / ncpu[k]
		split("rfm:Q1 Q2,cohort:Q3,lifecycle:Q4,stage:Q5", m, ",")
		for (i = 1; i <= 4; i++) {
			split(m[i], kv, ":"); k = kv[1]; nq = split(kv[2], qq, " ")
			for (j = 1; j <= nq; j++) {
				tz[k] += duck[qq[j]]; tzc[k] += dcpu[qq[j]]
				ts[k] += duck["ts_" qq[j]]; tsc[k] += dcpu["ts_" qq[j]]
			}
			drows[k] = drows[qq[nq]]
			if (drows["ts_" qq[nq]] != drows[qq[nq]]) rowsdiffer = 1
			# the yardstick: the faster of the two ways
			if (ts[k] != "" && ts[k] > 0 && ts[k] < tz[k]) { duck[k] = ts[k]; dc[k] = tsc[k]; way[k] = "ts" }
			else { duck[k] = tz[k]; dc[k] = tzc[k]; way[k] = "tz" }
		}
		printf "\n== clm from stored profiles vs DuckDB from the raw events (ms; ratio = clm / DuckDB, target <= 0.50) ==\n"
		printf "   DuckDB tz: the yardstick as written (occurred_at TIMESTAMPTZ: every time stamp through DuckDB'"'"'s ICU time\n"
		printf "   zone code); ts: the same queries over occurred_at TIMESTAMP, \"::timestamptz\" read as \"::timestamp\" (no time\n"
		printf "   zone anywhere; the same results in UTC, checked below); ratio: clm / the faster of the two (way: which);\n"
		printf "   ratio tz: clm / tz.  cpu: CPU time of the PostgreSQL backend and of the DuckDB process (all threads) in\n"
		printf "   the faster way; cpu ratio = clm cpu / (DuckDB cpu / %d threads): the wall ratio if DuckDB used its threads fully\n\n", threads
		printf "%-30s %9s %9s %9s %7s %4s %7s %9s %9s %7s %9s %9s\n", "query", "DuckDB", "DuckDB", "clm", "ratio", "way", "ratio", "DuckDB", "clm", "cpu", "rows", "rows"
		printf "%-30s %9s %9s %9s %7s %4s %7s %9s %9s %7s %9s %9s\n", "", "tz wall", "ts wall", "wall", "wall", "", "tz", "cpu", "cpu", "ratio", "DuckDB", "clm"
		printf "%-30s %9s %9s %9s %7s %4s %7s %9s %9s %7s\n", "load CSV (ts: + cast) | build", fmt(duck["load"]), fmt(duck["load"] + duck["ts_load"]), fmt(med["build"]), ratio(med["build"], duck["load"]), "tz", "",
			fmt(dcpu["load"]), fmt(cpu["build"]), ratio(cpu["build"], dcpu["load"] / threads)
		split("rfm:RFM with segments (Q1+Q2),cohort:monthly cohorts (Q3),lifecycle:weekly lifecycle (Q4),stage:stage (Q5)", qs, ",")
		for (i = 1; i <= 4; i++) {
			split(qs[i], kv, ":"); k = kv[1]
			printf "%-30s %9s %9s %9s %7s %4s %7s %9s %9s %7s %9s %9s\n", kv[2], fmt(tz[k]), fmt(ts[k]), fmt(med[k]), ratio(med[k], duck[k]), way[k], ratio(med[k], tz[k]),
				fmt(dc[k]), fmt(cpu[k]), ratio(cpu[k], dc[k] / threads), drows[k], crows[k]
			dsum += duck[k]; csum += med[k]; dcsum += dc[k]; ccsum += cpu[k]; tzsum += tz[k]; tssum += ts[k]
		}
		printf "%-30s %9s %9s %9s %7s %4s %7s %9s %9s %7s\n", "the four analytics", fmt(tzsum), fmt(tssum), fmt(csum), ratio(csum, dsum), "", ratio(csum, tzsum),
			fmt(dcsum), fmt(ccsum), ratio(ccsum, dcsum / threads)
		printf "%-30s %9s %9s %9s %7s %4s %7s %9s %9s %7s   (target <= 2.00)\n", "whole path: build + the four", fmt(tzsum), fmt(tssum), fmt(csum + med["build"]), ratio(csum + med["build"], dsum), "", ratio(csum + med["build"], tzsum),
			fmt(dcsum), fmt(ccsum + cpu["build"]), ratio(ccsum + cpu["build"], dcsum / threads)
		printf "\n== the yardstick'"'"'s results: checksums (row count, column sums) of DuckDB tz, ts%s ==\n", haspg ? " and PostgreSQL" : ""
		# Q1M: sum(monetary), round(sum / count, 2): DuckDB divides a DECIMAL
		# by an integer in DOUBLE, so a half cent rounds either way there
		# (PostgreSQL: numeric, exact); compared between tz and ts only
		nk = split("Q1 Q1M Q2 Q3 Q4 Q5", ks, " ")
		for (i = 1; i <= nk; i++) {
			q = ks[i]; a = kk["tz", q]; b = kk["ts", q]; c = kk["pg", q]
			st = (a == "" || b == "") ? "MISSING" : (same(a, b) ? "tz = ts" : "tz != ts")
			if (a == "" || b == "") bad = 1
			if (haspg) st = st (same(a, c) ? ", = pg" : ", != pg")
			printf "%-4s %-22s %s\n", q, st, a
			if (a != "" && !same(a, b)) { printf "     ts: %s\n", b; bad = 1 }
			if (haspg && !same(a, c)) {
				printf "     pg: %s%s\n", c, q == "Q1M" ? " (DuckDB: DOUBLE division, half cents round either way)" : ""
				if (q != "Q1M") bad = 1
			}
		}
		if (rowsdiffer) { printf "the row counts of tz and ts differ\n"; bad = 1 }
		if (bad) printf "RESULTS DIFFER: see above\n"
		printf "\n== profile build vs the floor GROUP BY customer_id count(*), all events, serial (ms; target <= 1.50) ==\n"
		printf "   array_agg(occurred_at): the same scan and grouping with a per-customer state of the size class of a\n"
		printf "   profile build state (a few hundred bytes, touched by every row): the floor of any such state\n\n"
		printf "%-9s %9s %9s %9s %8s %8s %9s %9s %9s %8s %8s\n", "work_mem", "floor", "array", "profile", "p/floor", "p/array", "floor", "array", "profile", "p/floor", "p/array"
		printf "%-9s %9s %9s %9s %8s %8s %9s %9s %9s %8s %8s\n", "", "wall", "wall", "wall", "wall", "wall", "cpu", "cpu", "cpu", "cpu", "cpu"
		n = split(wms, w, " ")
		for (i = 1; i <= n; i++) {
			f = "floor_" w[i]; a = "array_" w[i]; p = "profile_" w[i]
			printf "%-9s %9s %9s %9s %8s %8s %9s %9s %9s %8s %8s\n", w[i], fmt(med[f]), fmt(med[a]), fmt(med[p]), ratio(med[p], med[f]), ratio(med[p], med[a]),
				fmt(cpu[f]), fmt(cpu[a]), fmt(cpu[p]), ratio(cpu[p], cpu[f]), ratio(cpu[p], cpu[a])
		}
		printf "\n== per-row floors, work_mem 64MB (ms) ==\n"
		printf "   cached: the same rows folded into 100 customers (customer_id %% 100), every state in the caches:\n"
		printf "   profile / count(*) there is the CPU work of a profile row; small state: sum(customer_id) GROUP BY\n"
		printf "   customer_id, a 48-byte by-reference state per customer (one miss a row) against the count(*) floor\n\n"
		printf "%-32s %9s %9s %8s %9s %9s %8s\n", "", "floor", "agg", "ratio", "floor", "agg", "ratio"
		printf "%-32s %9s %9s %8s %9s %9s %8s\n", "", "wall", "wall", "wall", "cpu", "cpu", "cpu"
		printf "%-32s %9s %9s %8s %9s %9s %8s\n", "cached: profile vs count(*)", fmt(med["cached_floor"]), fmt(med["cached_profile"]), ratio(med["cached_profile"], med["cached_floor"]),
			fmt(cpu["cached_floor"]), fmt(cpu["cached_profile"]), ratio(cpu["cached_profile"], cpu["cached_floor"])
		printf "%-32s %9s %9s %8s %9s %9s %8s\n", "small state vs count(*) at 64MB", fmt(med["floor_64MB"]), fmt(med["small_state"]), ratio(med["small_state"], med["floor_64MB"]),
			fmt(cpu["floor_64MB"]), fmt(cpu["small_state"]), ratio(cpu["small_state"], cpu["floor_64MB"])
	}
' "$WORK/duckdb.out" "$WORK/clm.out" "$WORK/pg_check.out"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB"
