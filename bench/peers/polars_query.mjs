// Polars peer for scripts/bench: the DuckDB peer's questions asked of
// nodejs-polars (pinned to 0.25.2 by scripts/bench).
//
// Scans every line of FILE with scanJson (newline-delimited JSON; only the
// columns needed, as strings because duration may be a JSON string or
// number; a value that does not fit the schema gives a null, but a line that
// is not JSON at all stops the scan with an error: the bench's generated
// inputs have none), collects
// with collectSync(), then prints the distinct trace count and per-host span
// count / p50 / p99 of duration. The percentiles are nearest-rank (the
// ceil(q*n)-th smallest), as the DuckDB peer's quantile_disc and the Python
// peer compute them, so the three outputs can be compared byte for byte.
// Output (same shape as duckdb_query.mjs and py_summary.py):
//     spans=N traces=T hosts=H rejected=R
//     host<TAB>count<TAB>p50<TAB>p99        (one line per host, sorted by host)
// Usage: node polars_query.mjs FILE
// nodejs-polars is looked up in $BENCH_PEERS_DIR (default: .cache/bench-peers
// next to this repository's bench/), where scripts/bench installs it.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

const file = process.argv[2];
if (!file || process.argv.length !== 3) {
  console.error('usage: node polars_query.mjs FILE');
  process.exit(2);
}
if (!fs.existsSync(file)) {
  console.error(`polars_query: ${file}: no such file`);
  process.exit(2);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const peersDir = process.env.BENCH_PEERS_DIR ?? path.resolve(here, '../../.cache/bench-peers');
const require = createRequire(path.join(peersDir, 'package.json'));
const pl = require('nodejs-polars');

// One scan of the file; both answers come from the collected columns.
const spans = pl
  .scanJson(file, {
    schema: { traceId: pl.Utf8, host: pl.Utf8, duration: pl.Utf8 },
    ignoreErrors: true,
  })
  .select(pl.col('traceId'), pl.col('host'), pl.col('duration').cast(pl.Float64, false).alias('d'))
  .collectSync();

const totals = spans
  .select(
    pl.col('traceId').count().alias('spans'),
    pl.col('traceId').dropNulls().nUnique().alias('traces'),
    pl.col('host').dropNulls().nUnique().alias('hosts'),
    pl.col('traceId').isNull().sum().alias('rejected'),
  )
  .toRecords()[0];

// Nearest rank: the value at 0-based index ceil(q*n) - 1 of the sorted values.
const nearestRank = (q) =>
  pl.col('d').sort().gather(pl.col('d').count().mul(q).ceil().sub(1).cast(pl.UInt32));
const hosts = spans
  .filter(pl.col('traceId').isNotNull())
  .withColumns(pl.col('host').fillNull(''))
  .groupBy('host')
  .agg(pl.col('d').count().alias('n'), nearestRank(0.5).first().alias('p50'), nearestRank(0.99).first().alias('p99'))
  .sort('host')
  .toRecords();

const num = (v) => (v === null || v === undefined ? 'NULL' : String(v));
const out = [`spans=${totals.spans} traces=${totals.traces} hosts=${totals.hosts} rejected=${totals.rejected}`];
for (const { host, n, p50, p99 } of hosts) out.push(`${host}\t${n}\t${num(p50)}\t${num(p99)}`);
process.stdout.write(out.join('\n') + '\n');
