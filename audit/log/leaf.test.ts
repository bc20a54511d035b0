// The fast leaf writer gives exactly the bytes of the canonical one, for records of every shape.
import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StoredAccessRecord } from '../access-record-row.js';
import { accessLeafBytes, accessLeafBytesFast, accessLeafHash, accessLeafHashFast } from './leaf.js';

const pick = <T>(values: readonly T[]): T => values[randomInt(values.length)]!;
const text = (): string | null => pick([null, '', '张三', 'a"b\\c', '\u2028line', '𝔘𝔫𝔦', '\ud800lone', "' OR 1=1 --", 'x'.repeat(200)]);
const digest = (): Buffer | null => (randomInt(3) === 0 ? null : randomBytes(32));

function record(seq: number): StoredAccessRecord {
  const decision = pick(['permit', 'deny', 'error'] as const);
  return {
    seq,
    id: `0190d7a4-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    at: new Date(Date.UTC(2026, 0, 1) + randomInt(1e9) * 7),
    requester: text(),
    operator: text(),
    subjectKind: pick([null, 'person', 'organisation'] as const),
    subjectCode: text(),
    resource: text(),
    itemsRequested: pick([[], ['name'], ['name', '地址', 'a"b']]),
    itemsReturned: pick([[], ['name']]),
    serviceItem: text(),
    caseNumber: text(),
    decision,
    ruleIds: pick([[], ['NL-1', 'NL-2']]),
    policyRevision: text(),
    errorCode: decision === 'permit' ? null : 'ZT_ERR_REQUEST_INVALID',
    latencyMs: pick([0, -0, 0.1, 2.25, 10000.123, 1e-7, 123456.789, Math.fround(3.3)]),
    requestDigest: digest(),
    responseDigest: digest(),
    certificateSm3: digest(),
    instance: pick(['gw-1', '网关']),
    protocol: pick(['http', 'grpc'] as const),
  };
}

describe('accessLeafBytesFast', () => {
  it('writes the canonical leaf bytes for 5,000 varied records', () => {
    for (let i = 1; i <= 5000; i++) {
      const r = record(i * 7919);
      expect(accessLeafBytesFast(r).toString('utf8')).toBe(accessLeafBytes(r).toString('utf8'));
    }
    const r = record(1);
    expect(accessLeafHashFast(r).equals(accessLeafHash(r))).toBe(true);
  });
});
