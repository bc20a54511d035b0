// The analytics report (效能分析): per department or per resource over a time range, the volumes, refusals,
// latency percentiles and fulfilment of the exchange (from the projection's hourly rows), and the reply times and
// overdue replies of the application–reply procedure (申请–答复) per supplier department (from demands and
// demand_transitions). docs/audit-analytics.md says what each figure means.
import type { Queryable } from '../../core/storage/index.js';
import { chinaDate, loadWorkingCalendar, type WorkingCalendar } from '../../registry/catalogue/working-days.js';
import { addHistograms, emptyHistogram, histogramQuantile } from './histogram.js';

const HOUR_MS = 3_600_000;
/** Most rows one report returns (departments or resources); more are cut and `truncated` set. */
export const REPORT_MAX_ROWS = 5000;
/** Most demands the reply figures look at in one report. */
const DEMANDS_MAX = 200_000;

export type ReportDimension = 'department' | 'resource';

export interface AnalyticsReportQuery {
  from: Date;
  to: Date;
  by: ReportDimension;
  /** "Now" for open and overdue replies; default the real clock. */
  now?: Date;
  /** Working days of the reply deadlines; default China's schedule. */
  calendar?: WorkingCalendar;
}

export interface Spread {
  mean: number;
  p50: number;
  max: number;
}

export interface AccessFigures {
  requests: number;
  permitted: number;
  denied: number;
  errors: number;
  /** denied / requests. */
  refusalRate: number | null;
  /** errors / requests. */
  errorRate: number | null;
  /** Latency of all requests (ms): mean exact, percentiles from the log-scale histogram. */
  latencyMs: { mean: number; p50: number; p95: number; p99: number } | null;
  fulfilment: {
    /** permitted / requests. */
    permittedShare: number | null;
    /** Items asked for and items released, in permitted requests. */
    itemsRequested: number;
    itemsReturned: number;
    /** itemsReturned / itemsRequested of permitted requests. */
    itemsReturnedShare: number | null;
  };
  outsideWorkingHours: number;
  withoutCaseNumber: number;
}

export interface ReportRow extends AccessFigures {
  /** USCC of the requesting department, or the resource's catalogue code ('' when the requests named none). */
  key: string;
  name: string | null;
  /** by=resource: the supplier (provider) department of the resource. */
  supplier?: string | null;
}

export interface DemandReplyFigures {
  /** The supplier department (the provider of the demanded resource), which owes the reply. */
  department: string;
  name: string | null;
  /** Replies given in the range (pending → approved or refused). */
  replies: number;
  approved: number;
  refused: number;
  /** From entering pending to the reply: working days (工作日) by the holiday schedule, and elapsed hours. */
  replyWorkingDays: Spread | null;
  replyHours: Spread | null;
  /** Replies given in the range after their reply_due date. */
  answeredLate: number;
  /** Still pending at the end of the range (or now, if earlier). */
  open: number;
  /** Of those, past their reply_due date. */
  overdue: number;
}

export interface AnalyticsReport {
  /** The range used, widened to whole hours: [from, to). */
  from: string;
  to: string;
  by: ReportDimension;
  rows: ReportRow[];
  totals: AccessFigures;
  truncated: boolean;
  demandReplies: { asOf: string; departments: DemandReplyFigures[]; totals: Omit<DemandReplyFigures, 'department' | 'name'>; truncated: boolean };
  /** Requests per requesting department and hour (the console's plot), oldest first; at most HOURLY_MAX_POINTS. */
  hourly: { hour: string; department: string; requests: number }[];
  /** Refusals in the range by the rule they cite (a refusal citing two rules counts for each), most first. */
  refusalsByRule: { rule: string; refusals: number }[];
}

/** Points of the hourly series: a month of hours for a dozen departments. */
export const HOURLY_MAX_POINTS = 10_000;
const REFUSAL_RULES_MAX = 100;

interface Accumulator {
  requests: number;
  permitted: number;
  denied: number;
  errors: number;
  itemsRequested: number;
  itemsReturned: number;
  latencySum: number;
  buckets: number[];
  outside: number;
  withoutCase: number;
}

function accumulator(): Accumulator {
  return { requests: 0, permitted: 0, denied: 0, errors: 0, itemsRequested: 0, itemsReturned: 0, latencySum: 0, buckets: emptyHistogram(), outside: 0, withoutCase: 0 };
}

function ratio(a: number, b: number): number | null {
  return b === 0 ? null : Math.round((a / b) * 10000) / 10000;
}

function ms(value: number | null): number {
  return value === null ? 0 : Math.round(value * 1000) / 1000;
}

function figures(a: Accumulator): AccessFigures {
  return {
    requests: a.requests,
    permitted: a.permitted,
    denied: a.denied,
    errors: a.errors,
    refusalRate: ratio(a.denied, a.requests),
    errorRate: ratio(a.errors, a.requests),
    latencyMs:
      a.requests === 0
        ? null
        : {
            mean: ms(a.latencySum / a.requests),
            p50: ms(histogramQuantile(a.buckets, 0.5)),
            p95: ms(histogramQuantile(a.buckets, 0.95)),
            p99: ms(histogramQuantile(a.buckets, 0.99)),
          },
    fulfilment: {
      permittedShare: ratio(a.permitted, a.requests),
      itemsRequested: a.itemsRequested,
      itemsReturned: a.itemsReturned,
      itemsReturnedShare: ratio(a.itemsReturned, a.itemsRequested),
    },
    outsideWorkingHours: a.outside,
    withoutCaseNumber: a.withoutCase,
  };
}

interface HourlySum {
  key: string;
  decision: 'permit' | 'deny' | 'error';
  requests: string;
  items_requested: string;
  items_returned: string;
  latency_ms_sum: number;
  buckets: (string | number)[] | null;
  outside_hours: string;
  without_case: string;
}

function add(a: Accumulator, r: HourlySum): void {
  const n = Number(r.requests);
  a.requests += n;
  if (r.decision === 'permit') {
    a.permitted += n;
    // Fulfilment counts items of permitted requests only: a refusal is the refusal rate's business.
    a.itemsRequested += Number(r.items_requested);
    a.itemsReturned += Number(r.items_returned);
  } else if (r.decision === 'deny') a.denied += n;
  else a.errors += n;
  a.latencySum += Number(r.latency_ms_sum);
  if (r.buckets) addHistograms(a.buckets, r.buckets);
  a.outside += Number(r.outside_hours);
  a.withoutCase += Number(r.without_case);
}

/** [from, to) widened to whole hours, the projection's grain. */
export function hourRange(from: Date, to: Date): { from: Date; to: Date } {
  return { from: new Date(Math.floor(from.getTime() / HOUR_MS) * HOUR_MS), to: new Date(Math.ceil(to.getTime() / HOUR_MS) * HOUR_MS) };
}

function spread(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const p50 = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (x: number): number => Math.round(x * 100) / 100;
  return { mean: round(values.reduce((s, v) => s + v, 0) / values.length), p50: round(p50), max: round(sorted.at(-1)!) };
}

interface PendingRow {
  supplier: string;
  pending_at: Date | string;
  reply_due: string | null;
  answer: string | null;
  answered_at: Date | string | null;
}

/** Reply times and overdue replies of the application–reply procedure, per supplier department. */
export async function demandReplies(db: Queryable, from: Date, to: Date, now: Date, calendar: WorkingCalendar): Promise<AnalyticsReport['demandReplies']> {
  // Every stay in pending that began before the end of the range and had not ended before its start, with the
  // transition that ended it (the next one), the supplier that owed the reply and the deadline set on entering it.
  const { rows } = await db.query<PendingRow>(
    `SELECT r.provider_uscc AS supplier, p.at AS pending_at,
            coalesce(p.detail->>'replyDue', to_char(d.reply_due, 'YYYY-MM-DD')) AS reply_due,
            x.to_state AS answer, x.at AS answered_at
       FROM demand_transitions p
       JOIN demands d ON d.id = p.demand_id
       JOIN data_resources r ON r.code = d.resource_code
       LEFT JOIN LATERAL (
         SELECT t.to_state, t.at FROM demand_transitions t WHERE t.demand_id = p.demand_id AND t.seq > p.seq ORDER BY t.seq LIMIT 1
       ) x ON true
      WHERE p.to_state = 'pending' AND p.at < $2 AND (x.at IS NULL OR x.at >= $1)
      ORDER BY p.at LIMIT ${DEMANDS_MAX + 1}`,
    [from.toISOString(), to.toISOString()],
  );
  const truncated = rows.length > DEMANDS_MAX;
  const asOf = new Date(Math.min(to.getTime(), now.getTime()));
  const asOfDate = chinaDate(asOf);
  type Acc = { replies: number; approved: number; refused: number; days: number[]; hours: number[]; late: number; open: number; overdue: number };
  const empty = (): Acc => ({ replies: 0, approved: 0, refused: 0, days: [], hours: [], late: 0, open: 0, overdue: 0 });
  const bySupplier = new Map<string, Acc>();
  const all = empty();
  for (const row of rows.slice(0, DEMANDS_MAX)) {
    const acc = bySupplier.get(row.supplier) ?? empty();
    bySupplier.set(row.supplier, acc);
    const pendingAt = new Date(row.pending_at);
    const answeredAt = row.answered_at === null ? null : new Date(row.answered_at);
    for (const a of [acc, all]) {
      if (answeredAt && answeredAt < to && (row.answer === 'approved' || row.answer === 'refused')) {
        a.replies++;
        if (row.answer === 'approved') a.approved++;
        else a.refused++;
        a.days.push(calendar.workingDaysBetween(chinaDate(pendingAt), chinaDate(answeredAt)));
        a.hours.push((answeredAt.getTime() - pendingAt.getTime()) / HOUR_MS);
        if (row.reply_due !== null && chinaDate(answeredAt) > row.reply_due) a.late++;
      } else if ((answeredAt === null || answeredAt >= asOf) && pendingAt < asOf) {
        a.open++;
        if (row.reply_due !== null && asOfDate > row.reply_due) a.overdue++;
      }
    }
  }
  const names = await departmentNames(db, [...bySupplier.keys()]);
  const out = (a: Acc) => ({
    replies: a.replies,
    approved: a.approved,
    refused: a.refused,
    replyWorkingDays: spread(a.days),
    replyHours: spread(a.hours),
    answeredLate: a.late,
    open: a.open,
    overdue: a.overdue,
  });
  return {
    asOf: asOf.toISOString(),
    departments: [...bySupplier.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([department, a]) => ({ department, name: names.get(department) ?? null, ...out(a) })),
    totals: out(all),
    truncated,
  };
}

export async function departmentNames(db: Queryable, usccs: readonly string[]): Promise<Map<string, string>> {
  if (usccs.length === 0) return new Map();
  const { rows } = await db.query<{ uscc: string; name: string }>('SELECT uscc, name FROM departments WHERE uscc = ANY($1::text[])', [usccs]);
  return new Map(rows.map((r) => [r.uscc.trim(), r.name]));
}

let defaultCalendar: WorkingCalendar | undefined;

/** The report over [from, to) (widened to whole hours). The caller has checked the range (readAnalyticsRange). */
export async function analyticsReport(db: Queryable, query: AnalyticsReportQuery): Promise<AnalyticsReport> {
  const { from, to } = hourRange(query.from, query.to);
  const calendar = query.calendar ?? (defaultCalendar ??= loadWorkingCalendar());
  const column = query.by === 'resource' ? 'resource' : 'requester';
  const { rows } = await db.query<HourlySum>(
    `SELECT ${column} AS key, decision, sum(requests) AS requests, sum(items_requested) AS items_requested,
            sum(items_returned) AS items_returned, sum(latency_ms_sum) AS latency_ms_sum,
            audit_analytics_sum_buckets(latency_buckets) AS buckets, sum(outside_hours) AS outside_hours, sum(without_case) AS without_case
       FROM audit_analytics_hourly WHERE hour >= $1 AND hour < $2
      GROUP BY ${column}, decision ORDER BY ${column}, decision`,
    [from.toISOString(), to.toISOString()],
  );
  const byKey = new Map<string, Accumulator>();
  const totals = accumulator();
  for (const r of rows) {
    let a = byKey.get(r.key);
    if (!a) byKey.set(r.key, (a = accumulator()));
    add(a, r);
    add(totals, r);
  }
  const keys = [...byKey.keys()];
  const truncated = keys.length > REPORT_MAX_ROWS;
  const shown = keys.slice(0, REPORT_MAX_ROWS);
  let names: Map<string, string>;
  let suppliers = new Map<string, string>();
  if (query.by === 'resource') {
    const { rows: resources } = await db.query<{ code: string; name: string; provider_uscc: string }>(
      'SELECT code, name, provider_uscc FROM data_resources WHERE code = ANY($1::text[])',
      [shown],
    );
    names = new Map(resources.map((r) => [r.code, r.name]));
    suppliers = new Map(resources.map((r) => [r.code, r.provider_uscc.trim()]));
  } else names = await departmentNames(db, shown);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    by: query.by,
    rows: shown.map((key) => ({
      key,
      name: names.get(key) ?? null,
      ...(query.by === 'resource' ? { supplier: suppliers.get(key) ?? null } : {}),
      ...figures(byKey.get(key)!),
    })),
    totals: figures(totals),
    truncated,
    demandReplies: await demandReplies(db, from, to, query.now ?? new Date(), calendar),
    hourly: await hourlySeries(db, from, to),
    refusalsByRule: await refusalsByRule(db, from, to),
  };
}

async function hourlySeries(db: Queryable, from: Date, to: Date): Promise<AnalyticsReport['hourly']> {
  const { rows } = await db.query<{ hour: Date | string; requester: string; requests: string }>(
    `SELECT hour, requester, sum(requests) AS requests FROM audit_analytics_hourly WHERE hour >= $1 AND hour < $2
      GROUP BY hour, requester ORDER BY hour, requester LIMIT ${HOURLY_MAX_POINTS}`,
    [from.toISOString(), to.toISOString()],
  );
  return rows.map((r) => ({ hour: new Date(r.hour).toISOString(), department: r.requester, requests: Number(r.requests) }));
}

/** From the records themselves: the projection keeps no rules. The range is bounded (ZT_AUDIT_MAX_RANGE_DAYS). */
async function refusalsByRule(db: Queryable, from: Date, to: Date): Promise<AnalyticsReport['refusalsByRule']> {
  const { rows } = await db.query<{ rule: string; refusals: string }>(
    `SELECT r AS rule, count(*) AS refusals FROM access_record, unnest(rule_ids) AS r
      WHERE decision = 'deny' AND at >= $1 AND at < $2 GROUP BY r ORDER BY count(*) DESC, r LIMIT ${REFUSAL_RULES_MAX}`,
    [from.toISOString(), to.toISOString()],
  );
  return rows.map((r) => ({ rule: r.rule, refusals: Number(r.refusals) }));
}
