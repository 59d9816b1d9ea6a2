#!/bin/bash
# The catalog of a fresh CREATE EXTENSION clm against that of CREATE
# EXTENSION clm VERSION 'V' followed by ALTER EXTENSION clm UPDATE, for every
# released version V (lib.sh: 0.1, whose update runs 0.1 -> 0.2 -> current,
# and 0.2): every object, attribute and comment (test/upgrade/catalog.sql)
# must be the same.  A difference means a change to src/sql/*.sql without its
# counterpart in the current upgrade fragments src/upgrade/PREV--CURRENT/*.sql
# (or the reverse); each one is printed as
#   DIFF <object>: <attribute>  with the fresh and the upgraded value,
#   MISSING after the update: <object>   (only in a fresh install)
#   EXTRA after the update: <object>     (only in the updated database)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
FRESH=clm_upg_cat_fresh
TMP="$(mktemp -d)"
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT
UPDATED=""
fresh_db $FRESH
# the scripts set search_path for themselves only (SET LOCAL in the guard):
# the session's setting is the same afterwards
p=$("${PSQL[@]}" -At -d $FRESH -c 'SET search_path = a, b' -c 'CREATE EXTENSION clm' -c 'SHOW search_path') ||
    { bad "CREATE EXTENSION clm"; exit 1; }
[ "$p" = "a, b" ] && ok "CREATE EXTENSION keeps the session's search_path" || bad "search_path after CREATE EXTENSION: $p"
v=$(psql -X -At -d $FRESH -c "SELECT extversion FROM pg_extension WHERE extname = 'clm'")
[ "$v" = "$CURRENT" ] && ok "a fresh install is $v (the default version)" || bad "a fresh install is $v, not $CURRENT"
for FROM in $RELEASED; do
    UPD=$(dbname clm_upg_cat_from "$FROM")
    fresh_db $UPD
    UPDATED="$UPDATED $UPD"
    "${PSQL[@]}" -d $UPD -c "CREATE EXTENSION clm VERSION '$FROM'" || { bad "CREATE EXTENSION clm VERSION '$FROM'"; exit 1; }
    p=$("${PSQL[@]}" -At -d $UPD -c 'SET search_path = a, b' -c 'ALTER EXTENSION clm UPDATE' -c 'SHOW search_path') ||
        { bad "ALTER EXTENSION clm UPDATE from $FROM"; exit 1; }
    [ "$p" = "a, b" ] && ok "ALTER EXTENSION UPDATE from $FROM keeps the session's search_path" || bad "search_path after the update from $FROM: $p"
    v=$(psql -X -At -d $UPD -c "SELECT extversion FROM pg_extension WHERE extname = 'clm'")
    [ "$v" = "$CURRENT" ] && ok "$FROM updated to $v (the default version)" || bad "after the update from $FROM the version is $v, not $CURRENT"
done

"${PSQL[@]}" -d $FRESH -f "$HERE/catalog.sql" -c "\\copy (SELECT * FROM clm_catalog) TO '$TMP/fresh.tsv'" || { bad "catalog query"; exit 1; }

# compare_catalog DB: the differences between the catalog of $FRESH (saved in
# fresh.tsv) and that of DB, one MISSING, EXTRA or DIFF entry each, after a
# first line counting what was compared
compare_catalog() {
    "${PSQL[@]}" -At -d "$1" -f "$HERE/catalog.sql" -f - <<SQL
CREATE TEMP TABLE f (object text, attribute text, value text);
\\copy f FROM '$TMP/fresh.tsv'
CREATE TEMP TABLE u AS SELECT * FROM clm_catalog;
SELECT 'objects compared: ' || count(DISTINCT object) || ', attributes: ' || count(*) FROM f;
WITH fo AS (SELECT DISTINCT object FROM f), uo AS (SELECT DISTINCT object FROM u)
SELECT line FROM (
    SELECT 1, object, 'MISSING after the update (only in a fresh install): ' || object
    FROM fo WHERE object NOT IN (SELECT object FROM uo)
    UNION ALL
    SELECT 2, object, 'EXTRA after the update (not in a fresh install): ' || object
    FROM uo WHERE object NOT IN (SELECT object FROM fo)
    UNION ALL
    SELECT 3, object, 'DIFF ' || object || ': ' || attribute
           || E'\\n    fresh:    ' || coalesce(f.value, '(none)')
           || E'\\n    updated:  ' || coalesce(u.value, '(none)')
    FROM f FULL JOIN u USING (object, attribute)
    WHERE f.value IS DISTINCT FROM u.value
      AND object IN (SELECT object FROM fo) AND object IN (SELECT object FROM uo)
) d(k, object, line) ORDER BY k, object, line;
SQL
}
for FROM in $RELEASED; do
    UPD=$(dbname clm_upg_cat_from "$FROM")
    out=$(compare_catalog $UPD) || { bad "catalog comparison query ($FROM)"; exit 1; }
    echo "$out" | head -n 1
    diffs=$(echo "$out" | tail -n +2)
    if [ -z "$diffs" ]; then
        ok "catalog: a fresh install and $FROM updated have the same objects, definitions, comments and grants"
    else
        echo "$diffs"
        n=$(echo "$diffs" | grep -cE '^(MISSING|EXTRA|DIFF) ')
        bad "catalog: $n differences between a fresh install and $FROM updated (listed above)"
    fi
done

# the comparison itself: five changes an upgrade script could miss, made to
# the updated database (outside an extension script: pg_init_privs stays),
# must be the five entries reported (in the last updated database)
"${PSQL[@]}" -d $UPD -c "ALTER FUNCTION clm.summary(clm.profile, date) VOLATILE" \
    -c "COMMENT ON TYPE clm.profile IS 'changed'" \
    -c "REVOKE SELECT ON clm.rfm_segment_map FROM PUBLIC" \
    -c "ALTER EXTENSION clm DROP FUNCTION clm.rfm_map_cells(text, integer)" -c "DROP FUNCTION clm.rfm_map_cells(text, integer)" \
    -c "CREATE FUNCTION clm.extra_fn() RETURNS integer LANGUAGE sql IMMUTABLE RETURN 1" ||
    { bad "changing the updated database"; exit 1; }
got=$(compare_catalog $UPD | grep -E '^(MISSING|EXTRA|DIFF) ' | sort | tr '\n' ';')
want="DIFF function clm.summary(clm.profile,pg_catalog.date): provolatile;\
DIFF table clm.rfm_segment_map: relacl;\
DIFF type clm.profile: COMMENT;\
EXTRA after the update (not in a fresh install): function clm.extra_fn();\
MISSING after the update (only in a fresh install): function clm.rfm_map_cells(pg_catalog.text,integer);"
if [ "$got" = "$want" ]; then
    ok "the comparison reports a changed volatility, comment and grant, a missing and an extra function"
else
    bad "the comparison of a changed catalog reports '$got', want '$want'"
fi
# every object of the extension lives in the schema clm (an unqualified CREATE
# in a script runs with search_path = pg_catalog, pg_temp: it would land in
# pg_catalog, which is the extension's own schema since 0.2, see clm.control)
for db in $FRESH $UPDATED; do
    out=$(psql -X -At -d $db -c "
        SELECT string_agg(i.type || ' ' || i.identity, ', ')
        FROM pg_depend d, pg_extension e, pg_identify_object(d.classid, d.objid, 0) i
        WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND e.extname = 'clm'
          AND d.deptype = 'e' AND i.schema <> 'clm'")
    [ -z "$out" ] && ok "every object of clm is in the schema clm ($db)" || bad "objects of clm outside its schema in $db: $out"
done
# every SQL and PL/pgSQL function of clm pins its search_path or has a body
# parsed at creation (BEGIN ATOMIC, RETURN), and none is SECURITY DEFINER
# (docs/upgrading.md, "Trusted install")
for db in $FRESH $UPDATED; do
    out=$(psql -X -At -d $db -c "
        SELECT coalesce(string_agg(p.oid::regprocedure::text, ', ' ORDER BY 1), '')
        FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = 'clm'::regnamespace
          AND (p.prosecdef OR (l.lanname IN ('sql', 'plpgsql') AND p.prosqlbody IS NULL
               AND NOT coalesce(p.proconfig::text[] && ARRAY['search_path=pg_catalog, pg_temp'], false)))")
    [ -z "$out" ] && ok "every SQL and PL/pgSQL function of clm pins search_path or is parsed at creation ($db)" ||
        bad "functions of clm without a pinned search_path (or SECURITY DEFINER) in $db: $out"
done
for db in $FRESH $UPDATED; do dropdb $db; done
exit $fail
