// The archive file (电子档案) of one sealed segment of the access log: gzip'd JSON Lines, one JSON object a line,
// self-contained so that anyone holding the platform CA's certificates can check it offline (docs/audit-archive.md).
//
//   line 1          header      schema, segment range, counts, first/last times, the segment's Merkle root
//   lines 2..n+1    record      one per leaf, in leaf order: the stored record with its seq, and its leaf hash
//   line n+2        checkpoint  a signed checkpoint (tree head) of the log, and the segment root's audit path to it
//   line n+3        manifest    the SM3 of every byte before it, signed by the platform key (a signed envelope)
//
// A segment is an aligned complete subtree of the log, leaves [j·2^k, (j+1)·2^k): its root is a node of every later
// tree, so one audit path ties it to a checkpoint. Each record line also carries its leaf hash, so a verifier that
// recomputes a different leaf can name the line that was altered, not only say that the root differs.
import type { ErrorCode } from '../../core/errors/index.js';
import { ZtError } from '../../core/errors/index.js';
import type { EnvelopeJson } from '../../certs/envelope/index.js';
import { ACCESS_DECISIONS, ACCESS_PROTOCOLS, accessRecordToJson, type AccessRecordJson } from '../access-record.js';
import type { StoredAccessRecord } from '../access-record-row.js';
import { ACCESS_LEAF_SCHEMA } from '../log/leaf.js';
import type { Checkpoint } from '../log/checkpoint.js';
import { SUBJECT_KINDS, type SubjectKind } from '../../policies/catalogue.js';

export const ARCHIVE_SCHEMA = 'zhengtong/audit-archive/v1';
export const ARCHIVE_MANIFEST_SCHEMA = 'zhengtong/audit-archive-manifest/v1';
/** Segment sizes a reader accepts: 2^1 to 2^24 records. */
export const MIN_SEGMENT_BITS = 1;
export const MAX_SEGMENT_BITS = 24;
/** The longest line a reader takes; a record with every field at its bound is well under 1 MiB. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

export interface ArchiveHeader {
  type: 'header';
  schema: typeof ARCHIVE_SCHEMA;
  /** The schema of the leaves the records hash to (audit/log/leaf.ts). */
  leafSchema: string;
  /** Leaves [leafFrom, leafTo), leafTo - leafFrom = 2^segmentBits, leafFrom a multiple of it. */
  leafFrom: number;
  leafTo: number;
  segmentBits: number;
  records: number;
  /** Records by decision. */
  decisions: { permit: number; deny: number; error: number };
  firstSeq: number;
  lastSeq: number;
  /** Earliest and latest record time (ISO 8601). */
  firstAt: string;
  lastAt: string;
  /** The segment's Merkle root (hex): MTH of its leaves, a node of the log's tree. */
  segmentRoot: string;
  /** The platform that sealed it (its USCC) and when. */
  platformUscc: string;
  sealedAt: string;
}

/** A record as the archive holds it: AccessRecordJson with its seq; latencyMs is the stored float4, exactly. */
export interface ArchivedRecordJson extends AccessRecordJson {
  seq: number;
}

export interface ArchiveRecordLine {
  type: 'record';
  leafIndex: number;
  /** SM3(0x00 ‖ accessLeafBytes(record)), hex. */
  leafHash: string;
  record: ArchivedRecordJson;
}

/** The checkpoint as the log stores and serves it (audit/log/checkpoint.ts), its signed envelope included. */
export type ArchiveCheckpointJson = Checkpoint;

export interface ArchiveCheckpointLine {
  type: 'checkpoint';
  checkpoint: ArchiveCheckpointJson;
  /**
   * The audit path from the segment root (node j = leafFrom / 2^k at level k) to the checkpoint's root: the
   * inclusion proof of leaf leafFrom in the checkpoint's tree without its first k hashes. Hex, nearest first.
   */
  segmentPath: string[];
}

/** What the platform signs: the canonical JSON of this object. */
export interface ArchiveManifest {
  schema: typeof ARCHIVE_MANIFEST_SCHEMA;
  leafFrom: number;
  leafTo: number;
  records: number;
  segmentRoot: string;
  checkpointSize: number;
  checkpointRoot: string;
  /** Lines before the manifest line, and the SM3 (hex) and length of their bytes, newlines included. */
  lines: number;
  contentBytes: number;
  contentSm3: string;
}

export interface ArchiveManifestLine {
  type: 'manifest';
  manifest: ArchiveManifest;
  envelope: EnvelopeJson;
}

/** The file name of a segment's archive: the leaf range, zero-padded so names sort in log order. */
export function archiveFileName(leafFrom: number, leafTo: number): string {
  return `access-log-${String(leafFrom).padStart(12, '0')}-${String(leafTo).padStart(12, '0')}.jsonl.gz`;
}

/** The archived form of a stored record. */
export function archivedRecordJson(record: StoredAccessRecord): ArchivedRecordJson {
  // float4 as a double, exactly: written back into a real column it is the same stored value again.
  return { seq: record.seq, ...accessRecordToJson(record), latencyMs: Math.fround(record.latencyMs) };
}

/** A problem in an archive file, named by its line (1-based, of the uncompressed text) when there is one. */
export function archiveInvalid(message: string, line?: number, code: ErrorCode = 'ZT_ERR_ARCHIVE_INVALID', cause?: unknown): ZtError {
  return new ZtError(code, line === undefined ? message : `line ${line}: ${message}`, {
    ...(line !== undefined ? { details: { line } } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX32 = /^[0-9a-f]{64}$/;
const RECORD_KEYS = [
  'seq', 'id', 'at', 'requester', 'operator', 'subjectKind', 'subjectCode', 'resource', 'itemsRequested', 'itemsReturned',
  'serviceItem', 'caseNumber', 'decision', 'ruleIds', 'policyRevision', 'errorCode', 'latencyMs', 'requestDigest',
  'responseDigest', 'certificateSm3', 'instance', 'protocol',
] as const;

/**
 * The stored record an archived record stands for. Strict about shape (every field present, no others, times and
 * digests in their one form) so that one record has one line and a changed byte cannot hide in an extra field.
 */
export function recordFromArchive(value: unknown, line: number): StoredAccessRecord {
  const bad = (why: string): never => {
    throw archiveInvalid(`the record ${why}`, line);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('is not an object');
  const r = value as Record<string, unknown>;
  const keys = Object.keys(r);
  for (const key of keys) if (!(RECORD_KEYS as readonly string[]).includes(key)) bad(`has an unknown field ${JSON.stringify(key)}`);
  for (const key of RECORD_KEYS) if (!(key in r)) bad(`lacks the field ${key}`);
  const text = (key: string): string | null => {
    const v = r[key];
    if (v === null) return null;
    if (typeof v !== 'string') return bad(`field ${key} is not a string or null`);
    return v;
  };
  const texts = (key: string): string[] => {
    const v = r[key];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) return bad(`field ${key} is not a list of strings`);
    return v as string[];
  };
  const digest = (key: string): Buffer | null => {
    const v = text(key);
    if (v === null) return null;
    if (!HEX32.test(v)) bad(`field ${key} is not 64 lower-case hex digits`);
    return Buffer.from(v, 'hex');
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[], nullable: boolean): T | null => {
    const v = r[key];
    if (v === null && nullable) return null;
    if (!allowed.includes(v as T)) bad(`field ${key} is not one of ${allowed.join(', ')}`);
    return v as T;
  };
  const seq = r.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) bad('field seq is not a positive integer');
  const id = text('id');
  if (id === null || !UUID.test(id)) bad('field id is not a lower-case UUID');
  const atText = text('at');
  const at = new Date(atText ?? '');
  if (atText === null || Number.isNaN(at.getTime()) || at.toISOString() !== atText) bad('field at is not an ISO 8601 time as toISOString writes it');
  const latencyMs = r.latencyMs;
  if (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0 || Math.fround(latencyMs) !== latencyMs) {
    bad('field latencyMs is not a stored latency (a non-negative float4)');
  }
  const errorCode = text('errorCode');
  if (errorCode !== null && !/^ZT_ERR_[A-Z0-9_]+$/.test(errorCode)) bad('field errorCode is not a ZT_ERR_* code');
  const instance = text('instance');
  if (instance === null) bad('field instance is missing');
  return {
    seq: seq as number,
    id: id!,
    at,
    requester: text('requester'),
    operator: text('operator'),
    subjectKind: oneOf<SubjectKind>('subjectKind', SUBJECT_KINDS, true),
    subjectCode: text('subjectCode'),
    resource: text('resource'),
    itemsRequested: texts('itemsRequested'),
    itemsReturned: texts('itemsReturned'),
    serviceItem: text('serviceItem'),
    caseNumber: text('caseNumber'),
    decision: oneOf('decision', ACCESS_DECISIONS, false)!,
    ruleIds: texts('ruleIds'),
    policyRevision: text('policyRevision'),
    errorCode: errorCode as ErrorCode | null,
    latencyMs: latencyMs as number,
    requestDigest: digest('requestDigest'),
    responseDigest: digest('responseDigest'),
    certificateSm3: digest('certificateSm3'),
    instance: instance!,
    protocol: oneOf('protocol', ACCESS_PROTOCOLS, false)!,
  };
}

export { ACCESS_LEAF_SCHEMA };
