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
