// The audit log (审计): durable access records (访问记录) of every exchange request, written with group commit, and
// their supervision.
export {
  ACCESS_DECISIONS,
  ACCESS_PROTOCOLS,
  ACCESS_RECORD_LIMITS,
  ACCESS_RECORD_TOPIC,
  ACCESS_RECORDED_EVENT,
  accessRecordToJson,
  newAccessRecordId,
  normaliseAccessRecord,
  type AccessDecision,
  type AccessProtocol,
  type AccessRecord,
  type AccessRecordedEvent,
  type AccessRecordInput,
  type AccessRecordJson,
  type NormaliseOptions,
  type Sm3Digest,
} from './access-record.js';
export {
  AccessLogWriter,
  type AccessLogBatchReport,
  type AccessLogWriterOptions,
  type AccessLogWriterStats,
  type AccessRecordReceipt,
} from './access-log-writer.js';
export { ACCESS_RECORD_COLUMNS, accessRecordFromRow, type AccessRecordRow, type StoredAccessRecord } from './access-record-row.js';
export { AuditAccessGuard, type AuditAccessGuardOptions, type AuditCaller, type AuditRole, type ForbiddenAuditCall } from './supervision/access-guard.js';
