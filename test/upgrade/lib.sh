# test/upgrade/lib.sh: helpers of the upgrade tests (sourced)
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

# fresh_db NAME: an empty database NAME (dropped first if it exists)
fresh_db() { dropdb --if-exists "$1" 2>/dev/null; createdb "$1"; }

# ok MSG / bad MSG: one check's verdict (bad sets fail=1)
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAILED: $*"; fail=1; }

# save_results DB FILE: the rows of test/upgrade/results.sql in DB, to FILE
save_results() {
    "${PSQL[@]}" -d "$1" -f "$HERE/results.sql" \
        -c "\\copy (SELECT k, v FROM upgrade_results ORDER BY k) TO '$2'"
}

# compare_results DB FILE WHAT: the results in DB equal those saved in FILE;
# prints every key whose value differs (both values) and says ok or FAILED
compare_results() {
    local out n
    out=$("${PSQL[@]}" -At -d "$1" -f "$HERE/results.sql" -f - <<SQL
CREATE TEMP TABLE want (k text, v text);
\\copy want FROM '$2'
SELECT count(*) FROM want;
SELECT 'DIFF ' || k || E'\n    expected: ' || coalesce(w.v, '(missing)') || E'\n    got:      ' || coalesce(g.v, '(missing)')
FROM want w FULL JOIN upgrade_results g USING (k)
WHERE w.v IS DISTINCT FROM g.v ORDER BY k;
SQL
) || { bad "$3: results query failed"; return 1; }
    n=$(echo "$out" | head -n 1)
    if [ "$(echo "$out" | wc -l)" = 1 ] && [ "$n" -gt 100 ]; then
        ok "$3 ($n values and answers equal)"
    else
        echo "$out" | tail -n +2 | head -n 60
        bad "$3: $(echo "$out" | grep -c '^DIFF ') of $n values or answers differ (first ones above)"
    fi
}

# The released versions, each of which must update to the current one (the
# default version of the installed clm.control): every test of test/upgrade
# runs for each.  A release appends its version here (docs/upgrading.md).
RELEASED="0.1 0.2"
CURRENT=$(psql -X -At -d postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'clm'")
[ -n "$CURRENT" ] || { echo "FAILED: clm is not installed (no default version)"; exit 1; }
for v in $RELEASED; do
    [ "$v" != "$CURRENT" ] || { echo "FAILED: the current version $CURRENT is listed as released in test/upgrade/lib.sh"; exit 1; }
done
# dbname BASE VERSION: BASE_VERSION without dots (one database per released version)
dbname() { echo "${1}_$(echo "$2" | tr -d .)"; }
