// The access record (访问记录): what the exchange writes, durably, for every request it answers, permitted or
// refused, before it releases anything. Supervisors audit these records and citizens see from them who read their
// data, so a record must be complete for a permitted request and must be writable for any refused one, however
// malformed the request was.
//
// Two kinds of field, two kinds of check:
// - what the gateway itself decides (decision, protocol, subject kind, error code, time, latency, digests) must be
//   right; a wrong value is a bug in the caller and is rejected with ZT_ERR_INTERNAL, so nothing is released;
// - what is copied from the request (requester, subject, resource, items, purpose, …) is stored as it came,
//   trimmed, with NUL characters replaced (PostgreSQL text cannot hold them) and cut to a bound, so that a refused
//   request with junk in it is still recorded. A permitted request has passed validation already, so there the
//   same fields must be present and well-formed, and an over-long value is an error, not cut.
import { randomUUID } from 'node:crypto';
import { errorCatalogue, ZtError, type ErrorCode } from '../core/errors/index.js';
import { isValidResidentId, isValidUscc } from '../core/identifiers/index.js';
import type { BlindIndex } from '../core/pseudonyms/index.js';
import { SUBJECT_KINDS, type SubjectKind } from '../policies/catalogue.js';

/** Topic of the access.recorded events, one per record, keyed by the subject's blind index (or the record id without one). */
export const ACCESS_RECORD_TOPIC = 'exchange.access-records';
export const ACCESS_RECORDED_EVENT = 'access.recorded';

export const ACCESS_DECISIONS = ['permit', 'deny', 'error'] as const;
/** permit: data was released (possibly part of what was asked); deny: refused; error: the request failed. */
export type AccessDecision = (typeof ACCESS_DECISIONS)[number];

export const ACCESS_PROTOCOLS = ['http', 'grpc'] as const;
export type AccessProtocol = (typeof ACCESS_PROTOCOLS)[number];

/** An SM3 digest: 32 bytes, or 64 hexadecimal digits. */
export type Sm3Digest = Uint8Array | string;

/** Bounds of the fields copied from a request. */
export const ACCESS_RECORD_LIMITS = {
  requester: 64,
  operator: 200,
  subjectCode: 64,
  resource: 128,
  serviceItem: 128,
  caseNumber: 128,
  policyRevision: 128,
  instance: 200,
  code: 128,
  codes: 1000,
} as const;

/** What the gateway hands the access log; AccessRecord is what it becomes. */
export interface AccessRecordInput {
  /** A UUID; made here (UUIDv7, time-ordered) when absent. Give one to cite the record in the response itself. */
  id?: string | null;
  /** When the request was decided; default now. */
  at?: Date | null;
  /** USCC of the requesting department. */
  requester?: string | null;
  /** The person acting for the requester (经办人). */
  operator?: string | null;
  subjectKind?: SubjectKind | null;
  /** Resident ID number of a person, USCC of an organisation, in clear: the record keeps only its blind index. */
  subjectCode?: string | null;
  /** Catalogue code of the data resource. */
  resource?: string | null;
  itemsRequested?: readonly string[] | null;
  /** Items actually released; a subset of itemsRequested, empty unless permitted. */
  itemsReturned?: readonly string[] | null;
  /** 事项编码. */
  serviceItem?: string | null;
  /** 办件编号. */
  caseNumber?: string | null;
  decision: AccessDecision;
  /** Negative-list rules that shaped the decision. */
  ruleIds?: readonly string[] | null;
  policyRevision?: string | null;
  /** Required when the decision is not permit: the ZT_ERR_* code the requester got. */
  errorCode?: ErrorCode | null;
  latencyMs: number;
  /** SM3 of the canonical request. */
  requestDigest?: Sm3Digest | null;
  /** SM3 of the canonical response. */
  responseDigest?: Sm3Digest | null;
  /** SM3 fingerprint of the requester's certificate. */
  certificateSm3?: Sm3Digest | null;
  /** The gateway instance; AccessLogWriter fills in its own when absent. */
  instance?: string | null;
  protocol: AccessProtocol;
}

export interface AccessRecord {
  readonly id: string;
  readonly at: Date;
  readonly requester: string | null;
  readonly operator: string | null;
  readonly subjectKind: SubjectKind | null;
  /**
   * The blind index of the subject's identifier (core/pseudonyms: `p<version>.<base64url>`), never the identifier:
   * the record, its leaf in the log, its event and every copy of it are pseudonymous.
   */
  readonly subjectCode: string | null;
  readonly resource: string | null;
  readonly itemsRequested: readonly string[];
  readonly itemsReturned: readonly string[];
  readonly serviceItem: string | null;
  readonly caseNumber: string | null;
  readonly decision: AccessDecision;
  readonly ruleIds: readonly string[];
  readonly policyRevision: string | null;
  readonly errorCode: ErrorCode | null;
  readonly latencyMs: number;
  readonly requestDigest: Buffer | null;
  readonly responseDigest: Buffer | null;
  readonly certificateSm3: Buffer | null;
  readonly instance: string;
  readonly protocol: AccessProtocol;
}

/** The record as events and APIs carry it: the time in ISO 8601, digests in lower-case hex. */
export interface AccessRecordJson {
  id: string;
  at: string;
  requester: string | null;
  operator: string | null;
  subjectKind: SubjectKind | null;
  /** The blind index of the subject's identifier. */
  subjectCode: string | null;
  resource: string | null;
  itemsRequested: readonly string[];
  itemsReturned: readonly string[];
  serviceItem: string | null;
  caseNumber: string | null;
  decision: AccessDecision;
  ruleIds: readonly string[];
  policyRevision: string | null;
  errorCode: ErrorCode | null;
  latencyMs: number;
  requestDigest: string | null;
  responseDigest: string | null;
  certificateSm3: string | null;
  instance: string;
  protocol: AccessProtocol;
}

/** The value of an access.recorded event. */
export interface AccessRecordedEvent {
  type: typeof ACCESS_RECORDED_EVENT;
  record: AccessRecordJson;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX_DIGEST = /^[0-9a-f]{64}$/;
const DIGEST_BYTES = 32;
// Times PostgreSQL and ISO 8601 both hold without surprises.
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(9999, 11, 31);

function bug(field: string, message: string): ZtError {
  return new ZtError('ZT_ERR_INTERNAL', `access record: ${field} ${message}`, { details: { field } });
}

/** A time-ordered UUID (version 7): milliseconds since the epoch, then 74 random bits. */
export function newAccessRecordId(at: Date = new Date()): string {
  const time = Math.max(0, Math.min(at.getTime(), 2 ** 48 - 1)).toString(16).padStart(12, '0');
  // randomUUID draws from a cached entropy pool, which is cheaper than randomBytes(16) per record.
  const random = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}

/**
 * Text copied from a request: trimmed, NULs replaced, empty as null. Over the bound it is cut, or, in a permitted
 * record (strict), refused.
 */
function requestText(value: unknown, field: string, max: number, strict: boolean): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw bug(field, `must be a string or null, got ${typeof value}`);
  let text = value.trim();
  if (text.includes('\u0000')) text = text.replaceAll('\u0000', '\uFFFD');
  if (text.length === 0) return null;
  if (text.length > max) {
    if (strict) throw bug(field, `has ${text.length} characters, more than ${max}`);
    text = text.slice(0, max);
  }
  return text;
}

function requestCodes(value: unknown, field: string, strict: boolean): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bug(field, 'must be an array of strings');
  const max = ACCESS_RECORD_LIMITS.codes;
  if (value.length > max && strict) throw bug(field, `has ${value.length} entries, more than ${max}`);
  const codes: string[] = [];
  for (let i = 0; i < value.length && codes.length < max; i++) {
    const code = requestText(value[i], `${field}[${i}]`, ACCESS_RECORD_LIMITS.code, strict);
    if (code !== null) codes.push(code);
  }
  return codes;
}

function required(value: unknown, field: string): void {
  if (value === null) throw bug(field, 'is required in a permitted request\'s record');
}

function digest(value: unknown, field: string): Buffer | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    const hex = value.toLowerCase();
    if (!HEX_DIGEST.test(hex)) throw bug(field, 'must be an SM3 digest: 32 bytes or 64 hexadecimal digits');
    return Buffer.from(hex, 'hex');
  }
  if (value instanceof Uint8Array && value.length === DIGEST_BYTES) {
    // A copy, so a caller reusing its buffer cannot change a record waiting to be written.
    return Buffer.from(value);
  }
  throw bug(field, 'must be an SM3 digest: 32 bytes or 64 hexadecimal digits');
}

/** An identifier: upper-cased when that makes it valid; in a permitted record it must be valid. */
function identifier(value: unknown, field: string, max: number, valid: (code: string) => boolean, strict: boolean): string | null {
  const text = requestText(value, field, strict ? 18 : max, strict);
  if (text === null) return null;
  const upper = text.toUpperCase();
  if (valid(upper)) return upper;
  if (strict) throw bug(field, `${JSON.stringify(text)} is not a valid identifier`);
  return text;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw bug(field, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

export interface NormaliseOptions {
  /** The instance to name when the input names none. */
  instance?: string;
  /** Clock for a record without a time. */
  now?: () => Date;
  /**
   * The blind index the subject's identifier is replaced with, once checked. Without it the record keeps the
   * identifier as given (only tests that look at the checks themselves leave it out; the writer always gives it).
   */
  pseudonyms?: BlindIndex;
}

/**
 * Checks an access record and puts it in its one form. Throws ZT_ERR_INTERNAL, naming the field, for what the
 * gateway got wrong; never for what a requester sent (see the file comment).
 */
export function normaliseAccessRecord(input: AccessRecordInput, options: NormaliseOptions = {}): AccessRecord {
  if (!input || typeof input !== 'object') throw bug('record', 'must be an object');
  const decision = oneOf(input.decision, 'decision', ACCESS_DECISIONS);
  const protocol = oneOf(input.protocol, 'protocol', ACCESS_PROTOCOLS);
  const strict = decision === 'permit';

  const at = input.at ?? options.now?.() ?? new Date();
  if (!(at instanceof Date) || !(at.getTime() >= EARLIEST && at.getTime() <= LATEST)) throw bug('at', 'must be a valid time from 2000 to 9999');

  let id: string;
  if (input.id === undefined || input.id === null) id = newAccessRecordId(at);
  else {
    id = typeof input.id === 'string' ? input.id.toLowerCase() : '';
    if (!UUID.test(id)) throw bug('id', `must be a UUID, got ${JSON.stringify(input.id)}`);
  }

  const latencyMs = input.latencyMs;
  if (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0) {
    throw bug('latencyMs', `must be a finite number of milliseconds, 0 or more, got ${String(latencyMs)}`);
  }

  const errorCode = input.errorCode ?? null;
  if (strict) {
    if (errorCode !== null) throw bug('errorCode', 'must be absent when the request was permitted');
  } else if (errorCode === null) {
    throw bug('errorCode', `is required when the decision is ${decision}`);
  } else if (typeof errorCode !== 'string' || !Object.hasOwn(errorCatalogue, errorCode)) {
    throw bug('errorCode', `${JSON.stringify(errorCode)} is not a code of the error catalogue`);
  }

  const subjectKind = input.subjectKind === undefined || input.subjectKind === null ? null : oneOf(input.subjectKind, 'subjectKind', SUBJECT_KINDS);
  if (strict) required(subjectKind, 'subjectKind');
  const subjectValid = subjectKind === 'person' ? isValidResidentId : subjectKind === 'organisation' ? isValidUscc : () => false;
  const itemsRequested = requestCodes(input.itemsRequested, 'itemsRequested', strict);
  const itemsReturned = requestCodes(input.itemsReturned, 'itemsReturned', strict);
  if (!strict && itemsReturned.length > 0) throw bug('itemsReturned', `must be empty when the decision is ${decision}`);
  if (strict) {
    for (const item of itemsReturned) {
      if (!itemsRequested.includes(item)) throw bug('itemsReturned', `names ${JSON.stringify(item)}, which was not requested`);
    }
  }

  const instance = requestText(input.instance ?? options.instance, 'instance', ACCESS_RECORD_LIMITS.instance, true);
  if (instance === null) throw bug('instance', 'is required (or give AccessLogWriter an instance)');

  const L = ACCESS_RECORD_LIMITS;
  const subjectCode = identifier(input.subjectCode, 'subjectCode', L.subjectCode, subjectValid, strict);
  const record: AccessRecord = {
    id,
    at,
    requester: identifier(input.requester, 'requester', L.requester, isValidUscc, strict),
    operator: requestText(input.operator, 'operator', L.operator, strict),
    subjectKind,
    // Checked in clear, stored as its index: a refused request's malformed code is someone's identifier too.
    subjectCode: subjectCode === null || !options.pseudonyms ? subjectCode : options.pseudonyms.of(subjectCode),
    resource: requestText(input.resource, 'resource', L.resource, strict),
    itemsRequested,
    itemsReturned,
    serviceItem: requestText(input.serviceItem, 'serviceItem', L.serviceItem, strict),
    caseNumber: requestText(input.caseNumber, 'caseNumber', L.caseNumber, strict),
    decision,
    ruleIds: requestCodes(input.ruleIds, 'ruleIds', strict),
    policyRevision: requestText(input.policyRevision, 'policyRevision', L.policyRevision, strict),
    errorCode,
    latencyMs,
    requestDigest: digest(input.requestDigest, 'requestDigest'),
    responseDigest: digest(input.responseDigest, 'responseDigest'),
    certificateSm3: digest(input.certificateSm3, 'certificateSm3'),
    instance,
    protocol,
  };
  if (strict) {
    required(record.requester, 'requester');
    required(record.subjectCode, 'subjectCode');
    required(record.resource, 'resource');
    required(record.serviceItem, 'serviceItem');
    required(record.caseNumber, 'caseNumber');
    required(record.policyRevision, 'policyRevision');
    required(record.requestDigest, 'requestDigest');
    required(record.responseDigest, 'responseDigest');
    required(record.certificateSm3, 'certificateSm3');
  }
  return record;
}

function hex(value: Buffer | null): string | null {
  return value === null ? null : value.toString('hex');
}

export function accessRecordToJson(record: AccessRecord): AccessRecordJson {
  return {
    id: record.id,
    at: record.at.toISOString(),
    requester: record.requester,
    operator: record.operator,
    subjectKind: record.subjectKind,
    subjectCode: record.subjectCode,
    resource: record.resource,
    itemsRequested: record.itemsRequested,
    itemsReturned: record.itemsReturned,
    serviceItem: record.serviceItem,
    caseNumber: record.caseNumber,
    decision: record.decision,
    ruleIds: record.ruleIds,
    policyRevision: record.policyRevision,
    errorCode: record.errorCode,
    latencyMs: record.latencyMs,
    requestDigest: hex(record.requestDigest),
    responseDigest: hex(record.responseDigest),
    certificateSm3: hex(record.certificateSm3),
    instance: record.instance,
    protocol: record.protocol,
  };
}
