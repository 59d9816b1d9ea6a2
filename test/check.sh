#!/bin/bash
# test/check.sh: the clm test command.
#
# Installs what is missing (apt-get), builds with warnings as errors, installs,
# runs the C unit tests (make unittest), then, in a throwaway cluster made by
# pg_virtualenv, the pg_regress suite (make installcheck, which also runs the
# isolation specs when the Makefile sets ISOLATION) and every further suite
# test/NAME/run.  Says which tests it skipped and why, prints regression.diffs
# on failure, and ends with one line "N passed, M failed[, K skipped]".
# Exits non-zero on any failure, and when no test ran at all.
#
# Works as root or as a user with sudo, from any directory, as often as you like.
# Environment: CLM_DATA_DIR (reference data, default ../shared/data next to the
# repository), PGVER (15), CLM_LOCK (/tmp/clm-pg.lock).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CLM_DATA_DIR="${CLM_DATA_DIR:-$(cd "$REPO/.." && pwd)/shared/data}"
export CLM_DATA_DIR

PASSED=0 FAILED=0 SKIPPED=0
FAILURES=()
SKIPS=()
skip() { SKIPS+=("$1"); step "skipped: $1"; }

# add_counts LOG: add the "N passed, M failed" of a suite's last such line
last_counts() {
    grep -E '^[[:space:]]*[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 |
        sed -E 's/^[[:space:]]*([0-9]+) passed, ([0-9]+) failed.*/\1 \2/'
}

# last_skips LOG: the K of the last "N passed, M failed, K skipped" line (or 0)
last_skips() {
    grep -E '^[[:space:]]*[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$1" | tail -n 1 |
        sed -E 's/.* ([0-9]+) skipped.*/\1/' | grep . || echo 0
}

# pg_regress_counts LOG: sum pg_regress / pg_isolation_regress summary lines
pg_regress_counts() {
    awk '
        /All [0-9]+ tests passed/ { for (i = 1; i <= NF; i++) if ($i == "All") { p += $(i + 1); break } }
        /[0-9]+ of [0-9]+ tests failed/ { for (i = 1; i <= NF; i++) if ($i == "of") { f += $(i - 1); p += $(i + 1) - $(i - 1); break } }
        /[0-9]+ of [0-9]+ tests passed/ { for (i = 1; i <= NF; i++) if ($i == "of") { p += $(i - 1); s += $(i + 1) - $(i - 1); break } }
        END { printf "%d %d %d\n", p, f, s }' "$1"
}

WORK="$(mktemp -d /tmp/clm-check.XXXXXX)"
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# -- 1. dependencies ----------------------------------------------------------
PKGS=("${BASE_PACKAGES[@]}")
# TAP suites (test/tap/*.pl or t/*.pl) need IPC::Run
if compgen -G "test/tap/*.pl" >/dev/null || compgen -G "t/*.pl" >/dev/null; then
    PKGS+=(libipc-run-perl)
fi
ensure_packages "${PKGS[@]}"
[ -x "$PG_CONFIG" ] || die "$PG_CONFIG not found after installing postgresql-server-dev-$PGVER"

# -- 2. build with warnings as errors -----------------------------------------
step "cleaning the build tree"
make -s PG_CONFIG="$PG_CONFIG" clean >/dev/null
# A command-line PG_CFLAGS replaces the Makefile's, so repeat its -std=gnu99.
WERROR=(PG_CFLAGS="-std=gnu99 -Werror")
if ! compgen -G "src/*.c" >/dev/null && ! compgen -G "src/core/*.c" >/dev/null; then
    step "note: no C sources in src/ yet: building the SQL script only"
fi

build "${WERROR[@]}"
clm_lock
install_clm

# -- 3. C unit tests ------------------------------------------------------------
if compgen -G "test/unit/*.c" >/dev/null; then
    step "running the C unit tests (make unittest, warnings as errors)"
    set +e
    make -s PG_CONFIG="$PG_CONFIG" UNIT_CFLAGS=-Werror unittest 2>&1 | tee "$WORK/unit.log"
    rc=${PIPESTATUS[0]}
    set -e
    read -r p f < <(last_counts "$WORK/unit.log"; echo "")  || true
    if [ -z "${p:-}" ]; then
        # no summary line (e.g. it did not compile): count the suite as one test
        if [ "$rc" = 0 ]; then p=1 f=0; else p=0 f=1; fi
    elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1
    fi
    PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
    [ "$rc" = 0 ] || FAILURES+=("C unit tests (make unittest exited $rc)")
    unset p f
else
    skip "C unit tests (no sources in test/unit)"
fi

# -- 4. regression tests in a throwaway cluster -------------------------------
count_files() { local n=0 f; for f in $1; do [ -e "$f" ] && n=$((n + 1)); done; echo "$n"; }
NREG=$(count_files 'sql/*.sql')
NDATA=$(count_files 'sql/data_*.sql')
if [ "$NDATA" -gt 0 ]; then
    if [ ! -r "$CLM_DATA_DIR/CDNOW_sample.txt" ]; then
        skip "$NDATA data_* regression tests ($CLM_DATA_DIR/CDNOW_sample.txt not found: set CLM_DATA_DIR to the reference data folder)"
        SKIPPED=$((SKIPPED + NDATA))
    elif [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -r "$CLM_DATA_DIR/CDNOW_sample.txt" 2>/dev/null; then
        # as root, pg_virtualenv runs the server as postgres: server-side COPY
        # must be able to read the data, so hand it a readable copy
        step "postgres cannot read $CLM_DATA_DIR: using a readable copy in $WORK/data"
        mkdir -p "$WORK/data"
        cp -r "$CLM_DATA_DIR"/. "$WORK/data/"
        chmod -R a+rX "$WORK/data"
        CLM_DATA_DIR="$WORK/data"
    fi
fi

# the suites that run against the cluster: test/NAME/run (not unit, bench)
EXTRA_SUITES=()
for d in test/*/; do
    name="$(basename "$d")"
    case "$name" in unit|bench) continue ;; esac
    if [ -f "$d/run" ]; then EXTRA_SUITES+=("$name"); fi
done

cat >"$WORK/in_cluster.sh" <<'INNER'
#!/bin/bash
# runs inside pg_virtualenv: PGHOST, PGPORT, PGUSER, PGPASSWORD are set
set -uo pipefail
cd "$REPO"
rc=0
if [ "$NREG" -gt 0 ]; then
    echo "==> running make installcheck (pg_regress as $(id -un), server user $PGUSER, port $PGPORT)"
    # the regression tests, then the isolation specs (ISOLATION in the
    # Makefile) in a second make, so that they run even when a test failed
    make PG_CONFIG="$PG_CONFIG" CLM_DATA_DIR="$CLM_DATA_DIR" installcheck ISOLATION= >"$WORK/regress.log" 2>&1
    r=$?
    cat "$WORK/regress.log"
    [ $r = 0 ] || { echo "make installcheck exited $r" >"$WORK/regress.failed"; rc=1; }
    make PG_CONFIG="$PG_CONFIG" CLM_DATA_DIR="$CLM_DATA_DIR" installcheck REGRESS= >"$WORK/isolation.log" 2>&1
    r=$?
    cat "$WORK/isolation.log"
    cat "$WORK/isolation.log" >>"$WORK/regress.log"
    [ $r = 0 ] || { echo "make installcheck (isolation specs) exited $r" >>"$WORK/regress.failed"; rc=1; }
fi
for s in $EXTRA_SUITES; do
    echo "==> running test/$s/run"
    CLM_DATA_DIR="$CLM_DATA_DIR" bash "test/$s/run" >"$WORK/suite-$s.log" 2>&1
    r=$?
    cat "$WORK/suite-$s.log"
    echo $r >"$WORK/suite-$s.rc"
    [ $r = 0 ] || rc=1
done
exit $rc
INNER
chmod 755 "$WORK/in_cluster.sh"

if [ "$NREG" -gt 0 ] || [ ${#EXTRA_SUITES[@]} -gt 0 ]; then
    step "starting a throwaway PostgreSQL $PGVER cluster (pg_virtualenv)"
    set +e
    REPO="$REPO" WORK="$WORK" NREG="$NREG" EXTRA_SUITES="${EXTRA_SUITES[*]}" \
        CLM_DATA_DIR="$CLM_DATA_DIR" PG_CONFIG="$PG_CONFIG" \
        pg_virtualenv -t -v "$PGVER" "$WORK/in_cluster.sh"
    vrc=$?
    set -e
    if [ "$NREG" -gt 0 ]; then
        if [ -f "$WORK/regress.log" ]; then
            read -r p f s < <(pg_regress_counts "$WORK/regress.log")
            PASSED=$((PASSED + p)) FAILED=$((FAILED + f)) SKIPPED=$((SKIPPED + s))
            if [ -f "$WORK/regress.failed" ] && [ "$f" = 0 ]; then FAILED=$((FAILED + 1)); fi
        else
            FAILED=$((FAILED + 1))
        fi
        if [ -f "$WORK/regress.failed" ] || [ ! -f "$WORK/regress.log" ]; then
            FAILURES+=("pg_regress suite (make installcheck)")
        fi
    fi
    for s in "${EXTRA_SUITES[@]}"; do
        r="$(cat "$WORK/suite-$s.rc" 2>/dev/null || echo 1)"
        read -r p f < <(last_counts "$WORK/suite-$s.log" 2>/dev/null; echo "") || true
        if [ -z "${p:-}" ]; then
            if [ "$r" = 0 ]; then p=1 f=0; else p=0 f=1; fi
        elif [ "$r" != 0 ] && [ "$f" = 0 ]; then
            f=1
        fi
        PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
        # a suite that cannot run part of itself says "skipped: WHY" and "..., K skipped"
        SKIPPED=$((SKIPPED + $(last_skips "$WORK/suite-$s.log" 2>/dev/null || echo 0)))
        while IFS= read -r line; do
            SKIPS+=("test/$s/run: ${line#skipped: }")
        done < <(grep -E '^skipped: ' "$WORK/suite-$s.log" 2>/dev/null || true)
        [ "$r" = 0 ] || FAILURES+=("test/$s/run (exited $r)")
        unset p f
    done
    if [ "$vrc" != 0 ] && [ ${#FAILURES[@]} -eq 0 ]; then
        FAILURES+=("pg_virtualenv (exited $vrc)")
        FAILED=$((FAILED + 1))
    fi
else
    skip "regression tests (no sql/*.sql yet)"
fi
clm_unlock

# -- 5. report --------------------------------------------------------------------
for diffs in regression.diffs output_iso/regression.diffs test/*/regression.diffs; do
    if [ -s "$diffs" ]; then
        step "differences in $diffs:"
        cat "$diffs"
    fi
done
for s in "${SKIPS[@]}"; do echo "skipped: $s"; done
for f in "${FAILURES[@]}"; do echo "FAILED: $f"; done

summary="$PASSED passed, $FAILED failed"
if [ "$SKIPPED" -gt 0 ]; then summary+=", $SKIPPED skipped"; fi
echo "==> summary of all tests:"
if [ $((PASSED + FAILED)) -eq 0 ]; then
    echo "error: no test ran at all; refusing to report success"
    echo "$summary"
    exit 1
fi
echo "$summary"
if [ "$FAILED" -eq 0 ] && [ ${#FAILURES[@]} -eq 0 ]; then
    exit 0
fi
exit 1
