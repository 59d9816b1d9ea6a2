// bench_duckdb.js -- the DuckDB side of test/bench/bench_duckdb.sh.
//
// Usage: node bench_duckdb.js MODULES_DIR CSV_FILE QUERY_FILE THREADS TIMEZONE
//   MODULES_DIR  a node_modules directory holding @duckdb/node-api
//   CSV_FILE     the events exported by PostgreSQL (COPY ... CSV HEADER)
//   QUERY_FILE   blocks "-- @@Q name" followed by one SQL statement each
//   THREADS      DuckDB worker threads
//   TIMEZONE     the session time zone (the one PostgreSQL used)
// Loads the CSV into an in-memory table events, then runs every block once
// and prints "@@D name milliseconds cpu_milliseconds" (wall clock, then the
// process's CPU time, user + system, over all its threads) and "@@R name
// rows" for each; the load is reported as block "load".
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

	// the same columns and types as the PostgreSQL table
	await con.run(`CREATE TABLE events (customer_id BIGINT, occurred_at TIMESTAMPTZ,
		event_type VARCHAR, amount DECIMAL(18, 4), channel VARCHAR)`);
	const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
	const report = (name, t0, c0) =>
		console.log(`@@D ${name} ${(performance.now() - t0).toFixed(1)} ${(cpu() - c0).toFixed(1)}`);
	let t0 = performance.now();
	let c0 = cpu();
	await con.run(`INSERT INTO events SELECT * FROM read_csv('${csv.replace(/'/g, "''")}',
		header = true, auto_detect = false,
		columns = {'customer_id': 'BIGINT', 'occurred_at': 'TIMESTAMPTZ', 'event_type': 'VARCHAR',
		           'amount': 'DECIMAL(18, 4)', 'channel': 'VARCHAR'})`);
	report('load', t0, c0);
	const n = await con.runAndReadAll('SELECT count(*) FROM events');
	console.log(`@@R load ${n.getRows()[0][0]}`);

	const text = fs.readFileSync(queryFile, 'utf8');
	const blocks = text.split(/^-- @@Q /m).slice(1);
	for (const block of blocks) {
		const nl = block.indexOf('\n');
		const name = block.slice(0, nl).trim();
		const sql = block.slice(nl + 1);
		const table = /CREATE\s+TEMP\s+TABLE\s+(\w+)/i.exec(sql);
		t0 = performance.now();
		c0 = cpu();
		await con.run(sql);
		report(name, t0, c0);
		if (table) {
			const r = await con.runAndReadAll(`SELECT count(*) FROM ${table[1]}`);
			console.log(`@@R ${name} ${r.getRows()[0][0]}`);
		}
	}
	con.closeSync();
	instance.closeSync();
}

main().catch((e) => { console.error(`bench_duckdb.js: ${e.message}`); process.exit(1); });
