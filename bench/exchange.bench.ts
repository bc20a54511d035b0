// The exchange's hot path end to end: signed POST /v1/exchange/query through the real gateway (signature, certificate,
// nonce, grant, negative list, table connector, masking, batch-signed answer, group-committed access record), driven by
// autocannon with requests signed by the client SDK's signing function beforehand (a fresh nonce each), next to the
// raw SM2 verify rate measured in the same run. The gateway runs in its own process on the embedded PGlite or on
// PostgreSQL (ZT_BENCH_DATABASE_URL).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort, removeServerData, stop, waitForHttp } from './process.js';
import { DepartmentKey, encodeQueryJson, signHttpRequest } from '../client/index.js';
import { generateSm2KeyPair, sm2Sign, sm2Verify } from '../certs/sm2/sm2.js';
import { packageRoot } from '../core/paths.js';
import { DEMO_SUBJECTS } from '../exchange/datasets/index.js';
import { demoKeyFiles } from '../demo/index.js';

const YS = '112101000010000537';

export interface ExchangeBenchResult {
  backend: string;
  verifyPerSecondOneCore: number;
  peak: { requestsPerSecond: number; p50: number; p99: number; non2xx: number; errors: number; connections: number };
  half: { rate: number; requestsPerSecond: number; p50: number; p99: number; non2xx: number };
}

/** SM2 verifications per second on this thread (one core), over 64-byte messages. */
function verifyRate(seconds: number): number {
  const { privateKey, publicKey } = generateSm2KeyPair();
  const message = Buffer.alloc(200, 7);
  const signature = sm2Sign(privateKey, message);
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) sm2Verify(publicKey, message, signature);
    n += 50;
  }
  return n / seconds;
}

interface Presigned {
  body: string;
  headers: Record<string, string>;
}

async function presign(dataDir: string, count: number): Promise<Presigned[]> {
  const files = demoKeyFiles(dataDir, YS);
  const signer = DepartmentKey.fromFiles(files.key, files.certificate);
  const body = encodeQueryJson(
    {
      resource: '210100-GA-0001',
      items: ['name', 'idNumber', 'address'],
      subject: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber },
      purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: 'BENCH-000001' },
    },
    YS,
  );
  const out: Presigned[] = [];
  for (let i = 0; i < count; i++) {
    const signed = await signHttpRequest({ body, signer });
    out.push({ body: body.toString('utf8'), headers: { 'content-type': 'application/json', ...signed.headers } });
  }
  return out;
}

async function drive(url: string, requests: Presigned[], seconds: number, connections: number, overallRate?: number) {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const r = requests[next++ % requests.length]!;
          return { ...request, body: r.body, headers: r.headers };
        },
      },
    ],
  });
  if (next > requests.length) process.stderr.write(`  (the run used ${next} requests, more than the ${requests.length} signed: later ones were replays)\n`);
  return result;
}

export async function benchExchange(seconds: number, connections: number, databaseUrl?: string): Promise<ExchangeBenchResult[]> {
  const root = packageRoot();
  const verifyPerSecondOneCore = verifyRate(3);
  const results: ExchangeBenchResult[] = [];
  const backends: [string, Record<string, string>][] = [['PGlite', { DATABASE_URL: '' }]];
  if (databaseUrl) backends.push(['PostgreSQL', { DATABASE_URL: databaseUrl, ZT_DATABASE_SCHEMA: `zt_bench_x_${process.pid}` }]);
  // ZT_BENCH_WORKERS=2 with ZT_BENCH_KAFKA_BROKERS: the same on several gateway processes (serve with ZT_WORKERS).
  const workers = Number(process.env.ZT_BENCH_WORKERS ?? 1);
  const kafka = process.env.ZT_BENCH_KAFKA_BROKERS;
  if (databaseUrl && workers > 1 && kafka) {
    backends.push([
      `PostgreSQL + Kafka, ${workers} worker processes`,
      { DATABASE_URL: databaseUrl, ZT_DATABASE_SCHEMA: `zt_bench_w_${process.pid}`, KAFKA_BROKERS: kafka, ZT_KAFKA_TOPIC_PREFIX: `zt-bench-${process.pid}.`, ZT_WORKERS: String(workers) },
    ]);
  }
  for (const [label, env] of backends) {
    const dataDir = mkdtempSync(join(tmpdir(), 'zt-bench-x-'));
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    // ZT_BENCH_PROFILE_DIR: write a CPU profile of each gateway process there (open it in Chrome's DevTools).
    const profile = process.env.ZT_BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.ZT_BENCH_PROFILE_DIR}`] : [];
    const gateway = spawn(process.execPath, [...profile, join(root, 'bin/zhengtong.js'), 'serve'], {
      env: { ...process.env, ZT_DATA_DIR: dataDir, ZT_HTTP_PORT: String(httpPort), ZT_GRPC_PORT: String(grpcPort), ZT_LOG_LEVEL: 'warn', KAFKA_BROKERS: '', ZT_WORKERS: '1', ...env },
      stdio: 'ignore',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${httpPort}/healthz`, gateway, 120_000);
      const url = `http://127.0.0.1:${httpPort}/v1/exchange/query`;
      // Enough distinct signed requests for the whole run (every nonce is used once).
      const requests = await presign(dataDir, Math.max(2000, Math.round(seconds * 2.5 * verifyPerSecondOneCore)));
      let offset = 0;
      const slice = (n: number) => {
        const s = requests.slice(offset, offset + n);
        offset += n;
        return s;
      };
      const third = Math.floor(requests.length / 3);
      await drive(url, slice(Math.min(3000, third)), 2, connections); // warm-up: opens the signer, fills caches
      const peak = await drive(url, slice(third), seconds, connections);
      const rate = Math.max(1, Math.round(peak.requests.average / 2));
      const half = await drive(url, slice(requests.length - offset), seconds, Math.min(connections, 16), rate);
      results.push({
        backend: label,
        verifyPerSecondOneCore,
        peak: { requestsPerSecond: peak.requests.average, p50: peak.latency.p50, p99: peak.latency.p99, non2xx: peak.non2xx, errors: peak.errors, connections },
        half: { rate, requestsPerSecond: half.requests.average, p50: half.latency.p50, p99: half.latency.p99, non2xx: half.non2xx },
      });
    } finally {
      await stop(gateway);
      await removeServerData(dataDir, databaseUrl, env.ZT_DATABASE_SCHEMA);
    }
  }
  return results;
}

export function printExchange(results: ExchangeBenchResult[], seconds: number): void {
  for (const r of results) {
    const bound = 2 * r.verifyPerSecondOneCore;
    process.stdout.write(
      `exchange query (${r.backend}), ${seconds} s per run:\n` +
        `  SM2 verify, one core, same run       ${r.verifyPerSecondOneCore.toFixed(0).padStart(7)} /s  (bound for one verify per request on 2 cores: ${bound.toFixed(0)} /s)\n` +
        `  peak, ${String(r.peak.connections).padStart(3)} connections            ${r.peak.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${r.peak.p50} ms  p99 ${r.peak.p99} ms  (${((r.peak.requestsPerSecond / bound) * 100).toFixed(0)} % of the bound; non-2xx ${r.peak.non2xx}, errors ${r.peak.errors})\n` +
        `  at half of peak (${r.half.rate} req/s)      ${r.half.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${r.half.p50} ms  p99 ${r.half.p99} ms  (non-2xx ${r.half.non2xx})\n`,
    );
  }
}
