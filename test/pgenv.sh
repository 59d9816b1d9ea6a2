#!/bin/bash
# test/pgenv.sh: a private PostgreSQL for building and testing clm without
# touching the machine's installation, so that several checkouts (or several
# PostgreSQL versions) can be tested at once.
#
#   bash test/pgenv.sh setup DIR [SOURCE]   copy an installation into DIR/inst
#        SOURCE: 15 (Debian's packages, the default), the prefix of a
#        PostgreSQL built from source (relocatable), or the pg_config of
#        either (a copy made here included); prints its pg_config
#   bash test/pgenv.sh pg_config DIR        prints the private pg_config
#   bash test/pgenv.sh start DIR PORT       initdb DIR/data (once) and start a
#        server on PORT with its socket in DIR/sock; prints the environment
#        to eval: export PGHOST=... PGPORT=... PGUSER=...
#        (PGENV_CONF: further postgresql.conf lines, added at initdb)
#   bash test/pgenv.sh stop DIR             stop that server
#
# Then, for example:
#   make PG_CONFIG="$(bash test/pgenv.sh pg_config DIR)" install
#   eval "$(bash test/pgenv.sh start DIR 55432)"
#   make PG_CONFIG=... installcheck REGRESS=profile
# As root the server runs as the postgres user (initdb refuses root).
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,20p' "$0" >&2; exit 2; }
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

# the private pg_config (the installation may be Debian's layout or a prefix)
private_pg_config() {
    local c
    for c in "$dir"/inst/usr/lib/postgresql/*/bin/pg_config "$dir"/inst/bin/pg_config; do
        [ -x "$c" ] && { echo "$c"; return 0; }
    done
    echo "error: no installation in $dir/inst (run: $0 setup $dir)" >&2
    return 1
}

as_server_user() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
setup)
    src="${3:-15}"
    if [ -f "$src" ] && [ "$(basename "$src")" = pg_config ]; then
        # a pg_config: Debian's layout (ROOT/usr/lib/postgresql/N/bin) or a prefix
        bin="$(cd "$(dirname "$src")" && pwd)"
        if [[ "$bin" =~ ^(.*)/usr/lib/postgresql/([0-9]+)/bin$ ]]; then
            root="${BASH_REMATCH[1]}" major="${BASH_REMATCH[2]}"
            [ "$root/inst" != "$dir/inst" ] || { echo "error: $src is the installation in $dir itself" >&2; exit 1; }
            rm -rf "$dir/inst"
            mkdir -p "$dir/inst/usr/lib/postgresql" "$dir/inst/usr/share/postgresql" "$dir/inst/usr/include"
            cp -a "$root/usr/lib/postgresql/$major" "$dir/inst/usr/lib/postgresql/"
            cp -a "$root/usr/share/postgresql/$major" "$dir/inst/usr/share/postgresql/"
            cp -a "$root/usr/include/postgresql" "$dir/inst/usr/include/"
            chmod a+rx "$dir"
            chmod -R a+rX "$dir/inst"   # not data/: the server wants it 0700
            private_pg_config
            exit 0
        fi
        src="$(dirname "$bin")"
    fi
    rm -rf "$dir/inst"
    mkdir -p "$dir/inst"
    if [[ "$src" =~ ^[0-9]+$ ]]; then
        # Debian's layout: binaries, share and headers under /usr, found by
        # PostgreSQL relative to the binaries, so a copy under DIR/inst works
        [ -d "/usr/lib/postgresql/$src/bin" ] || { echo "error: PostgreSQL $src is not installed" >&2; exit 1; }
        [ -d "/usr/include/postgresql/$src/server" ] || { echo "error: postgresql-server-dev-$src is not installed" >&2; exit 1; }
        mkdir -p "$dir/inst/usr/lib/postgresql" "$dir/inst/usr/share/postgresql" "$dir/inst/usr/include"
        cp -a "/usr/lib/postgresql/$src" "$dir/inst/usr/lib/postgresql/"
        cp -a "/usr/share/postgresql/$src" "$dir/inst/usr/share/postgresql/"
        cp -a /usr/include/postgresql "$dir/inst/usr/include/"
    else
        [ -x "$src/bin/pg_config" ] || { echo "error: $src/bin/pg_config not found" >&2; exit 1; }
        cp -a "$src"/. "$dir/inst/"
    fi
    chmod a+rx "$dir"
    chmod -R a+rX "$dir/inst"   # not data/: the server wants it 0700
    private_pg_config
    ;;
pg_config)
    private_pg_config
    ;;
start)
    port="${3:?port}"
    bindir="$("$(private_pg_config)" --bindir)"
    mkdir -p "$dir/sock"
    chmod 777 "$dir/sock"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        mkdir -p "$dir/data"
        [ "$(id -u)" = 0 ] && chown postgres "$dir/data"
        as_server_user "$bindir/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
        cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir/sock'
fsync = off
max_prepared_transactions = 10
${PGENV_CONF:-}
CONF
    fi
    as_server_user "$bindir/pg_ctl" -D "$dir/data" -o "-p $port" -l "$dir/data/server.log" -w start >/dev/null ||
        { tail -20 "$dir/data/server.log" >&2; exit 1; }
    echo "export PGHOST='$dir/sock' PGPORT='$port' PGUSER=postgres PGDATABASE=postgres"
    ;;
stop)
    bindir="$("$(private_pg_config)" --bindir)"
    as_server_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
*)
    sed -n '2,20p' "$0" >&2
    exit 2
    ;;
esac
