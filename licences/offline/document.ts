// Reading a licence document that someone presents (a QR code, a file): the shape of LicenceDocument (GB/T 36903
// metadata, licence.ts), checked field by field so that a verifier reports what is wrong rather than crashing on it.
// The identifier is parsed separately (parseLicenceIdentifier); the signature decides whether the content is genuine.
import { ZtError } from '../../core/errors/index.js';
import { LICENCE_DOCUMENT_SCHEMA, type LicenceDocument } from '../licence.js';

/** Far above any real licence (a few KB), small enough that a hostile one cannot hurt. */
export const MAX_LICENCE_DOCUMENT_BYTES = 64 * 1024;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const AREA_CODE = /^\d{6}$/;

function malformed(field: string, why: string): never {
  throw new ZtError('ZT_ERR_LICENCE_DOCUMENT_MALFORMED', `the licence document's ${field} ${why}`, { details: { field } });
}

function isDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/** Parses JSON text (or bytes) into an object; ZT_ERR_LICENCE_DOCUMENT_MALFORMED when it is not JSON or too large. */
export function parseLicenceDocumentJson(input: string | Uint8Array): unknown {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  if (Buffer.byteLength(text) > MAX_LICENCE_DOCUMENT_BYTES) malformed('text', `is larger than ${MAX_LICENCE_DOCUMENT_BYTES} bytes`);
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ZtError('ZT_ERR_LICENCE_DOCUMENT_MALFORMED', `the licence document is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Checks the shape of a licence document; ZT_ERR_LICENCE_DOCUMENT_MALFORMED naming the first field that does not fit. */
export function readLicenceDocument(value: unknown): LicenceDocument {
  const obj = (x: unknown, field: string): Record<string, unknown> =>
    typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : malformed(field, 'is not an object');
  const str = (x: unknown, field: string, max = 500): string => (typeof x === 'string' && x.length > 0 && x.length <= max ? x : malformed(field, `is not a string of 1 to ${max} characters`));
  const date = (x: unknown, field: string): string => (isDate(str(x, field, 10)) ? (x as string) : malformed(field, 'is not a date YYYY-MM-DD'));

  const d = obj(value, 'top level');
  if (d.schema !== LICENCE_DOCUMENT_SCHEMA) malformed('schema', `is not ${LICENCE_DOCUMENT_SCHEMA}`);
  str(d.identifier, 'identifier', 200);
  str(d.name, 'name');
  str(d.typeCode, 'typeCode', 21);
  str(d.typeName, 'typeName');
  str(d.licenceNumber, 'licenceNumber', 64);
  const issuer = obj(d.issuer, 'issuer');
  str(issuer.code, 'issuer.code', 18);
  str(issuer.name, 'issuer.name', 200);
  date(d.issueDate, 'issueDate');
  const holder = obj(d.holder, 'holder');
  str(holder.name, 'holder.name');
  str(holder.code, 'holder.code', 64);
  if (holder.codeType !== '111' && holder.codeType !== '001') malformed('holder.codeType', 'is neither 111 (resident ID number) nor 001 (USCC)');
  const validFrom = date(d.validFrom, 'validFrom');
  if (d.validTo !== undefined && date(d.validTo, 'validTo') < validFrom) malformed('validTo', 'is earlier than validFrom');
  if (typeof d.areaCode !== 'string' || !AREA_CODE.test(d.areaCode)) malformed('areaCode', 'is not a 6-digit area code');
  const seal = obj(d.seal, 'seal');
  str(seal.signer, 'seal.signer');
  str(seal.signedAt, 'seal.signedAt', 40);
  str(seal.name, 'seal.name');
  if (!Number.isInteger(d.version) || (d.version as number) < 1 || (d.version as number) > 999) malformed('version', 'is not an integer from 1 to 999');
  if (d.supersedes !== undefined) str(d.supersedes, 'supersedes', 200);
  const fields = obj(d.fields, 'fields');
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) malformed(`fields.${k}`, 'is not a string, number or boolean');
  }
  if (d.annotations !== undefined) {
    if (!Array.isArray(d.annotations)) malformed('annotations', 'is not a list');
    (d.annotations as unknown[]).forEach((a, i) => {
      const note = obj(a, `annotations[${i}]`);
      str(note.madeAt, `annotations[${i}].madeAt`, 40);
      str(note.madeBy, `annotations[${i}].madeBy`, 18);
      str(note.reason, `annotations[${i}].reason`);
      if (note.validTo !== undefined) date(note.validTo, `annotations[${i}].validTo`);
    });
  }
  const status = obj(d.status, 'status');
  const list = str(status.list, 'status.list', 1000);
  if (!/^https?:\/\/[^\s#]+$/.test(list)) malformed('status.list', 'is not an http(s) URL without a fragment');
  if (!Number.isSafeInteger(status.index) || (status.index as number) < 0) malformed('status.index', 'is not a non-negative integer');
  return d as unknown as LicenceDocument;
}
