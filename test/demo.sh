#!/bin/bash
# test/demo.sh: build clm and print a tour of the customer journey.
#
# Installs what is missing (apt-get), builds and installs clm, starts a
# throwaway PostgreSQL cluster (pg_virtualenv), makes a sample event table with
# clm.generate_events (events until 2025-01-01, the end of the sample data),
# builds one clm.profile per customer and prints the report written in
# test/demo.sql (at most 100 columns): stage distribution, the last whole
# weeks' lifecycle counts, a cohort table, the segment summary of a tracked
# source with how to read it, the ten at-risk customers with the highest CLV,
# and where to read next.  Writes the same as one HTML page (clm.report) to
# $REPORT.  The cluster is removed afterwards.
#
# Works as root or as a user with sudo, from any directory, as often as you like.
# Environment: CUSTOMERS (20000), SEED (42), AS_OF (2025-01-01), PGVER (15),
# REPORT (report.html at the top of the repository, which is gitignored).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CUSTOMERS="${CUSTOMERS:-20000}"
SEED="${SEED:-42}"
AS_OF="${AS_OF:-2025-01-01}"
REPORT="${REPORT:-$PWD/report.html}"

ensure_packages "${BASE_PACKAGES[@]}"
[ -x "$PG_CONFIG" ] || die "$PG_CONFIG not found after installing postgresql-server-dev-$PGVER"

build
clm_lock
install_clm
step "starting a throwaway PostgreSQL $PGVER cluster (pg_virtualenv) and running test/demo.sql"
pg_virtualenv -t -v "$PGVER" \
    psql -X -v ON_ERROR_STOP=1 -v customers="$CUSTOMERS" -v seed="$SEED" -v as_of="$AS_OF" -v report_file="$REPORT" \
    -f "$REPO/test/demo.sql"
clm_unlock
step "the report as one HTML page: $REPORT (open it in a browser)"
step "done: the cluster is gone; README.md and docs/cookbook.md show clm on your own data"
