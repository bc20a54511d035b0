// The projection against the access log itself: records written through AccessLogWriter (access_record + outbox
// events), the events applied, then applied again (at-least-once redelivery), and every aggregate compared with a
// direct SQL count over access_record. On PGlite always, on PostgreSQL when ZT_TEST_DATABASE_URL is set, where two
// projections also apply overlapping batches at once.
import { randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logging/index.js';
import { migrate, PgDatabase, type Database } from '../../core/storage/index.js';
import { openMigratedDatabase } from '../../test/support/ca.js';
import { describeWithService, postgresUrl, uniqueName } from '../../test/support/services.js';
import { ACCESS_RECORD_TOPIC, AccessLogWriter, type AccessRecordInput, type AccessRecordJson } from '../index.js';
import { AnalyticsConsumer } from './consumer.js';
import { histogramQuantile, latencyBucket } from './histogram.js';
import { AnalyticsProjection } from './projection.js';
import { GA, MZ, permitted, person, refused, TEST_PSEUDONYMS, YS } from './test-support.js';
import { chinaDate, WorkingHours } from './working-hours.js';

const hours = WorkingHours.parse();
const silent = createLogger({ level: 'silent', instanceId: 'test' });

/** 600 records over two days (a Friday and a Saturday), three departments, mixed decisions and latencies. */
function inputs(): AccessRecordInput[] {
  const out: AccessRecordInput[] = [];
  const start = Date.parse('2026-03-05T22:00:00Z'); // Friday 06:00 China time
  for (let i = 0; i < 600; i++) {
    const at = new Date(start + i * 240_000 + randomInt(1000)); // every 4 minutes: 40 hours
    const requester = [GA, YS, MZ][i % 3]!;
    const operator = ['张三', '李四', '王五', ''][i % 4]!;
    const kind = i % 10;
    const latencyMs = Math.round(Math.exp(Math.random() * 8) * 10) / 100;
    if (kind < 7) {
      const p = permitted(at, { requester, operator: operator || null, subjectCode: person(i % 37), latencyMs, caseNumber: `C-${i % 50}`, serviceItem: `SI-${i % 3}` });
      // The writer takes the identifier in clear (the JSON form holds its index) and indexes it.
      out.push({ ...p, subjectCode: person(i % 37), at, itemsReturned: i % 2 ? ['name'] : ['name', 'address'] } as unknown as AccessRecordInput);
    } else {
      const r = refused(at, { requester, operator: operator || null, latencyMs, caseNumber: kind === 9 ? null : `C-${i % 50}`, serviceItem: kind === 9 ? null : `SI-${i % 3}` });
      out.push({ ...r, at, ...(kind === 8 ? { decision: 'error', errorCode: 'ZT_ERR_INTERNAL' } : {}) } as unknown as AccessRecordInput);
    }
  }
  return out;
}

function projectionContract(open: () => Promise<Database>, concurrent: boolean): void {
  let db: Database;
  let events: { value: Buffer }[] = [];
  const projection = (): AnalyticsProjection => new AnalyticsProjection(db, { workingHours: hours, retentionDays: 30 });

  it('writes the records through the access log', async () => {
    db = await open();
    const writer = new AccessLogWriter(db, { pseudonyms: TEST_PSEUDONYMS, instance: 'test' });
    await Promise.all(inputs().map((input) => writer.write({ ...input, at: new Date(input.at as unknown as string), requestDigest: (input as unknown as AccessRecordJson).requestDigest } as AccessRecordInput)));
    await writer.close();
    const { rows } = await db.query<{ value: Buffer | string }>('SELECT value FROM zt_outbox WHERE topic = $1 ORDER BY id', [ACCESS_RECORD_TOPIC]);
    events = rows.map((r) => ({ value: Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as string) }));
    expect(events).toHaveLength(600);
  });

  it('applies each event once, however often it is delivered', async () => {
    const consumer = await AnalyticsConsumer.start({ bus: nullBus(), projection: projection(), logger: silent, pruneIntervalMs: 0 });
    if (concurrent) {
      // Two members applying overlapping batches at the same time: each record is counted by exactly one of them.
      const other = projection();
      const chunks = (list: { value: Buffer }[], size: number) => Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));
      const [a, b] = await Promise.all([
        Promise.all(chunks(events, 40).map((c) => consumer.applyEvents(c))),
        Promise.all(chunks([...events].reverse(), 25).map((c) => other.apply(c.map((e) => JSON.parse(e.value.toString()).record)))),
      ]);
      const applied = a.reduce((t, r) => t + r.applied, 0) + b.reduce((t, r) => t + r.applied, 0);
      expect(applied).toBe(600);
    } else {
      for (let i = 0; i < events.length; i += 50) expect((await consumer.applyEvents(events.slice(i, i + 50))).applied).toBe(50);
    }
    // Redelivery: every event again, one at a time and in one batch with duplicates inside it.
    for (const e of events.slice(0, 100)) expect((await consumer.applyEvents([e])).duplicates).toBe(1);
    const again = await consumer.applyEvents([...events, ...events.slice(0, 10)]);
    expect(again).toMatchObject({ applied: 0, duplicates: 610, late: 0, malformed: 0 });
    await consumer.close();
  });

  it('matches a direct count over access_record, hour by hour', async () => {
    const { rows: expected } = await db.query<Record<string, string>>(
      `SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AS hour, coalesce(requester, '') AS requester, coalesce(resource, '') AS resource, decision,
              count(*) AS requests, sum(cardinality(items_requested)) AS items_requested, sum(cardinality(items_returned)) AS items_returned,
              count(*) FILTER (WHERE case_number IS NULL) AS without_case, round(sum(latency_ms)::numeric, 2) AS latency
         FROM access_record GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    );
    const { rows: actual } = await db.query<Record<string, string>>(
      `SELECT hour AT TIME ZONE 'UTC' AS hour, requester, resource, decision, requests, items_requested, items_returned, without_case,
              round(latency_ms_sum::numeric, 2) AS latency, latency_buckets::text AS buckets
         FROM audit_analytics_hourly ORDER BY 1, 2, 3, 4`,
    );
    expect(actual.map(({ buckets: _b, ...r }) => r)).toEqual(expected);
    // Histograms: the bucket counts of each hour are those of its records' latencies.
    const { rows: latencies } = await db.query<{ hour: string; requester: string; decision: string; resource: string; latency_ms: number }>(
      `SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AS hour, coalesce(requester, '') AS requester, coalesce(resource, '') AS resource, decision, latency_ms FROM access_record`,
    );
    const first = actual[0]!;
    const mine = latencies.filter((l) => String(l.hour) === String(first.hour) && l.requester === first.requester && l.resource === first.resource && l.decision === first.decision);
    const counts = new Array(48).fill(0);
    for (const l of mine) counts[latencyBucket(Number(l.latency_ms))]++;
    expect(first.buckets).toBe(`{${counts.join(',')}}`);
  });

  it('counts distinct subjects, outside-hours and missing case numbers per operator and China day', async () => {
    const { rows: records } = await db.query<{ at: Date; requester: string | null; operator: string | null; subject_code: string | null; decision: string; case_number: string | null }>(
      'SELECT at, requester, operator, subject_code, decision, case_number FROM access_record',
    );
    const expected = new Map<string, { requests: number; subjects: Set<string>; outside: number; withoutCase: number }>();
    for (const r of records) {
      const key = `${chinaDate(new Date(r.at))}|${r.requester ?? ''}|${r.operator ?? ''}`;
      const e = expected.get(key) ?? { requests: 0, subjects: new Set(), outside: 0, withoutCase: 0 };
      expected.set(key, e);
      e.requests++;
      if (r.decision === 'permit' && r.subject_code) e.subjects.add(r.subject_code);
      if (!hours.isWorkingTime(new Date(r.at))) e.outside++;
      if (r.case_number === null) e.withoutCase++;
    }
    const { rows } = await db.query<{ day: string; requester: string; operator: string; requests: string; subjects: string; outside_hours: string; without_case: string }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, requester, operator, requests, subjects, outside_hours, without_case FROM audit_analytics_operator_day`,
    );
    expect(rows).toHaveLength(expected.size);
    for (const r of rows) {
      const e = expected.get(`${r.day}|${r.requester}|${r.operator}`)!;
      expect({ requests: Number(r.requests), subjects: Number(r.subjects), outside: Number(r.outside_hours), withoutCase: Number(r.without_case) }).toEqual({
        requests: e.requests,
        subjects: e.subjects.size,
        outside: e.outside,
        withoutCase: e.withoutCase,
      });
    }
    // Saturday is not a working day: every record of it is outside working hours.
    expect(rows.filter((r) => r.day === '2026-03-07').every((r) => r.outside_hours === r.requests)).toBe(true);
  });

  it('keeps per case number the service items it was used with', async () => {
    const { rows: expected } = await db.query(
      `SELECT requester, case_number, service_item, count(*)::text AS requests FROM access_record WHERE case_number IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    );
    const { rows: actual } = await db.query(`SELECT requester, case_number, service_item, requests::text FROM audit_analytics_case ORDER BY 1, 2, 3`);
    expect(actual).toEqual(expected);
  });

  it('catches up from the log with records whose events never arrived, and only with those', async () => {
    expect(await projection().catchUp()).toBe(0);
    const writer = new AccessLogWriter(db, { pseudonyms: TEST_PSEUDONYMS, instance: 'test' });
    const at = new Date('2026-03-06T03:30:00Z');
    for (let i = 0; i < 3; i++) await writer.write({ ...permitted(at, { operator: 'catch-up' }), subjectCode: person(1), at } as unknown as AccessRecordInput);
    await writer.close();
    expect(await projection().catchUp(2)).toBe(3);
    expect(await projection().catchUp()).toBe(0);
    const { rows } = await db.query<{ n: string }>(`SELECT sum(requests) AS n FROM audit_analytics_operator_day WHERE operator = 'catch-up'`);
    expect(Number(rows[0]!.n)).toBe(3);
  });

  it('prunes old ids and then skips, never recounts, a redelivery older than the horizon', async () => {
    const short = new AnalyticsProjection(db, { workingHours: hours, retentionDays: 1 });
    const late = permitted('2026-03-01T02:00:00Z');
    expect((await short.apply([late])).applied).toBe(1);
    const report = await short.prune();
    expect(report.horizon?.toISOString()).toBe(new Date(Date.parse((await newest(db))) - 86_400_000).toISOString());
    expect(report.removedIds).toBeGreaterThanOrEqual(1);
    expect(await short.apply([late])).toMatchObject({ applied: 0, late: 1 });
    const { rows } = await db.query<{ n: string }>(`SELECT sum(requests) AS n FROM audit_analytics_hourly WHERE hour = '2026-03-01T02:00:00Z'`);
    expect(Number(rows[0]!.n)).toBe(1);
    await db.close();
  });
}

async function newest(db: Database): Promise<string> {
  const { rows } = await db.query<{ at: Date }>('SELECT max(at) AS at FROM access_record');
  return new Date(rows[0]!.at).toISOString();
}

/** A bus that delivers nothing: these tests hand the events over themselves. */
function nullBus() {
  return {
    kind: 'memory' as const,
    ensureTopics: async () => undefined,
    publish: async () => undefined,
    subscribe: async () => ({ ready: Promise.resolve(), close: async () => undefined }),
    ping: async () => undefined,
    pending: () => 0,
    close: async () => undefined,
  };
}

describe('analytics projection on PGlite', () => {
  projectionContract(openMigratedDatabase, false);
});

describeWithService('postgres', 'analytics projection on PostgreSQL', () => {
  const schemas: string[] = [];
  projectionContract(async () => {
    const schema = uniqueName('zt_analytics');
    schemas.push(schema);
    const db = await PgDatabase.open({ url: postgresUrl!, poolSize: 6, schema });
    await migrate(db);
    return db;
  }, true);
  afterAll(async () => {
    const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
    for (const schema of schemas) await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  });
});

describe('latency histogram', () => {
  it('estimates percentiles within the bucket of the true value', () => {
    for (const scale of [0.05, 1, 30, 2000]) {
      const values = Array.from({ length: 5000 }, () => scale * Math.exp(Math.random() * 4)).sort((a, b) => a - b);
      const counts = new Array(48).fill(0);
      for (const v of values) counts[latencyBucket(v)]++;
      for (const q of [0.5, 0.95, 0.99]) {
        const truth = values[Math.ceil(q * values.length) - 1]!;
        const estimate = histogramQuantile(counts, q)!;
        expect(latencyBucket(estimate)).toBe(latencyBucket(truth));
        expect(Math.max(estimate / truth, truth / estimate)).toBeLessThan(Math.SQRT2);
      }
    }
    expect(histogramQuantile(new Array(48).fill(0), 0.5)).toBeNull();
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(0.1)).toBe(1);
    expect(latencyBucket(1e12)).toBe(47);
  });
});

describe('an event written before identifiers were pseudonymised', () => {
  it('is counted under the subject\'s index with the blind index, and without a subject otherwise; never in clear', async () => {
    const db = await openMigratedDatabase();
    try {
      const clear = { ...permitted('2026-03-06T02:00:00Z', { operator: 'before-0016' }), subjectCode: person(7) };
      await new AnalyticsProjection(db, { workingHours: hours, retentionDays: 30 }).apply([clear]);
      const withIndex = { ...permitted('2026-03-06T02:00:00Z', { operator: 'before-0016b' }), subjectCode: person(7) };
      await new AnalyticsProjection(db, { workingHours: hours, retentionDays: 30, pseudonyms: TEST_PSEUDONYMS }).apply([withIndex]);
      const { rows } = await db.query<{ operator: string; subject_code: string }>('SELECT operator, subject_code FROM audit_analytics_operator_subject ORDER BY operator');
      expect(rows).toEqual([{ operator: 'before-0016b', subject_code: TEST_PSEUDONYMS.of(person(7)) }]);
      const { rows: days } = await db.query<{ operator: string; requests: string; subjects: string }>('SELECT operator, requests, subjects FROM audit_analytics_operator_day ORDER BY operator');
      expect(days.map((d) => [d.operator, Number(d.requests), Number(d.subjects)])).toEqual([['before-0016', 1, 0], ['before-0016b', 1, 1]]);
    } finally {
      await db.close();
    }
  });
});
