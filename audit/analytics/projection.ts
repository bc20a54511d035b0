// The analytics projection (效能分析): access records folded into the aggregates of migrations/0012. Delivery of
// access.recorded events is at least once, so applying is idempotent: one SQL statement inserts the records' ids
// into audit_analytics_applied (ON CONFLICT DO NOTHING RETURNING) and aggregates only the ids it inserted, all in
// that statement's own transaction. A batch of any size is one statement, one round trip, one commit: the
// commit (a WAL flush) is most of the cost of a one-record batch, so batches are what make it fast (bench/audit-analytics.ts).
import { isBlindIndex, type BlindIndex } from '../../core/pseudonyms/index.js';
import type { Database } from '../../core/storage/index.js';
import { sqlState } from '../../core/storage/index.js';
import { ACCESS_DECISIONS, accessRecordToJson, type AccessRecordJson } from '../access-record.js';
import { ACCESS_RECORD_COLUMNS, accessRecordFromRow, type AccessRecordRow } from '../access-record-row.js';
import { latencyBucket } from './histogram.js';
import { chinaDate, type WorkingHours } from './working-hours.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DECISIONS: ReadonlySet<string> = new Set(ACCESS_DECISIONS);
/** Deadlocks (two batches upserting the same rows) and serialisation failures are retried this many times. */
const ATTEMPTS = 5;

export interface ProjectionOptions {
  workingHours: WorkingHours;
  /** Days of record ids kept behind the newest record (ZT_AUDIT_ANALYTICS_RETENTION_DAYS). */
  retentionDays: number;
  /**
   * Events carry the subject's blind index. An event written before identifiers were pseudonymised (migration 0016,
   * still on the topic) carries the identifier in clear: with the blind index it is indexed here, without it the
   * subject is left out of the distinct-subject counts; either way no identifier is stored.
   */
  pseudonyms?: BlindIndex;
}

export interface ApplyReport {
  /** Records handed in. */
  received: number;
  /** Aggregated now: their ids were new. */
  applied: number;
  /** Already aggregated (a redelivery, or twice in the batch). */
  duplicates: number;
  /** Older than the pruning horizon: skipped, as their ids may have been pruned. */
  late: number;
  /** Not an access record this projection can read (no id, time or decision); skipped. */
  malformed: number;
}

export interface PruneReport {
  /** Records before this time are no longer tracked (null: nothing to prune yet). */
  horizon: Date | null;
  removedIds: number;
  removedSubjects: number;
}

/** One record as the statement reads it (jsonb_to_recordset): keys without a value are ''. */
interface Row {
  id: string;
  at: string;
  hour: string;
  day: string;
  requester: string;
  operator: string;
  subject: string;
  resource: string;
  service_item: string;
  case_number: string;
  decision: string;
  items_requested: number;
  items_returned: number;
  latency: number;
  bucket: number;
  outside: boolean;
}

const APPLY = `
WITH horizon AS (
  SELECT pruned_before FROM audit_analytics_state WHERE singleton FOR SHARE
),
input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(
    id uuid, at timestamptz, hour timestamptz, day date, requester text, operator text, subject text, resource text,
    service_item text, case_number text, decision text, items_requested integer, items_returned integer,
    latency double precision, bucket integer, outside boolean)
),
fresh AS (
  INSERT INTO audit_analytics_applied (record_id, at)
  SELECT DISTINCT ON (i.id) i.id, i.at FROM input i, horizon h
  WHERE h.pruned_before IS NULL OR i.at >= h.pruned_before
  ORDER BY i.id
  ON CONFLICT (record_id) DO NOTHING
  RETURNING record_id
),
new AS (
  SELECT i.* FROM (SELECT DISTINCT ON (id) * FROM input ORDER BY id) i JOIN fresh f ON f.record_id = i.id
),
hourly AS (
  INSERT INTO audit_analytics_hourly AS t (hour, requester, resource, decision, requests, items_requested, items_returned,
    latency_ms_sum, latency_buckets, outside_hours, without_case)
  SELECT hour, requester, resource, decision, count(*), sum(items_requested), sum(items_returned), sum(latency),
    audit_analytics_histogram(bucket), count(*) FILTER (WHERE outside), count(*) FILTER (WHERE case_number = '')
  FROM new GROUP BY hour, requester, resource, decision ORDER BY hour, requester, resource, decision
  ON CONFLICT (hour, requester, resource, decision) DO UPDATE SET
    requests = t.requests + excluded.requests,
    items_requested = t.items_requested + excluded.items_requested,
    items_returned = t.items_returned + excluded.items_returned,
    latency_ms_sum = t.latency_ms_sum + excluded.latency_ms_sum,
    latency_buckets = audit_analytics_add_buckets(t.latency_buckets, excluded.latency_buckets),
    outside_hours = t.outside_hours + excluded.outside_hours,
    without_case = t.without_case + excluded.without_case
  RETURNING 1
),
subjects AS (
  INSERT INTO audit_analytics_operator_subject (day, requester, operator, subject_code)
  SELECT DISTINCT day, requester, operator, subject FROM new WHERE subject <> '' AND decision = 'permit'
  ORDER BY day, requester, operator, subject
  ON CONFLICT DO NOTHING
  RETURNING day, requester, operator
),
operators AS (
  INSERT INTO audit_analytics_operator_day AS t (day, requester, operator, requests, subjects, outside_hours, without_case,
    first_at, last_at, outside_first_at, outside_last_at, samples, outside_samples, without_case_samples)
  SELECT n.day, n.requester, n.operator, count(*), coalesce(max(s.c), 0),
    count(*) FILTER (WHERE n.outside), count(*) FILTER (WHERE n.case_number = ''),
    min(n.at), max(n.at), min(n.at) FILTER (WHERE n.outside), max(n.at) FILTER (WHERE n.outside),
    audit_analytics_samples(NULL, array_agg(n.id), 5),
    audit_analytics_samples(NULL, array_agg(n.id) FILTER (WHERE n.outside), 5),
    audit_analytics_samples(NULL, array_agg(n.id) FILTER (WHERE n.case_number = ''), 5)
  FROM new n
  LEFT JOIN (SELECT day, requester, operator, count(*) AS c FROM subjects GROUP BY day, requester, operator) s
    ON s.day = n.day AND s.requester = n.requester AND s.operator = n.operator
  GROUP BY n.day, n.requester, n.operator ORDER BY n.day, n.requester, n.operator
  ON CONFLICT (day, requester, operator) DO UPDATE SET
    requests = t.requests + excluded.requests,
    subjects = t.subjects + excluded.subjects,
    outside_hours = t.outside_hours + excluded.outside_hours,
    without_case = t.without_case + excluded.without_case,
    first_at = least(t.first_at, excluded.first_at),
    last_at = greatest(t.last_at, excluded.last_at),
    outside_first_at = least(t.outside_first_at, excluded.outside_first_at),
    outside_last_at = greatest(t.outside_last_at, excluded.outside_last_at),
    samples = audit_analytics_samples(t.samples, excluded.samples, 5),
    outside_samples = audit_analytics_samples(t.outside_samples, excluded.outside_samples, 5),
    without_case_samples = audit_analytics_samples(t.without_case_samples, excluded.without_case_samples, 5)
  RETURNING 1
),
cases AS (
  INSERT INTO audit_analytics_case AS t (requester, case_number, service_item, requests, first_at, last_at, samples)
  SELECT requester, case_number, service_item, count(*), min(at), max(at), audit_analytics_samples(NULL, array_agg(id), 3)
  FROM new WHERE case_number <> '' GROUP BY requester, case_number, service_item ORDER BY requester, case_number, service_item
  ON CONFLICT (requester, case_number, service_item) DO UPDATE SET
    requests = t.requests + excluded.requests,
    first_at = least(t.first_at, excluded.first_at),
    last_at = greatest(t.last_at, excluded.last_at),
    samples = audit_analytics_samples(t.samples, excluded.samples, 3)
  RETURNING 1
)
SELECT (SELECT count(*) FROM fresh)::int AS applied,
  (SELECT count(DISTINCT i.id) FROM input i, horizon h WHERE h.pruned_before IS NOT NULL AND i.at < h.pruned_before)::int AS late`;

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function count(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

export class AnalyticsProjection {
  readonly #db: Database;
  readonly #hours: WorkingHours;
  readonly #retentionMs: number;
  readonly #pseudonyms: BlindIndex | null;

  constructor(db: Database, options: ProjectionOptions) {
    this.#db = db;
    this.#hours = options.workingHours;
    this.#retentionMs = options.retentionDays * DAY_MS;
    this.#pseudonyms = options.pseudonyms ?? null;
  }

  /** The subject as stored: its blind index, or '' (none). */
  #subject(value: unknown): string {
    const code = text(value);
    if (code === '' || isBlindIndex(code)) return code;
    return this.#pseudonyms ? this.#pseudonyms.of(code) : '';
  }

  get workingHours(): WorkingHours {
    return this.#hours;
  }

  /** The row the statement reads, or null when the record cannot be read (it is then skipped). */
  row(record: AccessRecordJson): Row | null {
    const r = record as Partial<AccessRecordJson> | null;
    if (!r || typeof r !== 'object' || typeof r.id !== 'string' || !UUID.test(r.id)) return null;
    const ms = typeof r.at === 'string' ? Date.parse(r.at) : NaN;
    if (!Number.isFinite(ms) || typeof r.decision !== 'string' || !DECISIONS.has(r.decision)) return null;
    const latency = typeof r.latencyMs === 'number' && Number.isFinite(r.latencyMs) && r.latencyMs >= 0 ? r.latencyMs : 0;
    const at = new Date(ms);
    return {
      id: r.id,
      at: at.toISOString(),
      hour: new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString(),
      day: chinaDate(at),
      requester: text(r.requester),
      operator: text(r.operator),
      subject: this.#subject(r.subjectCode),
      resource: text(r.resource),
      service_item: text(r.serviceItem),
      case_number: text(r.caseNumber),
      decision: r.decision,
      items_requested: count(r.itemsRequested),
      items_returned: count(r.itemsReturned),
      latency,
      bucket: latencyBucket(latency),
      outside: !this.#hours.isWorkingTime(at),
    };
  }

  /** Aggregates the records whose ids are new; one statement, retried on a deadlock with a concurrent batch. */
  async apply(records: readonly AccessRecordJson[]): Promise<ApplyReport> {
    const rows: Row[] = [];
    for (const record of records) {
      const row = this.row(record);
      if (row) rows.push(row);
    }
    const report: ApplyReport = { received: records.length, applied: 0, duplicates: 0, late: 0, malformed: records.length - rows.length };
    if (rows.length === 0) return report;
    const json = JSON.stringify(rows);
    for (let attempt = 1; ; attempt++) {
      try {
        const { rows: out } = await this.#db.query<{ applied: number; late: number }>(APPLY, [json], { prepare: true });
        report.applied = Number(out[0]!.applied);
        report.late = Number(out[0]!.late);
        report.duplicates = rows.length - report.applied - report.late;
        return report;
      } catch (error) {
        const state = sqlState(error);
        if (attempt >= ATTEMPTS || (state !== '40P01' && state !== '40001')) throw error;
      }
    }
  }

  /**
   * Applies the access records that never reached the projection, straight from the log, in batches; returns how
   * many were applied. The in-process bus keeps no events across a restart, so a record committed just before a
   * crash would otherwise be missing from the analytics. Idempotent like apply(): safe beside the consumer.
   */
  async catchUp(batch = 500): Promise<number> {
    let applied = 0;
    let after = 0;
    for (;;) {
      const { rows } = await this.#db.query<AccessRecordRow>(
        `SELECT ${ACCESS_RECORD_COLUMNS} FROM access_record r
          WHERE r.seq > $1
            AND r.at >= coalesce((SELECT pruned_before FROM audit_analytics_state), '-infinity'::timestamptz)
            AND NOT EXISTS (SELECT 1 FROM audit_analytics_applied a WHERE a.record_id = r.id)
          ORDER BY r.seq LIMIT $2`,
        [after, batch],
      );
      if (rows.length === 0) return applied;
      const records = rows.map(accessRecordFromRow);
      applied += (await this.apply(records.map(accessRecordToJson))).applied;
      after = records[records.length - 1]!.seq;
    }
  }

  /**
   * Forgets record ids more than the retention behind the newest record (and the per-day subject sets of the days
   * before), and moves the horizon there: a redelivered event older than it is then skipped, never counted twice.
   * Measured from the newest record rather than the clock, so a replayed or simulated past is not cut off.
   */
  async prune(): Promise<PruneReport> {
    return this.#db.transaction(async (tx) => {
      const { rows } = await tx.query<{ newest: Date | string | null }>('SELECT max(at) AS newest FROM audit_analytics_applied');
      const newest = rows[0]?.newest;
      if (newest === null || newest === undefined) return { horizon: null, removedIds: 0, removedSubjects: 0 };
      const horizon = new Date(new Date(newest).getTime() - this.#retentionMs);
      // The exclusive row lock waits for batches being applied, and batches wait for it.
      const { rows: state } = await tx.query<{ pruned_before: Date | string }>(
        `UPDATE audit_analytics_state SET pruned_before = CASE WHEN pruned_before IS NULL OR pruned_before < $1 THEN $1 ELSE pruned_before END
         WHERE singleton RETURNING pruned_before`,
        [horizon.toISOString()],
      );
      const cut = new Date(state[0]!.pruned_before);
      const ids = await tx.query('DELETE FROM audit_analytics_applied WHERE at < $1', [cut.toISOString()]);
      const subjects = await tx.query('DELETE FROM audit_analytics_operator_subject WHERE day < $1::date', [chinaDate(cut)]);
      return { horizon: cut, removedIds: ids.rowCount, removedSubjects: subjects.rowCount };
    });
  }
}
