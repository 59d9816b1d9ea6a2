#!/bin/bash
# bench_track.sh -- the performance targets of tracked sources (clm.track,
# clm.rebuild, clm.refresh, reading the customers table and the views).
#
# In a throwaway PostgreSQL cluster (pg_virtualenv), with the extension built
# and installed from this tree (the install holds the lock; the benchmark
# itself does not, so someone may reinstall clm meanwhile: if the figures look
# inconsistent, run it again):
#   1. events := clm.generate_events(N) ordered by occurred_at; events_copy :=
#      an untracked copy; new_events := SHARE % of the events count from
#      clm.generate_events(K, seed => 4242, 2024-12-18 .. 2025-01-07), half of
#      the customers existing ones (ids permuted over 1..N), half new
#      (N+1 ..): late events (before the last stored day) and new ones;
#   2. T_profile: CREATE TABLE AS SELECT customer_id, clm.profile(...) GROUP BY,
#      serial (max_parallel_workers_per_gather = 0) and parallel (= 2);
#   3. T_track: clm.track('events', ...) (untrack between runs, not timed);
#   4. the parts of a rebuild, each statement timed alone: DELETE FROM
#      profiles, the INSERT ... SELECT of the profiles, track_refit (one scan;
#      its parts alone: breakpoints + gap, the two model fits), DELETE FROM customers,
#      INSERT INTO customers, REFRESH MATERIALIZED VIEW CONCURRENTLY of each view
#      (and without CONCURRENTLY, for comparison);
#   5. T_rebuild: clm.rebuild;
#   6. in BEGIN ... ROLLBACK, so that each run starts from the same state:
#      INSERT new_events into events_copy (no trigger) and into events (the
#      capture trigger), then clm.refresh with the default arguments (views
#      not due), with views => true, and with refit => true;
#   7. reading: one customers row by primary key (LOOKUPS lookups in a
#      PL/pgSQL loop) and the whole table (COPY ... TO '/dev/null'), against a
#      plain table of identical content with the same primary key; the same
#      for the materialised view stage_counts_daily (lookups by its unique
#      index, whole view read VIEW_READS times).
# Between runs VACUUM (not timed) keeps the runs comparable.  Every figure is
# the median of RUNS runs; then the table of times and the ratios.  Targets:
#   rebuild <= 3 x T_profile (serial);  refresh <= 10% of rebuild;
#   reads of customers and of a view = reads of a plain table (ratio ~1).
# clm.track, clm.rebuild and clm.refresh run with the session's
# max_parallel_workers_per_gather (--parallel; default: the server's, 2).
#
# Usage: test/bench/bench_track.sh [--customers N] [--runs R] [--share PCT]
#            [--asof DATE] [--parallel W] [--work-mem SIZE] [--lookups K]
#            [--destdir DIR] [--no-install] [--keep-log DIR]
#   --customers N   customers (default 1000000, ~15.4 events each)
#   --runs R        runs of every measurement, median reported (default 3)
#   --share PCT     new events, percent of the events count (default 1)
#   --asof DATE     as_of setting of the tracked source (default 2025-01-07)
#   --parallel W    max_parallel_workers_per_gather of the clm calls
#                   (default: the server's setting)
#   --work-mem SIZE work_mem (default: the server's setting, 4MB)
#   --lookups K     primary-key lookups per read measurement (default 100000)
#   --destdir DIR   install into DIR instead (make install DESTDIR=DIR, no
#                   lock needed) and load clm from there (the cluster's
#                   extension_destdir = DIR): immune to reinstalls by others
#   --no-install    do not build and install first
#   --keep-log DIR  keep the generated SQL and the raw psql output in DIR
# Smoke test: test/bench/bench_track.sh --customers 20000 --runs 1
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SELF="$ROOT/test/bench/$(basename "$0")"
CUSTOMERS=1000000
RUNS=3
SHARE=1
ASOF=2025-01-07
PARALLEL=default
WORK_MEM=default
LOOKUPS=100000
VIEW_READS=1000
INSTALL=1
DESTDIR=
KEEP_LOG=
LOCK=${CLM_PG_LOCK:-/tmp/clm-pg.lock}

ORIG_ARGS=("$@")
usage() { sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
	case "$1" in
		--customers) CUSTOMERS=$2; shift 2 ;;
		--runs) RUNS=$2; shift 2 ;;
		--share) SHARE=$2; shift 2 ;;
		--asof) ASOF=$2; shift 2 ;;
		--parallel) PARALLEL=$2; shift 2 ;;
		--work-mem) WORK_MEM=$2; shift 2 ;;
		--lookups) LOOKUPS=$2; shift 2 ;;
		--destdir) DESTDIR=$2; shift 2 ;;
		--no-install) INSTALL=0; shift ;;
		--keep-log) KEEP_LOG=$2; shift 2 ;;
		-h|--help) usage 0 ;;
		*) echo "bench_track: unknown argument: $1" >&2; usage 2 >&2 ;;
	esac
done
case "$CUSTOMERS" in ''|*[!0-9]*|0) echo "bench_track: --customers must be a positive number" >&2; exit 2 ;; esac
case "$RUNS" in ''|*[!0-9]*|0) echo "bench_track: --runs must be a positive number" >&2; exit 2 ;; esac
case "$LOOKUPS" in ''|*[!0-9]*|0) echo "bench_track: --lookups must be a positive number" >&2; exit 2 ;; esac
case "$SHARE" in ''|*[!0-9.]*) echo "bench_track: --share must be a number" >&2; exit 2 ;; esac
case "$ASOF" in [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;; *) echo "bench_track: --asof must be YYYY-MM-DD" >&2; exit 2 ;; esac
case "$PARALLEL" in default|[0-9]|[0-9][0-9]) ;; *) echo "bench_track: bad --parallel" >&2; exit 2 ;; esac
case "$WORK_MEM" in ''|*[!0-9A-Za-z]*) echo "bench_track: bad --work-mem" >&2; exit 2 ;; esac

# Outer level: build and install under the lock, then re-run this script in a
# throwaway cluster without holding the lock.
if [ -z "${CLM_BENCH_INNER:-}" ]; then
	export CLM_BENCH_INNER=1
	VENV_OPTS=(-t)
	if [ -n "$DESTDIR" ]; then
		mkdir -p "$DESTDIR"
		DESTDIR=$(cd "$DESTDIR" && pwd)
		if [ "$INSTALL" = 1 ]; then
			echo "bench_track: make install DESTDIR=$DESTDIR"
			make -s -C "$ROOT" >/dev/null
			make -s -C "$ROOT" install DESTDIR="$DESTDIR" >/dev/null
			chmod -R a+rX "$DESTDIR"
		fi
		VENV_OPTS+=(-o "extension_destdir=$DESTDIR")
	elif [ "$INSTALL" = 1 ]; then
		echo "bench_track: make install (under the lock $LOCK)"
		make -s -C "$ROOT" >/dev/null
		flock "$LOCK" sh -c 'cd "$1" && if [ "$(id -u)" = 0 ]; then make -s install; else sudo make -s install; fi' sh "$ROOT" >/dev/null
	fi
	# -t: a cluster in its own directory, not the 15/regress of others
	echo "bench_track: starting a throwaway cluster (pg_virtualenv ${VENV_OPTS[*]})"
	exec pg_virtualenv "${VENV_OPTS[@]}" "$SELF" ${ORIG_ARGS[@]+"${ORIG_ARGS[@]}"} </dev/null
fi

# Inner level: inside pg_virtualenv (PGHOST, PGPORT ... are set).
WORK=$(mktemp -d /tmp/clm-bench-track.XXXXXX)
chmod 755 "$WORK"
trap 'if [ -n "$KEEP_LOG" ]; then mkdir -p "$KEEP_LOG"; cp "$WORK"/* "$KEEP_LOG"/; fi; rm -rf "$WORK"' EXIT
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -v "asof=$ASOF" -v "n=$CUSTOMERS" -v "share=$SHARE")

echo "bench_track: generating $CUSTOMERS customers"
"${PSQL[@]}" <<'EOF'
CREATE EXTENSION clm;
SET work_mem = '1GB';
SET TimeZone = 'UTC';
CREATE TABLE events AS
SELECT * FROM clm.generate_events(:n) ORDER BY occurred_at;
CREATE TABLE events_copy AS SELECT * FROM events;
-- the new events: a prefix (in a hashed customer order) of a simulation of
-- 2024-12-18 .. 2025-01-07 with ids N/2+1 .. 3N/2 (at least one event each);
-- ids <= N are permuted over 1 .. N, so existing customers are spread out
SELECT ceil(count(*) * :share / 100.0)::bigint AS target FROM events \gset
SELECT least(:target, greatest(:n / 2, 1)) AS k, :n - least(:target, greatest(:n / 2, 1)) / 2 AS lo \gset
CREATE TABLE new_events AS
SELECT CASE WHEN customer_id <= :n THEN (customer_id * 1000003) % :n + 1 ELSE customer_id END AS customer_id,
       occurred_at, event_type, amount, channel
  FROM clm.generate_events(:k, seed => 4242, first_customer => :lo + 1,
                           start_date => '2024-12-18', end_date => '2025-01-08', acquisition_days => 21)
 ORDER BY (customer_id * 2654435761) % 4294967296, occurred_at
 LIMIT :target;
VACUUM (ANALYZE) events;
VACUUM (ANALYZE) events_copy;
VACUUM (ANALYZE) new_events;
EOF
"${PSQL[@]}" -At <<'EOF' | tee "$WORK/data.txt"
SELECT 'events: ' || count(*) || ' rows, ' || count(DISTINCT customer_id) || ' customers, '
       || pg_size_pretty(pg_total_relation_size('events')) FROM events;
SELECT 'new events: ' || count(*) || ' rows (' || round(100.0 * count(*) / (SELECT count(*) FROM events), 2)
       || '%), ' || count(DISTINCT customer_id) || ' customers ('
       || count(DISTINCT customer_id) FILTER (WHERE customer_id <= :n) || ' existing), '
       || count(*) FILTER (WHERE occurred_at < (SELECT max(occurred_at) FROM events)) || ' late, '
       || min(occurred_at)::date || ' .. ' || max(occurred_at)::date FROM new_events;
EOF

if [ "$WORK_MEM" = default ]; then WM_SQL="RESET work_mem;"; else WM_SQL="SET work_mem = '$WORK_MEM';"; fi
if [ "$PARALLEL" = default ]; then PAR_SQL="RESET max_parallel_workers_per_gather;"; else PAR_SQL="SET max_parallel_workers_per_gather = $PARALLEL;"; fi

T=clm_events
VIEWS="stage_counts_daily lifecycle_weekly cohort_retention_monthly stage_transitions segment_summary models"
TRACK_SQL="SELECT clm.track('events', 'customer_id', 'occurred_at', 'amount', 'channel', name => 'events', settings => jsonb_build_object('as_of', '$ASOF', 'time_zone', 'UTC'));"
PROFILE_Q="SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM events GROUP BY customer_id"
# the rebuild's profile statement for this source (rebuild_internal)
PROFILES_INSERT="WITH src AS (SELECT customer_id AS customer_id, clm.profile(occurred_at, amount, channel::text) AS profile, count(*) AS events
          FROM events WHERE customer_id IS NOT NULL AND occurred_at IS NOT NULL AND (true) GROUP BY 1),
ins AS (INSERT INTO $T.profiles (customer_id, profile, changed_at) SELECT customer_id, profile, now() FROM src RETURNING 1)
SELECT (SELECT count(*) FROM ins), (SELECT coalesce(sum(events), 0) FROM src);"
VACUUM_ALL="VACUUM $T.profiles; VACUUM $T.customers; VACUUM $T.clm_pending; VACUUM $T.clm_fit; VACUUM events; VACUUM events_copy;"

# one timed block: markers around the statements
tm() {	# name run sql...
	local name=$1 run=$2
	shift 2
	printf "SELECT '@@Q %s %s ' || extract(epoch FROM clock_timestamp());\n" "$name" "$run"
	printf '%s\n' "$@"
	printf "SELECT '@@E %s %s ' || extract(epoch FROM clock_timestamp());\n" "$name" "$run"
}

{
	echo "$WM_SQL"
	echo "SET TimeZone = 'UTC';"
	echo "SET client_min_messages = warning;"
	echo "SELECT count(*) FROM events;"	# warm the cache
	echo "SELECT count(*) FROM events_copy;"

	# 2. the profile build alone
	for run in $(seq 1 "$RUNS"); do
		echo "SET max_parallel_workers_per_gather = 0;"
		tm profile_serial "$run" "CREATE TABLE p AS $PROFILE_Q;"
		echo "DROP TABLE p;"
		echo "SET max_parallel_workers_per_gather = 2;"
		tm profile_parallel "$run" "CREATE TABLE p AS $PROFILE_Q;"
		echo "DROP TABLE p;"
	done
	echo "$PAR_SQL"

	# 3. clm.track
	for run in $(seq 1 "$RUNS"); do
		[ "$run" = 1 ] || { echo "SELECT clm.untrack('events');"; echo "CHECKPOINT;"; }
		tm track "$run" "$TRACK_SQL"
	done
	echo "SELECT clm.track_customers_sql('$T.profiles', '$T', settings) AS cust_sql FROM clm.tracked_source WHERE name = 'events' \\gset"
	echo "VACUUM ANALYZE $T.profiles; VACUUM ANALYZE $T.customers;"

	# 4. the parts of a rebuild (with the jit setting of clm.rebuild's functions)
	echo "SELECT CASE WHEN 'jit=off' = ANY (proconfig) THEN 'SET jit = off' ELSE 'RESET jit' END FROM pg_proc WHERE oid = 'clm.rebuild_internal(text, boolean)'::regprocedure \\gexec"
	for run in $(seq 1 "$RUNS"); do
		tm part_profiles_delete "$run" "DELETE FROM $T.profiles;"
		tm part_profiles_insert "$run" "$PROFILES_INSERT"
		tm part_refit_rfm_gap "$run" "SELECT clm.rfm_breakpoints(p.profile, '$ASOF'::date, 5) IS NULL, clm.population_gap(p.profile, '$ASOF'::date) FROM $T.profiles p;"
		tm part_refit_models "$run" "SELECT clm.bgnbd_fit(p.profile, '$ASOF'::date, 'week') IS NULL, clm.gg_fit(p.profile, '$ASOF'::date, 'week') IS NULL FROM $T.profiles p;"
		tm part_refit "$run" "SELECT clm.track_refit(ts, '$ASOF'::date) FROM clm.tracked_source ts WHERE ts.name = 'events';"
		tm part_customers_delete "$run" "DELETE FROM $T.customers;"
		tm part_customers_insert "$run" "INSERT INTO $T.customers :cust_sql;"
		for v in $VIEWS; do
			tm "view_$v" "$run" "REFRESH MATERIALIZED VIEW CONCURRENTLY $T.$v;"
		done
		for v in $VIEWS; do
			tm "plainview_$v" "$run" "REFRESH MATERIALIZED VIEW $T.$v;"
		done
		echo "$VACUUM_ALL"
	done

	echo "RESET jit;"

	# 5. clm.rebuild
	for run in $(seq 1 "$RUNS"); do
		tm rebuild "$run" "SELECT clm.rebuild('events');"
		echo "$VACUUM_ALL"
	done

	# 6. the 1% insert and the refreshes, each run rolled back
	for run in $(seq 1 "$RUNS"); do
		echo "BEGIN;"
		tm insert_untracked "$run" "INSERT INTO events_copy SELECT * FROM new_events;"
		echo "ROLLBACK;"
		echo "BEGIN;"
		tm insert_tracked "$run" "INSERT INTO events SELECT * FROM new_events;"
		tm refresh "$run" "SELECT '@@R refresh', (r).* FROM clm.refresh('events') r;"
		echo "ROLLBACK;"
		echo "$VACUUM_ALL"
		echo "BEGIN;"
		echo "INSERT INTO events SELECT * FROM new_events;"
		tm refresh_views "$run" "SELECT '@@R refresh_views', (r).* FROM clm.refresh('events', views => true) r;"
		echo "ROLLBACK;"
		echo "$VACUUM_ALL"
		echo "BEGIN;"
		echo "INSERT INTO events SELECT * FROM new_events;"
		tm refresh_refit "$run" "SELECT '@@R refresh_refit', (r).* FROM clm.refresh('events', refit => true) r;"
		echo "ROLLBACK;"
		echo "$VACUUM_ALL"
	done

	# 7. reading, against plain tables of identical content, both vacuumed
	# (the rolled-back refreshes above leave dead rows in the customers table
	# and the views, which autovacuum would remove)
	echo "VACUUM ANALYZE $T.customers;"
	echo "VACUUM ANALYZE $T.stage_counts_daily;"
	echo "CREATE TABLE plain_customers AS SELECT * FROM $T.customers;"
	echo "ALTER TABLE plain_customers ADD PRIMARY KEY (customer_id);"
	echo "VACUUM ANALYZE plain_customers;"
	echo "CREATE TABLE plain_view AS SELECT * FROM $T.stage_counts_daily;"
	echo "CREATE UNIQUE INDEX ON plain_view (day, stage);"
	echo "VACUUM ANALYZE plain_view;"
	echo "SELECT '@@S customers ' || pg_relation_size('$T.customers') || ' ' || pg_relation_size('plain_customers') || ' ' || pg_indexes_size('$T.customers') || ' ' || pg_indexes_size('plain_customers');"
	echo "SELECT '@@C differ ' || count(*) FROM (SELECT * FROM $T.customers EXCEPT ALL SELECT * FROM plain_customers) x;"
	lookup() {	# rel
		echo "DO \$\$ DECLARE lo bigint; rng bigint; BEGIN SELECT min(customer_id), max(customer_id) - min(customer_id) + 1 INTO lo, rng FROM $1; FOR i IN 1..$LOOKUPS LOOP PERFORM * FROM $1 WHERE customer_id = lo + (i * 7919) % rng; END LOOP; END \$\$;"
	}
	vlookup() {	# rel
		echo "DO \$\$ BEGIN FOR i IN 1..$LOOKUPS LOOP PERFORM * FROM $1 WHERE day = date '$ASOF' - i % 90 AND stage = (ARRAY['prospect', 'new', 'active', 'at_risk', 'lapsed', 'churned', 'reactivated'])[1 + i % 7]; END LOOP; END \$\$;"
	}
	vread() {	# rel
		echo "DO \$\$ BEGIN FOR i IN 1..$VIEW_READS LOOP PERFORM * FROM $1; END LOOP; END \$\$;"
	}
	for run in $(seq 1 "$RUNS"); do
		tm read_pk_customers "$run" "$(lookup "$T.customers")"
		tm read_pk_plain "$run" "$(lookup plain_customers)"
		tm read_all_customers "$run" "COPY $T.customers TO '/dev/null';"
		tm read_all_plain "$run" "COPY plain_customers TO '/dev/null';"
		tm read_pk_view "$run" "$(vlookup "$T.stage_counts_daily")"
		tm read_pk_plainview "$run" "$(vlookup plain_view)"
		tm read_all_view "$run" "$(vread "$T.stage_counts_daily")"
		tm read_all_plainview "$run" "$(vread plain_view)"
	done
	echo "SELECT '@@C customers ' || count(*) FROM $T.customers;"
	echo "SELECT '@@C view_rows ' || count(*) FROM $T.stage_counts_daily;"
} > "$WORK/bench.sql"

echo "bench_track: timing ($RUNS runs of each measurement; this takes a while)"
"${PSQL[@]}" -At -f "$WORK/bench.sql" > "$WORK/bench.out" 2>&1 || { tail -30 "$WORK/bench.out"; exit 1; }

echo
echo "setup: $(nproc) cores, PostgreSQL $("${PSQL[@]}" -Atc 'SHOW server_version'), jit $("${PSQL[@]}" -Atc 'SHOW jit') (clm.rebuild_internal: $("${PSQL[@]}" -Atc "SELECT coalesce(array_to_string(proconfig, ', '), '') FROM pg_proc WHERE oid = 'clm.rebuild_internal(text, boolean)'::regprocedure")), work_mem $WORK_MEM, clm calls with max_parallel_workers_per_gather $PARALLEL, shared_buffers $("${PSQL[@]}" -Atc 'SHOW shared_buffers'), load $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$WORK/data.txt"

awk -v runs="$RUNS" -v n="$CUSTOMERS" -v lookups="$LOOKUPS" -v vreads="$VIEW_READS" -v views="$VIEWS" '
	function median(key,   k, i, j, t, a) {
		k = cnt[key]
		if (k == 0) return ""
		for (i = 1; i <= k; i++) a[i] = ms[key, i]
		for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	function all(key,   i, s) { s = ""; for (i = 1; i <= cnt[key]; i++) s = s (i > 1 ? " " : "") sprintf("%.0f", ms[key, i]); return s }
	function fmt(x) { return x == "" ? "-" : sprintf("%.0f", x) }
	function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.3f", a / b) }
	function row(label, key) { printf "  %-50s %10s   %s\n", label, fmt(med[key]), all(key) }
	function prow(label, key, whole) { printf "  %-50s %10s %6s%%   %s\n", label, fmt(med[key]), (med[key] == "" || whole == "" ? "-" : sprintf("%.1f", 100 * med[key] / whole)), all(key) }
	/^@@Q / { start[$2, $3] = $4; next }
	/^@@E / { k = $2; cnt[k]++; ms[k, cnt[k]] = ($4 - start[$2, $3]) * 1000; next }
	/^@@R / { split($0, f, "|"); flags[substr(f[1], 5)] = sprintf("action %s, events %s, customers changed %s, refit %s, views %s", f[3], f[4], f[5], f[7], f[8]); next }
	/^@@S / { csz = $3; psz = $4; cisz = $5; pisz = $6; next }
	/^@@C / { c[$2] = $3; next }
	END {
		split("profile_serial profile_parallel track rebuild part_profiles_delete part_profiles_insert part_refit_rfm_gap part_refit_models part_refit part_customers_delete part_customers_insert insert_untracked insert_tracked refresh refresh_views refresh_refit read_pk_customers read_pk_plain read_all_customers read_all_plain read_pk_view read_pk_plainview read_all_view read_all_plainview", names, " ")
		for (i in names) med[names[i]] = median(names[i])
		nv = split(views, vs, " ")
		for (i = 1; i <= nv; i++) { med["view_" vs[i]] = median("view_" vs[i]); med["plainview_" vs[i]] = median("plainview_" vs[i]) }
		R = med["rebuild"]
		printf "\n== clm tracked-source benchmark: %d customers, median of %d runs, times in ms (then every run) ==\n\n", n, runs
		row("T_profile serial: CREATE TABLE AS clm.profile GROUP BY", "profile_serial")
		row("T_profile parallel (2 workers)", "profile_parallel")
		row("T_track: clm.track (build + views)", "track")
		row("T_rebuild: clm.rebuild", "rebuild")
		printf "\nparts of a rebuild (same statements, timed alone; %% of T_rebuild):\n"
		prow("DELETE FROM profiles", "part_profiles_delete", R)
		prow("INSERT INTO profiles SELECT clm.profile GROUP BY", "part_profiles_insert", R)
		prow("refit: track_refit", "part_refit", R)
		prow("  rfm_breakpoints + population_gap alone", "part_refit_rfm_gap", R)
		prow("  bgnbd_fit + gg_fit over the profiles alone", "part_refit_models", R)
		prow("DELETE FROM customers", "part_customers_delete", R)
		prow("INSERT INTO customers (summary, scores, models)", "part_customers_insert", R)
		vsum = 0; psum = 0
		for (i = 1; i <= nv; i++) {
			prow("REFRESH CONCURRENTLY " vs[i], "view_" vs[i], R)
			vsum += med["view_" vs[i]]; psum += med["plainview_" vs[i]]
		}
		parts = med["part_profiles_delete"] + med["part_profiles_insert"] + med["part_refit"] + med["part_customers_delete"] + med["part_customers_insert"] + vsum
		printf "  %-50s %10.0f %6.1f%%\n", "sum of the parts", parts, (R ? 100 * parts / R : 0)
		printf "  %-50s %10.0f %6.1f%%\n", "(views refreshed without CONCURRENTLY, sum)", psum, (R ? 100 * psum / R : 0)
		for (i = 1; i <= nv; i++) printf "    %-48s %10s\n", vs[i], fmt(med["plainview_" vs[i]])
		printf "\nnew events (rolled back after each run):\n"
		row("INSERT into the untracked copy", "insert_untracked")
		row("INSERT into the tracked table (capture trigger)", "insert_tracked")
		row("clm.refresh (default: no refit, views not due)", "refresh")
		row("clm.refresh(views => true)", "refresh_views")
		row("clm.refresh(refit => true)", "refresh_refit")
		for (k in flags) printf "    %-14s %s\n", k ":", flags[k]
		printf "\nreading (%d primary-key lookups; whole table by COPY TO /dev/null; view read %d times):\n", lookups, vreads
		row("customers: lookups by customer_id", "read_pk_customers")
		row("plain copy: lookups by customer_id", "read_pk_plain")
		row("customers: COPY TO /dev/null", "read_all_customers")
		row("plain copy: COPY TO /dev/null", "read_all_plain")
		row("stage_counts_daily: lookups by (day, stage)", "read_pk_view")
		row("plain copy: lookups by (day, stage)", "read_pk_plainview")
		row("stage_counts_daily: whole view", "read_all_view")
		row("plain copy: whole table", "read_all_plainview")
		if (csz != "") printf "  sizes: customers %.1f MB (indexes %.1f MB), plain copy %.1f MB (primary key %.1f MB); %s customers rows, %s view rows, %s rows differ\n", csz / 1048576, cisz / 1048576, psz / 1048576, pisz / 1048576, c["customers"], c["view_rows"], c["differ"]
		printf "\n%-56s %10s   %s\n", "ratio", "value", "target"
		printf "%-56s %10s   %s\n", "T_rebuild / T_profile serial", ratio(R, med["profile_serial"]), "<= 3"
		printf "%-56s %10s   %s\n", "T_rebuild / T_profile parallel", ratio(R, med["profile_parallel"]), "(info)"
		printf "%-56s %10s   %s\n", "T_track / T_profile serial", ratio(med["track"], med["profile_serial"]), "(info)"
		printf "%-56s %10s   %s\n", "refresh / T_rebuild", ratio(med["refresh"], R), "<= 0.10"
		printf "%-56s %10s   %s\n", "refresh(views => true) / T_rebuild", ratio(med["refresh_views"], R), "(info)"
		printf "%-56s %10s   %s\n", "refresh(refit => true) / T_rebuild", ratio(med["refresh_refit"], R), "(info)"
		printf "%-56s %10s   %s\n", "INSERT tracked / untracked (capture trigger)", ratio(med["insert_tracked"], med["insert_untracked"]), "(info)"
		printf "%-56s %10s   %s\n", "customers / plain: lookup by primary key", ratio(med["read_pk_customers"], med["read_pk_plain"]), "~1"
		printf "%-56s %10s   %s\n", "customers / plain: whole table", ratio(med["read_all_customers"], med["read_all_plain"]), "~1"
		printf "%-56s %10s   %s\n", "view / plain: lookup by unique key", ratio(med["read_pk_view"], med["read_pk_plainview"]), "~1"
		printf "%-56s %10s   %s\n", "view / plain: whole", ratio(med["read_all_view"], med["read_all_plainview"]), "~1"
	}
' "$WORK/bench.out"
