// Prefill latency with the demo data: a gateway on the demo (PGlite, or PostgreSQL with ZT_BENCH_DATABASE_URL), the
// intake department's system asking for prefills through the SDK over HTTP, each for a new case, one at a time and
// then 8 at once. Each restaurant prefill is one signed request, one exchange read (enterprise registration) and two
// licence checks, three access records, and a signed answer checked by the client against the platform CA. The
// baseline in the same run: one signed exchange query through the SDK, the unit a prefill is made of.
//   npm run bench -- intake-prefill        (ZT_BENCH_PREFILLS, default 300 sequential)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DepartmentKey } from '../client/department-key.js';
import { ExchangeClient } from '../client/exchange-client.js';
import { IntakeClient } from '../client/intake-client.js';
import { loadConfig } from '../core/config/index.js';
import { createLogger } from '../core/logging/index.js';
import { PgDatabase } from '../core/storage/index.js';
import { DEMO_SUBJECTS } from '../exchange/datasets/index.js';
import { buildApp } from '../gateway/app.js';
import { demoKeyFiles } from '../demo/index.js';
import { describeMachine } from './machine.js';

const BUSINESS_ENVIRONMENT = '112101000010000537';
const CIVIL_AFFAIRS = '11210100001000045C';

export interface LatencyFigure {
  what: string;
  count: number;
  concurrency: number;
  p50: number;
  p99: number;
  perSecond: number;
}

export interface IntakePrefillResult {
  machine: string;
  backend: string;
  figures: LatencyFigure[];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function measure(what: string, count: number, concurrency: number, call: (i: number) => Promise<unknown>): Promise<LatencyFigure> {
  const times: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t = performance.now();
        await call(i);
        times.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return { what, count, concurrency, p50: percentile(times, 50), p99: percentile(times, 99), perSecond: count / seconds };
}

export async function benchIntakePrefill(count: number, databaseUrl?: string): Promise<IntakePrefillResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'zt-bench-intake-'));
  const schema = databaseUrl ? `zt_bench_intake_${Date.now().toString(36)}` : undefined;
  const config = loadConfig({
    env: {},
    overrides: { httpPort: 0, grpcPort: 0, dataDir, caDir: join(dataDir, 'ca'), logLevel: 'silent', ...(databaseUrl ? { databaseUrl, databaseSchema: schema } : {}) },
  });
  const app = await buildApp(config, { logger: createLogger({ level: 'silent', instanceId: 'bench' }), seedDemo: true });
  const figures: LatencyFigure[] = [];
  try {
    const { httpUrl } = await app.listen();
    const trust = { root: readFileSync(join(config.caDir, 'root-ca.cert.pem')), issuing: readFileSync(join(config.caDir, 'issuing-ca.cert.pem')) };
    const key = (uscc: string) => {
      const files = demoKeyFiles(dataDir, uscc);
      return DepartmentKey.fromFiles(files.key, files.certificate);
    };
    const restaurant = new IntakeClient({ httpUrl, signer: key(BUSINESS_ENVIRONMENT), trust, platformUscc: config.platformUscc });
    const marriage = new IntakeClient({ httpUrl, signer: key(CIVIL_AFFAIRS), trust, platformUscc: config.platformUscc });
    const exchange = new ExchangeClient({ httpUrl, signer: key(BUSINESS_ENVIRONMENT), trust, platformUscc: config.platformUscc });
    const restaurantPrefill = (i: number) =>
      restaurant.prefill({ serviceItem: 'QYKB-210100-0001', caseNumber: `BENCH-QYKB-${i}`, applicant: { kind: 'organisation', code: DEMO_SUBJECTS.restaurant.uscc } });
    const query = (i: number) =>
      exchange.query({
        resource: '210100-SC-0001',
        items: ['uscc', 'entName', 'legalRepresentative', 'address', 'status'],
        subject: { kind: 'organisation', code: DEMO_SUBJECTS.restaurant.uscc },
        purpose: { serviceItem: 'QYKB-210100-0001', caseNumber: `BENCH-Q-${i}` },
      });
    // Warm up the paths (signer threads, caches, JIT).
    for (let i = 0; i < 20; i++) {
      await restaurantPrefill(-1 - i);
      await query(-1 - i);
    }
    figures.push(await measure('exchange query (baseline)', count, 1, query));
    figures.push(await measure('prefill, 开办餐馆 (1 read, 2 licences)', count, 1, restaurantPrefill));
    figures.push(
      await measure('prefill, 结婚登记 (1 read)', count, 1, (i) =>
        marriage.prefill({ serviceItem: 'HYDJ-210100-0011', caseNumber: `BENCH-HYDJ-${i}`, applicant: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber } }),
      ),
    );
    figures.push(await measure('prefill, 开办餐馆, 8 at once', count, 8, (i) => restaurantPrefill(count + i)));
    await Promise.all([restaurant.close(), marriage.close(), exchange.close()]);
  } finally {
    await app.close();
    if (schema && databaseUrl) {
      const admin = await PgDatabase.open({ url: databaseUrl, poolSize: 2, schema: undefined });
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.close());
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { machine: describeMachine(), backend: databaseUrl ? 'PostgreSQL' : 'PGlite', figures };
}

export function printIntakePrefill(result: IntakePrefillResult): void {
  process.stdout.write(`prefill latency (${result.backend}), signed HTTP through the SDK, the client checking the platform's signature:\n`);
  for (const f of result.figures) {
    process.stdout.write(
      `  ${f.what.padEnd(40)} p50 ${f.p50.toFixed(2).padStart(7)} ms  p99 ${f.p99.toFixed(2).padStart(7)} ms  ${Math.round(f.perSecond).toString().padStart(5)}/s  (${f.count} at concurrency ${f.concurrency})\n`,
    );
  }
}
