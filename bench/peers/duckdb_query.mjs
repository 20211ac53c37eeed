// DuckDB peer for scripts/bench: the same questions asked in SQL.
//
// Reads every line of FILE with read_json (newline-delimited; only the columns
// needed, as VARCHAR because duration may be a JSON string or number), then
// prints the distinct trace count and per-host span count / p50 / p99 of
// duration (quantile_disc). Output (same shape as py_summary.py):
//     spans=N traces=T hosts=H rejected=R
//     host<TAB>count<TAB>p50<TAB>p99        (one line per host, sorted by host)
// Usage: node duckdb_query.mjs FILE
// @duckdb/node-api is looked up in $BENCH_PEERS_DIR (default: .cache/bench-peers
// next to this repository's bench/), where scripts/bench installs it.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

const file = process.argv[2];
if (!file || process.argv.length !== 3) {
  console.error('usage: node duckdb_query.mjs FILE');
  process.exit(2);
}
if (!fs.existsSync(file)) {
  console.error(`duckdb_query: ${file}: no such file`);
  process.exit(2);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const peersDir = process.env.BENCH_PEERS_DIR ?? path.resolve(here, '../../.cache/bench-peers');
const require = createRequire(path.join(peersDir, 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

// ignore_errors: a malformed line becomes NULLs instead of aborting the query;
// maximum_object_size: generated fan-out roots are far above the 16 MB default.
const source = `read_json(${sqlString(file)},
    format = 'newline_delimited',
    columns = {traceId: 'VARCHAR', host: 'VARCHAR', duration: 'VARCHAR'},
    ignore_errors = true,
    maximum_object_size = 1073741824)`;

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
// One scan of the file; both answers come from the materialised columns.
await con.run(`CREATE TEMP TABLE spans AS
  SELECT traceId, host, TRY_CAST(duration AS DOUBLE) AS d FROM ${source}`);
const totals = (await con.runAndReadAll(`SELECT
    count(traceId) AS spans,
    count(DISTINCT traceId) AS traces,
    count(DISTINCT host) AS hosts,
    count(*) - count(traceId) AS rejected
  FROM spans`)).getRowObjectsJS()[0];
const hosts = (await con.runAndReadAll(`SELECT coalesce(host, '') AS host, count(*) AS n,
    quantile_disc(d, 0.5) AS p50, quantile_disc(d, 0.99) AS p99
  FROM spans WHERE traceId IS NOT NULL GROUP BY ALL ORDER BY host`)).getRowsJS();

const out = [`spans=${totals.spans} traces=${totals.traces} hosts=${totals.hosts} rejected=${totals.rejected}`];
for (const [host, n, p50, p99] of hosts) out.push(`${host}\t${n}\t${p50}\t${p99}`);
process.stdout.write(out.join('\n') + '\n');
