// Runs the benchmarks and prints their figures with the machine they ran on. Never part of `npm test`.
//   npm run bench                      all benchmarks
//   ZT_BENCH_SECONDS=20 npm run bench  longer runs
//   ZT_BENCH_DATABASE_URL=postgres://…  also measure the gateway on PostgreSQL
import { benchGatewayRead } from './gateway-read.bench.js';
import { describeMachine } from './machine.js';

const seconds = Number(process.env.ZT_BENCH_SECONDS ?? 10);
const connections = Number(process.env.ZT_BENCH_CONNECTIONS ?? 10);

process.stdout.write(`machine: ${describeMachine()}\n`);
process.stdout.write(`gateway read path: ${seconds} s per run, ${connections} connections, autocannon in a separate process from each server\n`);
const results = await benchGatewayRead(seconds, connections, process.env.ZT_BENCH_DATABASE_URL || undefined);
const baseline = results[0]!;
for (const r of results) {
  const share = ((r.requestsPerSecond / baseline.requestsPerSecond) * 100).toFixed(0);
  process.stdout.write(
    `  ${r.name.padEnd(50)} ${r.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  (${share} % of baseline; errors ${r.errors}, non-2xx ${r.non2xx})\n`,
  );
}
