#!/bin/bash
# Values written by the code of release 0.2 (test/upgrade/fixtures, made by
# make_fixture 0.2 with the build of a42668f) read by the current build:
# stored bytes, text and binary forms, answers (fixture_check.bash) of every
# stored type of 0.2: profiles (made from timestamps, in a time zone, from
# float8 amounts and from dates; one stored compressed), models of every kind
# (written with format 1), RFM breakpoints (5 and 3 scores, fixed), an RFM
# state, histograms of every kind, and clm.stage_rules values.
# The stored bytes are those of a little-endian machine (x86-64, arm64).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixture_check.bash"
DB=clm_upg_v02
fresh_db $DB
if [ "$(printf '\001\000' | od -An -tu2 | tr -d ' ')" != 1 ]; then
    echo "skipped: v02_values (the fixture's stored bytes are little-endian)"
    dropdb $DB; echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
"${PSQL[@]}" -d $DB -c 'CREATE EXTENSION clm' || { bad "CREATE EXTENSION clm"; dropdb $DB; exit 1; }
check_fixture 0.2 $DB
# what the fixture holds: every stored type, every model and histogram kind
# (so that a fixture made short cannot pass)
got=$(awk -F'\t' '{ split($1, w, " "); k = $2 " " (($2 == "clm.model" || $2 == "clm.model_histogram") ? w[2] : ""); n[k]++ }
                  END { for (k in n) print k }' "$HERE/fixtures/v0.2_values.tsv" | sort | tr '\n' ';')
want="clm.model bgbb;clm.model bgnbd;clm.model gg;clm.model mbgnbd;clm.model paretonbd;clm.model sbg;\
clm.model_histogram ;clm.model_histogram bgbb;clm.model_histogram gg;clm.model_histogram mbgnbd;\
clm.model_histogram paretonbd;clm.model_histogram sbg;clm.model_histogram scores;\
clm.profile ;clm.rfm_breakpoints ;clm.rfm_state ;clm.stage_rules ;"
[ "$got" = "$want" ] && ok "the 0.2 fixture holds every stored type, model kind and histogram kind" ||
    bad "the 0.2 fixture holds '$got', want '$want'"
# 0.2 wrote its models with format 1 in the version word (the fifth int32 of
# the stored value: bytes 16-19 after the length word; 0.1 wrote 0)
v=$(awk -F'\t' '$2 == "clm.model" { print substr($3, 36, 2) }' "$HERE/fixtures/v0.2_values.tsv" | sort -u | tr '\n' ' ')
[ "$v" = "01 " ] && ok "every model 0.2 wrote has format 1 in its version word" ||
    bad "the version words of 0.2's models: '$v' (want 01)"
dropdb $DB
exit $fail
