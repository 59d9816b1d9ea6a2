# test/citus/cluster.sh: a Citus cluster on local ports for test/citus/run and
# test/bench/bench_citus.sh.  Sourced, not run; expects REPO and PG_CONFIG
# (the installation under test, with clm installed) and defines:
#   citus_locate             CITUS_VERSION, TARBALL, KEY for this PostgreSQL,
#                            or returns 1 with the reason in CITUS_SKIP
#   citus_build              build Citus into the cache once (KEY), else 1
#   cluster_start N ZONE...  a private copy of the installation with Citus
#                            added, one coordinator and N-1 workers (node i
#                            in TimeZone ZONE i), formed into a cluster with
#                            clm created; NODES, PORTS; stopped on exit
#   nodesql I ARGS...        psql on node I (0 = the coordinator)
#   value SQL...             the statements in one coordinator session, in
#                            UTC unless TZ_SESSION names a zone
# Environment: CLM_CITUS_DIR (default ../shared/citus next to the repository,
# or next to CLM_DATA_DIR), CLM_CITUS_CACHE (default /var/cache/clm/citus when
# writable, else ~/.cache/clm/citus), CLM_CITUS_PORT and CLM_CITUS_PORTS (the
# range of ports tried: 40 from 55480; free ones are taken under a lock, from
# a place in the range that depends on the process), CLM_CITUS_SHARDS
# (shards per table, 8).

# which Citus for this PostgreSQL, and its cache key
citus_locate() {
	local d
	CITUS_SKIP=""
	PGMAJOR="$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')"
	CITUS_DIR="${CLM_CITUS_DIR:-}"
	if [ -z "$CITUS_DIR" ]; then
		for d in "$REPO/../shared/citus" "${CLM_DATA_DIR:-/nonexistent}/../citus"; do
			[ -d "$d" ] && { CITUS_DIR="$(cd "$d" && pwd)"; break; }
		done
	fi
	if [ -z "$CITUS_DIR" ]; then
		CITUS_SKIP="no Citus sources: ../shared/citus next to the repository not found; set CLM_CITUS_DIR"
		return 1
	elif [ ! -d "$CITUS_DIR" ]; then
		CITUS_SKIP="no Citus sources: CLM_CITUS_DIR=$CITUS_DIR is not a directory"
		return 1
	fi
	case "$PGMAJOR" in
	15) CITUS_VERSION=13.2.2 ;;
	16 | 17 | 18) CITUS_VERSION=14.0.1 ;;
	*)
		CITUS_SKIP="no Citus release supports PostgreSQL $PGMAJOR"
		return 1
		;;
	esac
	TARBALL="$CITUS_DIR/citus-$CITUS_VERSION.tar.gz"
	if [ ! -r "$TARBALL" ]; then
		CITUS_SKIP="$TARBALL not found"
		return 1
	fi
	if [ -n "${CLM_CITUS_CACHE:-}" ]; then
		CACHE="$CLM_CITUS_CACHE"
	elif mkdir -p /var/cache/clm/citus 2>/dev/null && [ -w /var/cache/clm/citus ]; then
		CACHE=/var/cache/clm/citus
	else
		CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/clm/citus"
	fi
	mkdir -p "$CACHE" || { echo "cannot create the cache $CACHE"; return 2; }
	# one build per tarball and PostgreSQL installation (version, configure flags)
	KEY="$CACHE/$(sha256sum "$TARBALL" | cut -c1-64)-pg$PGMAJOR-$({ "$PG_CONFIG" --version; "$PG_CONFIG" --configure; } | sha256sum | cut -c1-12)"
}

# build Citus into $KEY unless it is there (one build at a time per cache)
citus_build() {
	local tmp src log start rc=0
	exec 9>"$CACHE/.lock"
	flock 9
	if [ -f "$KEY/build-seconds" ]; then
		echo "==> Citus $CITUS_VERSION for PostgreSQL $PGMAJOR: cached in $KEY"
		flock -u 9
		return 0
	fi
	# the Debian packages Citus's configure asks for (as root or with sudo)
	(
		. "$REPO/test/lib.sh" >/dev/null
		trap - ERR
		ensure_packages libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev libssl-dev \
			libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev
	) || { flock -u 9; return 1; }
	tmp="$(mktemp -d "$CACHE/build.XXXXXX")"
	log="$tmp/build.log"
	start=$(date +%s)
	echo "==> building Citus $CITUS_VERSION for PostgreSQL $PGMAJOR into $KEY (2-10 minutes, once)"
	src="$tmp/citus-$CITUS_VERSION"
	tar xzf "$TARBALL" -C "$tmp" || rc=1
	if [ $rc = 0 ] && [ "$CITUS_VERSION" = 13.2.2 ]; then
		# Debian's 15.x declares have_createdb_privilege() extern; Citus 13.2.2
		# defines a static copy for PostgreSQL < 16: rename the copy
		perl -0pi -e 's/\nstatic inline bool\nhave_createdb_privilege\(void\)\n/\n#define have_createdb_privilege citus_compat_have_createdb_privilege\nstatic inline bool\nhave_createdb_privilege(void)\n/' \
			"$src/src/include/pg_version_compat.h" || rc=1
	fi
	if [ $rc = 0 ] && ! (cd "$src" && ./configure PG_CONFIG="$PG_CONFIG" && make -j2 &&
		make install DESTDIR="$tmp/stage") >"$log" 2>&1; then
		tail -40 "$log"
		echo "Citus build failed: the whole log is $log"
		rc=1
	fi
	if [ $rc = 0 ]; then
		mkdir -p "$tmp/out/lib" "$tmp/out/extension"
		cp -a "$tmp/stage$("$PG_CONFIG" --pkglibdir)/." "$tmp/out/lib/" &&
			cp -a "$tmp/stage$("$PG_CONFIG" --sharedir)/extension/." "$tmp/out/extension/" &&
			echo $(($(date +%s) - start)) >"$tmp/out/build-seconds" &&
			rm -rf "$KEY" && mv "$tmp/out" "$KEY" && rm -rf "$tmp" || rc=1
	fi
	flock -u 9
	return $rc
}

# stop every node started here and remove the work directory
cluster_stop() {
	local n
	for n in "${NODES[@]}"; do
		[ -f "$n/data/postmaster.pid" ] && bash "$REPO/test/pgenv.sh" stop "$n" >/dev/null 2>&1
	done
	[ -n "${CLUSTER_DIR:-}" ] && rm -rf "$CLUSTER_DIR"
	NODES=()
}

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && [ ! -e "/tmp/.s.PGSQL.$1" ]
}

# the servers of NODES on PORTS, node i in TimeZone ZONES[i] (UTC if none)
nodes_start() {
	local i
	for ((i = 0; i < $1; i++)); do
		PGENV_CONF="listen_addresses = 'localhost'
shared_preload_libraries = 'citus'
timezone = '${ZONES[$i]:-UTC}'
max_connections = 80
citus.shard_count = ${CLM_CITUS_SHARDS:-8}" \
			bash "$REPO/test/pgenv.sh" start "${NODES[$i]}" "${PORTS[$i]}" >/dev/null 2>&1 ||
			{ echo "cannot start node $i on port ${PORTS[$i]}: trying other ports"; return 1; }
	done
}

# stop the servers started (their data directories are made again)
cluster_halt() {
	local n
	for n in "${NODES[@]}"; do
		[ -f "$n/data/postmaster.pid" ] && bash "$REPO/test/pgenv.sh" stop "$n" >/dev/null 2>&1
		rm -rf "$n/data" "$n/sock"
	done
	return 0
}

# cluster_start N ZONE...: see above; returns non-zero with a message on failure
cluster_start() {
	local n="$1" i p pgc extdir
	shift
	CLUSTER_DIR="$(mktemp -d /tmp/clm-citus.XXXXXX)"
	chmod 755 "$CLUSTER_DIR"
	NODES=() PORTS=()
	trap cluster_stop EXIT
	trap 'exit 130' INT TERM
	NODES+=("$CLUSTER_DIR/coord")
	for ((i = 1; i < n; i++)); do NODES+=("$CLUSTER_DIR/worker$i"); done
	pgc="$(bash "$REPO/test/pgenv.sh" setup "${NODES[0]}" "$PG_CONFIG")" ||
		{ echo "cannot copy the installation of $PG_CONFIG"; return 1; }
	extdir="$("$pgc" --sharedir)/extension"
	[ -f "$extdir/clm.control" ] || { echo "clm is not installed in the installation of $PG_CONFIG"; return 1; }
	cp -a "$KEY/lib/." "$("$pgc" --pkglibdir)/" && cp -a "$KEY/extension/." "$extdir/" ||
		{ echo "cannot add Citus to the private installation"; return 1; }
	chmod -R a+rX "$CLUSTER_DIR"
	for ((i = 1; i < n; i++)); do mkdir -p "${NODES[$i]}" && ln -s "${NODES[0]}/inst" "${NODES[$i]}/inst"; done
	ZONES=("$@")
	# ports: n free ones in the range, from a place that depends on this
	# process; chosen and taken under a lock (two runs never pick the same
	# ports), and chosen again if a server cannot start on its port
	local try lo="${CLM_CITUS_PORT:-55480}" span="${CLM_CITUS_PORTS:-40}"
	exec 8>"${TMPDIR:-/tmp}/clm-citus-ports.lock"
	flock 8
	for try in 1 2 3 4 5; do
		PORTS=()
		p=$((lo + ($$ + try * 7) % span))
		for ((i = 0; i < span && ${#PORTS[@]} < n; i++)); do
			port_free "$p" && PORTS+=("$p")
			p=$((p + 1))
			[ "$p" -lt $((lo + span)) ] || p="$lo"
		done
		[ ${#PORTS[@]} -eq "$n" ] || { flock -u 8; echo "no $n free ports in $lo-$((lo + span - 1))"; return 1; }
		nodes_start "$n" && break
		cluster_halt
		PORTS=()
	done
	flock -u 8
	[ ${#PORTS[@]} -eq "$n" ] || { echo "cannot start the nodes (5 tries)"; return 1; }
	export PGUSER=postgres PGDATABASE=postgres
	unset PGPASSWORD PGSERVICE PGOPTIONS PGSSLMODE
	for ((i = 0; i < n; i++)); do
		nodesql "$i" -c "CREATE EXTENSION citus" >/dev/null ||
			{ echo "CREATE EXTENSION citus failed on node $i"; return 1; }
	done
	{
		echo "SELECT citus_set_coordinator_host('localhost', ${PORTS[0]});"
		for ((i = 1; i < n; i++)); do echo "SELECT citus_add_node('localhost', ${PORTS[$i]});"; done
		echo "CREATE EXTENSION clm;"
	} | nodesql 0 >/dev/null || { echo "cannot form the cluster"; return 1; }
	echo "==> Citus $CITUS_VERSION: coordinator on port ${PORTS[0]}, workers on ${PORTS[*]:1} (in $CLUSTER_DIR)"
}

# psql on node I
nodesql() {
	local i="$1"
	shift
	psql -X -q -At -v ON_ERROR_STOP=1 -h localhost -p "${PORTS[$i]}" "$@"
}

# value SQL...: the statements in one coordinator session, what they return
value() {
	local args=(-c "SET TimeZone = '${TZ_SESSION:-UTC}'") q
	for q in "$@"; do args+=(-c "$q"); done
	nodesql 0 "${args[@]}"
}
