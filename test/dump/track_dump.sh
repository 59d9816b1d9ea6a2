#!/bin/bash
# pg_dump / restore of tracked sources (clm.track), plain and custom formats.
#
# The source database has two tracked sources:
#   ts_ev    public.ev (superuser's), channel column, fixed as_of, a reader role;
#   ts_shop  shop.orders, owned and tracked by a non-superuser role.
# Each was tracked, got more events, was refreshed, and then got further events
# that are still queued (clm_pending) when pg_dump runs.  For each restored
# database this checks:
#   - pg_dump as superuser prints no warning (RLS on clm.tracked_source), and
#     the restore runs without a warning or error;
#   - the clm.tracked_source rows come back unchanged, with RLS still on;
#   - the capture triggers exist on the sources, and the queued events are
#     still queued: clm.pending_events equals the rows inserted after the refresh;
#   - one clm.refresh merges them exactly once (events = queued rows, a second
#     refresh reads 0, profiles equal a GROUP BY over the whole source);
#   - after clm.refresh in the source database and in the restored one, the
#     profiles, clm_fit, customers tables and every materialised view have the
#     same contents (md5 of the ordered rows; customers.profile_changed_at,
#     the time of the refresh that merged a customer's events, is left out);
#   - the triggers still work after the restore: new rows inserted in both
#     databases are queued and merged, and everything is identical again
#     (views refreshed);
#   - the non-superuser can still insert into and refresh its own source.
# Finally it records what pg_dump does as a non-superuser (RLS on the catalog).
# Run against a scratch server as superuser, e.g.: pg_virtualenv test/dump/track_dump.sh
set -eu
SRC=clm_tdump_src
DSTS="clm_tdump_plain clm_tdump_custom"
OWNER=clm_tdump_owner
READER=clm_tdump_reader
TMP=$(mktemp -d /tmp/clm-tdump.XXXXXX)
fail=0
ok() { echo "ok: track_dump: $*"; }
bad() { echo "FAILED: track_dump: $*"; fail=1; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
# expect WHAT GOT WANT
expect() {
  local short; short=$(printf '%s' "$2" | tr '\n' ' ' | cut -c1-100)
  if [ "$2" = "$3" ]; then ok "$1 ($short)"; else bad "$1: got '$2', want '$3'"; fi
}

cleanup() {
  [ -z "${KEEP:-}" ] || return 0
  for db in $SRC $DSTS clm_tdump_own clm_tdump_own2; do dropdb --if-exists "$db" 2>/dev/null || true; done
  psql -X -q -d postgres -c "DROP ROLE IF EXISTS $OWNER" -c "DROP ROLE IF EXISTS $READER" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
cleanup 2>/dev/null; TMP=$(mktemp -d /tmp/clm-tdump.XXXXXX)
for db in $SRC $DSTS; do createdb "$db"; done
psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
CREATE ROLE $OWNER LOGIN;
CREATE ROLE $READER NOLOGIN;
SQL

# -- the source database ------------------------------------------------------
psql -X -q -v ON_ERROR_STOP=1 -d "$SRC" <<SQL >/dev/null
CREATE EXTENSION clm;
SET TimeZone = 'UTC';
GRANT CREATE ON DATABASE $SRC TO $OWNER;
GRANT USAGE ON SCHEMA clm TO $OWNER;
CREATE TABLE ev (customer_id bigint, occurred_at timestamptz, amount numeric, channel text, note text);
INSERT INTO ev SELECT customer_id, occurred_at, amount, channel, 'batch 1'
  FROM clm.generate_events(800, seed => 11);
SELECT clm.track('ev', 'customer_id', 'occurred_at', 'amount', 'channel', name => 'ts_ev',
                 reader => '$READER',
                 settings => '{"as_of": "2025-01-01", "time_zone": "America/New_York"}');
-- more events (old and new customers), merged by a refresh
INSERT INTO ev SELECT customer_id, occurred_at, amount, channel, 'batch 2'
  FROM clm.generate_events(300, seed => 12, first_customer => 700);
SELECT clm.refresh('ts_ev');
-- and more that stay queued: dumped in clm_pending
INSERT INTO ev SELECT customer_id, occurred_at, amount, channel, 'batch 3'
  FROM clm.generate_events(200, seed => 13, first_customer => 900);

-- a source owned and tracked by a non-superuser
CREATE SCHEMA shop AUTHORIZATION $OWNER;
SET ROLE $OWNER;
CREATE TABLE shop.orders (cust integer, day date, total numeric(12,2));
INSERT INTO shop.orders SELECT customer_id, occurred_at::date, amount
  FROM clm.generate_events(300, seed => 21) WHERE amount IS NOT NULL;
SELECT clm.track('shop.orders', 'cust', 'day', 'total', target_schema => 'shop_clm', name => 'ts_shop',
                 settings => '{"as_of": "2025-01-01", "model": "paretonbd"}');
INSERT INTO shop.orders SELECT customer_id, occurred_at::date, amount
  FROM clm.generate_events(100, seed => 22, first_customer => 250) WHERE amount IS NOT NULL;
RESET ROLE;
SQL
n3=$(q "$SRC" "SELECT count(*) FROM ev WHERE note = 'batch 3'")
nshop=$(q "$SRC" "SELECT clm.pending_events('ts_shop')")
expect "queued before the dump" "$(q "$SRC" "SELECT clm.pending_events('ts_ev') || ' ' || clm.pending_events('ts_shop')")" "$n3 $nshop"
[ "$n3" -gt 1000 ] && [ "$nshop" -gt 100 ] || bad "too few queued events ($n3, $nshop)"

# -- dump as superuser: no warning ----------------------------------------------
pg_dump -d "$SRC" -f "$TMP/plain.sql" 2>"$TMP/plain.err" || bad "pg_dump (plain) exited $?"
pg_dump -Fc -d "$SRC" -f "$TMP/custom.dump" 2>"$TMP/custom.err" || bad "pg_dump -Fc exited $?"
if [ -s "$TMP/plain.err" ] || [ -s "$TMP/custom.err" ]; then
  bad "pg_dump printed: $(cat "$TMP/plain.err" "$TMP/custom.err")"
else
  ok "pg_dump plain and custom as superuser: no warning"
fi
psql -X -q -v ON_ERROR_STOP=1 -d clm_tdump_plain -f "$TMP/plain.sql" >"$TMP/restore-plain.out" 2>&1 \
  || bad "restore of the plain dump failed: $(cat "$TMP/restore-plain.out")"
pg_restore --exit-on-error -d clm_tdump_custom "$TMP/custom.dump" >"$TMP/restore-custom.out" 2>&1 \
  || bad "pg_restore failed: $(cat "$TMP/restore-custom.out")"
if grep -Eq 'WARNING|ERROR' "$TMP/restore-plain.out" "$TMP/restore-custom.out"; then
  bad "restore printed: $(cat "$TMP/restore-plain.out" "$TMP/restore-custom.out")"
else
  ok "both restores without warning"
fi

# the catalog rows, without the columns that change at each refresh
CATALOG="SELECT name, source::text, customer_column, time_column, amount_column, channel_column, filter,
       target_schema, created_schema, incremental, settings, readers, owner, created_at, refreshes,
       last_refresh, last_refresh_action, last_refresh_events, last_refresh_customers, last_rebuild,
       last_refit, last_views_refresh, customers
  FROM clm.tracked_source ORDER BY name"
# md5 and row count of the tables of a tracked source's schema, then (with
# "views") of every materialised view.  segment_summary's float columns
# (means and sums of clv and churn_probability) depend on the order the rows
# are summed in, which differs between a database and its restored copy:
# they are left out here and compared with a relative tolerance by seg_floats.
state() {
  local db=$1 s=$2 rel sql=""
  local rels=("(SELECT customer_id, profile::text FROM $s.profiles) x" "$s.clm_fit x"
              "(SELECT to_jsonb(c) - 'profile_changed_at' AS c FROM $s.customers c) x")
  if [ "${3:-}" = views ]; then
    rels+=("$s.stage_counts_daily x" "$s.lifecycle_weekly x" "$s.cohort_retention_monthly x"
           "$s.stage_transitions x" "(SELECT segment, customers, revenue, at_risk_customers, as_of FROM $s.segment_summary) x"
           "$s.models x")
  fi
  for rel in "${rels[@]}"; do
    sql="${sql:+$sql UNION ALL }SELECT '${rel##*.}' || count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM $rel"
  done
  q "$db" "SELECT string_agg(v, ' ') FROM ($sql) t(v)" | sed "s/^/$s /"
}
states() { state "$1" clm_ev "${2:-}"; state "$1" shop_clm "${2:-}"; }
# seg_floats DB1 DB2: segment_summary's float columns agree to 1e-9 (relative)
seg_floats() {
  local s sql
  for s in clm_ev shop_clm; do
    sql="SELECT '$s', segment, mean_clv, total_clv, mean_churn_probability FROM $s.segment_summary ORDER BY segment"
    paste -d'|' <(q "$1" "$sql") <(q "$2" "$sql")
  done | awk -F'|' '
    function differ(a, b) { if (a == b) return 0; if (a == "" || b == "") return 1;
                            d = a - b; if (d < 0) d = -d; m = (a < 0 ? -a : a); return d > 1e-9 * m + 1e-12 }
    { n++; if ($1 != $6 || $2 != $7 || differ($3, $8) || differ($4, $9) || differ($5, $10)) { bad++; print "differs: " $0 > "/dev/stderr" } }
    END { printf "%d rows, %d differ\n", n, bad }'
}
# same_as_source WHEN: every restored database's tables, views and
# segment_summary floats equal the source database's (WHEN names the moment)
same_as_source() {
  local db state_src
  state_src=$(states "$SRC" views)
  for db in $DSTS; do
    expect "$db: tables and views identical to the source database $1" "$(states "$db" views)" "$state_src"
    expect "$db: segment_summary floats" "$(seg_floats "$SRC" "$db")" "$(q "$SRC" "SELECT (SELECT count(*) FROM clm_ev.segment_summary) + (SELECT count(*) FROM shop_clm.segment_summary)") rows, 0 differ"
  done
}
# profiles equal to the GROUP BY over the whole source: "rows matching/rows in GROUP BY"
GROUPBY_EV="SET TimeZone = 'America/New_York';
WITH g AS (SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY 1)
SELECT count(*) FILTER (WHERE p.profile::text = g.p::text) || '/' || (SELECT count(*) FROM g)
       || '/' || (SELECT count(*) FROM clm_ev.profiles)
  FROM g LEFT JOIN clm_ev.profiles p USING (customer_id)"
GROUPBY_SHOP="WITH g AS (SELECT cust, clm.profile(day, total) AS p FROM shop.orders GROUP BY 1)
SELECT count(*) FILTER (WHERE p.profile::text = g.p::text) || '/' || (SELECT count(*) FROM g)
       || '/' || (SELECT count(*) FROM shop_clm.profiles)
  FROM g LEFT JOIN shop_clm.profiles p ON p.customer_id = g.cust"
full() { local n; n=$(q "$1" "SELECT count(DISTINCT $3) FROM $2"); echo "$n/$n/$n"; }

cat_src=$(q "$SRC" "$CATALOG")
state_src=$(states "$SRC")
for db in $DSTS; do
  expect "$db: clm.tracked_source rows restored" "$(q "$db" "$CATALOG" | md5sum)" "$(echo "$cat_src" | md5sum)"
  expect "$db: RLS and policies on clm.tracked_source" \
    "$(q "$db" "SELECT relrowsecurity || ' ' || (SELECT count(*) FROM pg_policy WHERE polrelid = c.oid) FROM pg_class c WHERE oid = 'clm.tracked_source'::regclass")" "true 2"
  expect "$db: capture triggers on the sources" \
    "$(q "$db" "SELECT string_agg(tgrelid::regclass || ':' || split_part(tgname, '_', 2) || ':' || tgenabled::text, ' ' ORDER BY 1)
                FROM pg_trigger WHERE tgname LIKE 'clm\_%' AND NOT tgisinternal")" \
    "ev:capture:O ev:invalidate:O shop.orders:capture:O shop.orders:invalidate:O"
  # (the views are refreshed by the restore, so they may be fresher than the
  # source database's, which clm.refresh refreshes every views_interval)
  expect "$db: profiles, clm_fit and customers as dumped" "$(states "$db")" "$state_src"
  expect "$db: queued events still queued" \
    "$(q "$db" "SELECT clm.pending_events('ts_ev') || ' ' || clm.pending_events('ts_shop')")" "$n3 $nshop"
  expect "$db: reader role kept its grants" \
    "$(q "$db" "SELECT has_table_privilege('$READER', 'clm_ev.customers', 'SELECT') AND has_table_privilege('$READER', 'clm_ev.models', 'SELECT')")" "t"
done

# -- the queued events are merged exactly once, as in the source database -------
for db in $SRC $DSTS; do
  expect "$db: refresh merges the queued events" \
    "$(q "$db" "SELECT action || ' ' || events || ' ' || views_refreshed FROM clm.refresh('ts_ev', views => true)")" "incremental $n3 true"
  expect "$db: a second refresh finds nothing" \
    "$(q "$db" "SELECT events || ' ' || clm.pending_events('ts_ev') FROM clm.refresh('ts_ev')")" "0 0"
  expect "$db: profiles = GROUP BY over ev" "$(q "$db" "$GROUPBY_EV")" "$(full "$db" ev customer_id)"
  expect "$db: owner refreshes its source" \
    "$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "SET ROLE $OWNER" -c "SELECT action || ' ' || events FROM clm.refresh('ts_shop', views => true)")" \
    "incremental $nshop"
  expect "$db: shop profiles = GROUP BY over shop.orders" "$(q "$db" "$GROUPBY_SHOP")" "$(full "$db" shop.orders cust)"
done
same_as_source "after refresh"

# -- the triggers work after the restore: new rows, refresh with the views -----
for db in $SRC $DSTS; do
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL >/dev/null
INSERT INTO ev SELECT customer_id, occurred_at, amount, channel, 'batch 4'
  FROM clm.generate_events(150, seed => 14, first_customer => 1050);
SET ROLE $OWNER;
INSERT INTO shop.orders SELECT customer_id, occurred_at::date, amount
  FROM clm.generate_events(50, seed => 23, first_customer => 380) WHERE amount IS NOT NULL;
SQL
  n4=$(q "$db" "SELECT count(*) FROM ev WHERE note = 'batch 4'")
  expect "$db: new rows queued by the trigger" "$(q "$db" "SELECT clm.pending_events('ts_ev')")" "$n4"
  expect "$db: refresh with views merges them" \
    "$(q "$db" "SELECT action || ' ' || events || ' ' || views_refreshed FROM clm.refresh('ts_ev', views => true)")" "incremental $n4 true"
  expect "$db: profiles = GROUP BY over ev" "$(q "$db" "$GROUPBY_EV")" "$(full "$db" ev customer_id)"
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "SET ROLE $OWNER" -c "SELECT clm.refresh('ts_shop', views => true)" >/dev/null
  expect "$db: shop profiles = GROUP BY over shop.orders" "$(q "$db" "$GROUPBY_SHOP")" "$(full "$db" shop.orders cust)"
done
same_as_source "after new rows"

# -- pg_dump as a non-superuser --------------------------------------------------
# A database whose objects all belong to the non-superuser (clm itself was
# created by a superuser).  pg_dump runs with row_security = off, which makes
# reading clm.tracked_source (RLS enabled, owned by the superuser) an error for
# anyone subject to its policies: a non-superuser needs --enable-row-security
# (the read policy shows every row, so the dump is complete).
OWN=clm_tdump_own OWN2=clm_tdump_own2
createdb -O $OWNER $OWN; createdb $OWN2
q $OWN "CREATE EXTENSION clm; GRANT USAGE ON SCHEMA clm TO $OWNER" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d $OWN <<SQL >/dev/null
SET ROLE $OWNER;
CREATE TABLE sales (cust bigint, at timestamptz, amount numeric);
INSERT INTO sales SELECT customer_id, occurred_at, amount FROM clm.generate_events(300, seed => 31);
SELECT clm.track('sales', 'cust', 'at', 'amount', settings => '{"as_of": "2025-01-01"}');
INSERT INTO sales SELECT customer_id, occurred_at, amount FROM clm.generate_events(20, seed => 32, first_customer => 90);
SQL
nown=$(q $OWN "SELECT clm.pending_events('clm_sales')")
if pg_dump --role=$OWNER -d $OWN -f "$TMP/own.sql" 2>"$TMP/own.err"; then r=0; else r=$?; fi
if [ $r != 0 ] && grep -q 'row-level security' "$TMP/own.err"; then
  ok "pg_dump as $OWNER without --enable-row-security fails on clm.tracked_source: $(grep -m1 'ERROR' "$TMP/own.err" | sed 's/.*ERROR: *//')"
else
  bad "pg_dump as $OWNER without --enable-row-security exited $r: $(cat "$TMP/own.err")"
fi
if pg_dump --role=$OWNER --enable-row-security -d $OWN -f "$TMP/own.sql" 2>"$TMP/own.err" && [ ! -s "$TMP/own.err" ]; then
  ok "pg_dump --enable-row-security as $OWNER: no error or warning"
else
  bad "pg_dump --enable-row-security as $OWNER: $(cat "$TMP/own.err")"
fi
psql -X -q -v ON_ERROR_STOP=1 -d $OWN2 -f "$TMP/own.sql" >"$TMP/own-restore.out" 2>&1 \
  || bad "restore of $OWNER's dump: $(cat "$TMP/own-restore.out")"
expect "$OWNER's dump restored: catalog row, queue, merge" \
  "$(psql -X -q -At -v ON_ERROR_STOP=1 -d $OWN2 -c "SET ROLE $OWNER" \
       -c "SELECT owner || ' ' || source || ' ' || clm.pending_events(name) FROM clm.tracked_source" \
       -c "SELECT events FROM clm.refresh('clm_sales')" \
       -c "WITH g AS (SELECT cust, clm.profile(at, amount) AS p FROM sales GROUP BY 1)
           SELECT count(*) FILTER (WHERE p.profile::text = g.p::text) || '/' || count(*)
             FROM g LEFT JOIN clm_sales.profiles p ON p.customer_id = g.cust")" \
  "$OWNER sales $nown
$nown
$(q $OWN2 "SELECT count(DISTINCT cust) || '/' || count(DISTINCT cust) FROM sales")"
dropdb $OWN; dropdb $OWN2

[ $fail = 0 ] && echo "ok: track_dump" || echo "FAILED: track_dump"
exit $fail
