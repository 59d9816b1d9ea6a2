#!/bin/sh
# pg_dump / restore of clm.rfm_segment_map: user maps are dumped, preset rows
# are not dumped twice, and stored breakpoints survive a dump.
# Run against a scratch server, e.g.: pg_virtualenv test/dump/rfm_map_dump.sh
set -eu
SRC=clm_dump_src
DST=clm_dump_dst
dropdb --if-exists "$SRC"; dropdb --if-exists "$DST"
createdb "$SRC"; createdb "$DST"
psql -X -q -v ON_ERROR_STOP=1 -d "$SRC" <<'SQL'
CREATE EXTENSION clm;
INSERT INTO clm.rfm_segment_map (map_name, rule_id, segment, priority, r_min, r_max)
VALUES ('mine', 1, 'recent', 1, 4, 5), ('mine', 2, 'older', 2, 1, 3);
CREATE TABLE bins AS SELECT clm.rfm_breakpoints_fixed('{30,14,7,3}', '{2,3,5,8}', '{50,100,250,1000}') AS bp;
SQL
pg_dump -d "$SRC" | psql -X -q -v ON_ERROR_STOP=1 -d "$DST" >/dev/null
out=$(psql -X -At -d "$DST" -c "
  SELECT count(*) FILTER (WHERE preset) || ' ' || count(*) FILTER (WHERE map_name = 'mine')
         || ' ' || (SELECT count(*) FROM clm.rfm_map_check('rfm11'))
         || ' ' || (SELECT bp::text FROM bins)
  FROM clm.rfm_segment_map")
want="23 2 0 n=5 r<=30,14,7,3 f>=2,3,5,8 m>=50,100,250,1000"
dropdb "$SRC"; dropdb "$DST"
if [ "$out" = "$want" ]; then
  echo "ok: rfm_map_dump ($out)"
else
  echo "FAILED: rfm_map_dump: got '$out', want '$want'"; exit 1
fi
