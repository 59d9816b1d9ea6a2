#!/bin/bash
# test/pgbuild.sh: build the PostgreSQL releases of the version matrix from
# their source tarballs, once per tarball, into a cache keyed by the tarball's
# sha256, and print "MAJOR PREFIX" for each (PREFIX/bin/pg_config).
#
#   bash test/pgbuild.sh                    every tarball in $CLM_PG_SOURCES
#   bash test/pgbuild.sh 17 19              only those majors
#   bash test/pgbuild.sh --list             print "MAJOR TARBALL" for each
#                                           tarball, build nothing
#
# Environment:
#   CLM_PG_SOURCES  the folder of postgresql-*.tar.* (default ../shared/postgres
#                   next to the repository)
#   CLM_PG_CACHE    the cache (default /var/cache/clm/postgres when writable,
#                   else ~/.cache/clm/postgres); CACHE/SHA256/ holds the
#                   installation (inst/), the build log and its time
#   CLM_PG_JOBS     make -j (default 2)
# Configured as ../shared/postgres/README says, plus libxml and zlib (see
# PG_CONFIGURE_FLAGS); each build takes about 5 minutes on 2 idle cores.
# A build runs under a lock per tarball, so that concurrent runs build it once,
# and counts only once its "complete" mark is written (else it is rebuilt).
# Progress goes to stderr; stdout has only the "MAJOR PREFIX" lines.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CLM_PG_SOURCES="${CLM_PG_SOURCES:-$(cd "$REPO/.." && pwd)/shared/postgres}"
if [ -z "${CLM_PG_CACHE:-}" ]; then
    if mkdir -p /var/cache/clm/postgres 2>/dev/null && [ -w /var/cache/clm/postgres ]; then
        CLM_PG_CACHE=/var/cache/clm/postgres
    else
        CLM_PG_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/clm/postgres"
    fi
fi
CLM_PG_JOBS="${CLM_PG_JOBS:-2}"

# the packages a source build needs (bison and flex: a tarball without
# generated parser files, such as a git archive of a beta; libxml2: the tests
# use the SQL/XML functions, as Debian's build has them; zlib: pg_dump's
# compressed formats, as Debian's build has them)
PG_BUILD_PACKAGES=(build-essential bison flex perl bzip2 xz-utils pkg-config libxml2-dev zlib1g-dev)
# how each is configured: a cached build made with other flags is rebuilt
PG_CONFIGURE_FLAGS=(--without-icu --without-readline --with-libxml --with-zlib)

log() { printf '==> %s\n' "$*" >&2; }

# tarball_major FILE: "16" for postgresql-16.15.tar.gz, "19" for 19beta2
tarball_major() {
    basename "$1" | sed -nE 's/^postgresql-([0-9]+)[^/]*\.tar\.(gz|bz2|xz)$/\1/p'
}

# list_tarballs: "MAJOR FILE" for each tarball, in version order
list_tarballs() {
    local f m
    [ -d "$CLM_PG_SOURCES" ] || return 0
    for f in "$CLM_PG_SOURCES"/postgresql-*.tar.*; do
        [ -f "$f" ] || continue
        m="$(tarball_major "$f")"
        [ -n "$m" ] && echo "$m $f"
    done | sort -n -k1,1
}

# build_one MAJOR FILE: build it unless cached; print "MAJOR PREFIX"
build_one() {
    local major="$1" tarball="$2" sha key tmp src t0 t1
    sha="$(sha256sum "$tarball" | cut -d' ' -f1)"
    key="$CLM_PG_CACHE/$sha"
    mkdir -p "$CLM_PG_CACHE"
    exec 9>"$CLM_PG_CACHE/$sha.lock"
    if ! flock -n 9; then
        log "waiting for another build of $(basename "$tarball")"
        flock 9
    fi
    if [ -x "$key/inst/bin/pg_config" ] && [ -f "$key/complete" ] &&
        [ "$(cat "$key/configure-flags" 2>/dev/null)" = "${PG_CONFIGURE_FLAGS[*]}" ]; then
        log "PostgreSQL $(basename "$tarball"): cached in $key (built in $(cat "$key/build-seconds" 2>/dev/null || echo '?') s)"
    else
        ensure_packages "${PG_BUILD_PACKAGES[@]}" >&2
        # built in place (the binaries' rpath names the prefix); "complete"
        # marks a finished build, anything else there is a broken one
        log "building PostgreSQL from $(basename "$tarball") into $key (log: $key/build.log)"
        t0=$(date +%s)
        rm -rf "$key"
        mkdir -p "$key/inst"
        tmp="$(mktemp -d /tmp/clm-pgbuild.XXXXXX)"
        # shellcheck disable=SC2064
        trap "rm -rf '$tmp'" RETURN
        if ! (
            set -e
            tar -xf "$tarball" -C "$tmp"
            src="$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
            cd "$src"
            ./configure --prefix="$key/inst" "${PG_CONFIGURE_FLAGS[@]}"
            make -j"$CLM_PG_JOBS"
            make install
            make -C src/test/isolation install
        ) >"$key/build.log" 2>&1; then
            tail -n 30 "$key/build.log" >&2
            log "error: building PostgreSQL from $(basename "$tarball") failed (log: $key/build.log)"
            exec 9>&-
            return 1
        fi
        t1=$(date +%s)
        echo $((t1 - t0)) >"$key/build-seconds"
        basename "$tarball" >"$key/source"
        echo "$sha" >"$key/sha256"
        echo "${PG_CONFIGURE_FLAGS[*]}" >"$key/configure-flags"
        chmod -R a+rX "$key"
        : >"$key/complete"
        log "built PostgreSQL from $(basename "$tarball") in $((t1 - t0)) s"
    fi
    exec 9>&-
    echo "$major $key/inst"
}

main() {
    local want=() line major file rc=0 found
    if [ "${1:-}" = --list ]; then
        list_tarballs
        return 0
    fi
    want=("$@")
    while read -r major file; do
        [ -n "$major" ] || continue
        if [ ${#want[@]} -gt 0 ]; then
            found=0
            for w in "${want[@]}"; do [ "$w" = "$major" ] && found=1; done
            [ "$found" = 1 ] || continue
        fi
        build_one "$major" "$file" || rc=1
    done < <(list_tarballs)
    return $rc
}

main "$@"
