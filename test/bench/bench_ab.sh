#!/bin/bash
# bench_ab.sh -- two builds of clm side by side, in one run: the hot paths
# (the profile build, the one-pass stage and RFM forms) timed alternately in
# two private installations, medians of the backend's CPU time and the ratio
# new / base reported.
#
# Usage: test/bench/bench_ab.sh BASE_DIR NEW_DIR [--customers N] [--runs R]
#            [--port P]
#   BASE_DIR, NEW_DIR  private PostgreSQL copies (test/pgenv.sh setup DIR 15)
#                      with the two builds installed (make PG_CONFIG=... install)
#   --customers N      customers of clm.generate_events (default 200000)
#   --runs R           timed runs of each query in each build (default 7)
#   --port P           first of two ports (default 55428)
#   --queries "Q ..."  which of profile, stage, rfm (default all three)
# Each query runs as one statement (CREATE TEMP TABLE AS / SELECT count(*)),
# serial (max_parallel_workers_per_gather = 0), in a fresh session per run;
# the two servers hold the same data and take turns (A B A B ...), so that
# the machine's load drifts over both alike.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BASE=$1 NEW=$2
shift 2
CUSTOMERS=200000
RUNS=7
PORT=55428
QUERIES="profile stage rfm"
while [ $# -gt 0 ]; do
	case "$1" in
		--customers) CUSTOMERS=$2; shift 2 ;;
		--runs) RUNS=$2; shift 2 ;;
		--port) PORT=$2; shift 2 ;;
		--queries) QUERIES=$2; shift 2 ;;
		*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done

declare -A ENVS
ENVS[base]="$(bash "$ROOT/test/pgenv.sh" start "$BASE" "$PORT")"
ENVS[new]="$(bash "$ROOT/test/pgenv.sh" start "$NEW" $((PORT + 1)))"
trap 'bash "$ROOT/test/pgenv.sh" stop "$BASE" >/dev/null; bash "$ROOT/test/pgenv.sh" stop "$NEW" >/dev/null' EXIT

q() { (eval "${ENVS[$1]}"; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d postgres "$@"); }

for b in base new; do
	q "$b" <<EOF
DROP EXTENSION IF EXISTS clm CASCADE;
DROP TABLE IF EXISTS events, profiles;
CREATE EXTENSION clm;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE events AS
  SELECT * FROM clm.generate_events($CUSTOMERS) ORDER BY occurred_at;
CREATE TABLE profiles AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM events GROUP BY customer_id;
VACUUM ANALYZE events, profiles;
EOF
done

declare -A SQL
SQL[profile]="CREATE TEMP TABLE t AS SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM events GROUP BY customer_id"
SQL[stage]="SELECT count(*) FROM (SELECT clm.customer_stages(customer_id, p, '2024-12-31') AS s FROM profiles) x, clm.customer_stage_rows(x.s) r"
SQL[rfm]="SELECT count(*) FROM (SELECT clm.customer_rfm(customer_id, p, '2024-12-31') AS s FROM profiles) x, clm.customer_rfm_rows(x.s, 5, 'rfm11') r"

# time_one BUILD NAME: CPU milliseconds (user + system) of the backend for
# one run, in a fresh session (log_statement_stats: getrusage around the
# statement, which the machine's other load disturbs far less than the
# elapsed time it also reports)
time_one() {
	q "$1" -c "SET max_parallel_workers_per_gather = 0" -c "SET client_min_messages = log" \
		-c "SET log_statement_stats = on" -c "${SQL[$2]}" 2>&1 >/dev/null |
		sed -n 's/^!\s*\([0-9.]*\) s user, \([0-9.]*\) s system.*/\1 \2/p' | tail -n 1 |
		awk '{ printf "%.1f\n", 1000 * ($1 + $2) }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "clm A/B: $CUSTOMERS customers, $RUNS runs each, serial, base $BASE, new $NEW"
printf '%-10s %12s %12s %8s\n' query "base CPU ms" "new CPU ms" "new/base"
for name in $QUERIES; do
	: >"/tmp/clm-ab.$$.base" ; : >"/tmp/clm-ab.$$.new"
	time_one base "$name" >/dev/null	# warm both caches
	time_one new "$name" >/dev/null
	for ((i = 0; i < RUNS; i++)); do
		if ((i % 2)); then order="new base"; else order="base new"; fi
		for b in $order; do
			time_one "$b" "$name" >>"/tmp/clm-ab.$$.$b"
		done
	done
	mb=$(median <"/tmp/clm-ab.$$.base")
	mn=$(median <"/tmp/clm-ab.$$.new")
	printf '%-10s %12.1f %12.1f %8.3f   (base: %s; new: %s)\n' "$name" "$mb" "$mn" \
		"$(echo "$mn / $mb" | bc -l)" "$(tr '\n' ' ' <"/tmp/clm-ab.$$.base")" \
		"$(tr '\n' ' ' <"/tmp/clm-ab.$$.new")"
	rm -f "/tmp/clm-ab.$$.base" "/tmp/clm-ab.$$.new"
done
