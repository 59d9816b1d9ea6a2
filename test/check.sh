#!/bin/bash
# test/check.sh: the clm test command.
#
#   bash test/check.sh              every PostgreSQL version of the matrix
#   bash test/check.sh --pg 17      one version alone (repeat --pg for more)
#
# The versions: 15 from Debian's packages, and each release whose source
# tarball is in $CLM_PG_SOURCES (../shared/postgres next to the repository:
# 16, 17, 18, 19beta2), built once by test/pgbuild.sh into a cache keyed by the
# tarball's sha256.  Where that folder is absent (a user's clone) only 15 is
# tested, and the summary says the matrix was skipped.
#
# For each version, in a private copy of that installation (test/pgenv.sh,
# under a temporary folder): builds clm with warnings as errors, installs it
# there, starts a private server (Unix socket in that folder, no TCP), and runs
# the pg_regress suite (make installcheck), the isolation specs, and every
# further suite test/NAME/run (with that version's psql, pg_dump ... first in
# PATH).  The C unit tests (plain C, no PostgreSQL) run once.  Nothing is
# installed into the machine's PostgreSQL and no lock is taken: several
# checkouts can be tested at once.  Installs what is missing (apt-get).
#
# Says which tests it skipped and why, prints regression.diffs on failure, and
# ends with one line "N passed, M failed[, K skipped]" counting the tests of
# every version.  Exits non-zero when any version fails, and when no test ran.
# Works as root (the servers then run as postgres) or as a user with sudo.
# Environment: CLM_DATA_DIR (reference data, default ../shared/data next to
# the repository), CLM_PG_SOURCES, CLM_PG_CACHE (see test/pgbuild.sh),
# CLM_PG_PORT (the private servers' port, default 55432: a socket in a private
# folder, so it never collides).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,5p' "$0" >&2; exit 2; }
WANT=()
while [ $# -gt 0 ]; do
    case "$1" in
        --pg) [ $# -ge 2 ] || usage; WANT+=("$2"); shift 2 ;;
        --pg=*) WANT+=("${1#--pg=}"); shift ;;
        -h|--help) usage ;;
        *) echo "error: unknown argument $1" >&2; usage ;;
    esac
done

CLM_DATA_DIR="${CLM_DATA_DIR:-$(cd "$REPO/.." && pwd)/shared/data}"
CLM_PG_SOURCES="${CLM_PG_SOURCES:-$(cd "$REPO/.." && pwd)/shared/postgres}"
CLM_PG_PORT="${CLM_PG_PORT:-55432}"
export CLM_DATA_DIR CLM_PG_SOURCES

PASSED=0 FAILED=0 SKIPPED=0
FAILURES=()
SKIPS=()
TIMES=()
skip() { SKIPS+=("$1"); step "skipped: $1"; }

# last_counts LOG: the "N M" of a suite's last "N passed, M failed" line
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
RUNNING=""   # the private installation whose server is up
cleanup() {
    if [ -n "$RUNNING" ]; then bash "$REPO/test/pgenv.sh" stop "$RUNNING" || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# -- 1. the versions ---------------------------------------------------------------
# "MAJOR SOURCE": SOURCE is "debian" or the tarball to build
declare -A TARBALL=()
if [ -d "$CLM_PG_SOURCES" ]; then
    while read -r major file; do
        [ -n "$major" ] && TARBALL[$major]="$file"
    done < <(bash "$REPO/test/pgbuild.sh" --list)
fi
VERSIONS=()
if [ ${#WANT[@]} -eq 0 ]; then
    VERSIONS=(15)
    if [ ${#TARBALL[@]} -gt 0 ]; then
        while read -r major; do VERSIONS+=("$major"); done < <(printf '%s\n' "${!TARBALL[@]}" | sort -n)
    else
        skip "the PostgreSQL version matrix (16 and later): no source tarballs in $CLM_PG_SOURCES (set CLM_PG_SOURCES to the folder of postgresql-*.tar.*); tested PostgreSQL 15 only"
        SKIPPED=$((SKIPPED + 1))
    fi
else
    for v in "${WANT[@]}"; do
        v="${v%%[!0-9]*}"   # 17.6 or 19beta2: the major
        if [ "$v" != 15 ] && [ -z "${TARBALL[$v]:-}" ]; then
            die "PostgreSQL $v: no postgresql-$v*.tar.* in $CLM_PG_SOURCES (available: 15 $(printf '%s\n' "${!TARBALL[@]}" | sort -n | tr '\n' ' '))"
        fi
        VERSIONS+=("$v")
    done
fi
step "PostgreSQL versions to test: ${VERSIONS[*]}"

# -- 2. dependencies ----------------------------------------------------------
PKGS=("${BASE_PACKAGES[@]}")
# TAP suites (test/tap/*.pl or t/*.pl) need IPC::Run
if compgen -G "test/tap/*.pl" >/dev/null || compgen -G "t/*.pl" >/dev/null; then
    PKGS+=(libipc-run-perl)
fi
# test/cron needs pg_cron, which Debian packages for its own PostgreSQL (15):
# install it before the private copy of 15 is taken
if [ -f test/cron/run ] && [[ " ${VERSIONS[*]} " == *" 15 "* ]]; then
    PKGS+=("postgresql-15-cron")
fi
ensure_packages "${PKGS[@]}" || die "installing the dependencies failed"

# -- 3. what runs in each version's cluster -----------------------------------
count_files() { local n=0 f; for f in $1; do [ -e "$f" ] && n=$((n + 1)); done; echo "$n"; }
NREG=$(count_files 'sql/*.sql')
NDATA=$(count_files 'sql/data_*.sql')
NISO=$(count_files 'specs/*.spec')
if [ "$NDATA" -gt 0 ]; then
    if [ ! -r "$CLM_DATA_DIR/CDNOW_sample.txt" ]; then
        skip "$NDATA data_* regression tests, each version ($CLM_DATA_DIR/CDNOW_sample.txt not found: set CLM_DATA_DIR to the reference data folder)"
        SKIPPED=$((SKIPPED + NDATA * ${#VERSIONS[@]}))
    elif [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -r "$CLM_DATA_DIR/CDNOW_sample.txt" 2>/dev/null; then
        # as root the servers run as postgres: server-side COPY must be able
        # to read the data, so hand it a readable copy
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
# runs against one version's private server: PGHOST, PGPORT, PGUSER set, that
# version's binaries first in PATH; logs go to $OUT
set -uo pipefail
cd "$REPO"
rc=0
if [ "$NREG" -gt 0 ]; then
    echo "==> running make installcheck (pg_regress as $(id -un), server user $PGUSER, socket $PGHOST)"
    # the regression tests, then the isolation specs (ISOLATION in the
    # Makefile) in a second make, so that they run even when a test failed
    t=$SECONDS
    make PG_CONFIG="$PG_CONFIG" CLM_DATA_DIR="$CLM_DATA_DIR" installcheck ISOLATION= >"$OUT/regress.log" 2>&1
    r=$?
    cat "$OUT/regress.log"
    echo "==> make installcheck: exit $r, $((SECONDS - t)) s"
    [ $r = 0 ] || { echo "make installcheck exited $r" >"$OUT/regress.failed"; rc=1; }
fi
if [ "$NISO" -gt 0 ]; then
    t=$SECONDS
    make PG_CONFIG="$PG_CONFIG" CLM_DATA_DIR="$CLM_DATA_DIR" installcheck REGRESS= >"$OUT/isolation.log" 2>&1
    r=$?
    cat "$OUT/isolation.log"
    echo "==> isolation specs: exit $r, $((SECONDS - t)) s"
    cat "$OUT/isolation.log" >>"$OUT/regress.log"
    [ $r = 0 ] || { echo "make installcheck (isolation specs) exited $r" >>"$OUT/regress.failed"; rc=1; }
fi
for s in $EXTRA_SUITES; do
    echo "==> running test/$s/run"
    t=$SECONDS
    CLM_DATA_DIR="$CLM_DATA_DIR" bash "test/$s/run" >"$OUT/suite-$s.log" 2>&1
    r=$?
    cat "$OUT/suite-$s.log"
    echo "==> test/$s/run: exit $r, $((SECONDS - t)) s"
    echo $r >"$OUT/suite-$s.rc"
    [ $r = 0 ] || rc=1
done
exit $rc
INNER
chmod 755 "$WORK/in_cluster.sh"

# fail VERSION WHAT: one failed test for a step that stopped a version
fail() { FAILURES+=("PostgreSQL $1: $2"); FAILED=$((FAILED + 1)); }

# show_diffs VERSION: print this version's pg_regress differences now (the
# next version's make clean removes them)
show_diffs() {
    local diffs
    for diffs in regression.diffs output_iso/regression.diffs test/*/regression.diffs; do
        if [ -s "$diffs" ]; then
            step "differences in $diffs (PostgreSQL $1):"
            cat "$diffs"
        fi
    done
}

# run_version MAJOR: build, install and test clm against one version
run_version() {
    local v="$1" src dir pgc bindir t0 t1 t2 pgbuilt="" out p f s r line
    local p0=$PASSED f0=$FAILED s0=$SKIPPED
    step "PostgreSQL $v"
    t0=$(date +%s)
    dir="$WORK/pg$v"
    out="$WORK/out$v"
    mkdir -p "$out"
    if [ "$v" = 15 ]; then
        src=15
        pgbuilt="from Debian's packages"
    else
        # test/pgbuild.sh builds it (once per tarball) or finds it cached
        if ! src="$(bash "$REPO/test/pgbuild.sh" "$v" | sed -n "s/^$v //p")" || [ -z "$src" ]; then
            fail "$v" "building PostgreSQL from $(basename "${TARBALL[$v]}") failed"
            TIMES+=("PostgreSQL $v: the PostgreSQL build failed")
            return 0
        fi
        pgbuilt="built from $(basename "${TARBALL[$v]}") in $(cat "$src/../build-seconds" 2>/dev/null || echo '?') s"
    fi
    t1=$(date +%s)
    pgc="$(bash "$REPO/test/pgenv.sh" setup "$dir" "$src")" || { fail "$v" "copying the installation failed"; return 0; }
    bindir="$("$pgc" --bindir)"
    step "PostgreSQL $v: $("$pgc" --version), $pgbuilt; private copy in $dir"

    step "PostgreSQL $v: building clm with warnings as errors"
    make -s PG_CONFIG="$pgc" clean >/dev/null
    # a command-line PG_CFLAGS replaces the Makefile's, so repeat its -std=gnu99
    if ! make -s PG_CONFIG="$pgc" PG_CFLAGS="-std=gnu99 -Werror"; then
        fail "$v" "the build of clm failed"
        TIMES+=("PostgreSQL $v: the build of clm failed")
        return 0
    fi
    if ! make -s PG_CONFIG="$pgc" install >/dev/null; then
        fail "$v" "make install (into the private copy) failed"
        TIMES+=("PostgreSQL $v: make install failed")
        return 0
    fi

    # the C unit tests are plain C, the same on every version: run them once
    if [ -z "${UNIT_DONE:-}" ]; then
        UNIT_DONE=1
        if compgen -G "test/unit/*.c" >/dev/null; then
            step "running the C unit tests (make unittest, warnings as errors; plain C, run once for all versions)"
            set +e
            make -s PG_CONFIG="$pgc" UNIT_CFLAGS=-Werror unittest 2>&1 | tee "$WORK/unit.log"
            r=${PIPESTATUS[0]}
            set -e
            read -r p f < <(last_counts "$WORK/unit.log"; echo "") || true
            if [ -z "${p:-}" ]; then
                # no summary line (e.g. it did not compile): count the suite as one test
                if [ "$r" = 0 ]; then p=1 f=0; else p=0 f=1; fi
            elif [ "$r" != 0 ] && [ "$f" = 0 ]; then
                f=1
            fi
            PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
            [ "$r" = 0 ] || FAILURES+=("C unit tests (make unittest exited $r)")
            p0=$PASSED f0=$FAILED   # not this version's
        else
            skip "C unit tests (no sources in test/unit)"
        fi
    fi

    if [ "$NREG" -eq 0 ] && [ "$NISO" -eq 0 ] && [ ${#EXTRA_SUITES[@]} -eq 0 ]; then
        skip "regression tests (no sql/*.sql yet)"
        return 0
    fi
    step "PostgreSQL $v: starting a private server (socket in $dir/sock)"
    if ! env_lines="$(bash "$REPO/test/pgenv.sh" start "$dir" "$CLM_PG_PORT")"; then
        fail "$v" "the private server did not start"
        TIMES+=("PostgreSQL $v: the private server did not start")
        return 0
    fi
    RUNNING="$dir"
    set +e
    (
        eval "$env_lines"
        unset PGPASSWORD PGSERVICE PGOPTIONS
        export PATH="$bindir:$PATH" PG_CONFIG="$pgc" PGVER="$v"
        REPO="$REPO" OUT="$out" NREG="$NREG" NISO="$NISO" EXTRA_SUITES="${EXTRA_SUITES[*]}" \
            CLM_DATA_DIR="$CLM_DATA_DIR" "$WORK/in_cluster.sh"
    )
    set -e
    bash "$REPO/test/pgenv.sh" stop "$dir"
    RUNNING=""

    if [ "$NREG" -gt 0 ] || [ "$NISO" -gt 0 ]; then
        if [ -f "$out/regress.log" ]; then
            read -r p f s < <(pg_regress_counts "$out/regress.log")
            PASSED=$((PASSED + p)) FAILED=$((FAILED + f)) SKIPPED=$((SKIPPED + s))
            if [ -f "$out/regress.failed" ] && [ "$f" = 0 ]; then FAILED=$((FAILED + 1)); fi
        else
            FAILED=$((FAILED + 1))
        fi
        if [ -f "$out/regress.failed" ] || [ ! -f "$out/regress.log" ]; then
            FAILURES+=("PostgreSQL $v: pg_regress suite (make installcheck)")
        fi
    fi
    for s in "${EXTRA_SUITES[@]}"; do
        r="$(cat "$out/suite-$s.rc" 2>/dev/null || echo 1)"
        read -r p f < <(last_counts "$out/suite-$s.log" 2>/dev/null; echo "") || true
        if [ -z "${p:-}" ]; then
            if [ "$r" = 0 ]; then p=1 f=0; else p=0 f=1; fi
        elif [ "$r" != 0 ] && [ "$f" = 0 ]; then
            f=1
        fi
        PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
        # a suite that cannot run part of itself says "skipped: WHY" and "..., K skipped"
        SKIPPED=$((SKIPPED + $(last_skips "$out/suite-$s.log" 2>/dev/null || echo 0)))
        while IFS= read -r line; do
            SKIPS+=("PostgreSQL $v: test/$s/run: ${line#skipped: }")
        done < <(grep -E '^skipped: ' "$out/suite-$s.log" 2>/dev/null || true)
        [ "$r" = 0 ] || FAILURES+=("PostgreSQL $v: test/$s/run (exited $r)")
        unset p f
    done
    show_diffs "$v"
    t2=$(date +%s)
    line="$((PASSED - p0)) passed, $((FAILED - f0)) failed"
    if [ $((SKIPPED - s0)) -gt 0 ]; then line+=", $((SKIPPED - s0)) skipped"; fi
    TIMES+=("PostgreSQL $v: $line; PostgreSQL $pgbuilt; $((t1 - t0)) s to build or find it, $((t2 - t1)) s to build clm and test")
}

for v in "${VERSIONS[@]}"; do
    run_version "$v"
done

# -- 4. report --------------------------------------------------------------------
step "per version:"
for t in "${TIMES[@]}"; do echo "  $t"; done
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
