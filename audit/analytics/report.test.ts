// The report: reply times and overdue replies of the demand workflow on constructed demands (working days by the
// holiday schedule), and access figures summed over the projection's hours.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../core/storage/index.js';
import { openMigratedDatabase } from '../../test/support/ca.js';
import { loadWorkingCalendar } from '../../registry/catalogue/working-days.js';
import { AnalyticsProjection } from './projection.js';
import { analyticsReport } from './report.js';
import { GA, MZ, permitted, refused, YS } from './test-support.js';
import { WorkingHours } from './working-hours.js';

const calendar = loadWorkingCalendar();
let db: Database;

/** A demand of YS for a resource of `supplier`, pending from `pendingAt`, then `answer` at `answeredAt`. */
async function demand(supplier: string, pendingAt: string, replyDue: string, answer?: { state: 'approved' | 'refused' | 'withdrawn'; at: string }): Promise<void> {
  const id = randomUUID();
  const resource = supplier === GA ? 'R-GA' : 'R-MZ';
  const state = answer?.state ?? 'pending';
  await db.query(
    `INSERT INTO demands (id, requester_uscc, resource_code, items, service_item, legal_basis, expected_daily_volume, valid_from, valid_to, state, reply_due, refusal, created_at)
     VALUES ($1, $2, $3, '{name}', 'SI', '{}', 1, '2026-01-01', '2026-12-31', $4, $5, $6, $7)`,
    [id, YS, resource, state, replyDue, state === 'refused' ? '{"reason":"no"}' : null, pendingAt],
  );
  await db.query(`INSERT INTO demand_transitions (demand_id, seq, from_state, to_state, actor_uscc, at, detail) VALUES ($1, 1, NULL, 'pending', $2, $3, $4)`, [
    id,
    YS,
    pendingAt,
    JSON.stringify({ action: 'register', replyDue }),
  ]);
  if (answer) await db.query(`INSERT INTO demand_transitions (demand_id, seq, from_state, to_state, actor_uscc, at) VALUES ($1, 2, 'pending', $2, $3, $4)`, [id, answer.state, supplier, answer.at]);
}

beforeAll(async () => {
  db = await openMigratedDatabase();
  for (const [uscc, name] of [
    [GA, '公安局'],
    [YS, '营商局'],
    [MZ, '民政局'],
  ]) {
    await db.query(`INSERT INTO departments (uscc, name, area_code) VALUES ($1, $2, '210100')`, [uscc, name]);
  }
  for (const [code, provider] of [
    ['R-GA', GA],
    ['R-MZ', MZ],
  ]) {
    await db.query(`INSERT INTO data_resources (code, name, provider_uscc, sharing_class, update_cycle, connector) VALUES ($1, $1, $2, 'conditional', 'daily', '{}')`, [code, provider]);
  }
  // GA: answered Friday 10:00 → Tuesday 10:00 (2 working days, 96 h, on time); refused within a day; one pending and overdue.
  await demand(GA, '2026-03-06T02:00:00Z', '2026-03-11', { state: 'approved', at: '2026-03-10T02:00:00Z' });
  await demand(GA, '2026-03-09T02:00:00Z', '2026-03-12', { state: 'refused', at: '2026-03-09T08:00:00Z' });
  await demand(GA, '2026-03-02T02:00:00Z', '2026-03-05');
  // MZ: answered after its deadline; one withdrawn (neither a reply nor open); one pending, not yet due.
  await demand(MZ, '2026-03-02T02:00:00Z', '2026-03-05', { state: 'approved', at: '2026-03-12T02:00:00Z' });
  await demand(MZ, '2026-03-09T02:00:00Z', '2026-03-12', { state: 'withdrawn', at: '2026-03-09T03:00:00Z' });
  await demand(MZ, '2026-03-11T02:00:00Z', '2026-03-16');
  const projection = new AnalyticsProjection(db, { workingHours: WorkingHours.parse(), retentionDays: 30 });
  await projection.apply([
    ...[1, 2, 4, 8, 16, 32, 64, 128].map((latencyMs) => permitted('2026-03-10T02:10:00Z', { requester: GA, latencyMs, resource: 'R-GA', itemsReturned: ['name'] })),
    refused('2026-03-10T03:10:00Z', { requester: MZ, resource: 'R-GA' }),
    { ...refused('2026-03-10T03:20:00Z', { requester: MZ, resource: 'R-MZ' }), decision: 'error', errorCode: 'ZT_ERR_INTERNAL' },
  ]);
});

afterAll(async () => db?.close());

describe('analytics report', () => {
  it('gives reply times, late, open and overdue replies per supplier', async () => {
    const report = await analyticsReport(db, { from: new Date('2026-03-01T00:00:00+08:00'), to: new Date('2026-03-14T00:00:00+08:00'), by: 'department', now: new Date('2026-03-20T00:00:00Z'), calendar });
    const ga = report.demandReplies.departments.find((d) => d.department === GA)!;
    expect(ga).toMatchObject({ name: '公安局', replies: 2, approved: 1, refused: 1, answeredLate: 0, open: 1, overdue: 1 });
    expect(ga.replyWorkingDays).toEqual({ mean: 1, p50: 1, max: 2 });
    expect(ga.replyHours).toEqual({ mean: 51, p50: 51, max: 96 });
    const mz = report.demandReplies.departments.find((d) => d.department === MZ)!;
    expect(mz).toMatchObject({ replies: 1, approved: 1, answeredLate: 1, open: 1, overdue: 0 });
    expect(mz.replyWorkingDays).toEqual({ mean: 8, p50: 8, max: 8 });
    expect(report.demandReplies.totals).toMatchObject({ replies: 3, answeredLate: 1, open: 2, overdue: 1 });
    // Open "as of" the end of an earlier range: the MZ reply of 12 March was still open on 11 March, and late.
    const earlier = await analyticsReport(db, { from: new Date('2026-03-01T00:00:00+08:00'), to: new Date('2026-03-11T00:00:00+08:00'), by: 'department', now: new Date('2026-03-20T00:00:00Z'), calendar });
    expect(earlier.demandReplies.departments.find((d) => d.department === MZ)).toMatchObject({ replies: 0, open: 1, overdue: 1 });
  });

  it('sums access figures by department and by resource', async () => {
    const range = { from: new Date('2026-03-10T00:00:00Z'), to: new Date('2026-03-11T00:00:00Z'), now: new Date('2026-03-20T00:00:00Z'), calendar };
    const byDepartment = await analyticsReport(db, { ...range, by: 'department' });
    const ga = byDepartment.rows.find((r) => r.key === GA)!;
    expect(ga).toMatchObject({ name: '公安局', requests: 8, permitted: 8, refusalRate: 0, fulfilment: { itemsRequested: 24, itemsReturned: 8, itemsReturnedShare: 0.3333, permittedShare: 1 } });
    // Latencies 1 … 128 ms: the nearest-rank p50 is 8 ms, p99 128 ms; the estimates stay within their buckets (√2).
    expect(ga.latencyMs!.mean).toBe(31.875);
    expect(ga.latencyMs!.p50 / 8).toBeGreaterThan(1 / Math.SQRT2);
    expect(ga.latencyMs!.p50 / 8).toBeLessThan(Math.SQRT2);
    expect(ga.latencyMs!.p99 / 128).toBeLessThan(Math.SQRT2);
    expect(byDepartment.rows.find((r) => r.key === MZ)).toMatchObject({ requests: 2, denied: 1, errors: 1, refusalRate: 0.5, errorRate: 0.5 });
    expect(byDepartment.totals).toMatchObject({ requests: 10, permitted: 8 });
    const byResource = await analyticsReport(db, { ...range, by: 'resource' });
    expect(byResource.rows.map((r) => [r.key, r.supplier, r.requests])).toEqual([
      ['R-GA', GA, 9],
      ['R-MZ', MZ, 1],
    ]);
    // The hourly series the console plots: requests per requesting department and hour.
    expect(byDepartment.hourly).toEqual([
      { hour: '2026-03-10T02:00:00.000Z', department: GA, requests: 8 },
      { hour: '2026-03-10T03:00:00.000Z', department: MZ, requests: 2 },
    ]);
  });

  it('counts refusals by the rules they cite, from the records of the range', async () => {
    const deny = (at: string, rules: string[], decision = 'deny') =>
      db.query(
        `INSERT INTO access_record (id, at, requester, items_requested, items_returned, decision, rule_ids, error_code, latency_ms, instance, protocol)
         VALUES (gen_random_uuid(), $1, $2, '{name}', '{}', $3, $4, $5, 1, 'test', 'http')`,
        [at, MZ, decision, rules, decision === 'deny' ? 'ZT_ERR_ACCESS_DENIED' : 'ZT_ERR_INTERNAL'],
      );
    await deny('2026-03-12T01:00:00Z', ['NL-1', 'NL-2']);
    await deny('2026-03-12T02:00:00Z', ['NL-1']);
    await deny('2026-03-12T03:00:00Z', ['NL-3'], 'error');
    await deny('2026-03-14T01:00:00Z', ['NL-9']);
    const report = await analyticsReport(db, { from: new Date('2026-03-12T00:00:00Z'), to: new Date('2026-03-13T00:00:00Z'), by: 'department', now: new Date('2026-03-20T00:00:00Z'), calendar });
    expect(report.refusalsByRule).toEqual([
      { rule: 'NL-1', refusals: 2 },
      { rule: 'NL-2', refusals: 1 },
    ]);
  });
});
