# test/upgrade/lib.sh: helpers of the upgrade tests (sourced)
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

# fresh_db NAME: an empty database NAME (dropped first if it exists)
fresh_db() { dropdb --if-exists "$1" 2>/dev/null; createdb "$1"; }

# ok MSG / bad MSG: one check's verdict (bad sets fail=1)
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAILED: $*"; fail=1; }
