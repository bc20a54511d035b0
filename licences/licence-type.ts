// Licence types (证照类型): who defines a kind of licence, who holds it, which fields it carries (照面信息) and
// which departments may issue it. A type is checked once when defined; issuing then checks values against it.
import { ZtError } from '../core/errors/index.js';
import { isValidResidentId, isValidUscc } from '../core/identifiers/index.js';
import { isValidTypeCode } from './identifier.js';
import type { HolderKind, LicenceFieldValue } from './licence.js';

export type LicenceFieldKind = 'string' | 'date' | 'integer' | 'decimal' | 'boolean';

export interface LicenceFieldDefinition {
  /** Field code in the document, e.g. registeredCapital. */
  code: string;
  /** Label shown to people, e.g. 注册资本. */
  label: string;
  kind: LicenceFieldKind;
  required: boolean;
  /** For strings; default 500. */
  maxLength?: number;
  /** Personal or commercially sensitive: left out of what anonymous verifiers see. */
  sensitive?: boolean;
}

export interface LicenceType {
  /** The defining authority's USCC + 3 digits (GB/T 36904). */
  code: string;
  /** 证照类型名称, e.g. 营业执照. */
  name: string;
  definingAuthority: { code: string; name: string };
  holderKind: HolderKind;
  fields: LicenceFieldDefinition[];
  /** USCCs of the departments that may issue (and change, suspend, revoke) licences of this type. */
  issuers: string[];
  /** Default validity in years when an issue names no end date; null means 长期 (no end). */
  validityYears: number | null;
}

const FIELD_CODE = /^[a-z][A-Za-z0-9]{0,63}$/;
const KINDS: ReadonlySet<string> = new Set(['string', 'date', 'integer', 'decimal', 'boolean']);
const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const MAX_FIELDS = 64;
const DEFAULT_MAX_LENGTH = 500;

function typeInvalid(message: string): ZtError {
  return new ZtError('ZT_ERR_LICENCE_TYPE_INVALID', message);
}

/** Checks a type definition as sent (JSON or protobuf) and returns it normalised; throws ZT_ERR_LICENCE_TYPE_INVALID. */
export function readLicenceType(value: unknown): LicenceType {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw typeInvalid('a licence type must be an object');
  const o = value as Record<string, unknown>;
  const code = String(o.code ?? '').toUpperCase();
  if (!isValidTypeCode(code)) throw typeInvalid(`the type code ${JSON.stringify(o.code)} is not the defining authority's USCC followed by 3 digits`);
  const name = String(o.name ?? '').trim();
  if (name.length < 1 || name.length > 100) throw typeInvalid('name must have 1 to 100 characters');
  const authority = (o.definingAuthority ?? {}) as Record<string, unknown>;
  const authorityCode = String(authority.code ?? '').toUpperCase();
  if (authorityCode !== code.slice(0, 18)) throw typeInvalid(`definingAuthority.code must be the first 18 characters of the type code (${code.slice(0, 18)})`);
  const authorityName = String(authority.name ?? '').trim();
  if (authorityName.length < 1 || authorityName.length > 200) throw typeInvalid('definingAuthority.name must have 1 to 200 characters');
  const holderKind = o.holderKind;
  if (holderKind !== 'person' && holderKind !== 'organisation') throw typeInvalid('holderKind must be "person" or "organisation"');
  if (!Array.isArray(o.fields) || o.fields.length > MAX_FIELDS) throw typeInvalid(`fields must be a list of at most ${MAX_FIELDS} field definitions`);
  const seen = new Set<string>();
  const fields = o.fields.map((f: unknown, i: number): LicenceFieldDefinition => {
    const d = (f ?? {}) as Record<string, unknown>;
    const fcode = String(d.code ?? '');
    if (!FIELD_CODE.test(fcode)) throw typeInvalid(`fields[${i}].code must be a camelCase code starting with a lower-case letter`);
    if (seen.has(fcode)) throw typeInvalid(`fields[${i}].code ${fcode} appears twice`);
    seen.add(fcode);
    const label = String(d.label ?? '').trim();
    if (label.length < 1 || label.length > 100) throw typeInvalid(`fields[${i}].label must have 1 to 100 characters`);
    const kind = String(d.kind ?? '');
    if (!KINDS.has(kind)) throw typeInvalid(`fields[${i}].kind must be one of ${[...KINDS].join(', ')}`);
    const def: LicenceFieldDefinition = { code: fcode, label, kind: kind as LicenceFieldKind, required: d.required === true };
    if (d.maxLength !== undefined && d.maxLength !== null && d.maxLength !== 0) {
      if (!Number.isInteger(d.maxLength) || (d.maxLength as number) < 1 || (d.maxLength as number) > 4000) throw typeInvalid(`fields[${i}].maxLength must be 1 to 4000`);
      def.maxLength = d.maxLength as number;
    }
    if (d.sensitive === true) def.sensitive = true;
    return def;
  });
  if (!Array.isArray(o.issuers) || o.issuers.length === 0) throw typeInvalid('issuers must name at least one issuing department (USCC)');
  const issuers = [...new Set(o.issuers.map((u: unknown) => String(u).toUpperCase()))];
  for (const u of issuers) if (!isValidUscc(u)) throw typeInvalid(`issuer ${JSON.stringify(u)} is not a valid unified social credit code`);
  let validityYears: number | null = null;
  if (o.validityYears !== undefined && o.validityYears !== null && o.validityYears !== 0) {
    if (!Number.isInteger(o.validityYears) || (o.validityYears as number) < 1 || (o.validityYears as number) > 100) throw typeInvalid('validityYears must be 1 to 100, or absent for no end');
    validityYears = o.validityYears as number;
  }
  return { code, name, definingAuthority: { code: authorityCode, name: authorityName }, holderKind, fields, issuers, validityYears };
}

/** Whether code is a valid holder code for the kind: a resident ID number (GB 11643) or a USCC (GB 32100). */
export function isValidHolderCode(kind: HolderKind, code: string): boolean {
  return kind === 'person' ? isValidResidentId(code) : isValidUscc(code);
}

export function isValidDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/**
 * Checks field values against the type: every required field present, no unknown field, each of its kind.
 * Values arrive as JSON values, or all as strings from protobuf and CSV; integers, decimals and booleans written as
 * strings are converted. Returns the values in the type's field order; throws ZT_ERR_LICENCE_FIELDS_INVALID.
 */
export function readLicenceFields(type: LicenceType, value: unknown): Record<string, LicenceFieldValue> {
  const given = (value ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object' || Array.isArray(given)) throw new ZtError('ZT_ERR_LICENCE_FIELDS_INVALID', 'fields must be an object of field codes to values');
  const known = new Set(type.fields.map((f) => f.code));
  const unknown = Object.keys(given).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new ZtError('ZT_ERR_LICENCE_FIELDS_INVALID', `${type.name} (${type.code}) has no field ${unknown.join(', ')}`);
  const out: Record<string, LicenceFieldValue> = {};
  for (const f of type.fields) {
    const raw = given[f.code];
    if (raw === undefined || raw === null || raw === '') {
      if (f.required) throw new ZtError('ZT_ERR_LICENCE_FIELDS_INVALID', `field ${f.code} (${f.label}) is required for ${type.name}`);
      continue;
    }
    out[f.code] = fieldValue(f, raw);
  }
  return out;
}

function fieldValue(f: LicenceFieldDefinition, raw: unknown): LicenceFieldValue {
  const bad = (what: string) => new ZtError('ZT_ERR_LICENCE_FIELDS_INVALID', `field ${f.code} (${f.label}) ${what}`);
  switch (f.kind) {
    case 'string': {
      if (typeof raw !== 'string') throw bad('must be text');
      const s = raw.trim();
      if (s.length > (f.maxLength ?? DEFAULT_MAX_LENGTH)) throw bad(`has more than ${f.maxLength ?? DEFAULT_MAX_LENGTH} characters`);
      return s;
    }
    case 'date':
      if (typeof raw !== 'string' || !isValidDate(raw)) throw bad('must be a date YYYY-MM-DD');
      return raw;
    case 'integer': {
      const n = typeof raw === 'string' && /^-?\d{1,15}$/.test(raw.trim()) ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw bad('must be a whole number');
      return n;
    }
    case 'decimal': {
      // Kept as text: money and areas must not pass through binary floating point.
      const s = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
      if (!/^-?\d{1,15}(\.\d{1,6})?$/.test(s)) throw bad('must be a decimal number such as 1234.50');
      return s;
    }
    case 'boolean':
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      throw bad('must be true or false');
  }
}
