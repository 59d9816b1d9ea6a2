#!/bin/bash
# bench_citus.sh -- clm on a Citus cluster against the same data on one node
# (issue 13), ratios from one run.
#
# Starts the cluster of test/citus (test/citus/cluster.sh: Citus built once
# into a cache; a coordinator and two workers on local ports, a private copy
# of the installation named by PG_CONFIG, which must have clm installed) and
# loads clm.generate_events(N) into a table distributed by customer_id
# (8 shards) and into a plain table on the coordinator.  Then, RUNS times each
# in one session after an untimed run (median reported), distributed and
# local:
#   build     INSERT INTO profiles SELECT customer_id, clm.profile(...) GROUP BY
#             customer_id (co-located: pushed down whole)
#   the population aggregates over the profiles (partial aggregates on the
#             workers, combined on the coordinator)
#   tracked   the tables tracked (clm.track, the distributed one with its
#             co-located queue): clm.refresh after 1% more events (merge and
#             customers rows only), the refit with every customers row, the
#             population views, clm.rebuild
# and, per population aggregate, the partial state one shard sends: on
# Citus 13 its text (Citus moves partial states through the state type's
# text output and input), its size and the time to read 8 such texts back on
# the coordinator (the input function the combine step runs); on Citus 14,
# which moves them in binary when the type has send and receive functions,
# its binary size.
#
# Usage: PG_CONFIG=... test/bench/bench_citus.sh [--customers N] [--runs R]
#   --customers N  customers to generate (default 20000, ~15 events each)
#   --runs R       repetitions per query (default 3)
#   --only NAMES   the population aggregates named (space-separated), no build,
#                  no tracked sources
#   --tracked      the build and the tracked sources only
# Environment as test/citus/cluster.sh (CLM_CITUS_DIR, CLM_CITUS_CACHE,
# CLM_CITUS_PORT).  On one machine the workers share its cores with the
# coordinator: the ratios show the cost of the distributed path, not a
# speed-up.
set -uo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PG_CONFIG="${PG_CONFIG:-$(command -v pg_config || echo /usr/lib/postgresql/15/bin/pg_config)}"
CUSTOMERS=20000
RUNS=3
ONLY=""
TRACKED_ONLY=""
while [ $# -gt 0 ]; do
	case "$1" in
	--customers) CUSTOMERS=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--only) ONLY=" $2 "; shift 2 ;;
	--tracked) TRACKED_ONLY=1; shift ;;
	*) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	esac
done

. "$REPO/test/citus/cluster.sh"
citus_locate || { echo "cannot run: ${CITUS_SKIP:-no cache}"; exit 1; }
citus_build || exit 1
cluster_start 3 UTC UTC UTC || exit 1

value "CREATE TABLE ev (customer_id bigint, occurred_at timestamptz, event_type text, amount numeric, channel text)" \
	"SELECT create_distributed_table('ev', 'customer_id')" \
	"CREATE TABLE pr (customer_id bigint PRIMARY KEY, p clm.profile)" \
	"SELECT create_distributed_table('pr', 'customer_id', colocate_with => 'ev')" \
	"CREATE TABLE ev_l (LIKE ev)" \
	"CREATE TABLE pr_l (LIKE pr INCLUDING ALL)" \
	"INSERT INTO ev_l SELECT customer_id, occurred_at, event_type, amount, channel FROM clm.generate_events($CUSTOMERS, seed => 7)" \
	"INSERT INTO ev SELECT * FROM ev_l" \
	"VACUUM ANALYZE ev_l" "VACUUM ANALYZE ev" >/dev/null || exit 1
echo "==> $(value "SELECT count(*) FROM ev_l") events of $CUSTOMERS customers, 8 shards on 2 workers; median of $RUNS runs"

# ms SQL...: the time of the last statement (psql \timing), median of RUNS
# runs in one session after one untimed run (Citus keeps its connections to
# the workers for the session, as an application's pool would)
ms() {
	local r args=("$@") last="${@: -1}"
	for ((r = 0; r < RUNS; r++)); do args+=("\\timing on" "${@:1:$#-1}" "$last" "\\timing off"); done
	value "${args[@]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' |
		awk 'NR % '"$#"' == 0' | sort -g | sed -n "$(((RUNS + 1) / 2))p"
}
row() { awk -v n="$1" -v d="$2" -v l="$3" -v x="${4:-}" 'BEGIN { printf "%-22s %10.1f %10.1f %7.2f  %s\n", n, d, l, (l > 0 ? d / l : 0), x }'; }

printf '%-22s %10s %10s %7s  %s\n' query "citus ms" "local ms" ratio "partial state of one shard"
BUILD="SELECT customer_id, clm.profile(occurred_at, amount, channel) FROM %s GROUP BY customer_id"
if [ -z "$ONLY" ]; then
	row build "$(ms "TRUNCATE pr" "INSERT INTO pr $(printf "$BUILD" ev)")" \
		"$(ms "TRUNCATE pr_l" "INSERT INTO pr_l $(printf "$BUILD" ev_l)")" "(pushed down whole)"
else
	value "INSERT INTO pr $(printf "$BUILD" ev)" "INSERT INTO pr_l $(printf "$BUILD" ev_l)" >/dev/null
fi
value "ANALYZE pr" "ANALYZE pr_l" >/dev/null

# NAME|AGGREGATE CALL over the profiles pr
while IFS='|' read -r name call; do
	[ -z "$ONLY" ] || [[ "$ONLY" == *" $name "* ]] || continue
	[ -z "$TRACKED_ONLY" ] || continue
	d="$(ms "SELECT ($call) IS NULL FROM pr")"
	l="$(ms "SELECT ($call) IS NULL FROM pr_l")"
	# one task's remote query and node, from EXPLAIN VERBOSE
	plan="$(value "EXPLAIN (VERBOSE, COSTS OFF) SELECT $call FROM pr")"
	q="$(sed -n 's/^ *Query: //p' <<<"$plan" | head -1)"
	port="$(sed -n 's/.*Node: host=localhost port=\([0-9]*\).*/\1/p' <<<"$plan" | head -1)"
	info=""
	if [ -n "$q" ] && [ -n "$port" ]; then
		for ((i = 1; i < ${#PORTS[@]}; i++)); do [ "${PORTS[$i]}" = "$port" ] && break; done
		stype="$(value "SELECT a.aggtranstype::regtype FROM pg_aggregate a WHERE a.aggfnoid = (SELECT oid FROM pg_proc WHERE proname = '$(sed -E 's/^clm\.([a-z_]+)\(.*/\1/' <<<"$call")' AND pronamespace = 'clm'::regnamespace LIMIT 1)")"
		if grep -q worker_binary_partial_agg <<<"$q"; then
			# Citus 14: the state in binary (send and receive functions)
			bytes="$(nodesql "$i" -c "SELECT octet_length(x) FROM ($q) s(x)")"
			info="$(awk -v b="$bytes" -v t="$stype" 'BEGIN { printf "%s, %.1f kB binary", t, b / 1024 }')"
		else
			# Citus 13: the state's text, and the coordinator's time to parse 8 such texts
			nodesql "$i" -c "COPY (SELECT x::text FROM ($q) s(x)) TO STDOUT" >"$CLUSTER_DIR/state.txt" 2>/dev/null
			bytes=$(wc -c <"$CLUSTER_DIR/state.txt")
			value "CREATE TABLE st (t text)" >/dev/null
			nodesql 0 -c "COPY st FROM STDIN" <"$CLUSTER_DIR/state.txt" >/dev/null 2>&1
			value "INSERT INTO st SELECT t FROM st, generate_series(1, 7)" >/dev/null
			parse="$(ms "SELECT count(t::$stype) FROM st")"
			value "DROP TABLE st" >/dev/null
			info="$(awk -v b="$bytes" -v t="$stype" -v p="$parse" 'BEGIN { printf "%s, %.1f kB text; 8 read in %.1f ms", t, b / 1024, p }')"
		fi
	fi
	row "$name" "$d" "$l" "$info"
done <<'EOF'
profile_merge|clm.profile_merge(p)
rfm_breakpoints|clm.rfm_breakpoints(p, '2024-12-31')
customer_rfm|clm.customer_rfm(customer_id, p, '2024-12-31')
customer_stages|clm.customer_stages(customer_id, p, '2024-12-31')
stage_counts|clm.stage_counts(p, '2024-01-01', '2024-12-31')
stage_transitions|clm.stage_transitions(p, '2024-06-30', '2024-12-31')
population_gap|clm.population_gap(p, '2024-12-31')
lifecycle|clm.lifecycle(p, '2024-01-01', '2024-12-31', 'week')
retention|clm.retention(p, '2023-01-01', '2024-12-31', 'month')
bgnbd_fit|clm.bgnbd_fit(p, '2024-06-30', 'week')
gg_fit|clm.gg_fit(p, '2024-06-30', 'week')
EOF

# -- tracked sources: the same rows tracked distributed and on one node -----
[ -z "$ONLY" ] || exit 0
TS='{"time_zone": "UTC", "as_of": "2024-12-31"}'
value "SELECT clm.track('ev', 'customer_id', 'occurred_at', 'amount', 'channel', settings => '$TS')" \
	"SELECT clm.track('ev_l', 'customer_id', 'occurred_at', 'amount', 'channel', settings => '$TS')" >/dev/null || exit 1
# 1% more events, for customers spread over every shard
ONE="SELECT (customer_id * 97) % $CUSTOMERS + 1, occurred_at + interval '1 day', event_type, amount, channel FROM clm.generate_events($((CUSTOMERS / 100)), seed => 9)"
echo "==> tracked: $(value "SELECT count(*) FROM ($ONE) s") events (1%) inserted before each refresh"
row "refresh 1% (merge)" "$(ms "INSERT INTO ev $ONE" "SELECT clm.refresh('clm_ev', refit => false, views => false)")" \
	"$(ms "INSERT INTO ev_l $ONE" "SELECT clm.refresh('clm_ev_l', refit => false, views => false)")" "(one statement per shard group on its node)"
row "refit+customers+views" "$(ms "SELECT clm.refresh('clm_ev', refit => true, views => false)")" \
	"$(ms "SELECT clm.refresh('clm_ev_l', refit => true, views => false)")" "(fits: partial aggregates; customers: co-located INSERT ... SELECT; views)"
row "population views" "$(ms "SELECT clm.refresh('clm_ev', refit => false, views => true)")" \
	"$(ms "SELECT clm.refresh('clm_ev_l', refit => false, views => true)")" "(6 views on the coordinator)"
# where the time goes: the refit alone, every customers row alone, and the
# fixed cost of the per-shard-group statements (8 new connections, one per
# shard group, through master_run_on_worker, running SELECT 1)
row "  refit alone" "$(ms "SELECT clm.track_refit(clm.track_lookup('clm_ev'), '2024-12-31')")" \
	"$(ms "SELECT clm.track_refit(clm.track_lookup('clm_ev_l'), '2024-12-31')")" "(clm.track_refit)"
row "  customers rows alone" "$(ms "SELECT clm.track_customers_all(clm.track_lookup('clm_ev'))")" \
	"$(ms "SELECT clm.track_customers_all(clm.track_lookup('clm_ev_l'))")" "(clm.track_customers_all)"
row "  8 connections" "$(ms "SELECT count(*) FROM master_run_on_worker(array_fill('localhost'::text, ARRAY[8]), array_fill(${PORTS[1]}, ARRAY[8]), array_fill('SELECT 1'::text, ARRAY[8]), true)")" 0 \
	"(master_run_on_worker, SELECT 1 per shard group: the fixed cost of a refresh)"
row "rebuild" "$(ms "SELECT clm.rebuild('clm_ev')")" "$(ms "SELECT clm.rebuild('clm_ev_l')")" "(one statement per shard group, then refit, customers, views)"
