// Anomaly flags (异常预警) over the access log's projection. Every flag is deterministic (the same data gives the same
// flags, in the same order, with the same ids) and explained: a reason in plain words with the numbers, the counts
// behind it and a few sample record ids or case numbers. docs/audit-analytics.md describes each rule.
import { ZtError } from '../../core/errors/index.js';
import { sqlState, type Queryable } from '../../core/storage/index.js';
import { departmentNames, hourRange } from './report.js';
import { chinaDate, type WorkingHours } from './working-hours.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const CHINA_OFFSET_MS = 8 * HOUR_MS;
/** 1.4826 × MAD estimates the standard deviation of normal data, and ignores the outliers a mean would chase. */
const MAD_TO_SIGMA = 1.4826;

export const ANOMALY_KINDS = ['volume-spike', 'outside-working-hours', 'missing-case-number', 'case-number-mismatch', 'operator-many-subjects'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface AnomalyFlag {
  /** Stable: kind/department/operator/window start. */
  id: string;
  kind: AnomalyKind;
  /** Which form of the rule fired, e.g. volume-spike/own-baseline or case-number-mismatch/pattern. */
  rule: string;
  /** USCC of the requesting department ('' when the requests named none). */
  department: string;
  departmentName: string | null;
  /** The operator (经办人), for rules about one; null otherwise or when the requests named none. */
  operator: string | null;
  window: { from: string; to: string };
  reason: string;
  evidence: Record<string, number>;
  samples: { recordIds: string[]; caseNumbers: string[] };
}

export interface SpikeSettings {
  /** An hour with fewer requests is never a spike. */
  minRequests: number;
  /** At least this many times the baseline median. */
  ratio: number;
  /** And at least this many robust standard deviations above it. */
  sigmas: number;
  /** Days of history the baseline is taken from. */
  baselineDays: number;
  /** Fewer whole working hours of history than this: the baseline is the department's other working hours of the day. */
  minBaselineHours: number;
}

export interface AnomalySettings {
  workingHours: WorkingHours;
  spike: SpikeSettings;
  /** ZT_AUDIT_OPERATOR_SUBJECTS_PER_DAY. */
  operatorSubjectsPerDay: number;
  /** And at least this many times the median of the department's other operators that day. */
  operatorFarAbove: number;
  /** ZT_AUDIT_CASE_NUMBER_PATTERN (a POSIX regular expression, as PostgreSQL's ~), or null. */
  caseNumberPattern: string | null;
  /** Fewest requests outside working hours (per operator and day) that make a flag. */
  outsideHoursMin: number;
  /** Fewest requests without a case number (per operator and day) that make a flag. */
  missingCaseMin: number;
  /** Most flags returned; more set `truncated`. */
  maxFlags: number;
}

export const DEFAULT_SPIKE: SpikeSettings = { minRequests: 30, ratio: 4, sigmas: 5, baselineDays: 7, minBaselineHours: 14 };

export function anomalySettings(workingHours: WorkingHours, over: Partial<Omit<AnomalySettings, 'workingHours' | 'spike'>> & { spike?: Partial<SpikeSettings> } = {}): AnomalySettings {
  return {
    workingHours,
    operatorSubjectsPerDay: over.operatorSubjectsPerDay ?? 100,
    operatorFarAbove: over.operatorFarAbove ?? 3,
    caseNumberPattern: over.caseNumberPattern ?? null,
    outsideHoursMin: over.outsideHoursMin ?? 1,
    missingCaseMin: over.missingCaseMin ?? 1,
    maxFlags: over.maxFlags ?? 1000,
    spike: { ...DEFAULT_SPIKE, ...over.spike },
  };
}

export interface AnomalyQuery {
  from: Date;
  to: Date;
  settings: AnomalySettings;
}

export interface AnomalyReport {
  from: string;
  to: string;
  settings: {
    workingHours: string;
    spike: SpikeSettings;
    operatorSubjectsPerDay: number;
    operatorFarAbove: number;
    caseNumberPattern: string | null;
  };
  /** Ordered by window start, then kind, department, operator. */
  flags: AnomalyFlag[];
  truncated: boolean;
}

// ---- wording ----

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
function n(value: number): string {
  return number.format(value);
}

/** China time of an instant: YYYY-MM-DD HH:MM. */
function local(at: Date): string {
  return new Date(at.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}

function localTime(at: Date): string {
  return local(at).slice(11);
}

function times(value: number): string {
  return value >= 10 ? `${Math.round(value)}×` : `${n(Math.round(value * 10) / 10)}×`;
}

function chinaDayStart(date: string): Date {
  return new Date(Date.parse(`${date}T00:00:00+08:00`));
}

function who(operator: string): string {
  return operator === '' ? 'requests naming no operator' : `operator ${operator}`;
}

// ---- statistics ----

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Baseline {
  median: number;
  sigma: number;
  hours: number;
  source: 'own-baseline' | 'same-day';
}

function baselineOf(values: readonly number[], source: Baseline['source']): Baseline {
  const m = median(values);
  const mad = median(values.map((v) => Math.abs(v - m)));
  // Counts vary by about √m even when nothing is wrong: the floor keeps a quiet, regular department from being
  // flagged for a handful of extra requests.
  return { median: m, sigma: Math.max(MAD_TO_SIGMA * mad, Math.sqrt(Math.max(m, 1))), hours: values.length, source };
}

// ---- the rules ----

async function volumeSpikes(db: Queryable, from: Date, to: Date, s: AnomalySettings): Promise<AnomalyFlag[]> {
  const spike = s.spike;
  const historyFrom = new Date(chinaDayStart(chinaDate(from)).getTime() - spike.baselineDays * DAY_MS);
  const { rows } = await db.query<{ requester: string; hour: Date | string; requests: string }>(
    `SELECT requester, hour, sum(requests) AS requests FROM audit_analytics_hourly
      WHERE hour >= $1 AND hour < $2 GROUP BY requester, hour`,
    [historyFrom.toISOString(), to.toISOString()],
  );
  const volumes = new Map<string, Map<number, number>>();
  const active = new Set<string>();
  for (const r of rows) {
    const t = new Date(r.hour).getTime();
    let m = volumes.get(r.requester);
    if (!m) volumes.set(r.requester, (m = new Map()));
    m.set(t, Number(r.requests));
    if (t >= from.getTime()) active.add(r.requester);
  }
  if (active.size === 0) return [];
  // Zero-volume hours count in a baseline only from the department's first recorded hour: before it, silence says nothing.
  const { rows: firsts } = await db.query<{ requester: string; first: Date | string }>(
    `SELECT r.requester, (SELECT min(h.hour) FROM audit_analytics_hourly h WHERE h.requester = r.requester) AS first
       FROM unnest($1::text[]) AS r(requester)`,
    [[...active]],
  );
  const firstHour = new Map(firsts.map((f) => [f.requester, new Date(f.first).getTime()]));
  const flags: AnomalyFlag[] = [];
  for (const requester of [...active].sort()) {
    const hours = volumes.get(requester)!;
    const first = firstHour.get(requester) ?? from.getTime();
    const volume = (t: number): number => hours.get(t) ?? 0;
    const ownBaselines = new Map<string, Baseline | null>();
    for (let t = from.getTime(); t < to.getTime(); t += HOUR_MS) {
      const v = volume(t);
      if (v < spike.minRequests) continue;
      const day = chinaDate(new Date(t));
      let own = ownBaselines.get(day);
      if (own === undefined) {
        const dayStart = chinaDayStart(day).getTime();
        const values: number[] = [];
        for (let h = Math.max(dayStart - spike.baselineDays * DAY_MS, first); h < dayStart; h += HOUR_MS) {
          if (s.workingHours.isWholeWorkingHour(new Date(h))) values.push(volume(h));
        }
        own = values.length >= spike.minBaselineHours ? baselineOf(values, 'own-baseline') : null;
        ownBaselines.set(day, own);
      }
      let baseline = own;
      if (!baseline) {
        // Too little history: its other whole working hours of the same day.
        const dayStart = chinaDayStart(day).getTime();
        const values: number[] = [];
        for (let h = Math.max(dayStart, first); h < dayStart + DAY_MS; h += HOUR_MS) {
          if (h !== t && s.workingHours.isWholeWorkingHour(new Date(h))) values.push(volume(h));
        }
        if (values.length < 3) continue; // nothing to compare with: no flag without a reason
        baseline = baselineOf(values, 'same-day');
      }
      const base = Math.max(baseline.median, 1);
      if (v < spike.ratio * base || v - baseline.median < spike.sigmas * baseline.sigma) continue;
      const start = new Date(t);
      const end = new Date(t + HOUR_MS);
      const how =
        baseline.source === 'own-baseline'
          ? `its median over the previous ${spike.baselineDays} days' working hours`
          : `its median over its other ${baseline.hours} working hours of the same day, as it has too little history`;
      flags.push({
        id: '',
        kind: 'volume-spike',
        rule: `volume-spike/${baseline.source}`,
        department: requester,
        departmentName: null,
        operator: null,
        window: { from: start.toISOString(), to: end.toISOString() },
        reason: `${n(v)} requests on ${local(start)}–${localTime(end)} (China time) against a baseline of ${n(Math.round(baseline.median * 10) / 10)} ± ${n(Math.round(baseline.sigma * 10) / 10)} per hour (${how}): ${times(v / base)} its own baseline`,
        evidence: { requests: v, baselineMedian: baseline.median, baselineSigma: Math.round(baseline.sigma * 100) / 100, baselineHours: baseline.hours, ratio: Math.round((v / base) * 100) / 100 },
        samples: { recordIds: [], caseNumbers: [] },
      });
    }
  }
  // A few records of each spike, when the live log still holds them (it may have been archived).
  for (const flag of flags.slice(0, 200)) {
    const { rows: ids } = await db.query<{ id: string }>('SELECT id FROM access_record WHERE requester = $1 AND at >= $2 AND at < $3 ORDER BY at, seq LIMIT 5', [
      flag.department,
      flag.window.from,
      flag.window.to,
    ]);
    flag.samples.recordIds = ids.map((r) => r.id);
  }
  return flags;
}

interface OperatorDayRow {
  day: string;
  requester: string;
  operator: string;
  requests: string;
  subjects: string;
  outside_hours: string;
  without_case: string;
  outside_first_at: Date | string | null;
  outside_last_at: Date | string | null;
  samples: string[];
  outside_samples: string[];
  without_case_samples: string[];
}

async function operatorDays(db: Queryable, from: Date, to: Date): Promise<OperatorDayRow[]> {
  const { rows } = await db.query<OperatorDayRow>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, requester, operator, requests, subjects, outside_hours, without_case,
            outside_first_at, outside_last_at, samples::text[] AS samples, outside_samples::text[] AS outside_samples,
            without_case_samples::text[] AS without_case_samples
       FROM audit_analytics_operator_day WHERE day >= $1::date AND day <= $2::date
      ORDER BY day, requester, operator`,
    [chinaDate(from), chinaDate(new Date(to.getTime() - 1))],
  );
  return rows;
}

function dayWindow(day: string): { from: string; to: string } {
  const start = chinaDayStart(day);
  return { from: start.toISOString(), to: new Date(start.getTime() + DAY_MS).toISOString() };
}

function outsideHours(rows: readonly OperatorDayRow[], s: AnomalySettings): AnomalyFlag[] {
  const flags: AnomalyFlag[] = [];
  for (const r of rows) {
    const count = Number(r.outside_hours);
    if (count < s.outsideHoursMin || count === 0) continue;
    const first = new Date(r.outside_first_at ?? chinaDayStart(r.day));
    const last = new Date(r.outside_last_at ?? first);
    const working = s.workingHours.isWorkingDay(r.day);
    const dayKind = working ? `a working day; working hours ${s.workingHours.text}` : 'not a working day: a weekend or public holiday';
    flags.push({
      id: '',
      kind: 'outside-working-hours',
      rule: working ? 'outside-working-hours/time' : 'outside-working-hours/day',
      department: r.requester,
      departmentName: null,
      operator: r.operator === '' ? null : r.operator,
      window: { from: first.toISOString(), to: new Date(last.getTime() + 1).toISOString() },
      reason: `${n(count)} request${count === 1 ? '' : 's'} outside working hours by ${who(r.operator)} on ${r.day} (${dayKind}, China time), between ${localTime(first)} and ${localTime(last)}; ${n(Number(r.requests))} requests that day in all`,
      evidence: { requests: count, requestsThatDay: Number(r.requests), workingDay: working ? 1 : 0 },
      samples: { recordIds: r.outside_samples, caseNumbers: [] },
    });
  }
  return flags;
}

function missingCaseNumbers(rows: readonly OperatorDayRow[], s: AnomalySettings): AnomalyFlag[] {
  const flags: AnomalyFlag[] = [];
  for (const r of rows) {
    const count = Number(r.without_case);
    if (count < s.missingCaseMin || count === 0) continue;
    flags.push({
      id: '',
      kind: 'missing-case-number',
      rule: 'missing-case-number',
      department: r.requester,
      departmentName: null,
      operator: r.operator === '' ? null : r.operator,
      window: dayWindow(r.day),
      reason: `${n(count)} of ${n(Number(r.requests))} requests by ${who(r.operator)} on ${r.day} named no case number (办件编号): an access must be for a case`,
      evidence: { requests: count, requestsThatDay: Number(r.requests) },
      samples: { recordIds: r.without_case_samples, caseNumbers: [] },
    });
  }
  return flags;
}

function manySubjects(rows: readonly OperatorDayRow[], s: AnomalySettings): AnomalyFlag[] {
  const flags: AnomalyFlag[] = [];
  const groups = new Map<string, OperatorDayRow[]>();
  for (const r of rows) {
    const key = `${r.day}\u0000${r.requester}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  for (const group of groups.values()) {
    for (const r of group) {
      const subjects = Number(r.subjects);
      if (subjects <= s.operatorSubjectsPerDay) continue;
      const others = group.filter((o) => o !== r).map((o) => Number(o.subjects));
      const typical = median(others);
      let comparison: string;
      if (others.length > 0) {
        if (subjects < s.operatorFarAbove * Math.max(typical, 1)) continue;
        comparison = `and ${times(subjects / Math.max(typical, 1))} the median of the department's ${others.length} other operator${others.length === 1 ? '' : 's'} that day (${n(typical)})`;
      } else comparison = 'and no other operator of the department read any that day';
      flags.push({
        id: '',
        kind: 'operator-many-subjects',
        rule: others.length > 0 ? 'operator-many-subjects/peers' : 'operator-many-subjects/alone',
        department: r.requester,
        departmentName: null,
        operator: r.operator === '' ? null : r.operator,
        window: dayWindow(r.day),
        reason: `${r.operator === '' ? 'Requests naming no operator' : `Operator ${r.operator}`} read ${n(subjects)} distinct subjects on ${r.day}, over the limit of ${n(s.operatorSubjectsPerDay)} a day (ZT_AUDIT_OPERATOR_SUBJECTS_PER_DAY) ${comparison}`,
        evidence: { subjects, requests: Number(r.requests), limit: s.operatorSubjectsPerDay, otherOperators: others.length, otherOperatorsMedian: typical },
        samples: { recordIds: r.samples, caseNumbers: [] },
      });
    }
  }
  return flags;
}

interface CaseRow {
  requester: string;
  case_number: string;
  service_item: string;
  requests: string;
  first_at: Date | string;
  first_item: string | null;
  samples: string[];
}

function groupByDay(rows: readonly CaseRow[]): Map<string, CaseRow[]> {
  const groups = new Map<string, CaseRow[]>();
  for (const r of rows) {
    const key = `${chinaDate(new Date(r.first_at))}\u0000${r.requester}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  return groups;
}

async function caseMismatches(db: Queryable, from: Date, to: Date, s: AnomalySettings): Promise<AnomalyFlag[]> {
  const flags: AnomalyFlag[] = [];
  // A case (办件) is for one service item (事项): a use of its number with another item than the first is flagged
  // where that use began. Rows without a service item (refused requests) say nothing about the case.
  const { rows } = await db.query<CaseRow>(
    `WITH touched AS (
       SELECT DISTINCT requester, case_number FROM audit_analytics_case WHERE first_at >= $1 AND first_at < $2 AND service_item <> ''
     ), ranked AS (
       SELECT c.requester, c.case_number, c.service_item, c.requests, c.first_at, c.samples::text[] AS samples,
              first_value(c.service_item) OVER w AS first_item, row_number() OVER w AS rank
         FROM audit_analytics_case c JOIN touched t ON t.requester = c.requester AND t.case_number = c.case_number
        WHERE c.service_item <> ''
       WINDOW w AS (PARTITION BY c.requester, c.case_number ORDER BY c.first_at, c.service_item)
     )
     SELECT requester, case_number, service_item, requests, first_at, first_item, samples FROM ranked
      WHERE rank > 1 AND first_at >= $1 AND first_at < $2
      ORDER BY first_at, requester, case_number, service_item LIMIT 10000`,
    [from.toISOString(), to.toISOString()],
  );
  for (const [key, group] of groupByDay(rows)) {
    const [day, requester] = key.split('\u0000') as [string, string];
    const cases = new Set(group.map((r) => r.case_number));
    const requests = group.reduce((t, r) => t + Number(r.requests), 0);
    const listed = group
      .slice(0, 3)
      .map((r) => `${r.case_number} first for ${r.first_item}, then for ${r.service_item} (${n(Number(r.requests))} request${Number(r.requests) === 1 ? '' : 's'})`)
      .join('; ');
    flags.push({
      id: '',
      kind: 'case-number-mismatch',
      rule: 'case-number-mismatch/service-item',
      department: requester,
      departmentName: null,
      operator: null,
      window: { from: new Date(group[0]!.first_at).toISOString(), to: new Date(new Date(group.at(-1)!.first_at).getTime() + 1).toISOString() },
      reason: `${n(cases.size)} case number${cases.size === 1 ? ' was' : 's were'} used on ${day} with a service item (事项) other than the one ${cases.size === 1 ? 'it was' : 'each was'} first used for: ${listed}${group.length > 3 ? '; …' : ''}`,
      evidence: { cases: cases.size, requests },
      samples: { recordIds: group.flatMap((r) => r.samples).slice(0, 5), caseNumbers: [...cases].slice(0, 5) },
    });
  }
  if (s.caseNumberPattern !== null) {
    let patterned: CaseRow[];
    try {
      ({ rows: patterned } = await db.query<CaseRow>(
        `SELECT requester, case_number, '' AS service_item, sum(requests) AS requests, min(first_at) AS first_at, NULL AS first_item,
                array_remove(array_agg(samples[1]::text ORDER BY first_at), NULL) AS samples
           FROM audit_analytics_case
          WHERE first_at >= $1 AND first_at < $2 AND NOT (case_number ~ $3)
          GROUP BY requester, case_number ORDER BY min(first_at), requester, case_number LIMIT 10000`,
        [from.toISOString(), to.toISOString(), s.caseNumberPattern],
      ));
    } catch (error) {
      if (sqlState(error) === '2201B') throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_AUDIT_CASE_NUMBER_PATTERN is not a regular expression PostgreSQL accepts: ${(error as Error).message}`, { cause: error });
      throw error;
    }
    for (const [key, group] of groupByDay(patterned)) {
      const [day, requester] = key.split('\u0000') as [string, string];
      const requests = group.reduce((t, r) => t + Number(r.requests), 0);
      flags.push({
        id: '',
        kind: 'case-number-mismatch',
        rule: 'case-number-mismatch/pattern',
        department: requester,
        departmentName: null,
        operator: null,
        window: { from: new Date(group[0]!.first_at).toISOString(), to: new Date(new Date(group.at(-1)!.first_at).getTime() + 1).toISOString() },
        reason: `${n(group.length)} case number${group.length === 1 ? '' : 's'} used on ${day} (${n(requests)} request${requests === 1 ? '' : 's'}) do not match the pattern ${s.caseNumberPattern} (ZT_AUDIT_CASE_NUMBER_PATTERN): ${group
          .slice(0, 3)
          .map((r) => r.case_number)
          .join(', ')}${group.length > 3 ? ', …' : ''}`,
        evidence: { cases: group.length, requests },
        samples: { recordIds: group.flatMap((r) => r.samples.filter(Boolean)).slice(0, 5), caseNumbers: group.slice(0, 5).map((r) => r.case_number) },
      });
    }
  }
  return flags;
}

function order(a: AnomalyFlag, b: AnomalyFlag): number {
  const keys: [string, string][] = [
    [a.window.from, b.window.from],
    [a.kind, b.kind],
    [a.department, b.department],
    [a.operator ?? '', b.operator ?? ''],
    [a.rule, b.rule],
  ];
  for (const [x, y] of keys) if (x !== y) return x < y ? -1 : 1;
  return 0;
}

/** The anomaly flags over [from, to) (widened to whole hours). The caller has checked the range. */
export async function detectAnomalies(db: Queryable, query: AnomalyQuery): Promise<AnomalyReport> {
  const { from, to } = hourRange(query.from, query.to);
  const s = query.settings;
  const days = await operatorDays(db, from, to);
  const flags = [
    ...(await volumeSpikes(db, from, to, s)),
    ...outsideHours(days, s),
    ...missingCaseNumbers(days, s),
    ...manySubjects(days, s),
    ...(await caseMismatches(db, from, to, s)),
  ].sort(order);
  const names = await departmentNames(db, [...new Set(flags.map((f) => f.department))]);
  for (const f of flags) {
    f.departmentName = names.get(f.department) ?? null;
    f.id = `${f.kind}/${f.department || '-'}/${f.operator ?? '-'}/${f.window.from}`;
  }
  const shown = flags.slice(0, s.maxFlags);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    settings: {
      workingHours: s.workingHours.text,
      spike: s.spike,
      operatorSubjectsPerDay: s.operatorSubjectsPerDay,
      operatorFarAbove: s.operatorFarAbove,
      caseNumberPattern: s.caseNumberPattern,
    },
    flags: shown,
    truncated: flags.length > shown.length,
  };
}
