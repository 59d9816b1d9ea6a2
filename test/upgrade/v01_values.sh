#!/bin/bash
# Values written by the code of release 0.1 (test/upgrade/fixtures, made by
# make_fixture 0.1 with the 0.1 build) read by the current build: stored
# bytes, text and binary forms, answers (fixture_check.bash); models of a
# later format refused.
# The stored bytes are those of a little-endian machine (x86-64, arm64).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixture_check.bash"
DB=clm_upg_v01
fresh_db $DB
if [ "$(printf '\001\000' | od -An -tu2 | tr -d ' ')" != 1 ]; then
    echo "skipped: v01_values (the fixture's stored bytes are little-endian)"
    dropdb $DB; echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
"${PSQL[@]}" -d $DB -c 'CREATE EXTENSION clm' || { bad "CREATE EXTENSION clm"; dropdb $DB; exit 1; }
check_fixture 0.1 $DB
# a model of a later format (version field 4: format 2 is a model with
# covariates, 3 one with the correlations of its parameters, clm 0.3) is
# refused with 0A000, not misread
err=$("${PSQL[@]}" -d $DB -f "$HERE/fixture.sql" -f - 2>&1 <<SQL
\\set VERBOSITY verbose
CREATE TEMP TABLE fx (name text, type text, raw bytea, txt text, send_md5 text, answers text);
\\copy fx FROM '$HERE/fixtures/v0.1_values.tsv'
SELECT pg_temp.model_of(set_byte(raw, 16, 4))::text FROM fx WHERE name = 'model bgnbd';
SQL
)
if echo "$err" | grep -q 'ERROR:  0A000: clm.model value of format 4, written by a later version of clm'; then
    ok "a clm.model of a later format is refused (0A000)"
else
    bad "a clm.model of a later format: $err"
fi
# a model written now carries format 1 in its version word (the fifth int32
# of the stored value: bytes 16-19 after the length word; 0 in 0.1's fixture)
v=$("${PSQL[@]}" -At -d $DB -f "$HERE/fixture.sql" \
    -c "SELECT get_byte(pg_temp.raw(clm.make_model('bgnbd', '{0.24,4.4,0.79,2.4}')), 16)")
z=$(awk -F'\t' '$1 == "model bgnbd" { print substr($3, 36, 2) }' "$HERE/fixtures/v0.1_values.tsv")
[ "$v" = 1 ] && [ "$z" = 00 ] && ok "models are written with format 1 (0.1 wrote 0)" ||
    bad "version word of a new model: '$v', of 0.1's: '$z' (want 1 and 00)"

# a binary clm.model of a later format (upper half of the kind word 3:
# format 4; 1 is format 2, a model with covariates, 2 format 3, with
# correlations) is refused with 22P03;
# with the word intact it reads back
TMP=$(mktemp -d); chmod 755 "$TMP"
"${PSQL[@]}" -d $DB -c "CREATE TABLE bm (m clm.model)" \
    -c "INSERT INTO bm VALUES (clm.make_model('bgnbd', '{0.24,4.4,0.79,2.4}'))" \
    -c "\\copy bm TO '$TMP/m.bin' WITH (FORMAT binary)"
# COPY BINARY: 19-byte header, then int16 field count, int32 length, the value
perl -e 'local $/; open(my $f, "<", $ARGV[0]) or die; my $d = <$f>; substr($d, 26, 1) = "\x03";
         open(my $g, ">", $ARGV[1]) or die; print $g $d' "$TMP/m.bin" "$TMP/m2.bin"
err=$("${PSQL[@]}" -d $DB -v VERBOSITY=verbose -c "\\copy bm FROM '$TMP/m2.bin' WITH (FORMAT binary)" 2>&1)
back=$("${PSQL[@]}" -At -d $DB -c "\\copy bm FROM '$TMP/m.bin' WITH (FORMAT binary)" -c "SELECT count(DISTINCT m::text) || ' ' || count(*) FROM bm")
if echo "$err" | grep -q 'ERROR:  22P03: unsupported binary format version 4 for type clm.model' && [ "$back" = "1 2" ]; then
    ok "a binary clm.model of a later format is refused (22P03); format 1 reads back"
else
    bad "binary clm.model formats: '$err', read back '$back'"
fi
rm -rf "$TMP"
dropdb $DB
exit $fail
