// Turns the supervision tools on the simulated day, as a supervisor would: through the gateway's API, signed with
// the supervising department's key. It asks for the day's anomaly flags and matches them with what was planted, then
// follows the flags into the log: the records behind one, and what one of the people read sees of it.
import type { AnomalyFlag, AnomalyReport } from '../../audit/analytics/index.js';
import { AuditAnalyticsClient } from '../../client/audit-analytics-client.js';
import { AuditClient } from '../../client/audit-client.js';
import type { Signer } from '../../certs/signer/index.js';
import type { Queryable } from '../../core/storage/index.js';
import { chinaMidnight, type PlantedAnomaly, type ScenarioPlan } from './plan.js';

const DAY = 86_400_000;

export interface PlantedFinding {
  planted: PlantedAnomaly;
  /** The flags that name it; empty when it was missed. */
  flags: AnomalyFlag[];
}

export interface ScenarioFindings {
  anomalies: AnomalyReport;
  findings: PlantedFinding[];
  missed: PlantedAnomaly[];
  /** Flags about nothing planted (a flag of another kind about a planted event is not counted here). */
  unplanned: AnomalyFlag[];
  /** The records of the operator who read many people, found by search. */
  operatorRecords: number;
  /** One of the people that operator read, and whether their own view shows the read with its purpose. */
  subjectView: { subject: string; accesses: number; showsTheRead: boolean };
}

/** Whether a flag names a planted anomaly: same kind and department, the same operator where both name one, overlapping in time. */
export function flagMatches(flag: AnomalyFlag, planted: PlantedAnomaly): boolean {
  return flag.kind === planted.kind && flagTouches(flag, planted);
}

/**
 * Whether a flag is about the same planted event, whatever its kind: same department (and operator where both name
 * one), overlapping in time. Forty reads in a night hour are outside working hours and, for a department that makes
 * seven an hour, a volume spike too; the second flag is not a false alarm.
 */
export function flagTouches(flag: AnomalyFlag, planted: PlantedAnomaly): boolean {
  if (flag.department !== planted.requester) return false;
  if (planted.operator !== undefined && flag.operator !== null && flag.operator !== planted.operator) return false;
  const from = Date.parse(flag.window.from);
  const to = Date.parse(flag.window.to);
  return from < planted.to && planted.from < to;
}

/** Waits until the analytics projection has applied every access record (it is fed by events, asynchronously). */
export async function waitForAnalytics(db: Queryable, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ behind: string }>('SELECT (SELECT count(*) FROM access_record) - (SELECT count(*) FROM audit_analytics_applied) AS behind');
    const behind = Number(rows[0]!.behind);
    if (behind <= 0) return;
    if (Date.now() > deadline) throw new Error(`the analytics projection is still ${behind} records behind the access log after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface AnalyseOptions {
  httpUrl: string;
  grpcAddress: string;
  /** The supervising department's signer (a supervisor of ZT_AUDIT_SUPERVISORS). */
  supervisor: Signer;
  protocol?: 'http' | 'grpc';
}

export async function analyseSimulatedDay(plan: ScenarioPlan, options: AnalyseOptions): Promise<ScenarioFindings> {
  const protocol = options.protocol ?? 'http';
  const connection = { httpUrl: options.httpUrl, grpcAddress: options.grpcAddress, signer: options.supervisor, protocol };
  const analytics = new AuditAnalyticsClient(connection);
  const audit = new AuditClient(connection);
  try {
    const from = new Date(chinaMidnight(plan.day));
    const to = new Date(from.getTime() + DAY);
    const anomalies = await analytics.anomalies({ from, to });
    const findings = plan.planted.map((planted) => ({ planted, flags: anomalies.flags.filter((f) => flagMatches(f, planted)) }));
    const unplanned = anomalies.flags.filter((f) => !plan.planted.some((p) => flagTouches(f, p)));

    // Follow the operator flag into the log: every record of that operator on the day, page by page.
    const many = plan.planted.find((p) => p.kind === 'operator-many-subjects')!;
    let operatorRecords = 0;
    for (let cursor: string | undefined; ; ) {
      const page = await audit.search({ department: many.requester, operator: many.operator!, from, to, limit: 500, ...(cursor ? { cursor } : {}) });
      operatorRecords += page.records.length;
      if (!page.next) break;
      cursor = page.next;
    }
    // The log names people by the blind index of their ID number only; the person whose view is shown is one the
    // operator read, as the plan (the people's own side) knows them.
    const firstSubject = plan.requests.find((r) => r.operator === many.operator && r.demand.requester === many.requester && r.at >= from.getTime() && r.at < to.getTime())?.subjectCode ?? null;
    // …and what one of the people read sees: the department, the purpose, the time.
    let subjectView = { subject: firstSubject ?? '', accesses: 0, showsTheRead: false };
    if (firstSubject) {
      const view = await audit.subjectAccesses(firstSubject, { from, to, limit: 500 });
      const text = JSON.stringify(view.accesses);
      subjectView = { subject: firstSubject, accesses: view.accesses.length, showsTheRead: text.includes(many.requester) && text.includes('YLBX-210100-0101') };
    }
    return { anomalies, findings, missed: findings.filter((f) => f.flags.length === 0).map((f) => f.planted), unplanned, operatorRecords, subjectView };
  } finally {
    await Promise.all([analytics.close(), audit.close()]);
  }
}
