// Reading access records back from the database, in the one form every reader uses (search, the tamper-evident
// log, archives). The column list is fixed here so that every reader selects the same columns the same way.
import type { ErrorCode } from '../core/errors/index.js';
import type { SubjectKind } from '../policies/catalogue.js';
import type { AccessDecision, AccessProtocol, AccessRecord } from './access-record.js';

/** Columns of access_record as rows are read into StoredAccessRecord (prefix with an alias where needed). */
export const ACCESS_RECORD_COLUMNS =
  'seq, id, at, requester, operator, subject_kind, subject_code, resource, items_requested, items_returned, service_item, ' +
  'case_number, decision, rule_ids, policy_revision, error_code, latency_ms, request_digest, response_digest, certificate_sm3, ' +
  'instance, protocol';

export interface AccessRecordRow {
  seq: string | number | bigint;
  id: string;
  at: Date | string;
  requester: string | null;
  operator: string | null;
  subject_kind: string | null;
  subject_code: string | null;
  resource: string | null;
  items_requested: string[] | null;
  items_returned: string[] | null;
  service_item: string | null;
  case_number: string | null;
  decision: string;
  rule_ids: string[] | null;
  policy_revision: string | null;
  error_code: string | null;
  latency_ms: number | string;
  request_digest: Uint8Array | null;
  response_digest: Uint8Array | null;
  certificate_sm3: Uint8Array | null;
  instance: string;
  protocol: string;
}

/** An access record as stored: the record and its position in this database's log. */
export interface StoredAccessRecord extends AccessRecord {
  readonly seq: number;
}

const buffer = (value: Uint8Array | null): Buffer | null => (value === null ? null : Buffer.from(value));

/** The row as read by either database adapter (node-postgres or PGlite), in one form. */
export function accessRecordFromRow(row: AccessRecordRow): StoredAccessRecord {
  return {
    seq: Number(row.seq),
    id: row.id,
    at: row.at instanceof Date ? row.at : new Date(row.at),
    requester: row.requester,
    operator: row.operator,
    subjectKind: row.subject_kind as SubjectKind | null,
    subjectCode: row.subject_code,
    resource: row.resource,
    itemsRequested: row.items_requested ?? [],
    itemsReturned: row.items_returned ?? [],
    serviceItem: row.service_item,
    caseNumber: row.case_number,
    decision: row.decision as AccessDecision,
    ruleIds: row.rule_ids ?? [],
    policyRevision: row.policy_revision,
    errorCode: row.error_code as ErrorCode | null,
    latencyMs: Number(row.latency_ms),
    requestDigest: buffer(row.request_digest),
    responseDigest: buffer(row.response_digest),
    certificateSm3: buffer(row.certificate_sm3),
    instance: row.instance,
    protocol: row.protocol as AccessProtocol,
  };
}
