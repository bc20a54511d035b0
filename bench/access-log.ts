// Access log write throughput and latency: AccessLogWriter (group commit) at several concurrencies, next to the
// baseline of one commit per record (the same writer with batches of one, as many in flight as the pool allows).
// Each of C callers writes a record, awaits its commit, and writes the next, until N records are written.
//   npx tsx bench/access-log.ts [--records N] [--concurrency 1,64,512]
//   DATABASE_URL=postgres://… (or ZT_BENCH_DATABASE_URL) also measures PostgreSQL, in a schema dropped afterwards.
// PGlite runs on a data directory in the temporary directory, as the embedded server does.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AccessLogWriter, type AccessLogWriterOptions, type AccessRecordInput } from '../audit/index.js';
import { BlindIndex } from '../core/pseudonyms/index.js';
import { redactUrl } from '../core/config/index.js';
import { migrate, PgDatabase, PgliteDatabase, type Database } from '../core/storage/index.js';
import { describeMachine } from './machine.js';

export interface AccessLogFigures {
  database: string;
  name: string;
  concurrency: number;
  records: number;
  perSecond: number;
  p50: number;
  p99: number;
  meanBatch: number;
}

const POOL_SIZE = 10;

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Records as a permitted request of the exchange makes them; digests differ, the rest is typical. */
function sampleInputs(n: number): AccessRecordInput[] {
  return Array.from({ length: n }, (_, i) => ({
    decision: 'permit',
    protocol: i % 4 === 0 ? 'grpc' : 'http',
    latencyMs: 3.5,
    requester: '11210100001000029N',
    operator: '张三',
    subjectKind: 'person',
    subjectCode: '11010519491231002X',
    resource: '210100-GA-0001',
    itemsRequested: ['name', 'gender', 'birthDate', 'address', 'photo'],
    itemsReturned: ['name', 'gender', 'birthDate', 'address'],
    serviceItem: '210100-SB-0001',
    caseNumber: `BJ-2025-${String(i).padStart(8, '0')}`,
    ruleIds: ['GA-PHOTO-1'],
    policyRevision: '2025-08-01.1',
    requestDigest: randomBytes(32),
    responseDigest: randomBytes(32),
    certificateSm3: randomBytes(32),
  }));
}

async function run(db: Database, database: string, name: string, options: Partial<AccessLogWriterOptions>, records: number, concurrency: number): Promise<AccessLogFigures> {
  // The writer indexes each subject (the blind index, an HMAC-SM3 per record), as the gateway's does.
  const writer = new AccessLogWriter(db, { pseudonyms: new BlindIndex([{ version: 1, key: randomBytes(32) }]), instance: 'bench', ...options });
  const inputs = sampleInputs(Math.min(records, 1000));
  // Warm up the statement and the JIT.
  await Promise.all(inputs.slice(0, Math.min(200, inputs.length)).map((r) => writer.write(r)));
  const before = writer.stats();
  const latencies = new Float64Array(records);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < records; i = next++) {
        const t0 = performance.now();
        await writer.write(inputs[i % inputs.length]!);
        latencies[i] = performance.now() - t0;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  await writer.close();
  const after = writer.stats();
  latencies.sort();
  return {
    database,
    name,
    concurrency,
    records,
    perSecond: records / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    meanBatch: (after.records - before.records) / (after.batches - before.batches),
  };
}

async function benchDatabase(db: Database, database: string, records: number, concurrencies: readonly number[], inFlight: number): Promise<AccessLogFigures[]> {
  const figures: AccessLogFigures[] = [];
  for (const c of concurrencies) {
    // One commit per record: what the log costs without group commit.
    figures.push(await run(db, database, 'one commit per record', { maxBatchSize: 1, maxInFlight: Math.min(c, inFlight) }, Math.min(records, 2000 + 20 * c), c));
    figures.push(await run(db, database, 'group commit (default)', {}, records, c));
    if (inFlight > 1) figures.push(await run(db, database, 'group commit, 2 batches in flight', { maxInFlight: 2 }, records, c));
  }
  return figures;
}

export async function benchAccessLog(records: number, concurrencies: readonly number[], databaseUrl: string | undefined): Promise<{ figures: AccessLogFigures[]; notes: string[] }> {
  const figures: AccessLogFigures[] = [];
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'zt-bench-access-log-'));
  try {
    const lite = await PgliteDatabase.open({ dataDir: dir });
    try {
      await migrate(lite);
      figures.push(...(await benchDatabase(lite, 'PGlite (data directory)', records, concurrencies, 1)));
    } finally {
      await lite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (databaseUrl) {
    const schema = `zt_bench_access_log_${process.pid}`;
    const pg = await PgDatabase.open({ url: databaseUrl, poolSize: POOL_SIZE, schema });
    try {
      const { rows } = await pg.query<{ v: string; f: string; s: string }>(
        "SELECT current_setting('server_version') AS v, current_setting('fsync') AS f, current_setting('synchronous_commit') AS s",
      );
      notes.push(`PostgreSQL ${rows[0]!.v} at ${redactUrl(databaseUrl)}, fsync ${rows[0]!.f}, synchronous_commit ${rows[0]!.s}, pool of ${POOL_SIZE}`);
      await migrate(pg);
      figures.push(...(await benchDatabase(pg, 'PostgreSQL', records, concurrencies, POOL_SIZE)));
    } finally {
      await pg.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await pg.close();
    }
  }
  return { figures, notes };
}

export function printAccessLog(result: Awaited<ReturnType<typeof benchAccessLog>>): void {
  process.stdout.write('access log: each caller writes a record and awaits its commit (record + outbox event), then the next\n');
  for (const note of result.notes) process.stdout.write(`  ${note}\n`);
  let baseline = 0;
  for (const f of result.figures) {
    if (f.name === 'one commit per record') baseline = f.perSecond;
    const share = f.name === 'one commit per record' ? '' : `  (${(f.perSecond / baseline).toFixed(1)} × one commit per record)`;
    process.stdout.write(
      `  ${f.database.padEnd(24)} ${String(f.concurrency).padStart(4)} callers  ${f.name.padEnd(34)} ${String(f.records).padStart(6)} records ` +
        `${f.perSecond.toFixed(0).padStart(7)} records/s  p50 ${f.p50.toFixed(2).padStart(7)} ms  p99 ${f.p99.toFixed(2).padStart(7)} ms  ` +
        `mean batch ${f.meanBatch.toFixed(1).padStart(5)}${share}\n`,
    );
  }
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const records = Number(argument('records') ?? process.env.ZT_BENCH_RECORDS ?? 20000);
  const concurrencies = (argument('concurrency') ?? process.env.ZT_BENCH_CONCURRENCY ?? '1,64,512').split(',').map(Number);
  if (!Number.isInteger(records) || records < 1 || concurrencies.some((c) => !Number.isInteger(c) || c < 1)) {
    process.stderr.write('usage: tsx bench/access-log.ts [--records N] [--concurrency C[,C…]]  (positive integers)\n');
    process.exit(2);
  }
  process.stdout.write(`machine: ${describeMachine()}\n`);
  printAccessLog(await benchAccessLog(records, concurrencies, process.env.ZT_BENCH_DATABASE_URL || process.env.DATABASE_URL || undefined));
}
