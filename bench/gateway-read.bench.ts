// End-to-end read path: GET /v1/departments/:uscc through the real gateway (schema validation, database read on the
// embedded PGlite, metrics), against a bare fastify baseline measured in the same run. Each server runs in its own
// process; autocannon drives it from this one.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort, removeServerData, stop, waitForHttp } from './process.js';
import { packageRoot } from '../core/paths.js';

export interface LoadResult {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(name: string, url: string, seconds: number, connections: number): Promise<LoadResult> {
  await autocannon({ url, connections, duration: 2 }); // warm-up, not counted
  const r = await autocannon({ url, connections, duration: seconds });
  return { name, requestsPerSecond: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

/** With databaseUrl, the gateway is measured on PostgreSQL too (in a schema of its own, dropped afterwards). */
export async function benchGatewayRead(seconds: number, connections: number, databaseUrl?: string): Promise<LoadResult[]> {
  const root = packageRoot();
  const uscc = '11210100001000029N';
  const results: LoadResult[] = [];

  const basePort = await freePort();
  const baseline = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/baseline-server.ts')], { env: { ...process.env, PORT: String(basePort) }, stdio: 'ignore' });
  try {
    await waitForHttp(`http://127.0.0.1:${basePort}/v1/departments/${uscc}`, baseline, 30000);
    results.push(await load('baseline: bare fastify, constant JSON', `http://127.0.0.1:${basePort}/v1/departments/${uscc}`, seconds, connections));
  } finally {
    await stop(baseline);
  }

  const backends: [string, Record<string, string>][] = [['PGlite', { DATABASE_URL: '' }]];
  if (databaseUrl) backends.push(['PostgreSQL', { DATABASE_URL: databaseUrl, ZT_DATABASE_SCHEMA: `zt_bench_${process.pid}` }]);
  for (const [label, env] of backends) {
    const dataDir = mkdtempSync(join(tmpdir(), 'zt-bench-'));
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const gateway = spawn(process.execPath, [join(root, 'bin/zhengtong.js'), 'serve'], {
      env: { ...process.env, ZT_DATA_DIR: dataDir, ZT_HTTP_PORT: String(httpPort), ZT_GRPC_PORT: String(grpcPort), ZT_LOG_LEVEL: 'warn', KAFKA_BROKERS: '', ...env },
      stdio: 'ignore',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${httpPort}/v1/departments/${uscc}`, gateway, 60000);
      results.push(await load(`zhengtong: GET /v1/departments/:uscc (${label})`, `http://127.0.0.1:${httpPort}/v1/departments/${uscc}`, seconds, connections));
    } finally {
      await stop(gateway);
      await removeServerData(dataDir, databaseUrl, env.ZT_DATABASE_SCHEMA);
    }
  }
  return results;
}
