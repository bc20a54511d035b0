// What a supervisor may ask of the access log, checked before any SQL is built. Every parameter is validated for
// form and length and refused with ZT_ERR_AUDIT_QUERY_INVALID naming it; the values then go to the database as
// parameters, never as SQL text. Identifiers (USCC, resident ID number, record id, resource code, decision, times)
// must be well-formed; free text a person typed into a department's system (operator, case number, service item)
// is matched exactly as given, so `' OR 1=1 --` or `%` simply match no record.
import { createHash } from 'node:crypto';
import { chinaDate } from '../../core/china-date.js';
import { ZtError } from '../../core/errors/index.js';
import { isValidResidentId, isValidUscc } from '../../core/identifiers/index.js';
import { ACCESS_DECISIONS, ACCESS_RECORD_LIMITS, type AccessDecision } from '../access-record.js';

export const SEARCH_PAGE_DEFAULT = 50;
export const SEARCH_PAGE_MAX = 500;
const DAY_MS = 86_400_000;
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(9999, 11, 31);

/** The filters of a search or an export; every one optional, all of them ANDed. */
export interface AccessFilters {
  /** The requesting department (USCC). */
  readonly department?: string;
  readonly operator?: string;
  /** Resident ID number or USCC of the person or organisation whose data was asked for. */
  readonly subject?: string;
  readonly resource?: string;
  readonly decision?: AccessDecision;
  readonly caseNumber?: string;
  readonly serviceItem?: string;
  /** One record by id. */
  readonly record?: string;
  /** [from, to): instants. */
  readonly from?: Date;
  readonly to?: Date;
}

/** Where the previous page ended: the (at, seq) of its last record, and the filters it was made for. */
export interface SearchCursor {
  /** Microseconds since 1970: PostgreSQL keeps microseconds, and a page boundary must not lose any. */
  readonly atMicros: bigint;
  readonly seq: bigint;
}

export interface AccessSearchQuery {
  readonly filters: AccessFilters;
  readonly limit: number;
  readonly cursor: SearchCursor | null;
}

export interface QueryBounds {
  /** ZT_AUDIT_MAX_RANGE_DAYS. */
  readonly maxRangeDays: number;
}

/** The parameters as received: query-string values (a repeated one is an array) or protobuf fields. */
export type RawParameters = Readonly<Record<string, unknown>>;

export function invalidParameter(parameter: string, reason: string): ZtError {
  return new ZtError('ZT_ERR_AUDIT_QUERY_INVALID', `${parameter}: ${reason}`, { details: { parameter, reason } });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Catalogue codes (210100-GA-0001) and licence resources (e-licence:<type code>).
const RESOURCE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
// Text a person typed: anything printable. Control characters (NUL among them) never occur in a stored value.
const CONTROL = /[\u0000-\u001f\u007f]/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
const CURSOR = /^[A-Za-z0-9_-]{4,120}$/;

/** One value of a parameter: absent, or a single string (a repeated parameter is refused). */
export function single(raw: RawParameters, name: string): string | undefined {
  const value = raw[name];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) throw invalidParameter(name, 'is given more than once');
  if (typeof value !== 'string') throw invalidParameter(name, 'must be text');
  return value === '' ? undefined : value;
}

function text(raw: RawParameters, name: string, max: number): string | undefined {
  const value = single(raw, name);
  if (value === undefined) return undefined;
  if (value.length > max) throw invalidParameter(name, `has ${value.length} characters, more than ${max}`);
  if (CONTROL.test(value)) throw invalidParameter(name, 'contains control characters');
  const trimmed = value.trim();
  if (trimmed === '') throw invalidParameter(name, 'is blank');
  return trimmed;
}

export function uscc(raw: RawParameters, name: string): string | undefined {
  const value = single(raw, name);
  if (value === undefined) return undefined;
  const code = value.trim().toUpperCase();
  if (code.length > 18 || !isValidUscc(code)) throw invalidParameter(name, 'is not a valid unified social credit code (GB 32100, check character included)');
  return code;
}

/** A subject code: a resident ID number (GB 11643) or a USCC (GB 32100), check characters included. */
export function subjectCode(value: string, name = 'subject'): string {
  const code = value.trim().toUpperCase();
  if (code.length !== 18 || !(isValidResidentId(code) || isValidUscc(code))) {
    throw invalidParameter(name, 'is not a valid resident ID number (GB 11643) or unified social credit code (GB 32100), check character included');
  }
  return code;
}

export function recordId(value: string, name = 'record'): string {
  const id = value.trim().toLowerCase();
  if (!UUID.test(id)) throw invalidParameter(name, 'is not a record id (a UUID)');
  return id;
}

/** A time: an ISO 8601 instant with its offset, or a China calendar date meaning its first moment (00:00 +08:00). */
export function instant(raw: RawParameters, name: string): Date | undefined {
  const value = single(raw, name);
  if (value === undefined) return undefined;
  if (value.length > 40) throw invalidParameter(name, 'is too long for a time');
  let ms: number;
  if (DATE_ONLY.test(value)) ms = Date.parse(`${value}T00:00:00+08:00`);
  else if (INSTANT.test(value)) ms = Date.parse(value);
  else throw invalidParameter(name, 'must be an ISO 8601 time with an offset (2026-03-01T08:00:00+08:00) or a date (2026-03-01, China time)');
  if (!Number.isFinite(ms) || ms < EARLIEST || ms > LATEST) throw invalidParameter(name, 'is not a valid time from 2000 to 9999');
  if (DATE_ONLY.test(value) && chinaDateOf(new Date(ms)) !== value) throw invalidParameter(name, 'is not a calendar date');
  return new Date(ms);
}

/** The China (Asia/Shanghai, no daylight saving) calendar date of an instant, YYYY-MM-DD. */
export const chinaDateOf = chinaDate;

function limitOf(raw: RawParameters): number {
  const value = raw.limit;
  if (value === undefined || value === null || value === '' || value === 0) return SEARCH_PAGE_DEFAULT;
  const s = typeof value === 'number' ? String(value) : single(raw, 'limit')!;
  if (!/^\d{1,4}$/.test(s)) throw invalidParameter('limit', `must be a whole number from 1 to ${SEARCH_PAGE_MAX}`);
  const n = Number(s);
  if (n < 1 || n > SEARCH_PAGE_MAX) throw invalidParameter('limit', `must be a whole number from 1 to ${SEARCH_PAGE_MAX}`);
  return n;
}

/** Reads the filters; checks the time range and its bounds. */
export function readFilters(raw: RawParameters, bounds: QueryBounds): AccessFilters {
  const L = ACCESS_RECORD_LIMITS;
  const filters: {
    -readonly [K in keyof AccessFilters]: AccessFilters[K];
  } = {};
  const department = uscc(raw, 'department');
  if (department !== undefined) filters.department = department;
  const operator = text(raw, 'operator', L.operator);
  if (operator !== undefined) filters.operator = operator;
  const subject = single(raw, 'subject');
  if (subject !== undefined) {
    if (subject.length > L.subjectCode) throw invalidParameter('subject', `has ${subject.length} characters, more than ${L.subjectCode}`);
    filters.subject = subjectCode(subject);
  }
  const resource = single(raw, 'resource');
  if (resource !== undefined) {
    if (!RESOURCE.test(resource)) throw invalidParameter('resource', 'is not a resource code (letters, digits and . _ : -, at most 128)');
    filters.resource = resource;
  }
  const decision = single(raw, 'decision');
  if (decision !== undefined) {
    if (!(ACCESS_DECISIONS as readonly string[]).includes(decision)) throw invalidParameter('decision', `must be one of ${ACCESS_DECISIONS.join(', ')}`);
    filters.decision = decision as AccessDecision;
  }
  const caseNumber = text(raw, 'caseNumber', L.caseNumber);
  if (caseNumber !== undefined) filters.caseNumber = caseNumber;
  const serviceItem = text(raw, 'serviceItem', L.serviceItem);
  if (serviceItem !== undefined) filters.serviceItem = serviceItem;
  const record = single(raw, 'record');
  if (record !== undefined) {
    if (record.length > 64) throw invalidParameter('record', 'is not a record id (a UUID)');
    filters.record = recordId(record);
  }
  const from = instant(raw, 'from');
  const to = instant(raw, 'to');
  if (from !== undefined) filters.from = from;
  if (to !== undefined) filters.to = to;
  const narrow = filters.subject !== undefined || filters.caseNumber !== undefined || filters.record !== undefined;
  if (!narrow && (from === undefined || to === undefined)) {
    throw invalidParameter(from === undefined ? 'from' : 'to', 'a time range [from, to) is required unless the search names a subject, a case number or a record');
  }
  if (from !== undefined && to !== undefined) {
    if (to.getTime() <= from.getTime()) throw invalidParameter('to', 'must be later than from');
    const days = (to.getTime() - from.getTime()) / DAY_MS;
    if (days > bounds.maxRangeDays) throw invalidParameter('to', `the range covers ${Math.ceil(days)} days, more than ${bounds.maxRangeDays} (ZT_AUDIT_MAX_RANGE_DAYS)`);
  }
  return filters;
}

/** A short digest of the filters: a cursor is good only for the filters it was made with. */
function fingerprint(filters: AccessFilters): string {
  const canonical = JSON.stringify(
    Object.entries(filters)
      .map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 11);
}

/** The opaque cursor of the page after the record at (atMicros, seq). */
export function encodeCursor(filters: AccessFilters, cursor: SearchCursor): string {
  return Buffer.from(`1.${cursor.atMicros}.${cursor.seq}.${fingerprint(filters)}`, 'utf8').toString('base64url');
}

export function decodeCursor(value: string, filters: AccessFilters): SearchCursor {
  if (!CURSOR.test(value)) throw invalidParameter('cursor', 'is not a cursor this service made');
  const m = /^1\.(-?\d{1,19})\.(\d{1,19})\.([A-Za-z0-9_-]{11})$/.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (!m) throw invalidParameter('cursor', 'is not a cursor this service made');
  if (m[3] !== fingerprint(filters)) throw invalidParameter('cursor', 'was made for other filters; page with the filters of the first page');
  return { atMicros: BigInt(m[1]!), seq: BigInt(m[2]!) };
}

export interface ReadQueryOptions extends QueryBounds {
  /** Parameters that belong to the call rather than to the filters (requester, format, …), accepted as they are. */
  readonly also?: readonly string[];
}

const FILTER_PARAMETERS = ['department', 'operator', 'subject', 'resource', 'decision', 'caseNumber', 'serviceItem', 'record', 'from', 'to', 'limit', 'cursor'];

/** Refuses parameters the operation does not know, so a misspelt filter does not silently widen a search. */
export function refuseUnknown(raw: RawParameters, known: readonly string[]): void {
  for (const name of Object.keys(raw)) {
    if (!known.includes(name)) throw invalidParameter(name, `is not a parameter of this query (known: ${known.join(', ')})`);
  }
}

/** A search: filters, page size (default 50, at most 500) and the cursor of the page before. */
export function readSearchQuery(raw: RawParameters, options: ReadQueryOptions): AccessSearchQuery {
  refuseUnknown(raw, [...FILTER_PARAMETERS, ...(options.also ?? [])]);
  const filters = readFilters(raw, options);
  const cursor = single(raw, 'cursor');
  return { filters, limit: limitOf(raw), cursor: cursor === undefined ? null : decodeCursor(cursor, filters) };
}

/** The filters as JSON, for the record of who asked what (audit_queries). */
export function filtersJson(filters: AccessFilters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(filters)) out[k] = v instanceof Date ? v.toISOString() : String(v);
  return out;
}
