# test/upgrade/fixture_check.bash (sourced by vNN_values.sh after lib.sh):
# check_fixture V DB reads the values that the code of release V wrote
# (test/upgrade/fixtures/vV_values.{tsv,bin}, made by make_fixture V) with the
# current build, in the database DB (clm created), and says ok or FAILED:
#   - the stored bytes (as V wrote them to disk) give the same text form,
#     the same binary form (md5) and the same function answers;
#   - V's text form reads back to the same value (same text, same binary)
#     and gives the same answers;
#   - V's binary form (COPY BINARY) reads back to the same value.
# A composite type (clm.stage_rules, from 0.2) has no stored bytes in the
# fixture (they hold the database's type oid): its text and binary forms and
# answers are checked.  The stored bytes are those of a little-endian machine.
check_fixture() {
    local V=$1 DB=$2 F="$HERE/fixtures/v$1_values" cols="" extra="" out diffs
    # the value read from its stored bytes (S), its text form (T), its binary form (B)
    local S="CASE type WHEN 'clm.profile' THEN pg_temp.forms(pg_temp.profile_of(raw))
        WHEN 'clm.model' THEN pg_temp.forms(pg_temp.model_of(raw))
        WHEN 'clm.rfm_breakpoints' THEN pg_temp.forms(pg_temp.rfm_breakpoints_of(raw))
        WHEN 'clm.rfm_state' THEN pg_temp.forms(pg_temp.rfm_state_of(raw))
        WHEN 'clm.model_histogram' THEN pg_temp.forms(pg_temp.model_histogram_of(raw)) END"
    local T="CASE type WHEN 'clm.profile' THEN pg_temp.forms(txt::clm.profile)
        WHEN 'clm.model' THEN pg_temp.forms(txt::clm.model)
        WHEN 'clm.rfm_breakpoints' THEN pg_temp.forms(txt::clm.rfm_breakpoints)
        WHEN 'clm.rfm_state' THEN pg_temp.forms(txt::clm.rfm_state)
        WHEN 'clm.model_histogram' THEN pg_temp.forms(txt::clm.model_histogram)"
    local B="CASE b.type WHEN 'clm.profile' THEN pg_temp.forms(b.p) WHEN 'clm.model' THEN pg_temp.forms(b.m)
        WHEN 'clm.rfm_breakpoints' THEN pg_temp.forms(b.bp) WHEN 'clm.rfm_state' THEN pg_temp.forms(b.st)
        WHEN 'clm.model_histogram' THEN pg_temp.forms(b.h)"
    if [ "$V" != 0.1 ]; then
        cols=", sr clm.stage_rules"
        extra="\\i $HERE/fixture_0.2.sql"
        T="$T WHEN 'clm.stage_rules' THEN pg_temp.forms(txt::clm.stage_rules)"
        B="$B WHEN 'clm.stage_rules' THEN pg_temp.forms(b.sr)"
    fi
    T="$T END"
    B="$B END"
    out=$("${PSQL[@]}" -At -d $DB -f "$HERE/fixture.sql" -f - <<SQL
$extra
SET client_min_messages = error;
CREATE TEMP TABLE fx (name text, type text, raw bytea, txt text, send_md5 text, answers text);
\\copy fx FROM '$F.tsv'
CREATE TEMP TABLE vb (name text, type text, p clm.profile, m clm.model, bp clm.rfm_breakpoints,
                      st clm.rfm_state, h clm.model_histogram$cols);
\\copy vb FROM '$F.bin' WITH (FORMAT binary)
-- one row per value: (text form, md5 of the binary form, answers) of the value
-- read from its stored bytes (s), from its text form (t) and from its binary form (b)
CREATE TEMP TABLE got AS
SELECT fx.*, $S AS s, $T AS t, (SELECT $B FROM vb b WHERE b.name = fx.name) AS b
FROM fx;
SELECT count(*) || ' values: ' || string_agg(DISTINCT type, ', ' ORDER BY type) FROM got;
SELECT name || ': ' || what || E'\n    $V:     ' || coalesce(want, '(NULL)') || E'\n    now:     ' || coalesce(g, '(NULL)')
FROM got,
     LATERAL (VALUES
        ('stored bytes read as text', txt, (s).txt, raw IS NOT NULL),
        ('stored bytes sent as binary (md5)', send_md5, (s).send_md5, raw IS NOT NULL),
        ('answers of the functions over the stored bytes', answers, (s).answers, raw IS NOT NULL),
        ('$V text form read back', txt, (t).txt, true),
        ('$V text form read and sent as binary (md5)', send_md5, (t).send_md5, true),
        ('answers of the functions over the $V text form', answers, (t).answers, true),
        ('$V binary form read back', txt, (b).txt, true),
        ('$V binary form read and sent as binary (md5)', send_md5, (b).send_md5, true)
     ) c(what, want, g, applies)
WHERE applies AND want IS DISTINCT FROM g
ORDER BY name, what;
SELECT 'checked ' || count(*) || ' values, ' || count(*) FILTER (WHERE answers <> '') || ' with answers' FROM got;
SQL
) || { bad "reading the $V fixture"; echo "$out"; return 1; }
    echo "$out" | head -n 1
    echo "$out" | tail -n 1
    diffs=$(echo "$out" | sed '1d;$d')
    if [ -z "$diffs" ]; then
        ok "values written by $V (stored bytes, text and binary forms) read identically, with the same answers"
    else
        echo "$diffs" | head -n 80
        bad "values written by $V: $(echo "$diffs" | grep -c '^[^ ]') differences (above)"
    fi
}
