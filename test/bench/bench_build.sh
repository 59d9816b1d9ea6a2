#!/bin/bash
# bench_build.sh -- the profile build against the count(*) floor at several
# work_mem settings, in one run (issue 17: within 1.5 times the floor at
# 4MB, 64MB and 1GB).
#
# Against the PostgreSQL server of the environment (PGHOST, PGPORT, PGUSER;
# clm installed there, e.g. a private server of test/pgenv.sh), in database
# DB (default clm_bench_build): events := clm.generate_events(N) ordered by
# occurred_at (kept between runs when it has N customers: --reuse), then at
# each work_mem, each statement in a session of its own (serial, time zone
# UTC, the table read once before):
#   floor    CREATE TEMP TABLE ... AS SELECT customer_id, count(*) FROM events GROUP BY 1
#   build    CREATE TEMP TABLE ... AS SELECT customer_id, clm.profile(occurred_at, amount, channel)
#            FROM events GROUP BY 1
#   output   CREATE TEMP TABLE ... AS SELECT customer_id, p FROM <the profiles of one build>:
#            writing the same result rows (compression, heap) without building them
# and prints backend CPU time (from /proc/self/stat: needs a superuser and
# Linux) and elapsed time, build / floor (target <= 1.50) and
# (build - output) / floor, the build's part that the floor's query also has.
#
# Usage: test/bench/bench_build.sh [--customers N] [--work-mems "4MB 64MB 1GB"]
#            [--db NAME] [--reuse]
# Smoke test: test/bench/bench_build.sh --customers 2000
set -euo pipefail

CUSTOMERS=${CUSTOMERS:-1000000}
WORK_MEMS="4MB 64MB 1GB"
DB=clm_bench_build
REUSE=
while [ $# -gt 0 ]; do
	case "$1" in
		--customers) CUSTOMERS=$2; shift 2 ;;
		--work-mems) WORK_MEMS=$2; shift 2 ;;
		--db) DB=$2; shift 2 ;;
		--reuse) REUSE=1; shift ;;
		*) echo "bench_build: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$CUSTOMERS" in ''|*[!0-9]*) echo "bench_build: bad --customers" >&2; exit 2 ;; esac
case "$DB" in ''|*[!a-z0-9_]*) echo "bench_build: bad --db" >&2; exit 2 ;; esac
for wm in $WORK_MEMS; do
	case "$wm" in *[!0-9A-Za-z]*) echo "bench_build: bad work_mem $wm" >&2; exit 2 ;; esac
done

have=
if [ -n "$REUSE" ]; then
	have=$(psql -X -Atq -d "$DB" -c "SELECT count(DISTINCT customer_id) FROM events" 2>/dev/null || true)
fi
if [ "$have" != "$CUSTOMERS" ]; then
	echo "bench_build: generating $CUSTOMERS customers in $DB"
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
	psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -v n="$CUSTOMERS" <<'EOF'
SET client_min_messages = warning;
CREATE EXTENSION clm;
SET work_mem = '1GB';
CREATE TABLE events AS SELECT * FROM clm.generate_events(:n) ORDER BY occurred_at;
VACUUM (ANALYZE) events;
EOF
fi
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<'EOF'
SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;
SET TimeZone = 'UTC';
DROP TABLE IF EXISTS built;
CREATE TABLE built AS SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM events GROUP BY 1;
VACUUM (ANALYZE) built;
EOF
echo "events: $(psql -X -Atq -d "$DB" -c "SELECT count(*) || ' rows, ' || count(DISTINCT customer_id) || ' customers' FROM events")"

CPU_OK=$(psql -X -Atq -d "$DB" -c "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user")
[ -r /proc/self/stat ] || CPU_OK=f

# one statement in a session of its own: "cpu_ms elapsed_ms"
timed() {	# work_mem sql
	psql -X -Atq -v ON_ERROR_STOP=1 -d "$DB" <<EOF
SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;
SET TimeZone = 'UTC';
SET temp_buffers = '1GB';
SET work_mem = '$1';
CREATE FUNCTION pg_temp.cpu_ms() RETURNS bigint LANGUAGE sql AS \$\$
SELECT CASE WHEN '$CPU_OK' = 't' THEN (f[12]::bigint + f[13]::bigint) * 1000 / $(getconf CLK_TCK) END
FROM pg_catalog.string_to_array(pg_catalog.split_part(pg_catalog.pg_read_file('/proc/self/stat'), ') ', 2), ' ') f \$\$;
SELECT count(*) FROM events \\g /dev/null
SELECT pg_temp.cpu_ms() AS c0, pg_catalog.clock_timestamp() AS t0 \\gset
CREATE TEMP TABLE r AS $2;
SELECT coalesce((pg_temp.cpu_ms() - :c0)::text, '-') || ' ' ||
       round(extract(epoch FROM pg_catalog.clock_timestamp() - :'t0'::timestamptz) * 1000);
EOF
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "\n%-9s %10s %10s %10s %10s %16s %10s %10s %10s\n" work_mem "floor cpu" "build cpu" "output cpu" build/floor "(build-out)/floor" "floor ms" "build ms" "output ms"
for wm in $WORK_MEMS; do
	read -r fc fe <<<"$(timed "$wm" "SELECT customer_id, count(*) AS n FROM events GROUP BY customer_id")"
	read -r bc be <<<"$(timed "$wm" "SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM events GROUP BY customer_id")"
	read -r oc oe <<<"$(timed "$wm" "SELECT customer_id, p FROM built")"
	awk -v wm="$wm" -v fc="$fc" -v bc="$bc" -v oc="$oc" -v fe="$fe" -v be="$be" -v oe="$oe" 'BEGIN {
		r1 = (fc > 0) ? sprintf("%.2f", bc / fc) : "-"
		r2 = (fc > 0) ? sprintf("%.2f", (bc - oc) / fc) : "-"
		printf "%-9s %10s %10s %10s %10s %16s %10s %10s %10s\n", wm, fc, bc, oc, r1, r2, fe, be, oe
	}'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
