// The two export forms: CSV (RFC 4180, UTF-8 with a header row, for spreadsheets) and JSON Lines (one record per
// line, for programs). CSV cells that a spreadsheet would run as a formula (starting with = + - @, or a tab or
// carriage return that some spreadsheets skip before one) get a leading apostrophe: a requester-supplied operator
// name like `=HYPERLINK(…)` must not become a live formula on a supervisor's machine.
import { accessRecordToJson } from '../access-record.js';
import type { StoredAccessRecord } from '../access-record-row.js';

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
};

export const CSV_COLUMNS = [
  'seq',
  'id',
  'at',
  'requester',
  'operator',
  'subject_kind',
  'subject_code',
  'resource',
  'items_requested',
  'items_returned',
  'service_item',
  'case_number',
  'decision',
  'rule_ids',
  'policy_revision',
  'error_code',
  'latency_ms',
  'protocol',
  'instance',
  'request_digest',
  'response_digest',
  'certificate_sm3',
] as const;

const FORMULA = /^[=+\-@\t\r]/;
const QUOTE = /[",\r\n]/;

/** One CSV cell: formula-guarded, then quoted when it holds a quote, comma or line break. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA.test(text)) text = `'${text}`;
  return QUOTE.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

const list = (items: readonly string[]): string => items.join(';');
const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'));

export function csvRow(r: StoredAccessRecord): string {
  return (
    [
      r.seq,
      r.id,
      r.at.toISOString(),
      r.requester,
      r.operator,
      r.subjectKind,
      r.subjectCode,
      r.resource,
      list(r.itemsRequested),
      list(r.itemsReturned),
      r.serviceItem,
      r.caseNumber,
      r.decision,
      list(r.ruleIds),
      r.policyRevision,
      r.errorCode,
      r.latencyMs,
      r.protocol,
      r.instance,
      hex(r.requestDigest),
      hex(r.responseDigest),
      hex(r.certificateSm3),
    ]
      .map(csvCell)
      .join(',') + '\r\n'
  );
}

export function jsonlRow(r: StoredAccessRecord): string {
  return `${JSON.stringify({ seq: r.seq, ...accessRecordToJson(r) })}\n`;
}

/** A batch of records in the format, as one chunk of bytes. */
export function formatBatch(format: ExportFormat, records: readonly StoredAccessRecord[]): Buffer {
  let out = '';
  const row = format === 'csv' ? csvRow : jsonlRow;
  for (const r of records) out += row(r);
  return Buffer.from(out, 'utf8');
}
