// Runs the benchmarks and prints their figures with the machine they ran on. Never part of `npm test`.
//   npm run bench                      all benchmarks
//   npm run bench -- sm2 batch-signer  only those named (gateway, exchange, licence-verify, licence-conversion, sm2, batch-signer, decide, blind-index)
//   ZT_BENCH_SECONDS=20 npm run bench  longer runs (default 10 s per gateway run, 3 s per crypto loop)
//   ZT_BENCH_CONNECTIONS=64            connections at peak (default 10 for gateway, 32 for exchange and licence-verify)
//   ZT_BENCH_DATABASE_URL=postgres://…  also measure the gateway, the exchange and licence verification on PostgreSQL
//   ZT_BENCH_PROFILE_DIR=/tmp/prof     write a CPU profile of each gateway process started by exchange and licence-verify
// exchange (HTTP and gRPC, against baselines A and B measured in the same run; PostgreSQL, and baseline C, with ZT_BENCH_DATABASE_URL):
//   ZT_BENCH_EXCHANGE_RATE=400         the gateway's fixed-rate run at this rate (default: half of its peak), to compare
//                                      builds by CPU per exchange
//   ZT_BENCH_WORKERS=2 ZT_BENCH_KAFKA_BROKERS=127.0.0.1:9092  also PostgreSQL + Kafka on one and on two gateway processes
//   ZT_BENCH_SOAK_SECONDS=600          also run the PostgreSQL exchange at half of its peak this long, memory each minute
// licence-verify:
//   ZT_BENCH_FIXED_RATE=5000           the fixed-rate run at this rate (default: half of the peak)
//   ZT_BENCH_COLD_LICENCES=5000        licences issued for the cold-cache run (default 5,000; 0 skips it)
// others:
//   ZT_BENCH_CONVERSION_ROWS=100000    rows converted by licence-conversion (default 20,000; ZT_BENCH_CONVERSION_BATCH,
//                                      _WINDOW, and _PGLITE=0 to convert on PostgreSQL only)
//   npm run bench -- audit-search      search latency on 1,000,000 access records (needs ZT_BENCH_DATABASE_URL; ZT_BENCH_AUDIT_ROWS, ZT_BENCH_AUDIT_REQUESTS)
//   npm run bench -- intake-prefill    prefill latency with the demo data (ZT_BENCH_PREFILLS, default 300; PostgreSQL too with ZT_BENCH_DATABASE_URL)
//   npm run bench -- audit-log         sequencing, proofs and verify of the tamper-evident log on 1,000,000 records (needs ZT_BENCH_DATABASE_URL; ZT_BENCH_AUDIT_LOG_ROWS)
//   ZT_BENCH_KEEP=1                    audit-search and audit-log keep their schema
import { benchAuditSearch, printAuditSearch } from './audit-search.bench.js';
import { benchAuditLog, printAuditLog } from './audit-log.bench.js';
import { benchIntakePrefill, printIntakePrefill } from './intake-prefill.bench.js';
import { benchBatchSigner, printBatchSigner } from './batch-signer.bench.js';
import { benchDecide, printDecide } from './decide.bench.js';
import { benchExchange, printExchange, type ExchangeBenchOptions } from './exchange.bench.js';
import { benchLicenceVerify, printLicenceVerify } from './licence-verify.bench.js';
import { benchLicenceConversion, printLicenceConversion } from './licence-conversion.bench.js';
import { benchGatewayRead } from './gateway-read.bench.js';
import { describeMachine } from './machine.js';
import { benchSm2, printSm2 } from './sm2.bench.js';
import { benchBlindIndex, printBlindIndex } from './blind-index.bench.js';

const benchmarks = ['audit-search', 'audit-log', 'intake-prefill', 'gateway', 'exchange', 'licence-verify', 'licence-conversion', 'sm2', 'batch-signer', 'decide', 'blind-index'];
const selected = process.argv.slice(2);
for (const name of selected) {
  if (!benchmarks.includes(name)) {
    process.stderr.write(`unknown benchmark ${JSON.stringify(name)}; choose from ${benchmarks.join(', ')}\n`);
    process.exit(2);
  }
}
// The access-log benchmarks load a million records each: only when asked for by name.
const ON_REQUEST = new Set(['audit-search', 'audit-log']);
const wanted = (name: string) => (selected.length === 0 && !ON_REQUEST.has(name)) || selected.includes(name);

const seconds = Number(process.env.ZT_BENCH_SECONDS ?? 10);
const cryptoSeconds = Number(process.env.ZT_BENCH_SECONDS ?? 3);
const connections = Number(process.env.ZT_BENCH_CONNECTIONS ?? 10);

process.stdout.write(`machine: ${describeMachine()}\n`);
if (wanted('gateway')) {
  process.stdout.write(`gateway read path: ${seconds} s per run, ${connections} connections, autocannon in a separate process from each server\n`);
  const results = await benchGatewayRead(seconds, connections, process.env.ZT_BENCH_DATABASE_URL || undefined);
  const baseline = results[0]!;
  for (const r of results) {
    const share = ((r.requestsPerSecond / baseline.requestsPerSecond) * 100).toFixed(0);
    process.stdout.write(
      `  ${r.name.padEnd(50)} ${r.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  (${share} % of baseline; errors ${r.errors}, non-2xx ${r.non2xx})\n`,
    );
  }
}
if (wanted('exchange')) {
  const options: ExchangeBenchOptions = {
    seconds,
    connections: Number(process.env.ZT_BENCH_CONNECTIONS ?? 32),
    workers: Number(process.env.ZT_BENCH_WORKERS ?? 1),
    soakSeconds: Number(process.env.ZT_BENCH_SOAK_SECONDS ?? 0),
    baselineLatency: true,
    ...(process.env.ZT_BENCH_EXCHANGE_RATE ? { fixedRate: Number(process.env.ZT_BENCH_EXCHANGE_RATE) } : {}),
    ...(process.env.ZT_BENCH_DATABASE_URL ? { databaseUrl: process.env.ZT_BENCH_DATABASE_URL } : {}),
    ...(process.env.ZT_BENCH_KAFKA_BROKERS ? { kafkaBrokers: process.env.ZT_BENCH_KAFKA_BROKERS } : {}),
  };
  printExchange(await benchExchange(options));
}
if (wanted('licence-verify')) {
  const options = {
    seconds,
    connections: Number(process.env.ZT_BENCH_CONNECTIONS ?? 32),
    ...(process.env.ZT_BENCH_FIXED_RATE ? { fixedRate: Number(process.env.ZT_BENCH_FIXED_RATE) } : {}),
    coldLicences: Number(process.env.ZT_BENCH_COLD_LICENCES ?? 5000),
    ...(process.env.ZT_BENCH_DATABASE_URL ? { databaseUrl: process.env.ZT_BENCH_DATABASE_URL } : {}),
  };
  printLicenceVerify(await benchLicenceVerify(options), seconds);
}
if (wanted('licence-conversion')) printLicenceConversion(await benchLicenceConversion(Number(process.env.ZT_BENCH_CONVERSION_ROWS ?? 20000)));
if (wanted('sm2')) printSm2(await benchSm2(cryptoSeconds), cryptoSeconds);
if (wanted('batch-signer')) printBatchSigner(await benchBatchSigner(cryptoSeconds), cryptoSeconds);
if (wanted('decide')) printDecide(await benchDecide(cryptoSeconds), cryptoSeconds);
if (wanted('audit-search')) {
  const url = process.env.ZT_BENCH_DATABASE_URL || process.env.DATABASE_URL;
  if (!url) process.stdout.write('access-log search: skipped (loads 1,000,000 records into PostgreSQL: set ZT_BENCH_DATABASE_URL)\n');
  else printAuditSearch(await benchAuditSearch(url, Number(process.env.ZT_BENCH_AUDIT_ROWS ?? 1_000_000), Number(process.env.ZT_BENCH_AUDIT_REQUESTS ?? 100)));
}
if (wanted('audit-log')) {
  const url = process.env.ZT_BENCH_DATABASE_URL || process.env.DATABASE_URL;
  if (!url) process.stdout.write('tamper-evident log: skipped (loads 1,000,000 records into PostgreSQL: set ZT_BENCH_DATABASE_URL)\n');
  else printAuditLog(await benchAuditLog(url, Number(process.env.ZT_BENCH_AUDIT_LOG_ROWS ?? 1_000_000)));
}
if (wanted('intake-prefill')) {
  const count = Number(process.env.ZT_BENCH_PREFILLS ?? 300);
  printIntakePrefill(await benchIntakePrefill(count));
  const url = process.env.ZT_BENCH_DATABASE_URL;
  if (url) printIntakePrefill(await benchIntakePrefill(count, url));
}
if (wanted('blind-index')) printBlindIndex(benchBlindIndex(cryptoSeconds));
