// Searching the access log (行权回溯): search, export and trace for supervisors, one subject's view for citizens and
// enterprises through a portal, covert-case flags, and the kept negative-list revisions that explain old records.
export { AccessSearchStore, type FoundRecord, type Page, type SubjectEntry, type SubjectPage } from './access-search-store.js';
export { checkFlagInput, CovertCaseStore, covertCaseJson, type CovertCase, type CovertFlagInput } from './covert-cases.js';
export { CSV_COLUMNS, csvCell, csvHeader, csvRow, EXPORT_CONTENT_TYPES, EXPORT_FORMATS, formatBatch, jsonlRow, type ExportFormat } from './export-format.js';
export { persistedRules, PolicyRevisionStore, type PersistedRule, type PolicyRevisionRow } from './policy-revisions.js';
export {
  chinaDateOf,
  decodeCursor,
  encodeCursor,
  readFilters,
  readSearchQuery,
  SEARCH_PAGE_DEFAULT,
  SEARCH_PAGE_MAX,
  type AccessFilters,
  type AccessSearchQuery,
  type RawParameters,
  type SearchCursor,
} from './query.js';
export {
  AccessLogSearch,
  LICENCE_POLICY_REVISION,
  type AccessLogSearchOptions,
  type AuditCall,
  type AuditQueryKind,
  type PreparedExport,
  type SearchAnswer,
  type SearchHitJson,
  type SubjectAccessJson,
  type SubjectAnswer,
  type TraceAnswer,
  type TraceRule,
} from './search-service.js';
