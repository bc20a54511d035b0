// The leaf of the tamper-evident access log: one per access record, the SM3 leaf hash (RFC 6962: SM3(0x00 || bytes))
// of the record's canonical JSON with its position. Everything a supervisor relies on is in it, so editing any column
// of a stored record, or moving it to another position, changes its leaf.
//
// latency_ms is a PostgreSQL real (float4); node-postgres reads it as text and PGlite as a binary float, which give
// different doubles for one stored value. Both are brought to the same float4 first, then to microseconds, so one
// stored record has one leaf whichever adapter read it (and an archive made on one verifies on the other).
import { canonicalJson } from '../../core/canonical-json.js';
import { leafHash } from '../../certs/signer/merkle.js';
import { accessRecordToJson } from '../access-record.js';
import type { StoredAccessRecord } from '../access-record-row.js';

export const ACCESS_LEAF_SCHEMA = 'zhengtong/access-leaf/v1';

/** Latency as the leaf holds it: the stored float4, in whole microseconds. */
export function leafLatency(latencyMs: number): number {
  return Math.round(Math.fround(latencyMs) * 1000) / 1000;
}

/** The bytes of a record's leaf: its canonical JSON with the schema and its position (seq). */
export function accessLeafBytes(record: StoredAccessRecord): Buffer {
  const json = accessRecordToJson(record);
  return Buffer.from(canonicalJson({ schema: ACCESS_LEAF_SCHEMA, seq: record.seq, ...json, latencyMs: leafLatency(record.latencyMs) }), 'utf8');
}

/** SM3(0x00 || leaf bytes). */
export function accessLeafHash(record: StoredAccessRecord): Buffer {
  return leafHash(accessLeafBytes(record));
}

// The same bytes as accessLeafBytes, written without the generic canonical-JSON walk (the sequencer and the verifier
// hash every record; the walk was most of their time). Every member is a string, a finite number or an array of
// strings, for which JSON.stringify writes exactly what canonical JSON does; members are in canonical key order
// (UTF-16 code units) and null members are left out, as canonicalJson does. leaf.test.ts holds the two to one output.
const LEAF_KEYS = [
  'at', 'caseNumber', 'certificateSm3', 'decision', 'errorCode', 'id', 'instance', 'itemsRequested', 'itemsReturned', 'latencyMs', 'operator',
  'policyRevision', 'protocol', 'requestDigest', 'requester', 'resource', 'responseDigest', 'ruleIds', 'schema', 'seq', 'serviceItem', 'subjectCode',
  'subjectKind',
] as const;
const LEAF_KEY_PREFIX = LEAF_KEYS.map((k) => `${JSON.stringify(k)}:`);
const SCHEMA_JSON = JSON.stringify(ACCESS_LEAF_SCHEMA);

/** accessLeafBytes, fast: the bytes are identical (tested), so either may be used. */
export function accessLeafBytesFast(record: StoredAccessRecord): Buffer {
  const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'));
  const values: (string | number | readonly string[] | null)[] = [
    record.at.toISOString(),
    record.caseNumber,
    hex(record.certificateSm3),
    record.decision,
    record.errorCode,
    record.id,
    record.instance,
    record.itemsRequested,
    record.itemsReturned,
    leafLatency(record.latencyMs),
    record.operator,
    record.policyRevision,
    record.protocol,
    hex(record.requestDigest),
    record.requester,
    record.resource,
    hex(record.responseDigest),
    record.ruleIds,
    null, // schema, written below
    record.seq,
    record.serviceItem,
    record.subjectCode,
    record.subjectKind,
  ];
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = i === 18 ? SCHEMA_JSON : values[i];
    if (v === null || v === undefined) continue;
    if (out.length > 1) out += ',';
    out += LEAF_KEY_PREFIX[i];
    out += i === 18 ? v : JSON.stringify(v);
  }
  return Buffer.from(`${out}}`, 'utf8');
}

/** accessLeafHash over accessLeafBytesFast. */
export function accessLeafHashFast(record: StoredAccessRecord): Buffer {
  return leafHash(accessLeafBytesFast(record));
}
