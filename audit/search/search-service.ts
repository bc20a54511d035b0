// Searching the access log (行权回溯) for supervisors, and one subject's view of it for citizens and enterprises
// through a service portal (一网通办). Every call is a signed request checked by the AuditAccessGuard; every query
// that passes it is itself recorded in audit_queries (who, role, filters, rows returned): the watchers are watched.
// The transports (http/, grpc/) only read the call and shape the answer; what is allowed and what is returned is
// decided here, the same for both.
import { ZtError } from '../../core/errors/index.js';
import { IDENTIFIER_PATTERN, type BlindIndex } from '../../core/pseudonyms/index.js';
import type { Database } from '../../core/storage/index.js';
import type { SignedCall } from '../../exchange/signed-request.js';
import type { PersonCall } from '../../transport/person.js';
import { accessRecordToJson, type AccessProtocol } from '../access-record.js';
import type { StoredAccessRecord } from '../access-record-row.js';
import type { AuditAccessGuard, AuditCaller, AuditDepartmentCaller, ForbiddenAuditCall } from '../supervision/access-guard.js';
import { AccessSearchStore, type FoundRecord, type SubjectEntry } from './access-search-store.js';
import { checkFlagInput, COVERT_LIST_MAX, CovertCaseStore, covertCaseJson, type CovertCase } from './covert-cases.js';
import { EXPORT_FORMATS, formatBatch, csvHeader, type ExportFormat } from './export-format.js';
import { PolicyRevisionStore, type PersistedRule } from './policy-revisions.js';
import {
  chinaDateOf,
  decodeCursor,
  encodeCursor,
  filtersJson,
  instant,
  invalidParameter,
  readFilters,
  readSearchQuery,
  recordId,
  refuseUnknown,
  single,
  subjectCode,
  uscc,
  SEARCH_PAGE_DEFAULT,
  SEARCH_PAGE_MAX,
  type AccessFilters,
  type RawParameters,
} from './query.js';

/** The policy revision licence verifications are recorded under (licences/verification-service.ts). */
export const LICENCE_POLICY_REVISION = 'licence-registry';
const EXPORT_BATCH = 1000;

export type AuditQueryKind = 'search' | 'export' | 'trace' | 'subject' | 'covert-flag' | 'covert-lift' | 'covert-list';

export interface AccessLogSearchOptions {
  db: Database;
  /**
   * The blind index: records hold the index of their subject, so a subject asked for is looked up by its index under
   * every live key version, and the record of the query (audit_queries) names the index, not the code.
   */
  pseudonyms: BlindIndex;
  guard: AuditAccessGuard;
  /** ZT_AUDIT_MAX_RANGE_DAYS. */
  maxRangeDays: number;
  /** ZT_AUDIT_EXPORT_MAX_ROWS. */
  exportMaxRows: number;
  /** Business time: what "today" is for covert flags' release dates, and when queries are recorded. Default now. */
  now?: () => Date;
}

/** A signed call and the protocol that carried it, or a console reader's call (protocol 'console'). */
export interface AuditCall {
  readonly call: SignedCall | PersonCall;
  readonly protocol: AuditQueryProtocol;
}

/** How a query of the log arrived: a signed HTTP or gRPC request, or a person signed in to the console. */
export type AuditQueryProtocol = AccessProtocol | 'console';

function hexBytes(hex: string | null): Buffer | null {
  return hex === null ? null : Buffer.from(hex, 'hex');
}

export type SearchHitJson = ReturnType<typeof accessRecordToJson> & {
  seq: number;
  requesterName: string | null;
  covert: { id: string; releaseOn: string } | null;
};

export interface SearchAnswer {
  records: SearchHitJson[];
  /** The cursor of the next page; null on the last. */
  next: string | null;
}

export interface PreparedExport {
  readonly format: ExportFormat;
  /** How many records will be written (counted before the first byte). */
  readonly rows: number;
  /** The export, in chunks (the CSV header first); records the query in audit_queries once it ends. */
  chunks(): AsyncGenerator<Buffer>;
}

export interface TraceRule extends PersistedRule {
  /** False when the revision kept no rule with this id (a record older than the kept revisions). */
  readonly found: boolean;
}

export interface TraceAnswer {
  record: ReturnType<typeof accessRecordToJson> & { seq: number };
  department: { uscc: string; name: string | null } | null;
  resource: { code: string; name: string | null; kind: 'catalogue' | 'e-licence' | 'unknown'; provider: string | null } | null;
  policy: {
    revision: string;
    source: 'negative-list' | 'licence-registry' | 'unknown';
    explanation: string;
    digest: string | null;
    catalogueRevision: string | null;
    loadedAt: string | null;
    rules: TraceRule[];
  } | null;
  grant: {
    demandId: string;
    state: string;
    provider: string;
    serviceItem: string;
    items: string[];
    validFrom: string;
    validTo: string;
  } | null;
  covert: Record<string, unknown> | null;
}

export interface SubjectAccessJson {
  id: string;
  at: string;
  department: { uscc: string | null; name: string | null };
  purpose: { serviceItem: string | null; caseNumber: string | null };
  resource: { code: string | null; name: string | null };
  itemsReleased: readonly string[];
  decision: string;
  /** Supervisors only. */
  operator?: string | null;
  /** Supervisors only: the case is flagged covert (hidden from the subject until releaseOn). */
  covert?: { id: string; releaseOn: string } | null;
}

export interface SubjectAnswer {
  subject: string;
  accesses: SubjectAccessJson[];
  next: string | null;
}

function hitJson(f: FoundRecord, names: Map<string, string>, covert: Map<string, { id: string; releaseOn: string }>): SearchHitJson {
  const r = f.record;
  return {
    seq: r.seq,
    ...accessRecordToJson(r),
    requesterName: r.requester === null ? null : (names.get(r.requester) ?? null),
    covert: r.requester !== null && r.caseNumber !== null ? (covert.get(`${r.requester}|${r.caseNumber}`) ?? null) : null,
  };
}

function readRequester(raw: RawParameters): string {
  const requester = uscc(raw, 'requester');
  if (requester === undefined) throw invalidParameter('requester', 'is required: the USCC of the department signing the request');
  return requester;
}

function dateText(value: Date | string): string {
  return typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10);
}

export class AccessLogSearch {
  readonly #db: Database;
  readonly #pseudonyms: BlindIndex;
  readonly #guard: AuditAccessGuard;
  readonly #store: AccessSearchStore;
  readonly #covert: CovertCaseStore;
  readonly #revisions: PolicyRevisionStore;
  readonly #bounds: { maxRangeDays: number };
  readonly #exportMaxRows: number;
  readonly #now: () => Date;

  constructor(options: AccessLogSearchOptions) {
    this.#db = options.db;
    this.#pseudonyms = options.pseudonyms;
    this.#guard = options.guard;
    this.#store = new AccessSearchStore(options.db, options.pseudonyms);
    this.#covert = new CovertCaseStore(options.db);
    this.#revisions = new PolicyRevisionStore(options.db);
    this.#bounds = { maxRangeDays: options.maxRangeDays };
    this.#exportMaxRows = options.exportMaxRows;
    this.#now = options.now ?? (() => new Date());
  }

  get revisions(): PolicyRevisionStore {
    return this.#revisions;
  }

  /** Authorises, runs `fn`, and records the query whether it was answered or refused. */
  async #recorded<T>(
    caller: AuditCaller | AuditDepartmentCaller,
    kind: AuditQueryKind,
    protocol: AuditQueryProtocol,
    filters: () => Record<string, unknown>,
    fn: () => Promise<{ value: T; rows: number }>,
  ): Promise<T> {
    try {
      const { value, rows } = await fn();
      await this.#log(caller, kind, protocol, filters(), rows, null);
      return value;
    } catch (error) {
      if (error instanceof ZtError && error.httpStatus < 500) await this.#log(caller, kind, protocol, filters(), 0, error.code);
      throw error;
    }
  }

  async #log(caller: AuditCaller | AuditDepartmentCaller, kind: AuditQueryKind, protocol: AuditQueryProtocol, filters: Record<string, unknown>, rows: number, errorCode: string | null): Promise<void> {
    await this.#db.query(
      `INSERT INTO audit_queries (at, requester, role, kind, filters, rows, error_code, protocol, request_digest, certificate_sm3, console_account, console_session)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        this.#now(),
        caller.requester,
        caller.role,
        kind,
        JSON.stringify(this.#pseudonymous(filters)),
        rows,
        errorCode,
        protocol,
        hexBytes(caller.requestDigest),
        hexBytes(caller.certificateSm3),
        caller.person?.accountId ?? null,
        caller.person?.sessionId ?? null,
      ],
    );
  }

  /**
   * Records a call refused with ZT_ERR_AUDIT_FORBIDDEN (the guard's onForbidden): the department, what it needed
   * and what it asked for. Every reader of the log, including the analytics and the log's proofs, goes through the
   * guard, so attempts on any of them land here.
   */
  async recordForbidden(attempt: ForbiddenAuditCall): Promise<void> {
    const protocol = attempt.person ? 'console' : attempt.path.startsWith('/zhengtong.') ? 'grpc' : 'http';
    await this.#db.query(
      `INSERT INTO audit_queries (at, requester, role, kind, filters, rows, error_code, protocol, request_digest, certificate_sm3, console_account, console_session)
       VALUES ($1, $2, 'none', 'forbidden', $3, 0, $7, $4, $5, $6, $8, $9)`,
      [
        this.#now(),
        attempt.requester,
        JSON.stringify(this.#pseudonymous({ path: attempt.path.slice(0, 2000), needed: attempt.needed }, attempt.requester)),
        protocol,
        hexBytes(attempt.requestDigest),
        hexBytes(attempt.certificateSm3),
        attempt.code ?? 'ZT_ERR_AUDIT_FORBIDDEN',
        attempt.person?.accountId ?? null,
        attempt.person?.sessionId ?? null,
      ],
    );
  }

  /**
   * The filters as audit_queries keeps them: the subject asked for (valid or not) by its blind index, and any
   * identifier in a path (a refused call to /v1/audit/subjects/{code}/accesses) by its index too, except the
   * calling department's own USCC (the row names it anyway).
   */
  #pseudonymous(filters: Record<string, unknown>, caller?: string): Record<string, unknown> {
    return pseudonymousFilters(filters, this.#pseudonyms, caller);
  }

  /** Search: filters, newest first, keyset pages. */
  async search(c: AuditCall, raw: RawParameters): Promise<SearchAnswer> {
    const caller = await this.#guard.authorise(c.call, readRequester(raw), 'supervisor');
    let filters: AccessFilters | null = null;
    return this.#recorded(caller, 'search', c.protocol, () => (filters ? filtersJson(filters) : rawJson(raw)), async () => {
      const query = readSearchQuery(raw, { ...this.#bounds, also: ['requester'] });
      filters = query.filters;
      const page = await this.#store.page(query.filters, query.cursor, query.limit);
      const records = await this.#hits(page.records);
      // Every hit is the subject asked for (its index under one of the live versions): show the code the caller gave.
      const asked = query.filters.subject;
      if (asked !== undefined) for (const r of records) r.subjectCode = asked;
      return { value: { records, next: page.next === null ? null : encodeCursor(query.filters, page.next) }, rows: records.length };
    });
  }

  async #hits(found: readonly FoundRecord[]): Promise<SearchHitJson[]> {
    const [names, covert] = await Promise.all([
      this.#store.departmentNames(found.flatMap((f) => (f.record.requester === null ? [] : [f.record.requester]))),
      this.#store.covertOf(found.map((f) => ({ requester: f.record.requester, caseNumber: f.record.caseNumber }))),
    ]);
    return found.map((f) => hitJson(f, names, covert));
  }

  /**
   * Export: the same filters, every matching record, as CSV or JSON Lines. The matching records are counted first,
   * up to the bound; over it the export is refused before a byte is sent. Records are then read in keyset batches,
   * so memory stays one batch whatever the size.
   */
  async prepareExport(c: AuditCall, raw: RawParameters): Promise<PreparedExport> {
    const caller = await this.#guard.authorise(c.call, readRequester(raw), 'supervisor');
    let filters: AccessFilters | null = null;
    const describe = () => (filters ? { ...filtersJson(filters), format: String(raw.format ?? 'csv') } : rawJson(raw));
    let plan: { format: ExportFormat; filters: AccessFilters; rows: number };
    try {
      refuseUnknown(raw, ['requester', 'format', 'department', 'operator', 'subject', 'resource', 'decision', 'caseNumber', 'serviceItem', 'record', 'from', 'to']);
      const format = (single(raw, 'format') ?? 'csv') as ExportFormat;
      if (!EXPORT_FORMATS.includes(format)) throw invalidParameter('format', `must be one of ${EXPORT_FORMATS.join(', ')}`);
      const f = readFilters(raw, this.#bounds);
      const max = this.#exportMaxRows;
      const rows = await this.#store.countUpTo(f, max + 1);
      if (rows > max) {
        throw new ZtError('ZT_ERR_AUDIT_EXPORT_TOO_LARGE', `more than ${max} access records match (ZT_AUDIT_EXPORT_MAX_ROWS); narrow the filters or the time range`, {
          details: { maxRows: max, matching: `>${max}` },
        });
      }
      filters = f;
      plan = { format, filters: f, rows };
    } catch (error) {
      if (error instanceof ZtError && error.httpStatus < 500) await this.#log(caller, 'export', c.protocol, describe(), 0, error.code);
      throw error;
    }
    // The export itself is recorded once it ends, with the rows actually written.
    const store = this.#store;
    const log = (rows: number) => this.#log(caller, 'export', c.protocol, describe(), rows, null);
    return {
      format: plan.format,
      rows: plan.rows,
      async *chunks() {
        let written = 0;
        try {
          if (plan.format === 'csv') yield Buffer.from(csvHeader(), 'utf8');
          for await (const batch of store.all(plan.filters, EXPORT_BATCH)) {
            const asked = plan.filters.subject;
            const records: StoredAccessRecord[] = batch.map((f) => (asked === undefined ? f.record : { ...f.record, subjectCode: asked }));
            yield formatBatch(plan.format, records);
            written += records.length;
          }
        } finally {
          await log(written);
        }
      },
    };
  }

  /** One record and what explains it: department, resource, the policy revision's rules, the grant, a covert flag. */
  async trace(c: AuditCall, raw: RawParameters, id: string): Promise<TraceAnswer> {
    const caller = await this.#guard.authorise(c.call, readRequester(raw), 'supervisor');
    return this.#recorded(caller, 'trace', c.protocol, () => ({ record: id.slice(0, 64) }), async () => {
      refuseUnknown(raw, ['requester']);
      const recordIdValue = recordId(id, 'id');
      const record = await this.#store.byId(recordIdValue);
      if (!record) throw new ZtError('ZT_ERR_AUDIT_RECORD_NOT_FOUND', `no access record has id ${recordIdValue}`);
      return { value: await this.#explain(record), rows: 1 };
    });
  }

  async #explain(r: StoredAccessRecord): Promise<TraceAnswer> {
    const names = await this.#store.departmentNames(r.requester === null ? [] : [r.requester]);
    const resource = await this.#resource(r.resource);
    return {
      record: { seq: r.seq, ...accessRecordToJson(r) },
      department: r.requester === null ? null : { uscc: r.requester, name: names.get(r.requester) ?? null },
      resource,
      policy: await this.#policy(r),
      grant: resource?.kind === 'catalogue' ? await this.#grant(r) : null,
      covert: await this.#covert.forCase(r.requester, r.caseNumber).then((c) => (c ? covertCaseJson(c) : null)),
    };
  }

  async #resource(code: string | null): Promise<TraceAnswer['resource']> {
    if (code === null) return null;
    if (code.startsWith('e-licence')) {
      const typeCode = code.slice('e-licence:'.length);
      const { rows } = await this.#db.query<{ name: string; defining_authority_code: string }>('SELECT name, defining_authority_code FROM licence_types WHERE code = $1', [typeCode]);
      return { code, name: rows[0]?.name ?? null, kind: 'e-licence', provider: rows[0]?.defining_authority_code.trim() ?? null };
    }
    const { rows } = await this.#db.query<{ name: string; provider_uscc: string }>('SELECT name, provider_uscc FROM data_resources WHERE code = $1', [code]);
    return rows[0] ? { code, name: rows[0].name, kind: 'catalogue', provider: rows[0].provider_uscc.trim() } : { code, name: null, kind: 'unknown', provider: null };
  }

  async #policy(r: StoredAccessRecord): Promise<TraceAnswer['policy']> {
    if (r.policyRevision === null) return null;
    if (r.policyRevision === LICENCE_POLICY_REVISION) {
      return {
        revision: r.policyRevision,
        source: 'licence-registry',
        explanation:
          'A licence verification (电子证照核验): the negative list does not decide it. A department verifying a licence for a case is answered in full and recorded; the record names the policy revision licence-registry, the e-licence registry\'s own access rule, and no negative-list rules.',
        digest: null,
        catalogueRevision: null,
        loadedAt: null,
        rules: [],
      };
    }
    const kept = await this.#revisions.inForce(r.policyRevision, r.at);
    const rules: TraceRule[] = r.ruleIds.map((id) => {
      const rule = kept?.rules.find((x) => x.id === id);
      return rule ? { ...rule, found: true } : { id, title: null, effect: 'unknown', legalBasis: [], condition: null, found: false };
    });
    const cited = rules.length === 0 ? 'no negative-list rule applied: sharing is the rule (以共享为原则)' : `rules ${r.ruleIds.join(', ')} applied`;
    return {
      revision: r.policyRevision,
      source: kept ? 'negative-list' : 'unknown',
      explanation: kept
        ? `Decided by the negative list (负面清单) revision ${r.policyRevision} in force at ${r.at.toISOString()}: ${cited}.`
        : `Revision ${r.policyRevision} is not among the kept negative-list revisions (policy_revisions): it was in force before revisions were kept.`,
      digest: kept?.digest ?? null,
      catalogueRevision: kept?.catalogueRevision ?? null,
      loadedAt: kept?.loadedAt.toISOString() ?? null,
      rules,
    };
  }

  /** The demand (需求清单) whose grant covered the access: same requester, resource and service item, valid that day, granted by then. */
  async #grant(r: StoredAccessRecord): Promise<TraceAnswer['grant']> {
    if (r.requester === null || r.resource === null || r.serviceItem === null) return null;
    const { rows } = await this.#db.query<{ id: string; state: string; provider: string; service_item: string; items: string[]; valid_from: string | Date; valid_to: string | Date }>(
      `SELECT d.id, d.state, res.provider_uscc AS provider, d.service_item, d.items, d.valid_from::text AS valid_from, d.valid_to::text AS valid_to
         FROM demands d JOIN data_resources res ON res.code = d.resource_code
        WHERE d.requester_uscc = $1 AND d.resource_code = $2 AND d.service_item = $3
          AND d.valid_from <= $4::date AND d.valid_to >= $4::date
          AND EXISTS (SELECT 1 FROM demand_transitions t WHERE t.demand_id = d.id AND t.to_state IN ('granted', 'approved') AND t.at <= $5)
        ORDER BY d.created_at DESC LIMIT 1`,
      [r.requester, r.resource, r.serviceItem, chinaDateOf(r.at), r.at],
    );
    const d = rows[0];
    if (!d) return null;
    return { demandId: d.id, state: d.state, provider: d.provider.trim(), serviceItem: d.service_item, items: d.items, validFrom: dateText(d.valid_from), validTo: dateText(d.valid_to) };
  }

  /**
   * Every access to one subject, newest first: department, purpose (service item, case), resource and the items
   * released, decision, time. A portal does not see accesses for cases flagged covert until the flag's release date
   * (China time, inclusive); a supervisor sees them, marked covert.
   */
  async subject(c: AuditCall, raw: RawParameters, code: string): Promise<SubjectAnswer> {
    const caller = await this.#guard.authorise(c.call, readRequester(raw), 'portal');
    const subject = code.length > 64 ? code.slice(0, 64) : code;
    return this.#recorded(caller, 'subject', c.protocol, () => ({ subject, ...rawJson(raw, ['from', 'to', 'limit']) }), async () => {
      refuseUnknown(raw, ['requester', 'from', 'to', 'cursor', 'limit']);
      const code18 = subjectCode(code, 'code');
      const from = instant(raw, 'from');
      const to = instant(raw, 'to');
      if (from && to && to.getTime() <= from.getTime()) throw invalidParameter('to', 'must be later than from');
      const range = { ...(from ? { from } : {}), ...(to ? { to } : {}) };
      const limitRaw = single(raw, 'limit');
      const limit = limitRaw === undefined ? SEARCH_PAGE_DEFAULT : Number(limitRaw);
      if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_PAGE_MAX || !/^\d+$/.test(limitRaw ?? '1')) throw invalidParameter('limit', `must be a whole number from 1 to ${SEARCH_PAGE_MAX}`);
      // The cursor is bound to the subject, the range and the role: a portal cannot page into a supervisor's view.
      const cursorFilters: AccessFilters = { subject: code18, ...range, operator: caller.role };
      const cursorRaw = single(raw, 'cursor');
      const cursor = cursorRaw === undefined ? null : decodeCursor(cursorRaw, cursorFilters);
      const supervisor = caller.role === 'supervisor';
      const page = await this.#store.subjectPage(code18, range, cursor, limit, { covertVisible: supervisor, today: chinaDateOf(this.#now()) });
      const accesses = page.entries.map((e) => subjectJson(e, supervisor));
      return { value: { subject: code18, accesses, next: page.next === null ? null : encodeCursor(cursorFilters, page.next) }, rows: accesses.length };
    });
  }

  /** Flags a case covert: by its own department, or by a supervisor for any department. */
  async flagCovert(c: AuditCall, body: RawParameters): Promise<CovertCase> {
    const caller = await this.#guard.authoriseDepartment(c.call, readRequester(body));
    return this.#recorded(caller, 'covert-flag', c.protocol, () => rawJson(body, ['department', 'caseNumber', 'releaseOn']), async () => {
      refuseUnknown(body, ['requester', 'department', 'caseNumber', 'releaseOn', 'reason']);
      const department = uscc(body, 'department') ?? caller.requester;
      if (caller.role !== 'supervisor' && department !== caller.requester) {
        throw new ZtError('ZT_ERR_AUDIT_FORBIDDEN', `${caller.requester} may flag only its own cases covert, not those of ${department}; a supervisor (ZT_AUDIT_SUPERVISORS) may flag any`);
      }
      const input = checkFlagInput({ requester: department, caseNumber: String(body.caseNumber ?? ''), releaseOn: String(body.releaseOn ?? ''), reason: String(body.reason ?? '') });
      return { value: await this.#covert.flag(input, caller.requester, this.#now()), rows: 1 };
    });
  }

  /** Lifts a flag (supervisors): the accesses become visible to the subject at once. */
  async liftCovert(c: AuditCall, body: RawParameters, id: string): Promise<CovertCase> {
    const caller = await this.#guard.authorise(c.call, readRequester(body), 'supervisor');
    return this.#recorded(caller, 'covert-lift', c.protocol, () => ({ id: id.slice(0, 64) }), async () => {
      refuseUnknown(body, ['requester', 'reason']);
      const flagId = recordId(id, 'id');
      const reason = single(body, 'reason');
      if (reason !== undefined && reason.length > 500) throw invalidParameter('reason', 'has more than 500 characters');
      return { value: await this.#covert.lift(flagId, caller.requester, reason?.trim() || null, this.#now()), rows: 1 };
    });
  }

  /** The flags (supervisors): those in force, or all with all=true; of one department with department=. */
  async listCovert(c: AuditCall, raw: RawParameters): Promise<CovertCase[]> {
    const caller = await this.#guard.authorise(c.call, readRequester(raw), 'supervisor');
    return this.#recorded(caller, 'covert-list', c.protocol, () => rawJson(raw, ['department', 'all']), async () => {
      refuseUnknown(raw, ['requester', 'department', 'all', 'limit']);
      const department = uscc(raw, 'department');
      const all = single(raw, 'all');
      if (all !== undefined && all !== 'true' && all !== 'false') throw invalidParameter('all', 'must be true or false');
      const limitRaw = single(raw, 'limit');
      const limit = limitRaw === undefined ? COVERT_LIST_MAX : Number(limitRaw);
      if (!/^\d{1,4}$/.test(limitRaw ?? '1') || limit < 1 || limit > COVERT_LIST_MAX) throw invalidParameter('limit', `must be a whole number from 1 to ${COVERT_LIST_MAX}`);
      const flags = await this.#covert.list({ ...(department ? { requester: department } : {}), all: all === 'true', limit });
      return { value: flags, rows: flags.length };
    });
  }
}

function subjectJson(e: SubjectEntry, supervisor: boolean): SubjectAccessJson {
  const r = e.record;
  const out: SubjectAccessJson = {
    id: r.id,
    at: r.at.toISOString(),
    department: { uscc: r.requester, name: e.departmentName },
    purpose: { serviceItem: r.serviceItem, caseNumber: r.caseNumber },
    resource: { code: r.resource, name: e.resourceName },
    itemsReleased: r.itemsReturned,
    decision: r.decision,
  };
  if (supervisor) {
    out.operator = r.operator;
    out.covert = e.covert;
  }
  return out;
}

/** The parameters of a refused query, cut short, for audit_queries. */
function rawJson(raw: RawParameters, only?: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'requester' || (only && !only.includes(k))) continue;
    if (Object.keys(out).length >= 20) break;
    // jsonb cannot hold NUL, and the refused value may be anything: control characters become U+FFFD.
    out[k.slice(0, 40).replace(/[\u0000-\u001f\u007f]/g, '\uFFFD')] = (typeof v === 'string' ? v : (JSON.stringify(v) ?? '')).slice(0, 200).replace(/[\u0000-\u001f\u007f]/g, '\uFFFD');
  }
  return out;
}

/** What audit_queries keeps of a query's filters (see AccessLogSearch); also used by migration 0016's data step. */
export function pseudonymousFilters(filters: Record<string, unknown>, pseudonyms: BlindIndex, caller?: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...filters };
  if (typeof out.subject === 'string') out.subject = pseudonyms.ensure(out.subject);
  if (typeof out.path === 'string') out.path = out.path.replace(IDENTIFIER_PATTERN, (code) => (code.toUpperCase() === caller ? code : pseudonyms.of(code)));
  return out;
}
