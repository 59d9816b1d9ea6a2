#!/bin/bash
# Trusted install (clm.control: trusted = true): a database owner without
# superuser installs clm, uses it (profiles, a fit, RFM with a segment map of
# its own, a tracked source), cannot alter what the install made, installs
# each released version (0.1, 0.2) and updates it to the current one, and
# drops it.  The security guard of the scripts (src/sql/01_guard.sql, in the
# install script and in every upgrade script) refuses to run
# over objects of that role in schema clm; since 0.2 the install script
# creates the schema clm itself (so DROP EXTENSION removes it) and refuses a
# schema clm made beforehand.  See docs/upgrading.md.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
OWNER=clm_upg_owner
OTHER=clm_upg_other
DB=clm_upg_trusted
cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS $OWNER" \
        -c "DROP ROLE IF EXISTS $OTHER" >/dev/null 2>&1
}
cleanup
trap cleanup EXIT
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE ROLE $OWNER LOGIN NOSUPERUSER" \
    -c "CREATE ROLE $OTHER LOGIN NOSUPERUSER" -c "CREATE DATABASE $DB OWNER $OWNER" || { bad "roles and database"; exit 1; }
BOOT=$(psql -X -At -d $DB -c "SELECT rolname FROM pg_roles WHERE oid = 10")

# as ROLE: run SQL (stdin or -c ...) in $DB after SET SESSION AUTHORIZATION ROLE
as() { local r=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d $DB -c "SET SESSION AUTHORIZATION $r" "$@" 2>&1; }
# expect WHAT GOT WANT
expect() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}
# expect_error WHAT OUTPUT SQLSTATE-OR-TEXT
expect_error() {
    if echo "$2" | grep -q "$3"; then ok "$1"; else bad "$1: got '$2', want an error with '$3'"; fi
}

expect "clm is marked trusted" \
    "$(psql -X -At -d $DB -c "SELECT bool_and(trusted) FROM pg_available_extension_versions WHERE name = 'clm'")" t
out=$(as $OTHER -c "CREATE EXTENSION clm")
expect_error "a role without CREATE on the database cannot install it" "$out" "permission denied to create extension"

# 1. install and use as the database owner
out=$(as $OWNER -c "CREATE EXTENSION clm" -c "SELECT extversion || ' ' || extowner::regrole::text FROM pg_extension WHERE extname = 'clm'")
expect "the database owner installs clm (version and owner)" "$out" "$CURRENT $OWNER"
out=$(psql -X -At -d $DB -c "
    SELECT count(*) FILTER (WHERE i.owner <> '$BOOT') || ' of ' || count(*)
    FROM pg_depend d, LATERAL (SELECT CASE d.classid
            WHEN 'pg_proc'::regclass THEN (SELECT proowner::regrole::text FROM pg_proc WHERE oid = d.objid)
            WHEN 'pg_type'::regclass THEN (SELECT typowner::regrole::text FROM pg_type WHERE oid = d.objid)
            WHEN 'pg_class'::regclass THEN (SELECT relowner::regrole::text FROM pg_class WHERE oid = d.objid)
            WHEN 'pg_operator'::regclass THEN (SELECT oprowner::regrole::text FROM pg_operator WHERE oid = d.objid)
            ELSE '$BOOT' END AS owner) i
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
      AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'clm')")
case "$out" in "0 of "[1-9]*) ok "every object of clm belongs to the bootstrap superuser $BOOT ($out not)";;
    *) bad "objects of clm not owned by $BOOT: $out";; esac
out=$(as $OWNER -f - <<'SQL'
SET TimeZone = 'UTC';
CREATE TABLE ev AS SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(200, seed => 3);
CREATE TABLE profiles AS SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY customer_id;
SELECT 'profiles ' || count(*) FROM profiles;
CREATE TABLE fits AS SELECT clm.bgnbd_fit(p, '2025-01-01', 'week') AS m FROM profiles;
SELECT 'fit ' || (clm.model_info(m)).kind || ' converged ' || (clm.model_info(m)).converged FROM fits;
INSERT INTO clm.rfm_segment_map (map_name, rule_id, segment, priority) VALUES ('everyone', 1, 'customer', 1);
SELECT 'segments ' || string_agg(DISTINCT (clm.rfm_segment(clm.rfm_score(p, bp, '2025-01-01'), 'everyone')).segment, ',')
  FROM profiles, (SELECT clm.rfm_breakpoints(p, '2025-01-01') AS bp FROM profiles) b;
CREATE TABLE orders AS SELECT * FROM ev WHERE customer_id <= 100;
SELECT 'track ' || action FROM clm.track('orders', 'customer_id', 'occurred_at', 'amount', 'channel', target_schema => 'crm');
INSERT INTO orders SELECT * FROM ev WHERE customer_id > 100;
SELECT 'refresh ' || action || ' ' || events FROM clm.refresh('crm');
SELECT 'tracked customers ' || count(*) FROM crm.profiles;
SELECT 'untracked' FROM clm.untrack('crm');
SQL
)
n=$(psql -X -At -d $DB -c "SELECT count(*) FROM public.ev WHERE customer_id > 100")
want="profiles 200
fit bgnbd converged true
segments customer
track track
refresh incremental $n
tracked customers 200
untracked"
expect "the owner uses it: profiles, a fit, its own segment map, a tracked source" "$out" "$want"

# 2. what the owner cannot do to the objects of clm
out=$(as $OWNER -c "ALTER FUNCTION clm.summary(clm.profile, date) OWNER TO $OWNER")
expect_error "the owner cannot take over a function of clm" "$out" "must be owner of function"
out=$(as $OWNER -c "ALTER EXTENSION clm DROP FUNCTION clm.summary(clm.profile, date)")
expect_error "the owner cannot detach a function from clm" "$out" "must be owner of function"
out=$(as $OWNER -c "DROP FUNCTION clm.summary(clm.profile, date)")
expect_error "the owner cannot drop a function of clm alone (the schema clm is not its own)" "$out" "must be owner of function"
out=$(as $OWNER -c "ALTER TABLE clm.rfm_segment_map ADD COLUMN x int")
expect_error "the owner cannot alter the tables of clm" "$out" "must be owner of table"

# 3. pg_dump by the owner (pg_dump --role): clm.tracked_source
# has row-level security, so a role that is not a superuser dumps with
# --enable-row-security (it sees every row: the read policy is USING (true))
TMP=$(mktemp -d); chmod 755 "$TMP"
if pg_dump --role=$OWNER --enable-row-security -Fc -d $DB -f "$TMP/own.dump" 2>"$TMP/err"; then
    ok "the owner dumps its database (pg_dump --enable-row-security)"
else
    bad "pg_dump by the owner: $(cat "$TMP/err")"
fi
rm -rf "$TMP"

# 4. drop (the schema clm goes with the extension), then a schema clm of the
# owner's stops the install: the install script creates the schema itself
out=$(as $OWNER -c "DROP TABLE profiles, fits" -c "DROP EXTENSION clm" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'clm'")
expect "the owner drops clm (the schema clm with it)" "$out" 0
out=$(as $OWNER -c "CREATE SCHEMA clm" -c "CREATE FUNCTION clm.length(name) RETURNS integer LANGUAGE sql RETURN 0" -c "CREATE EXTENSION clm")
expect_error "a schema clm made beforehand stops the install (42P06)" "$out" '42P06: schema "clm" already exists'
out=$(as $OWNER -c "SELECT count(*) FROM pg_extension WHERE extname = 'clm'" -c "DROP FUNCTION clm.length(name)" -c "DROP SCHEMA clm")
expect "nothing installed" "$out" 0

# 5. each released version installed by the owner, updated to the current one
# by the owner; the guard of the update script stops the update while schema
# clm holds an object of the owner's (the owner makes one itself in 0.1's
# schema, its own; from 0.2 on the schema is the superuser's, so a superuser
# puts one there and gives it to the owner)
for FROM in $RELEASED; do
    if [ "$FROM" = 0.1 ]; then
        out=$(as $OWNER -c "CREATE EXTENSION clm VERSION '$FROM'" \
            -c "SELECT clm.event_count(p) FROM (SELECT clm.profile(d, 1.0) AS p FROM generate_series('2024-01-01'::date, '2024-01-10', '1 day') d) x" \
            -c "CREATE FUNCTION clm.trap(integer) RETURNS integer LANGUAGE sql RETURN 0" -c "ALTER EXTENSION clm UPDATE")
    else
        out=$(as $OWNER -c "CREATE EXTENSION clm VERSION '$FROM'" \
            -c "SELECT clm.event_count(p) FROM (SELECT clm.profile(d, 1.0) AS p FROM generate_series('2024-01-01'::date, '2024-01-10', '1 day') d) x")
        out=$(psql -X -q -v ON_ERROR_STOP=1 -d $DB -c "CREATE FUNCTION clm.trap(integer) RETURNS integer LANGUAGE sql RETURN 0" \
            -c "ALTER FUNCTION clm.trap(integer) OWNER TO $OWNER" 2>&1 && as $OWNER -c "ALTER EXTENSION clm UPDATE")
    fi
    expect_error "$FROM: an object of the owner in schema clm stops the update (42501, named)" "$out" \
        '42501: schema clm holds objects of a role that is not a superuser: function clm.trap(integer)'
    out=$(as $OWNER -c "DROP FUNCTION clm.trap(integer)" -c "ALTER EXTENSION clm UPDATE" \
        -c "SELECT extversion FROM pg_extension WHERE extname = 'clm'" \
        -c "SELECT count(*) FROM clm.rfm_map_check('rfm11')" \
        -c "SELECT clm.event_count(p) FROM (SELECT clm.profile(d, 1.0) AS p FROM generate_series('2024-01-01'::date, '2024-01-10', '1 day') d) x")
    expect "the owner updates $FROM to $CURRENT and uses it" "$(echo $out)" "$CURRENT 0 10"
    out=$(as $OWNER -c "SELECT pg_get_userbyid(nspowner) <> '$OWNER' FROM pg_namespace WHERE nspname = 'clm'" \
        -c "DROP EXTENSION clm" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'clm'")
    expect "$FROM: after the update the schema clm is not the owner's; DROP EXTENSION removes it" "$(echo $out)" "t 0"
done
exit $fail
