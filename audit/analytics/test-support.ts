// Test helpers for the analytics: access records as events carry them, made through the record's own normalisation.
import { randomBytes } from 'node:crypto';
import { residentIdCheckCharacter, usccCheckCharacter } from '../../core/identifiers/index.js';
import { BlindIndex } from '../../core/pseudonyms/index.js';
import { accessRecordToJson, newAccessRecordId, normaliseAccessRecord, type AccessRecordInput, type AccessRecordJson } from '../access-record.js';

export const GA = '11210100001000029N'; // a requesting department of the demo city
export const YS = '112101000010000537';
export const MZ = '11210100001000045C';

/** The blind index the records of these tests are written with (events carry the subject's index, as the writer's do). */
export const TEST_PSEUDONYMS = new BlindIndex([{ version: 1, key: randomBytes(32) }]);

/** A valid resident ID number numbered n (distinct n, distinct subjects). */
export function person(n: number): string {
  const birth = new Date(Date.UTC(1960, 0, 1) + Math.floor(n / 1000) * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
  const first17 = `210102${birth}${String(n % 1000).padStart(3, '0')}`;
  return first17 + residentIdCheckCharacter(first17);
}

export function organisation(n: number): string {
  const first17 = `91210100${String(n % 1_000_000_000).padStart(9, '0')}`;
  return first17 + usccCheckCharacter(first17);
}

/** A permitted record at `at` (China-time ISO string or Date), with overrides. */
export function permitted(at: Date | string, over: Partial<AccessRecordInput> = {}): AccessRecordJson {
  const when = typeof at === 'string' ? new Date(at) : at;
  return accessRecordToJson(
    normaliseAccessRecord({
      id: newAccessRecordId(when),
      at: when,
      decision: 'permit',
      protocol: 'http',
      latencyMs: 3.5,
      requester: GA,
      operator: '张三',
      subjectKind: 'person',
      subjectCode: person(1),
      resource: '210100-GA-0001',
      itemsRequested: ['name', 'address', 'photo'],
      itemsReturned: ['name', 'address'],
      serviceItem: '210100-SB-0001',
      caseNumber: 'GA-2026-000001',
      ruleIds: [],
      policyRevision: 'r1',
      requestDigest: randomBytes(32),
      responseDigest: randomBytes(32),
      certificateSm3: randomBytes(32),
      instance: 'test',
      ...over,
    }, { pseudonyms: TEST_PSEUDONYMS }),
  );
}

export function refused(at: Date | string, over: Partial<AccessRecordInput> = {}): AccessRecordJson {
  const when = typeof at === 'string' ? new Date(at) : at;
  return accessRecordToJson(
    normaliseAccessRecord({
      id: newAccessRecordId(when),
      at: when,
      decision: 'deny',
      errorCode: 'ZT_ERR_REQUEST_INVALID',
      protocol: 'grpc',
      latencyMs: 0.8,
      requester: GA,
      operator: '张三',
      resource: '210100-GA-0001',
      itemsRequested: ['name'],
      instance: 'test',
      ...over,
    }, { pseudonyms: TEST_PSEUDONYMS }),
  );
}

/** The event value the access log's outbox publishes. */
export function eventOf(record: AccessRecordJson): { value: Buffer } {
  return { value: Buffer.from(JSON.stringify({ type: 'access.recorded', record }), 'utf8') };
}
