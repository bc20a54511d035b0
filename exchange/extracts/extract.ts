// A supplier extract (数据抽取) and the checks on each of its rows: pure code, no database. The resource's item list
// is handed in by the caller, so that this module depends on nothing of the catalogue but the shape of an item.
import { ZtError } from '../../core/errors/index.js';
import { isValidResidentId, isValidUscc } from '../../core/identifiers/index.js';
import type { Subject } from '../connectors/connector.js';

export type SubjectKind = Subject['kind'];

/** A data item of the resource: its code and, if known, its catalogue type (string, integer, decimal, date …). */
export interface ExtractItem {
  readonly code: string;
  readonly type?: string;
}

/** One row as delivered: item code → value. */
export type ExtractRow = Readonly<Record<string, unknown>>;

/**
 * An optional column in any extract: when the supplier last changed the row (ISO 8601 date or date-time; without an
 * offset, China Standard Time). It is not a data item; it becomes the record's updatedAt. The leading underscore
 * keeps it apart from item codes, which must start with a letter.
 */
export const UPDATED_AT_FIELD = '_updatedAt';

/** A row that could not even be read (malformed JSON, a CSV record with the wrong number of fields). */
export class UnreadableRow {
  constructor(readonly message: string) {}
}

export interface ExtractSpec {
  /** Catalogue code of the data resource, e.g. 210100-GA-0001. */
  resource: string;
  /** The resource's data items; a row may carry no other. */
  items: readonly ExtractItem[];
  /** What the subject identifiers are: resident ID numbers (person) or USCCs (organisation). */
  subjectKind: SubjectKind;
  /**
   * The item(s) holding the subject's identifier. Several items (a marriage's two spouses) make one record per
   * subject, each with the whole row's values, so that the row is found by any of them.
   */
  subjectItem: string | readonly string[];
}

export interface ExtractRowError {
  /** Position of the row in the extract, from 1 (a header line is not counted). */
  row: number;
  /** Line of the file where the row starts, when the rows were parsed from a file. */
  line?: number;
  /** The item (or field) at fault, if one is. */
  item?: string;
  message: string;
}

/** A row that passed: its subjects (normalised identifiers), its values in item order, and when it last changed. */
export interface ValidRow {
  subjects: string[];
  values: Record<string, unknown>;
  /** ISO 8601 with an offset, or null. */
  updatedAt: string | null;
}

const RESOURCE_CODE = /^[A-Z0-9][A-Z0-9._-]{1,63}$/;
const ITEM_CODE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?\d+(\.\d+)?$/;

function isDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** A date-time as ISO 8601 with an offset; a value without one is read as China Standard Time (UTC+8). */
function normaliseDateTime(value: string): string | null {
  if (isDate(value)) return `${value}T00:00:00+08:00`;
  if (!DATE_TIME.test(value) || !isDate(value.slice(0, 10))) return null;
  let s = value.replace(' ', 'T');
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(s)) s += '+08:00';
  return Number.isNaN(Date.parse(s)) ? null : s;
}

type Check = (value: unknown) => { value: unknown } | { error: string };

/** Per catalogue type: accept the value (converting the text a CSV gives) or say what is wrong with it. */
const CHECKS: Readonly<Record<string, Check>> = {
  string: (v) => (typeof v === 'string' ? { value: v } : { error: `expected text, got ${describe(v)}` }),
  binary: (v) => (typeof v === 'string' ? { value: v } : { error: `expected base64 text or a data URI, got ${describe(v)}` }),
  integer: (v) => {
    const n = typeof v === 'string' && INTEGER.test(v.trim()) ? Number(v.trim()) : v;
    return typeof n === 'number' && Number.isSafeInteger(n) ? { value: n } : { error: `expected a whole number, got ${describe(v)}` };
  },
  // Decimals travel as strings, as the storage port returns numeric columns, so that no digit is lost.
  decimal: (v) => {
    if (typeof v === 'number' && Number.isFinite(v)) return { value: String(v) };
    return typeof v === 'string' && DECIMAL.test(v.trim()) ? { value: v.trim() } : { error: `expected a decimal number, got ${describe(v)}` };
  },
  boolean: (v) => {
    if (typeof v === 'boolean') return { value: v };
    if (v === 'true' || v === 'false') return { value: v === 'true' };
    return { error: `expected true or false, got ${describe(v)}` };
  },
  date: (v) => (typeof v === 'string' && isDate(v.trim()) ? { value: v.trim() } : { error: `expected a date (YYYY-MM-DD), got ${describe(v)}` }),
  datetime: (v) => {
    const s = typeof v === 'string' ? normaliseDateTime(v.trim()) : null;
    return s !== null ? { value: s } : { error: `expected a date-time (ISO 8601), got ${describe(v)}` };
  },
};
const ANY: Check = (v) => ({ value: v });

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'a list' : 'an object';
}

interface CompiledItem {
  code: string;
  check: Check;
  subject: boolean;
}

/**
 * The checks for one extract, compiled once from its spec; validate() is then called for every row. Throws when the
 * spec itself is wrong (a subject item that is not an item of the resource, a malformed resource code).
 */
export class ExtractValidator {
  readonly resource: string;
  readonly subjectKind: SubjectKind;
  readonly subjectItems: readonly string[];
  readonly #items: readonly CompiledItem[];
  readonly #known: ReadonlySet<string>;
  readonly #isValidId: (code: string) => boolean;

  constructor(spec: ExtractSpec) {
    if (!RESOURCE_CODE.test(spec.resource)) {
      throw new ZtError('ZT_ERR_EXTRACT_INVALID', `${JSON.stringify(spec.resource)} is not a data resource code`, { details: { resource: spec.resource } });
    }
    if (spec.subjectKind !== 'person' && spec.subjectKind !== 'organisation') {
      throw new ZtError('ZT_ERR_EXTRACT_INVALID', `the subject kind must be person or organisation, got ${JSON.stringify(spec.subjectKind)}`);
    }
    const codes = spec.items.map((i) => i.code);
    const bad = codes.filter((c, i) => !ITEM_CODE.test(c) || codes.indexOf(c) !== i);
    if (codes.length === 0 || bad.length > 0) {
      throw new ZtError('ZT_ERR_EXTRACT_INVALID', `the item list of ${spec.resource} must name each item once by a valid code${bad.length > 0 ? `; wrong: ${bad.join(', ')}` : ''}`);
    }
    const subjectItems = typeof spec.subjectItem === 'string' ? [spec.subjectItem] : [...spec.subjectItem];
    for (const s of subjectItems) {
      if (!codes.includes(s)) {
        throw new ZtError('ZT_ERR_DATA_ITEM_UNKNOWN', `${spec.resource} has no data item ${JSON.stringify(s)} to identify the subject by; its items are ${codes.join(', ')}`, {
          details: { resource: spec.resource, item: s },
        });
      }
    }
    if (subjectItems.length === 0) throw new ZtError('ZT_ERR_EXTRACT_INVALID', `name the item that identifies the subject of ${spec.resource}`);
    this.resource = spec.resource;
    this.subjectKind = spec.subjectKind;
    this.subjectItems = subjectItems;
    this.#items = spec.items.map((i) => ({ code: i.code, check: (i.type !== undefined && CHECKS[i.type]) || ANY, subject: subjectItems.includes(i.code) }));
    this.#known = new Set([...codes, UPDATED_AT_FIELD]);
    this.#isValidId = spec.subjectKind === 'person' ? isValidResidentId : isValidUscc;
  }

  /** The row's subjects and values, or every problem found in it. */
  validate(row: unknown, rowNumber: number): ValidRow | ExtractRowError[] {
    if (row instanceof UnreadableRow) return [{ row: rowNumber, message: row.message }];
    if (row === null || typeof row !== 'object' || Array.isArray(row)) return [{ row: rowNumber, message: `a row must be an object of item values, got ${describe(row)}` }];
    const fields = row as Record<string, unknown>;
    const errors: ExtractRowError[] = [];
    const fail = (item: string, message: string): void => {
      errors.push({ row: rowNumber, item, message });
    };
    for (const key in fields) {
      if (!this.#known.has(key)) fail(key, `${this.resource} has no data item ${JSON.stringify(key)}`);
    }
    const values: Record<string, unknown> = {};
    const subjects: string[] = [];
    for (const item of this.#items) {
      const raw = fields[item.code];
      if (item.subject) {
        const code = typeof raw === 'string' ? raw.trim().toUpperCase() : '';
        if (code === '') fail(item.code, `the subject's ${this.subjectKind === 'person' ? 'resident ID number' : 'unified social credit code'} is missing`);
        else if (!this.#isValidId(code)) {
          fail(item.code, `${JSON.stringify(raw)} is not a valid ${this.subjectKind === 'person' ? 'resident ID number (GB 11643)' : 'unified social credit code (GB 32100)'}`);
        } else if (subjects.includes(code)) fail(item.code, `${code} appears twice in the row`);
        else {
          subjects.push(code);
          values[item.code] = code;
        }
        continue;
      }
      // No value, null or an empty cell: the supplier holds nothing for the item, and the record leaves it out.
      if (raw === undefined || raw === null || raw === '') continue;
      const checked = item.check(raw);
      if ('error' in checked) fail(item.code, checked.error);
      else values[item.code] = checked.value;
    }
    let updatedAt: string | null = null;
    const rawUpdatedAt = fields[UPDATED_AT_FIELD];
    if (rawUpdatedAt !== undefined && rawUpdatedAt !== null && rawUpdatedAt !== '') {
      updatedAt = typeof rawUpdatedAt === 'string' ? normaliseDateTime(rawUpdatedAt.trim()) : null;
      if (updatedAt === null) fail(UPDATED_AT_FIELD, `expected a date or date-time (ISO 8601), got ${describe(rawUpdatedAt)}`);
    }
    return errors.length > 0 ? errors : { subjects, values, updatedAt };
  }
}
