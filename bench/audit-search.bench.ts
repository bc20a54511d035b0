// Search latency of the access log on 1,000,000 records (issue 7: "search latency on 1,000,000 records is reported").
// A gateway on PostgreSQL (a bench schema of its own, dropped afterwards) gets a year of synthetic but realistic
// records loaded straight into access_record with INSERT … SELECT FROM generate_series: ~40 departments (a few busy,
// most not), ~20 operators each, 200,000 subjects, 40 resources, 93 % permit / 5 % deny / 2 % error, most accesses in
// working hours, ~3 per case. After ANALYZE each filter kind is asked through the signed HTTP route (AuditClient, one
// request at a time: the latency a supervisor sees, signing included), beside the same page read straight from the
// store (the database alone: the baseline of this run). EXPLAIN shows which index each kind uses.
//   ZT_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench -- audit-search
//   ZT_BENCH_AUDIT_ROWS=1000000  ZT_BENCH_AUDIT_REQUESTS=100  ZT_BENCH_KEEP=1 (keep the schema)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../core/config/index.js';
import { createLogger } from '../core/logging/index.js';
import { usccCheckCharacter } from '../core/identifiers/index.js';
import type { BlindIndex } from '../core/pseudonyms/index.js';
import { buildApp } from '../gateway/app.js';
import { demoKeyFiles } from '../demo/index.js';
import { AccessSearchStore, readFilters, type AccessFilters } from '../audit/search/index.js';
import { AuditClient, DepartmentKey, type AuditSearchInput } from '../client/index.js';

const SUPERVISOR = '11210100001000096L';
const YEAR_START = Date.parse('2025-12-01T00:00:00+08:00');
const DAY = 86_400_000;

export interface AuditSearchKind {
  name: string;
  /** Signed HTTP search through the gateway. */
  p50: number;
  p99: number;
  /** The same page read from the store (the database alone). */
  storeP50: number;
  storeP99: number;
  rowsPerPage: number;
  plan: string;
}

export interface AuditSearchResult {
  rows: number;
  loadSeconds: number;
  kinds: AuditSearchKind[];
  exports: { name: string; rows: number; seconds: number; rowsPerSecond: number; bytes: number }[];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Deterministic pseudo-random numbers, so two runs ask the same questions. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function uscc(n: number): string {
  // Government bodies of the demo city: 11 + 210100 + a 9-character organisation code + check.
  const first17 = `11210100${String(100 + n).padStart(8, '0')}0`;
  return first17 + usccCheckCharacter(first17)!;
}

const DEPARTMENTS = 40;
const SUBJECTS = 200_000;
const RESOURCES = 40;

/**
 * Loads `rows` records over a year into access_record, day by day (seq follows the day; within it, times vary).
 * Records hold the blind index of their subject, as the access log writes them; returns index → ID number, so the
 * searches can ask by ID number as a supervisor does.
 */
async function load(
  db: { exec(sql: string): Promise<void>; query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> },
  rows: number,
  pseudonyms: BlindIndex,
): Promise<Map<string, string>> {
  // Subjects with valid check characters, computed in SQL as GB 11643 says (weights, mod 11, 10X98765432).
  await db.exec(`
    CREATE TEMP TABLE bench_subjects AS
      SELECT n, f || substr('10X98765432', (
               SELECT sum(substr(f, i, 1)::int * (ARRAY[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2])[i]) FROM generate_series(1, 17) i
             )::int % 11 + 1, 1) AS code
        FROM (SELECT n, '210102' || to_char(date '1950-01-01' + (n % 20000), 'YYYYMMDD') || lpad(((n / 20000) % 1000)::text, 3, '0') AS f
                FROM generate_series(0, ${SUBJECTS - 1}) n) s;
    CREATE UNIQUE INDEX ON bench_subjects (n);
    ALTER TABLE bench_subjects ADD COLUMN idx text;`);
  const { rows: codes } = await db.query<{ n: number; code: string }>('SELECT n, code FROM bench_subjects ORDER BY n');
  const byIndex = new Map<string, string>();
  const indexes = codes.map((c) => {
    const idx = pseudonyms.of(c.code);
    byIndex.set(idx, c.code);
    return idx;
  });
  await db.query('UPDATE bench_subjects b SET idx = u.idx FROM unnest($1::int[], $2::text[]) AS u(n, idx) WHERE b.n = u.n', [codes.map((c) => c.n), indexes]);
  await db.exec('ANALYZE bench_subjects');
  const departments = Array.from({ length: DEPARTMENTS }, (_, i) => uscc(i));
  await db.query(
    `INSERT INTO access_record (id, at, requester, operator, subject_kind, subject_code, resource, items_requested, items_returned, service_item,
       case_number, decision, rule_ids, policy_revision, error_code, latency_ms, request_digest, response_digest, certificate_sm3, instance, protocol)
     SELECT md5('r' || g)::uuid,
            -- A year, in order; each day's accesses mostly in working hours (08:30–17:30 China time).
            to_timestamp(${YEAR_START / 1000} + (g::bigint * 365 / $2::int) * 86400
              + CASE WHEN (g % 10) < 8 THEN 30600 + (hashint4(g) & 32767) ELSE (hashint4(g + 7) & 65535) + 10000 END),
            d.code,
            '经办人' || d.i || '-' || (hashint4(g + 1) & 15),
            'person',
            s.idx,
            '210100-R' || lpad((abs(hashint4(g + 2)) % ${RESOURCES})::text, 2, '0') || '-0001',
            ARRAY['name', 'idNumber', 'address'],
            CASE WHEN (abs(hashint4(g + 3)) % 100) < 93 THEN ARRAY['name', 'idNumber'] ELSE ARRAY[]::text[] END,
            'SI-' || lpad((abs(hashint4(g + 4)) % 60)::text, 3, '0'),
            'C-' || d.i || '-' || (g / 3),
            CASE WHEN (abs(hashint4(g + 3)) % 100) < 93 THEN 'permit' WHEN (abs(hashint4(g + 3)) % 100) < 98 THEN 'deny' ELSE 'error' END,
            CASE WHEN (abs(hashint4(g + 3)) % 100) BETWEEN 93 AND 97 THEN ARRAY['NL-GA-0002'] ELSE ARRAY[]::text[] END,
            '2025-08-01.1',
            CASE WHEN (abs(hashint4(g + 3)) % 100) < 93 THEN NULL WHEN (abs(hashint4(g + 3)) % 100) < 98 THEN 'ZT_ERR_ACCESS_DENIED' ELSE 'ZT_ERR_CONNECTOR_FAILED' END,
            2 + (abs(hashint4(g + 5)) % 50),
            decode(md5('q' || g) || md5('Q' || g), 'hex'),
            decode(md5('a' || g) || md5('A' || g), 'hex'),
            decode(md5('c' || d.i) || md5('C' || d.i), 'hex'),
            'bench',
            CASE WHEN g % 3 = 0 THEN 'grpc' ELSE 'http' END
       FROM generate_series(0, $2::int - 1) g
       -- A few departments are busy, most are not: the square of a uniform number picks them.
       CROSS JOIN LATERAL (SELECT i, ($1::text[])[i + 1] AS code FROM (SELECT floor(${DEPARTMENTS} * power((abs(hashint4(g + 9)) % 10000) / 10000.0, 2))::int AS i) x) d
       JOIN bench_subjects s ON s.n = abs(hashint4(g + 6)) % ${SUBJECTS}
      ORDER BY g`,
    [departments, rows],
  );
  await db.exec('ANALYZE access_record');
  return byIndex;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function benchAuditSearch(databaseUrl: string, rows: number, requests: number): Promise<AuditSearchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'zt-bench-audit-'));
  const schema = `zt_bench_audit_${process.pid}`;
  const config = loadConfig({
    env: {},
    overrides: { httpPort: 0, grpcPort: 0, dataDir, logLevel: 'silent', databaseUrl, databaseSchema: schema, auditExportMaxRows: 2_000_000 },
  });
  const app = await buildApp(config, { logger: createLogger({ level: 'silent', instanceId: 'bench' }), seedDemo: true });
  const files = demoKeyFiles(config.dataDir, SUPERVISOR);
  let client: AuditClient | undefined;
  try {
    const { httpUrl } = await app.listen();
    const started = performance.now();
    const subjectsByIndex = await load(app.ctx.db, rows, app.ctx.pseudonyms);
    const loadSeconds = (performance.now() - started) / 1000;
    client = new AuditClient({ httpUrl, signer: DepartmentKey.fromFiles(files.key, files.certificate) });
    const store = new AccessSearchStore(app.ctx.db, app.ctx.pseudonyms);
    const rnd = random(7);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
    const busy = Array.from({ length: 10 }, (_, i) => uscc(i));
    const day = (n: number) => new Date(YEAR_START + n * DAY);
    const subjectRows = (await app.ctx.db.query<{ subject_code: string }>('SELECT subject_code FROM access_record TABLESAMPLE SYSTEM (1) LIMIT 500')).rows;
    const caseRows = (await app.ctx.db.query<{ case_number: string }>('SELECT case_number FROM access_record TABLESAMPLE SYSTEM (1) LIMIT 500')).rows;
    const operatorRows = (await app.ctx.db.query<{ operator: string }>('SELECT DISTINCT operator FROM access_record TABLESAMPLE SYSTEM (1) LIMIT 500')).rows;
    const year = { from: new Date(YEAR_START).toISOString(), to: day(365).toISOString() };

    const kinds: [string, () => AuditSearchInput][] = [
      ['subject', () => ({ subject: subjectsByIndex.get(pick(subjectRows).subject_code)! })],
      ['department + day', () => ({ department: pick(busy), from: day(Math.floor(rnd() * 364)).toISOString(), to: day(Math.floor(rnd() * 364) + 1).toISOString() })],
      ['case number', () => ({ caseNumber: pick(caseRows).case_number })],
      ['operator (a year)', () => ({ operator: pick(operatorRows).operator, ...year })],
      ['resource + week', () => {
        const d = Math.floor(rnd() * 358);
        return { resource: `210100-R${String(Math.floor(rnd() * RESOURCES)).padStart(2, '0')}-0001`, from: day(d).toISOString(), to: day(d + 7).toISOString() };
      }],
      ['decision deny + month', () => {
        const d = Math.floor(rnd() * 335);
        return { decision: 'deny', from: day(d).toISOString(), to: day(d + 30).toISOString() };
      }],
      ['time range only (a day)', () => {
        const d = Math.floor(rnd() * 364);
        return { from: day(d).toISOString(), to: day(d + 1).toISOString() };
      }],
    ];
    // department + day above picks two independent days; keep the range one day long.
    kinds[1] = ['department + day', () => {
      const d = Math.floor(rnd() * 364);
      return { department: pick(busy), from: day(d).toISOString(), to: day(d + 1).toISOString() };
    }];

    const results: AuditSearchKind[] = [];
    const toFilters = (input: AuditSearchInput): AccessFilters => readFilters(Object.fromEntries(Object.entries(input).map(([k, v]) => [k, String(v)])), { maxRangeDays: 366 });
    for (const [name, make] of kinds) {
      const gateway: number[] = [];
      const direct: number[] = [];
      let rowsSeen = 0;
      for (let i = 0; i < 5; i++) await client.search(make()); // warm-up
      for (let i = 0; i < requests; i++) {
        const input = make();
        gateway.push(await timed(async () => (rowsSeen += (await client!.search(input)).records.length)));
        direct.push(await timed(() => store.page(toFilters(input), null, 50)));
      }
      gateway.sort((a, b) => a - b);
      direct.sort((a, b) => a - b);
      results.push({ name, p50: percentile(gateway, 50), p99: percentile(gateway, 99), storeP50: percentile(direct, 50), storeP99: percentile(direct, 99), rowsPerPage: rowsSeen / requests, plan: await plan(app.ctx.db, toFilters(make()), app.ctx.pseudonyms) });
    }

    // Deep paging: follow the cursor through a year of one busy department, timing every page from the 100th on.
    {
      const deep: number[] = [];
      let cursor: string | undefined;
      let page = 0;
      while (page < 300) {
        const input: AuditSearchInput = { department: busy[0]!, ...year, limit: 50, ...(cursor ? { cursor } : {}) };
        let next: string | null = null;
        const ms = await timed(async () => (next = (await client!.search(input)).next));
        if (page >= 100) deep.push(ms);
        page++;
        if (!next) break;
        cursor = next;
      }
      deep.sort((a, b) => a - b);
      results.push({ name: `deep paging (pages 100–${page}, cursor)`, p50: percentile(deep, 50), p99: percentile(deep, 99), storeP50: Number.NaN, storeP99: Number.NaN, rowsPerPage: 50, plan: '' });
    }

    const exports: AuditSearchResult['exports'] = [];
    for (const [name, input] of [
      ['deny, a year, CSV', { decision: 'deny' as const, ...year, format: 'csv' as const }],
      ['all decisions, a month, JSONL', { from: day(100).toISOString(), to: day(130).toISOString(), format: 'jsonl' as const }],
    ] as const) {
      let bytes = 0;
      let lines = 0;
      const t = performance.now();
      for await (const chunk of client.export(input)) {
        bytes += chunk.length;
        for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
      }
      const seconds = (performance.now() - t) / 1000;
      const n = input.format === 'csv' ? lines - 1 : lines;
      exports.push({ name, rows: n, seconds, rowsPerSecond: n / seconds, bytes });
    }
    return { rows, loadSeconds, kinds: results, exports };
  } finally {
    await client?.close();
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (process.env.ZT_BENCH_KEEP !== '1') {
      const { PgDatabase } = await import('../core/storage/index.js');
      const admin = await PgDatabase.open({ url: databaseUrl, poolSize: 2, schema: undefined });
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.close());
    }
  }
}

/** The first index the plan of this search's page names (EXPLAIN, parameters bound). */
async function plan(db: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> }, filters: AccessFilters, pseudonyms: BlindIndex): Promise<string> {
  const { whereClause } = await import('../audit/search/access-search-store.js');
  const params: unknown[] = [];
  const where = whereClause(filters, null, params, pseudonyms);
  const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT * FROM access_record r WHERE ${where} ORDER BY r.at DESC, r.seq DESC LIMIT 51`, params);
  const lines = rows.map((r) => r['QUERY PLAN']);
  const index = lines.map((l) => /(Index(?: Only)? Scan(?: Backward)?|Bitmap Index Scan) (?:using|on) (\S+)/.exec(l)).find(Boolean);
  return index ? `${index[1]} ${index[2]}` : (lines.find((l) => /Scan/.test(l))?.trim() ?? lines[0] ?? '');
}

export function printAuditSearch(r: AuditSearchResult): void {
  process.stdout.write(`access-log search: ${r.rows.toLocaleString('en')} records on PostgreSQL (loaded and analysed in ${r.loadSeconds.toFixed(1)} s); signed HTTP search, one request at a time, page of 50\n`);
  for (const k of r.kinds) {
    const store = Number.isNaN(k.storeP50) ? '' : `  (store alone p50 ${k.storeP50.toFixed(2)} ms, p99 ${k.storeP99.toFixed(2)} ms)`;
    process.stdout.write(`  ${k.name.padEnd(38)} p50 ${k.p50.toFixed(2).padStart(7)} ms  p99 ${k.p99.toFixed(2).padStart(7)} ms  ~${k.rowsPerPage.toFixed(0)} rows/page${store}${k.plan ? `  [${k.plan}]` : ''}\n`);
  }
  for (const e of r.exports) {
    process.stdout.write(`  export ${e.name.padEnd(31)} ${e.rows.toLocaleString('en')} rows in ${e.seconds.toFixed(2)} s: ${Math.round(e.rowsPerSecond).toLocaleString('en')} rows/s, ${(e.bytes / 2 ** 20).toFixed(1)} MiB\n`);
  }
}
