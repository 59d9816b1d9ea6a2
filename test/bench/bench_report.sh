#!/bin/bash
# bench_report.sh -- the cost of clm.report against reading what it reads.
#
# Against the server of the environment (PGHOST, PGPORT, PGUSER: a superuser,
# for COPY TO '/dev/null'; e.g. a private one from test/pgenv.sh), with clm
# installed, in a database of its own (dropped at the end):
#   1. events := clm.generate_events(N); clm.track('events', ...) as of
#      2025-01-01 (the last day of the sample data: no holdout) -- not timed;
#   2. T_views: COPY (SELECT * FROM <relation>) TO '/dev/null' of every
#      relation the report reads: customers and the materialised views
#      lifecycle_weekly, cohort_retention_monthly, stage_transitions,
#      segment_summary, models (the sum of the six);
#   3. T_report: SELECT length(clm.report('bench')) (the page stays in the
#      server);
#   4. T_holdout_scan: the one pass over the profiles that looks for events
#      after as_of (max(clm.last_event(profile)); part of T_report when the
#      as_of setting is fixed), alone;
#   5. with --holdout DATE, the same for a second source as of DATE, whose
#      report also computes the calibration (two summaries and the model
#      inputs of every profile).
# Every figure is the median of RUNS runs in one session, after one warm-up
# run; the ratio T_report / T_views is the figure of merit.
#
# Usage: test/bench/bench_report.sh [--customers N] [--runs R] [--holdout DATE] [--keep]
#   --customers N    customers (default 1000000, ~15 events each)
#   --runs R         runs of every measurement, median reported (default 3)
#   --holdout DATE   also measure a source as of DATE (e.g. 2024-07-01)
#   --keep           keep the database (bench_report) for a look afterwards
# Smoke test: test/bench/bench_report.sh --customers 20000 --runs 1
set -euo pipefail

CUSTOMERS=1000000
RUNS=3
HOLDOUT=
KEEP=0
while [ $# -gt 0 ]; do
	case "$1" in
		--customers) CUSTOMERS=$2; shift 2 ;;
		--runs) RUNS=$2; shift 2 ;;
		--holdout) HOLDOUT=$2; shift 2 ;;
		--keep) KEEP=1; shift ;;
		-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
		*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
done

DB=bench_report
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$DB")
cleanup() { [ "$KEEP" = 1 ] || dropdb --if-exists "$DB" >/dev/null 2>&1 || true; }
trap cleanup EXIT

dropdb --if-exists "$DB" >/dev/null 2>&1
createdb "$DB"
echo "== $CUSTOMERS customers: generating the events and tracking them (not timed)"
start=$(date +%s)
"${PSQL[@]}" <<SQL
SET client_min_messages = warning;
SET TimeZone = 'UTC';
CREATE EXTENSION clm;
CREATE TABLE events AS SELECT * FROM clm.generate_events($CUSTOMERS);
SELECT action, events, customers FROM clm.track('events', 'customer_id', 'occurred_at', 'amount', 'channel',
    target_schema => 'bench', settings => '{"as_of": "2025-01-01"}');
$( [ -n "$HOLDOUT" ] && echo "SELECT action FROM clm.track('events', 'customer_id', 'occurred_at', 'amount', 'channel',
    target_schema => 'bench_holdout', settings => '{\"as_of\": \"$HOLDOUT\"}');" )
VACUUM ANALYZE;
SQL
echo "   ready in $(( $(date +%s) - start )) s"

# measure SOURCE: prints "T_views T_report T_holdout_scan" (ms, medians)
measure() {
	local s=$1
	"${PSQL[@]}" -At <<SQL
SET client_min_messages = warning;
CREATE TEMP TABLE t (what text, run int, ms float8);
DO \$\$
DECLARE
    rel text;
    t0 timestamptz;
    n int;
BEGIN
    FOR run IN 0 .. $RUNS LOOP       -- run 0 warms the cache, not kept
        t0 := clock_timestamp();
        FOREACH rel IN ARRAY ARRAY['customers', 'lifecycle_weekly', 'cohort_retention_monthly',
                                   'stage_transitions', 'segment_summary', 'models'] LOOP
            EXECUTE format('COPY (SELECT * FROM %I.%I) TO ''/dev/null''', '$s', rel);
        END LOOP;
        INSERT INTO t VALUES ('views', run, extract(epoch FROM clock_timestamp() - t0) * 1000);
        t0 := clock_timestamp();
        PERFORM length(clm.report('$s'));
        INSERT INTO t VALUES ('report', run, extract(epoch FROM clock_timestamp() - t0) * 1000);
        t0 := clock_timestamp();
        EXECUTE format('SELECT max(clm.last_event(p.profile)) FROM %I.profiles p', '$s');
        INSERT INTO t VALUES ('scan', run, extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
END
\$\$;
SELECT string_agg(round(m::numeric)::text, ' ' ORDER BY o)
  FROM (SELECT what, percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) AS m,
               CASE what WHEN 'views' THEN 1 WHEN 'report' THEN 2 ELSE 3 END AS o
          FROM t WHERE run > 0 GROUP BY what) x;
SQL
}

report() {
	local label=$1 views=$2 rep=$3 scan=$4
	printf '%-34s %10s ms\n' "T_views ($label)" "$views"
	printf '%-34s %10s ms\n' "T_report ($label)" "$rep"
	printf '%-34s %10s ms\n' "  of which the holdout scan" "$scan"
	awk -v v="$views" -v r="$rep" -v s="$scan" 'BEGIN {
		printf "%-34s %10.2f\n", "T_report / T_views", r / v;
		printf "%-34s %10.2f\n", "(T_report - scan) / T_views", (r - s) / v }'
}

echo "== medians of $RUNS runs, $CUSTOMERS customers, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
read -r v r s < <(measure bench)
report "as of 2025-01-01" "$v" "$r" "$s"
if [ -n "$HOLDOUT" ]; then
	read -r v r s < <(measure bench_holdout)
	report "as of $HOLDOUT, calibration" "$v" "$r" "$s"
fi
