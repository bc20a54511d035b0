// Analytics projection throughput: access.recorded events applied per second, one statement per event (a bus
// member without a batch handler) next to batches of 10, 100 and 500 events per statement (what the consumer's
// batch handler gets when events are at hand), and with 4 members applying at once.
//   npx tsx bench/audit-analytics.bench.ts [--events N]
//   ZT_BENCH_DATABASE_URL (or DATABASE_URL)=postgres://… also measures PostgreSQL, in a schema dropped afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AnalyticsProjection, WorkingHours } from '../audit/analytics/index.js';
import { GA, MZ, permitted, person, YS } from '../audit/analytics/test-support.js';
import type { AccessRecordJson } from '../audit/index.js';
import { redactUrl } from '../core/config/index.js';
import { migrate, PgDatabase, PgliteDatabase, type Database } from '../core/storage/index.js';
import { describeMachine } from './machine.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '5000' } } });
const N = Number(values.events);

function records(n: number, offset: number): AccessRecordJson[] {
  const start = Date.parse('2026-03-09T01:00:00Z') + offset * 1000;
  return Array.from({ length: n }, (_, i) =>
    permitted(new Date(start + i * 700), { requester: [GA, YS, MZ][i % 3], operator: `op-${i % 17}`, subjectCode: person(offset + i), caseNumber: `B-${offset + i}`, latencyMs: 1 + (i % 50) }),
  );
}

async function measure(db: Database, name: string, batch: number, members: number, offset: number): Promise<string> {
  const projection = new AnalyticsProjection(db, { workingHours: WorkingHours.parse(), retentionDays: 30 });
  const all = records(N, offset);
  const shares = Array.from({ length: members }, (_, m) => all.filter((_, i) => i % members === m));
  const t0 = performance.now();
  await Promise.all(
    shares.map(async (share) => {
      for (let i = 0; i < share.length; i += batch) await projection.apply(share.slice(i, i + batch));
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return `  ${name.padEnd(34)} ${Math.round(N / seconds).toString().padStart(8)} events/s`;
}

async function run(db: Database, label: string): Promise<void> {
  process.stdout.write(`${label}\n`);
  let offset = 0;
  for (const [name, batch, members] of [
    ['1 event per statement (the bus today)', 1, 1],
    ['batches of 10', 10, 1],
    ['batches of 100', 100, 1],
    ['batches of 500', 500, 1],
    ...(db.kind === 'postgres' ? ([['4 members, 1 event per statement', 1, 4], ['4 members, batches of 100', 100, 4]] as const) : []),
  ] as const) {
    process.stdout.write(`${await measure(db, name, batch, members, (offset += N))}\n`);
  }
}

process.stdout.write(`analytics projection, ${N} events per case; ${describeMachine()}\n`);
const dir = mkdtempSync(join(tmpdir(), 'zt-bench-analytics-'));
const lite = await PgliteDatabase.open({ dataDir: dir });
await migrate(lite);
await run(lite, 'PGlite (embedded)');
await lite.close();
rmSync(dir, { recursive: true, force: true });
const url = process.env.ZT_BENCH_DATABASE_URL || process.env.DATABASE_URL;
if (url) {
  const schema = `zt_bench_analytics_${process.pid}`;
  const pg = await PgDatabase.open({ url, poolSize: 8, schema });
  try {
    await migrate(pg);
    await run(pg, `PostgreSQL ${redactUrl(url)}`);
  } finally {
    await pg.exec(`DROP SCHEMA ${schema} CASCADE`);
    await pg.close();
  }
} else process.stdout.write('PostgreSQL: skipped (set ZT_BENCH_DATABASE_URL)\n');
