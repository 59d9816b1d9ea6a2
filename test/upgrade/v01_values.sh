#!/bin/bash
# Values written by the code of release 0.1 (test/upgrade/fixtures, made by
# make_fixture with the 0.1 build) read by the current build:
#   - the stored bytes (as 0.1 wrote them to disk) give the same text form,
#     the same binary form (md5) and the same function answers;
#   - 0.1's text form reads back to the same value (same text, same binary);
#   - 0.1's binary form (COPY BINARY) reads back to the same value.
# The stored bytes are those of a little-endian machine (x86-64, arm64).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
DB=clm_upg_v01
fresh_db $DB
if [ "$(printf '\001\000' | od -An -tu2 | tr -d ' ')" != 1 ]; then
    echo "skipped: v01_values (the fixture's stored bytes are little-endian)"
    dropdb $DB; echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
out=$("${PSQL[@]}" -At -d $DB -c 'CREATE EXTENSION clm' -f "$HERE/fixture.sql" -f - <<SQL
CREATE TEMP TABLE fx (name text, type text, raw bytea, txt text, send_md5 text, answers text);
\\copy fx FROM '$HERE/fixtures/v0.1_values.tsv'
CREATE TEMP TABLE vb (name text, type text, p clm.profile, m clm.model, bp clm.rfm_breakpoints,
                      st clm.rfm_state, h clm.model_histogram);
\\copy vb FROM '$HERE/fixtures/v0.1_values.bin' WITH (FORMAT binary)
CREATE TEMP TABLE got AS
SELECT fx.*, d.p, d.m, d.bp, d.st, d.h, t.p AS tp, t.m AS tm, t.bp AS tbp, t.st AS tst, t.h AS th
FROM fx,
     LATERAL (SELECT CASE WHEN type = 'clm.profile' THEN pg_temp.profile_of(raw) END AS p,
                     CASE WHEN type = 'clm.model' THEN pg_temp.model_of(raw) END AS m,
                     CASE WHEN type = 'clm.rfm_breakpoints' THEN pg_temp.rfm_breakpoints_of(raw) END AS bp,
                     CASE WHEN type = 'clm.rfm_state' THEN pg_temp.rfm_state_of(raw) END AS st,
                     CASE WHEN type = 'clm.model_histogram' THEN pg_temp.model_histogram_of(raw) END AS h) d,
     LATERAL (SELECT CASE WHEN type = 'clm.profile' THEN txt::clm.profile END AS p,
                     CASE WHEN type = 'clm.model' THEN txt::clm.model END AS m,
                     CASE WHEN type = 'clm.rfm_breakpoints' THEN txt::clm.rfm_breakpoints END AS bp,
                     CASE WHEN type = 'clm.rfm_state' THEN txt::clm.rfm_state END AS st,
                     CASE WHEN type = 'clm.model_histogram' THEN txt::clm.model_histogram END AS h) t;
SELECT count(*) || ' values: ' || string_agg(DISTINCT type, ', ') FROM got;
-- a value is checked as: stored bytes -> text, binary, answers; text -> text, binary; binary -> text
SELECT name || ': ' || what || E'\n    0.1:     ' || want || E'\n    now:     ' || coalesce(g, '(NULL)')
FROM got,
     LATERAL (VALUES
        ('stored bytes read as text', txt, coalesce(p::text, m::text, bp::text, st::text, h::text)),
        ('stored bytes sent as binary (md5)', send_md5,
         md5(coalesce(clm.profile_send(p), clm.model_send(m), clm.rfm_breakpoints_send(bp), clm.rfm_state_send(st), clm.model_histogram_send(h)))),
        ('answers of the functions', answers,
         coalesce(pg_temp.profile_answers(p), pg_temp.model_answers(m), pg_temp.bp_answers(bp), pg_temp.state_answers(st), pg_temp.hist_answers(h))),
        ('0.1 text form read back', txt, coalesce(tp::text, tm::text, tbp::text, tst::text, th::text)),
        ('0.1 text form read and sent as binary (md5)', send_md5,
         md5(coalesce(clm.profile_send(tp), clm.model_send(tm), clm.rfm_breakpoints_send(tbp), clm.rfm_state_send(tst), clm.model_histogram_send(th)))),
        ('0.1 binary form read back', txt,
         (SELECT coalesce(b.p::text, b.m::text, b.bp::text, b.st::text, b.h::text) FROM vb b WHERE b.name = got.name))
     ) c(what, want, g)
WHERE want IS DISTINCT FROM g
ORDER BY name, what;
SELECT 'checked ' || count(*) || ' values' FROM vb;
SQL
) || { bad "reading the 0.1 fixture"; echo "$out"; dropdb $DB; exit 1; }
echo "$out" | head -n 1
diffs=$(echo "$out" | sed '1d;$d')
if [ -z "$diffs" ]; then
    ok "values written by 0.1 (stored bytes, text and binary forms) read identically, with the same answers"
else
    echo "$diffs" | head -n 80
    bad "values written by 0.1: $(echo "$diffs" | grep -c '^[^ ]') differences (above)"
fi
# a model of a later format (version field 2) is refused with 0A000, not misread
err=$("${PSQL[@]}" -d $DB -f "$HERE/fixture.sql" -f - 2>&1 <<SQL
\\set VERBOSITY verbose
CREATE TEMP TABLE fx (name text, type text, raw bytea, txt text, send_md5 text, answers text);
\\copy fx FROM '$HERE/fixtures/v0.1_values.tsv'
SELECT pg_temp.model_of(set_byte(raw, 16, 2))::text FROM fx WHERE name = 'model bgnbd';
SQL
)
if echo "$err" | grep -q 'ERROR:  0A000: clm.model value of format 2, written by a later version of clm'; then
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

# a binary clm.model of a later format (upper half of the kind word 1:
# format 2) is refused with 22P03; with the word intact it reads back
TMP=$(mktemp -d); chmod 755 "$TMP"
"${PSQL[@]}" -d $DB -c "CREATE TABLE bm (m clm.model)" \
    -c "INSERT INTO bm VALUES (clm.make_model('bgnbd', '{0.24,4.4,0.79,2.4}'))" \
    -c "\\copy bm TO '$TMP/m.bin' WITH (FORMAT binary)"
# COPY BINARY: 19-byte header, then int16 field count, int32 length, the value
perl -e 'local $/; open(my $f, "<", $ARGV[0]) or die; my $d = <$f>; substr($d, 26, 1) = "\x01";
         open(my $g, ">", $ARGV[1]) or die; print $g $d' "$TMP/m.bin" "$TMP/m2.bin"
err=$("${PSQL[@]}" -d $DB -v VERBOSITY=verbose -c "\\copy bm FROM '$TMP/m2.bin' WITH (FORMAT binary)" 2>&1)
back=$("${PSQL[@]}" -At -d $DB -c "\\copy bm FROM '$TMP/m.bin' WITH (FORMAT binary)" -c "SELECT count(DISTINCT m::text) || ' ' || count(*) FROM bm")
if echo "$err" | grep -q 'ERROR:  22P03: unsupported binary format version 2 for type clm.model' && [ "$back" = "1 2" ]; then
    ok "a binary clm.model of a later format is refused (22P03); format 1 reads back"
else
    bad "binary clm.model formats: '$err', read back '$back'"
fi
rm -rf "$TMP"
dropdb $DB
exit $fail
