// The SQL of searching the access log. Filters become `column = $n` conditions (values are parameters, never SQL
// text); the order is newest first by (at, seq) and a page continues after the previous page's last (at, seq), so
// every page, however deep, is one backward scan of an index that starts with the filtered column and goes on with
// the time (migrations/0006 and 0011). The decision is put in the text, from its closed list, so that PostgreSQL
// can prove the partial index on refusals applies.
import type { BlindIndex } from '../../core/pseudonyms/index.js';
import type { Queryable } from '../../core/storage/index.js';
import { ACCESS_RECORD_COLUMNS, accessRecordFromRow, type AccessRecordRow, type StoredAccessRecord } from '../access-record-row.js';
import { ACCESS_DECISIONS } from '../access-record.js';
import type { AccessFilters, SearchCursor } from './query.js';

/** A stored record and its time in microseconds (for the cursor: PostgreSQL keeps microseconds). */
export interface FoundRecord {
  readonly record: StoredAccessRecord;
  readonly atMicros: bigint;
}

export interface Page {
  readonly records: readonly FoundRecord[];
  /** Set when more records may follow: the last record's position. */
  readonly next: SearchCursor | null;
}

type Row = AccessRecordRow & { at_us: string | number | bigint };
type SubjectRow = Row & { department_name: string | null; resource_name: string | null; covert_id: string | null; covert_release_on: string | null };

/** One access as the subject's view shows it. */
export interface SubjectEntry extends FoundRecord {
  readonly departmentName: string | null;
  readonly resourceName: string | null;
  /** The covert flag in force for the record's case (shown to supervisors; portals see the record only once released). */
  readonly covert: { id: string; releaseOn: string } | null;
}

export interface SubjectPage {
  readonly entries: readonly SubjectEntry[];
  readonly next: SearchCursor | null;
}

const COLUMNS = ACCESS_RECORD_COLUMNS.split(', ')
  .map((c) => `r.${c}`)
  .join(', ');
const SELECT = `SELECT ${COLUMNS}, (extract(epoch FROM r.at) * 1000000)::bigint AS at_us FROM access_record r`;
// 'epoch' + n µs: exact, where to_timestamp(double) could round.
const CURSOR_AT = (n: number) => `(timestamptz 'epoch' + $${n}::bigint * interval '1 microsecond')`;

/**
 * The WHERE conditions and their parameters for the filters (and, when given, the page boundary). The subject asked
 * for is an identifier in clear; records hold its blind index, so it is looked for under every live key version
 * (one version, the usual case, keeps the plain equality that walks the (subject_code, at) index backwards).
 * Without `pseudonyms` the subject is compared as given (a stored index).
 */
export function whereClause(filters: AccessFilters, cursor: SearchCursor | null, params: unknown[], pseudonyms?: BlindIndex): string {
  const conditions: string[] = [];
  const eq = (column: string, value: unknown) => {
    params.push(value);
    conditions.push(`r.${column} = $${params.length}`);
  };
  if (filters.department !== undefined) eq('requester', filters.department);
  if (filters.operator !== undefined) eq('operator', filters.operator);
  if (filters.subject !== undefined) {
    const candidates = pseudonyms ? pseudonyms.candidates(filters.subject) : [filters.subject];
    if (candidates.length === 1) eq('subject_code', candidates[0]);
    else {
      params.push(candidates);
      conditions.push(`r.subject_code = ANY($${params.length}::text[])`);
    }
  }
  if (filters.resource !== undefined) eq('resource', filters.resource);
  if (filters.decision !== undefined) {
    if (!ACCESS_DECISIONS.includes(filters.decision)) throw new TypeError(`decision ${String(filters.decision)} is not one of ${ACCESS_DECISIONS.join(', ')}`);
    conditions.push(`r.decision = '${filters.decision}'`);
  }
  if (filters.caseNumber !== undefined) eq('case_number', filters.caseNumber);
  if (filters.serviceItem !== undefined) eq('service_item', filters.serviceItem);
  if (filters.record !== undefined) eq('id', filters.record);
  if (filters.from !== undefined) {
    params.push(filters.from);
    conditions.push(`r.at >= $${params.length}`);
  }
  if (filters.to !== undefined) {
    params.push(filters.to);
    conditions.push(`r.at < $${params.length}`);
  }
  if (cursor !== null) {
    params.push(cursor.atMicros.toString(), cursor.seq.toString());
    const at = CURSOR_AT(params.length - 1);
    // The plain bound lets the index scan start at the cursor; the row comparison breaks ties in one microsecond.
    conditions.push(`r.at <= ${at} AND (r.at, r.seq) < (${at}, $${params.length}::bigint)`);
  }
  return conditions.length === 0 ? 'TRUE' : conditions.join(' AND ');
}

function found(row: Row): FoundRecord {
  return { record: accessRecordFromRow(row), atMicros: BigInt(row.at_us) };
}

export class AccessSearchStore {
  /** `pseudonyms` turns a subject filter (an identifier in clear) into the blind indexes records hold. */
  constructor(
    private readonly db: Queryable,
    private readonly pseudonyms?: BlindIndex,
  ) {}

  /** One page: up to `limit` records after the cursor, newest first. */
  async page(filters: AccessFilters, cursor: SearchCursor | null, limit: number, extra?: { where: string; params: unknown[] }): Promise<Page> {
    const params: unknown[] = extra ? [...extra.params] : [];
    const where = whereClause(filters, cursor, params, this.pseudonyms);
    params.push(limit + 1);
    const { rows } = await this.db.query<Row>(
      `${SELECT} WHERE ${where}${extra ? ` AND ${extra.where}` : ''} ORDER BY r.at DESC, r.seq DESC LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > limit;
    const records = (more ? rows.slice(0, limit) : rows).map(found);
    const last = records.at(-1);
    return { records, next: more && last ? { atMicros: last.atMicros, seq: BigInt(last.record.seq) } : null };
  }

  /** How many records match, counted up to `cap` (a bounded count: an export larger than its limit is refused anyway). */
  async countUpTo(filters: AccessFilters, cap: number): Promise<number> {
    const params: unknown[] = [];
    const where = whereClause(filters, null, params, this.pseudonyms);
    params.push(cap);
    const { rows } = await this.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM (SELECT 1 FROM access_record r WHERE ${where} LIMIT $${params.length}) m`, params);
    return Number(rows[0]?.n ?? 0);
  }

  /** Every matching record, newest first, read in keyset batches: memory stays one batch whatever the total. */
  async *all(filters: AccessFilters, batchSize = 1000): AsyncGenerator<FoundRecord[]> {
    let cursor: SearchCursor | null = null;
    for (;;) {
      const page: Page = await this.page(filters, cursor, batchSize);
      if (page.records.length > 0) yield page.records as FoundRecord[];
      if (page.next === null) return;
      cursor = page.next;
    }
  }

  /**
   * One page of a subject's accesses, with the names a person reads (department, resource or licence type) and the
   * covert flag in force for the record's case, if any. Unless `covertVisible`, records of a case flagged covert are
   * left out while `today` (a China date) is before the flag's release date.
   */
  async subjectPage(subject: string, range: { from?: Date; to?: Date }, cursor: SearchCursor | null, limit: number, view: { covertVisible: boolean; today: string }): Promise<SubjectPage> {
    const params: unknown[] = [];
    const where = whereClause({ subject, ...range }, cursor, params, this.pseudonyms);
    let hide = '';
    if (!view.covertVisible) {
      params.push(view.today);
      hide = ` AND (c.id IS NULL OR c.release_on <= $${params.length}::date)`;
    }
    params.push(limit + 1);
    const { rows } = await this.db.query<SubjectRow>(
      `SELECT ${COLUMNS}, (extract(epoch FROM r.at) * 1000000)::bigint AS at_us, d.name AS department_name,
              coalesce(res.name, lt.name) AS resource_name, c.id AS covert_id, c.release_on::text AS covert_release_on
         FROM access_record r
         LEFT JOIN departments d ON d.uscc = r.requester
         LEFT JOIN data_resources res ON res.code = r.resource
         LEFT JOIN licence_types lt ON r.resource LIKE 'e-licence:%' AND lt.code = substr(r.resource, 11)
         LEFT JOIN audit_covert_cases c ON c.requester = r.requester AND c.case_number = r.case_number AND c.lifted_at IS NULL
        WHERE ${where}${hide}
        ORDER BY r.at DESC, r.seq DESC LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > limit;
    const entries = (more ? rows.slice(0, limit) : rows).map((row) => ({
      ...found(row),
      departmentName: row.department_name,
      resourceName: row.resource_name,
      covert: row.covert_id === null ? null : { id: row.covert_id, releaseOn: String(row.covert_release_on).slice(0, 10) },
    }));
    const last = entries.at(-1);
    return { entries, next: more && last ? { atMicros: last.atMicros, seq: BigInt(last.record.seq) } : null };
  }

  /** Names of departments by USCC (a few dozen rows). */
  async departmentNames(usccs: readonly string[]): Promise<Map<string, string>> {
    if (usccs.length === 0) return new Map();
    const { rows } = await this.db.query<{ uscc: string; name: string }>('SELECT uscc, name FROM departments WHERE uscc = ANY($1::text[])', [[...new Set(usccs)]]);
    return new Map(rows.map((r) => [r.uscc.trim(), r.name]));
  }

  /** Of the (requester, case) pairs given, those flagged covert now, as requester|case → release date. */
  async covertOf(pairs: readonly { requester: string | null; caseNumber: string | null }[]): Promise<Map<string, { id: string; releaseOn: string }>> {
    const requesters: string[] = [];
    const cases: string[] = [];
    for (const p of pairs) {
      if (p.requester !== null && p.caseNumber !== null) {
        requesters.push(p.requester);
        cases.push(p.caseNumber);
      }
    }
    if (requesters.length === 0) return new Map();
    const { rows } = await this.db.query<{ requester: string; case_number: string; id: string; release_on: string }>(
      `SELECT c.requester, c.case_number, c.id, c.release_on::text AS release_on
         FROM audit_covert_cases c JOIN unnest($1::text[], $2::text[]) AS p(requester, case_number)
           ON c.requester = p.requester AND c.case_number = p.case_number
        WHERE c.lifted_at IS NULL`,
      [requesters, cases],
    );
    return new Map(rows.map((r) => [`${r.requester.trim()}|${r.case_number}`, { id: r.id, releaseOn: r.release_on.slice(0, 10) }]));
  }

  async byId(id: string): Promise<StoredAccessRecord | null> {
    const { rows } = await this.db.query<Row>(`${SELECT} WHERE r.id = $1`, [id]);
    return rows[0] ? accessRecordFromRow(rows[0]) : null;
  }
}
