#!/bin/bash
# Stored values across the update, and pg_dump of the updated database, for
# every released version FROM (lib.sh: 0.1, updated through 0.2, and 0.2):
#
#  1. clm FROM is created, test/upgrade/setup.sql stores profiles, models of
#     every kind, RFM breakpoints (quantile and fixed), a custom segment map,
#     the array results of the aggregates and a tracked source, and (from
#     0.2; after the update from 0.1) test/upgrade/setup_0.2.sql stage rules
#     kept in a table, a contact rule set, messages tracked on the source;
#     the values and the answers of test/upgrade/results.sql are saved;
#     ALTER EXTENSION clm UPDATE; every value reads the same (text, binary)
#     and every answer is the same.
#  2. A fresh install of the current version gets the same setup: every
#     value and answer equals the updated database's (the updated functions
#     answer as fresh ones).
#  3. Both tracked sources get the same new events and refresh after the
#     update: the same profiles, and equal to a GROUP BY over the source.
#  4. pg_dump -Fc of the updated database, pg_restore into an empty database
#     (its CREATE EXTENSION makes a fresh install of the current version): no
#     error, the current version, every value and answer equal, the tracked
#     source refreshes there too.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
TMP="$(mktemp -d)"
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# from FROM: the four steps above for the version FROM
from() {
local FROM=$1
local UPD FRESH REST
UPD=$(dbname clm_upg_val_updated "$FROM")
FRESH=$(dbname clm_upg_val_fresh "$FROM")
REST=$(dbname clm_upg_val_restored "$FROM")
for db in $UPD $FRESH $REST; do fresh_db $db; done
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# 1. values stored by FROM, read after the update
local since02=()
[ "$FROM" = 0.1 ] || since02=(-f "$HERE/setup_0.2.sql")
"${PSQL[@]}" -d $UPD -c "CREATE EXTENSION clm VERSION '$FROM'" -f "$HERE/setup.sql" "${since02[@]}" >/dev/null ||
    { bad "setup under $FROM"; return 1; }
save_results $UPD "$TMP/before.tsv" || { bad "results under $FROM"; return 1; }
"${PSQL[@]}" -d $UPD -c 'ALTER EXTENSION clm UPDATE' || { bad "ALTER EXTENSION clm UPDATE from $FROM"; return 1; }
compare_results $UPD "$TMP/before.tsv" "values stored by $FROM read the same after the update to $CURRENT"
if [ "$FROM" = 0.1 ]; then
    # what 0.2 added, set up after the update (for the comparisons below)
    "${PSQL[@]}" -d $UPD -f "$HERE/setup_0.2.sql" >/dev/null || { bad "setup_0.2.sql after the update from $FROM"; return 1; }
fi

# 2. a fresh install answers the same
"${PSQL[@]}" -d $FRESH -c 'CREATE EXTENSION clm' -f "$HERE/setup.sql" -f "$HERE/setup_0.2.sql" >/dev/null ||
    { bad "setup under a fresh install"; return 1; }
save_results $UPD "$TMP/updated.tsv"
compare_results $FRESH "$TMP/updated.tsv" "a fresh install stores and answers as $FROM updated"

# 3. the tracked source keeps refreshing after the update
more="INSERT INTO src SELECT * FROM ev WHERE customer_id % 3 = 0 AND occurred_at >= '2024-09-01';
      SELECT action || ' ' || events FROM clm.refresh('shop');"
same="SELECT count(*) FILTER (WHERE t.profile::text = s.p::text) || ' of ' || count(*)
      FROM shop.profiles t FULL JOIN (SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p
                                      FROM src GROUP BY customer_id) s USING (customer_id)"
for db in $UPD $FRESH; do
    r=$(psql -X -q -At -v ON_ERROR_STOP=1 -d $db -c "$more" -c "$same" 2>&1)
    n=$(q $db "SELECT count(DISTINCT customer_id) FROM src")
    if [ "$(echo "$r" | tail -n 1)" = "$n of $n" ] && echo "$r" | grep -q '^incremental [1-9]'; then
        ok "tracked source refreshed in $db: $(echo $r)"
    else
        bad "tracked source refresh in $db: $r (want $n of $n profiles equal to a GROUP BY)"
    fi
done
a=$(q $UPD "SELECT md5(string_agg(customer_id || ' ' || profile::text, ';' ORDER BY customer_id)) FROM shop.profiles")
b=$(q $FRESH "SELECT md5(string_agg(customer_id || ' ' || profile::text, ';' ORDER BY customer_id)) FROM shop.profiles")
[ "$a" = "$b" ] && ok "tracked profiles equal after the refresh in both" || bad "tracked profiles differ: $a vs $b"

# 4. pg_dump of the updated database restores into a fresh install
save_results $UPD "$TMP/updated.tsv"
if pg_dump -Fc -d $UPD -f "$TMP/upd.dump" 2>"$TMP/dump.err" && ! grep -q . "$TMP/dump.err"; then
    ok "pg_dump of the updated database (no warning)"
else
    bad "pg_dump of the updated database: $(cat "$TMP/dump.err")"
fi
if pg_restore --exit-on-error -d $REST "$TMP/upd.dump" 2>"$TMP/restore.err" && ! grep -q . "$TMP/restore.err"; then
    ok "pg_restore into an empty database (no warning)"
else
    bad "pg_restore: $(cat "$TMP/restore.err")"
fi
v=$(q $REST "SELECT extversion FROM pg_extension WHERE extname = 'clm'")
[ "$v" = "$CURRENT" ] && ok "the restored database has clm $v" || bad "the restored database has clm '$v', not $CURRENT"
compare_results $REST "$TMP/updated.tsv" "the restored database has the same values and answers"
r=$(psql -X -q -At -v ON_ERROR_STOP=1 -d $REST \
    -c "INSERT INTO src SELECT customer_id, occurred_at + interval '1 day', amount, channel FROM ev WHERE customer_id % 3 = 0 AND occurred_at >= '2024-12-01'" \
    -c "SELECT action || ' ' || events FROM clm.refresh('shop')" -c "$same" 2>&1)
n=$(q $REST "SELECT count(DISTINCT customer_id) FROM src")
if [ "$(echo "$r" | tail -n 1)" = "$n of $n" ] && echo "$r" | grep -q '^incremental [1-9]'; then
    ok "the restored tracked source refreshes: $(echo $r)"
else
    bad "the restored tracked source: $r (want $n of $n)"
fi
for db in $UPD $FRESH $REST; do dropdb $db; done
}

for FROM in $RELEASED; do
    echo "-- from $FROM"
    from "$FROM"
done
exit $fail
