#!/bin/sh
# pg_dump / restore of stored clm.profile values: plain and custom formats
# give back byte-identical profiles (text and binary form), including
# channel names with quotes, backslashes, control characters and non-ASCII
# text, and profiles large enough to be compressed and stored out of line.
# Run against a scratch server, e.g.: pg_virtualenv test/dump/profile_dump.sh
set -eu
SRC=clm_pdump_src
DST=clm_pdump_dst
DST2=clm_pdump_dst2
for db in $SRC $DST $DST2; do dropdb --if-exists "$db"; createdb "$db"; done
psql -X -q -v ON_ERROR_STOP=1 -d "$SRC" <<'SQL'
CREATE EXTENSION clm;
SET TimeZone = 'America/New_York';
CREATE TABLE ev AS
  SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(2000, seed => 7)
  UNION ALL
  SELECT 0, '2024-05-01 12:00+00'::timestamptz + k * interval '1 day', -k::numeric,
         (ARRAY[E'q"uote', E'back\\slash', E'ctl\001x', 'café', '', 'ß→∞'])[1 + k % 6]
  FROM generate_series(1, 3000) k;
CREATE TABLE profiles AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY customer_id;
CREATE TABLE expected AS
  SELECT customer_id, p::text AS t, md5(clm.profile_send(p)) AS b FROM profiles;
SQL
pg_dump -d "$SRC" | psql -X -q -v ON_ERROR_STOP=1 -d "$DST" >/dev/null
pg_dump -Fc -d "$SRC" | pg_restore -d "$DST2"
fail=0
for db in $DST $DST2; do
  out=$(psql -X -At -d "$db" -c "
    SELECT count(*) || ' ' || count(*) FILTER (WHERE e.t = p.p::text AND e.b = md5(clm.profile_send(p.p)))
           || ' ' || max(pg_column_size(p.p))
    FROM expected e JOIN profiles p USING (customer_id)")
  n=$(psql -X -At -d "$db" -c "SELECT count(*) FROM expected")
  set -- $out
  if [ "$1" = "$n" ] && [ "$2" = "$n" ] && [ "$n" -gt 1000 ]; then
    echo "ok: profile_dump ($db: $2 of $n profiles identical, largest stored $3 bytes)"
  else
    echo "FAILED: profile_dump ($db): got '$out' of $n"; fail=1
  fi
done
for db in $SRC $DST $DST2; do dropdb "$db"; done
exit $fail
