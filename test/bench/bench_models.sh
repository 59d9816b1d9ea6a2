#!/bin/sh
# Benchmark of the clm model fits against numpy/scipy on the same inputs.
#
# Usage (the extension must be installed; all helpers share one server
# installation, so take the lock):
#   flock /tmp/clm-pg.lock sh -c 'make install && pg_virtualenv test/bench/bench_models.sh [N]'
#
# Runs on the CDNOW summary ($CLM_DATA_DIR, default ../shared/data) and on a
# synthetic BG/NBD data set of N customers (default 1000000; times rounded to
# whole days, so the histogram has far fewer distinct tuples than rows).
# Prints wall times of clm.bgnbd_fit / clm.paretonbd_fit (whole aggregate:
# scan + histogram + fit) and of scipy.optimize (L-BFGS-B, numerical
# gradients) on the distinct tuples with weights, plus their ratios.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
N=${1:-1000000}
DATA=${CLM_DATA_DIR:-$root/../shared/data}
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== generating $N synthetic BG/NBD customers"
$PY "$here/bench_models.py" generate "$N" "$work/synth.csv"
cut -d, -f2-4 "$DATA/cdnow_customers_summary_with_transactions.csv" | tail -n +2 > "$work/cdnow.csv"

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'DROP DATABASE IF EXISTS clm_bench' -c 'CREATE DATABASE clm_bench'
run_clm() {
	# $1 = csv file; prints seconds per fit
	psql -X -q -v ON_ERROR_STOP=1 -d clm_bench <<SQL
CREATE EXTENSION IF NOT EXISTS clm;
DROP TABLE IF EXISTS b;
CREATE TABLE b (x float8, t_x float8, "T" float8);
\copy b FROM '$1' WITH (FORMAT csv)
VACUUM ANALYZE b;
\timing on
SELECT (clm.model_info(f)).* FROM (SELECT clm.bgnbd_fit(x, t_x, "T") AS f FROM b) s;
SELECT (clm.model_info(f)).* FROM (SELECT clm.paretonbd_fit(x, t_x, "T") AS f FROM b) s;
SELECT count(*) AS distinct_tuples FROM (SELECT DISTINCT x, t_x, "T" FROM b) s;
\timing off
SQL
}
for set in cdnow synth; do
	echo "== clm on $set"
	run_clm "$work/$set.csv" 2>&1 | tee "$work/$set.clm.txt" | grep -E "ERROR|kind|bgnbd|paretonbd|Time|distinct" | cut -c1-220
	echo "== scipy on $set"
	$PY "$here/bench_models.py" scipy "$work/$set.csv" | tee "$work/$set.scipy.txt"
	cb=$(grep Time "$work/$set.clm.txt" | sed -n 1p | sed 's/Time: \([0-9.]*\) ms.*/\1/')
	cp=$(grep Time "$work/$set.clm.txt" | sed -n 2p | sed 's/Time: \([0-9.]*\) ms.*/\1/')
	sb=$(grep "scipy bgnbd " "$work/$set.scipy.txt" | awk '{print $3}')
	sp=$(grep "scipy paretonbd" "$work/$set.scipy.txt" | awk '{print $3}')
	awk -v cb="$cb" -v cp="$cp" -v sb="$sb" -v sp="$sp" -v s="$set" 'BEGIN {
		printf "RESULT %s: bgnbd clm %.3f s scipy %.3f s (scipy/clm %.1fx); paretonbd clm %.3f s scipy %.3f s (scipy/clm %.1fx)\n",
			s, cb / 1000, sb, sb * 1000 / cb, cp / 1000, sp, sp * 1000 / cp }'
done
psql -X -q -d postgres -c 'DROP DATABASE clm_bench'
