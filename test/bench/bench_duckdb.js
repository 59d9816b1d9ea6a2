// bench_duckdb.js -- the DuckDB side of test/bench/bench_duckdb.sh.
//
// Usage: node bench_duckdb.js MODULES_DIR CSV_FILE QUERY_FILE THREADS TIMEZONE
//   MODULES_DIR  a node_modules directory holding @duckdb/node-api
//   CSV_FILE     the events exported by PostgreSQL (COPY ... CSV HEADER)
//   QUERY_FILE   blocks "-- @@Q name" followed by one SQL statement each (the
//                queries) and blocks "-- @@K name" followed by one SELECT of
//                one row of numbers each (the checksums of the results)
//   THREADS      DuckDB worker threads
//   TIMEZONE     the session time zone (the one PostgreSQL used)
// Runs the queries twice over the same events, in the same process:
//   tz: the events loaded with the PostgreSQL table's types (occurred_at
//       TIMESTAMPTZ) and the queries unchanged: every time stamp goes through
//       DuckDB's time zone code (ICU), which is slow;
//   ts: the same events with occurred_at TIMESTAMP (the TIMESTAMPTZ column
//       cast in the session time zone) and the queries with "::timestamptz"
//       read as "::timestamp": no time zone anywhere, DuckDB at its fastest.
//       With the session time zone UTC (the bench's), both give the same
//       results.
// Prints "@@D name milliseconds cpu_milliseconds" (wall clock, then the
// process's CPU time, user + system, over all its threads) and "@@R name
// rows" for each query (names prefixed "ts_" in the second run; the load
// of the CSV is "load", the cast to TIMESTAMP "ts_load"), and
// "@@K variant name v1 v2 ..." for each checksum.
'use strict';

const path = require('path');
const fs = require('fs');

async function main() {
	const [modules, csv, queryFile, threads, timezone] = process.argv.slice(2);
	if (!timezone) {
		console.error('usage: node bench_duckdb.js MODULES_DIR CSV_FILE QUERY_FILE THREADS TIMEZONE');
		process.exit(2);
	}
	const { DuckDBInstance } = require(path.join(modules, '@duckdb', 'node-api'));
	const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
	const con = await instance.connect();
	const version = await con.runAndReadAll('SELECT version()');
	console.log(`@@V ${version.getRows()[0][0]}`);
	await con.run(`SET TimeZone = '${timezone.replace(/'/g, "''")}'`);

	const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
	const timed = async (name, sql) => {
		const t0 = performance.now();
		const c0 = cpu();
		await con.run(sql);
		console.log(`@@D ${name} ${(performance.now() - t0).toFixed(1)} ${(cpu() - c0).toFixed(1)}`);
	};
	const count = async (name, table) => {
		const r = await con.runAndReadAll(`SELECT count(*) FROM ${table}`);
		console.log(`@@R ${name} ${r.getRows()[0][0]}`);
	};

	const blocks = fs.readFileSync(queryFile, 'utf8').split(/^-- @@/m).slice(1).map((b) => {
		const nl = b.indexOf('\n');
		const [kind, name] = b.slice(0, nl).trim().split(/\s+/);
		return { kind, name, sql: b.slice(nl + 1) };
	});
	const run = async (variant, prefix, rewrite) => {
		const tables = [];
		for (const q of blocks.filter((b) => b.kind === 'Q')) {
			const sql = rewrite(q.sql);
			const table = /CREATE\s+TEMP\s+TABLE\s+(\w+)/i.exec(sql);
			await timed(prefix + q.name, sql);
			if (table) {
				await count(prefix + q.name, table[1]);
				tables.push(table[1]);
			}
		}
		for (const k of blocks.filter((b) => b.kind === 'K')) {
			const r = await con.runAndReadAll(k.sql);
			console.log(`@@K ${variant} ${k.name} ${r.getRows()[0].map((v) => (v === null ? 'null' : String(v))).join(' ')}`);
		}
		for (const t of tables)
			await con.run(`DROP TABLE ${t}`);
	};

	// tz: the same columns and types as the PostgreSQL table
	await con.run(`CREATE TABLE events (customer_id BIGINT, occurred_at TIMESTAMPTZ,
		event_type VARCHAR, amount DECIMAL(18, 4), channel VARCHAR)`);
	await timed('load', `INSERT INTO events SELECT * FROM read_csv('${csv.replace(/'/g, "''")}',
		header = true, auto_detect = false,
		columns = {'customer_id': 'BIGINT', 'occurred_at': 'TIMESTAMPTZ', 'event_type': 'VARCHAR',
		           'amount': 'DECIMAL(18, 4)', 'channel': 'VARCHAR'})`);
	await count('load', 'events');
	await run('tz', '', (sql) => sql);

	// ts: occurred_at as TIMESTAMP (in the session time zone), no time zone
	// in the queries either
	await timed('ts_load', `CREATE TABLE events_ts AS
		SELECT customer_id, occurred_at::TIMESTAMP AS occurred_at, event_type, amount, channel
		FROM events`);
	await con.run('DROP TABLE events');
	await con.run('ALTER TABLE events_ts RENAME TO events');
	await count('ts_load', 'events');
	await run('ts', 'ts_', (sql) => sql.replace(/::timestamptz\b/gi, '::timestamp'));

	con.closeSync();
	instance.closeSync();
}

main().catch((e) => { console.error(`bench_duckdb.js: ${e.message}`); process.exit(1); });
