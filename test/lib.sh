# test/lib.sh: shared set-up for test/demo.sh, test/check.sh and .ci/run.
# Sourced, not run.  Expects "set -euo pipefail" in the caller and defines:
#   REPO       the repository root (the scripts cd there)
#   SUDO       "" when root, "sudo" otherwise
#   PG_CONFIG  pg_config of PostgreSQL $PGVER (15)
#   step MSG            print one "==> MSG" progress line
#   ensure_packages P.. apt-get install the missing ones (update only if needed)
#   build / install_clm     make as the user / make install as root
#   clm_lock / clm_unlock   serialise install + use of the shared installation

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

PGVER="${PGVER:-15}"
export PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/$PGVER/bin/pg_config}"
# lock shared by everyone who installs into / tests against this machine's PostgreSQL
CLM_LOCK="${CLM_LOCK:-/tmp/clm-pg.lock}"

trap 'printf "error: %s failed at line %s: %s\n" "$(basename "$0")" "$LINENO" "$BASH_COMMAND" >&2' ERR

step() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    SUDO="__no_sudo__"
fi

# as_root CMD...: run a command as root (directly or with sudo)
as_root() {
    if [ "$SUDO" = "__no_sudo__" ]; then
        die "need root for: $* (run as root or install sudo)"
    fi
    $SUDO "$@"
}

pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# ensure_packages PKG...: install with apt-get whatever is missing
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        step "packages present: $*"
        return 0
    fi
    step "installing missing packages: ${missing[*]}"
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install ${missing[*]} by hand"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# the packages every script needs (sudo is only needed when not root, and then
# it is already there, or nothing can be installed anyway)
BASE_PACKAGES=(postgresql-common "postgresql-$PGVER" "postgresql-server-dev-$PGVER" build-essential)

clm_lock() {
    [ -e "$CLM_LOCK" ] || { : >"$CLM_LOCK" && chmod 666 "$CLM_LOCK"; } 2>/dev/null || true
    exec 8<"$CLM_LOCK"
    if ! flock -n 8; then
        step "waiting for $CLM_LOCK (another build is installing or testing)"
        flock 8
    fi
}
clm_unlock() {
    flock -u 8 2>/dev/null || true
    exec 8<&-
}

# build [MAKEARGS...]: build as the invoking user (no lock needed)
build() {
    step "building clm${*:+ ($*)}"
    make -s PG_CONFIG="$PG_CONFIG" "$@"
}
# install_clm: install as root (hold clm_lock: the installation is shared)
install_clm() {
    step "installing clm into $("$PG_CONFIG" --sharedir)/extension and $("$PG_CONFIG" --pkglibdir)"
    as_root make -s PG_CONFIG="$PG_CONFIG" install
}
