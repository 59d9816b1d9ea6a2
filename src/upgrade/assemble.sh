#!/bin/sh
# src/upgrade/assemble.sh PART...: the upgrade script made of its parts, in
# the order given (the Makefile sorts them by name).
#   NAME.sql      copied as it is (new objects, usually a link to their
#                 src/sql file; statements of the upgrade's own: ALTER, DROP)
#   NAME.replace  one function name a line (# starts a comment): each
#                 function of that name is copied from src/sql/*.sql, from its
#                 CREATE FUNCTION line to the end of its COMMENT ON FUNCTION
#                 statement, as CREATE OR REPLACE FUNCTION (which keeps the
#                 function's identity and grants, as a DROP would not).  So a
#                 changed function has one definition, in src/sql, that the
#                 install and the upgrade scripts both take.
# A name that src/sql does not define stops the build.
set -eu
dir=$(dirname "$0")
sqldir="$dir/../sql"
for part in "$@"; do
	case "$part" in
	*.replace)
		echo "-- functions of src/sql replaced in place ($(basename "$part"))"
		sed -e 's/#.*//' -e 's/[[:space:]]//g' "$part" | grep -v '^$' | while read -r fn; do
			out=$(awk -v fn="$fn" '
				index($0, "CREATE FUNCTION @extschema@." fn "(") == 1 { on = 1; sub(/^CREATE FUNCTION/, "CREATE OR REPLACE FUNCTION") }
				on { print }
				on && index($0, "COMMENT ON FUNCTION @extschema@." fn "(") == 1 { cm = 1 }
				on && cm && /;[[:space:]]*$/ { on = 0; cm = 0 }
			' $(ls "$sqldir"/*.sql | sort))
			if [ -z "$out" ]; then
				echo "assemble.sh: $part: no function $fn in src/sql" >&2
				exit 1
			fi
			printf '%s\n' "$out"
		done
		;;
	*)
		cat "$part"
		;;
	esac
done
