// Import and export of supply lists (供给清单) and demand lists (需求清单), in JSON and CSV. Imports are all or
// nothing: every row is checked and all the problems are reported together, each with its row number: for CSV the
// spreadsheet row (the header is row 1), for JSON the position in the array (from 1).
import { ZtError, type ErrorCode } from '../../core/errors/index.js';
import { CsvSyntaxError, formatCsv, parseCsv, type CsvRecord } from './csv.js';
import type { Demand, DemandRegistration } from './demand.js';
import type { DataResource, ResourcePublication } from './resource.js';

export interface ImportRecord<T> {
  row: number;
  value: T;
}

export interface RowError {
  row: number;
  column?: string;
  code: ErrorCode;
  message: string;
}

/** Records that parsed, and the rows that did not: the service adds its own checks and reports all together. */
export interface ImportBatch<T> {
  records: ImportRecord<T>[];
  errors: RowError[];
}

const MAX_LISTED_ERRORS = 200;

export function importFailed(errors: readonly RowError[]): ZtError {
  const sorted = [...errors].sort((a, b) => a.row - b.row);
  const rowsWithErrors = new Set(sorted.map((e) => e.row)).size;
  const first = sorted[0];
  return new ZtError(
    'ZT_ERR_IMPORT_INVALID',
    `${rowsWithErrors} ${rowsWithErrors === 1 ? 'row is' : 'rows are'} invalid; nothing was imported${first ? ` (row ${first.row}: ${first.message})` : ''}`,
    { details: sorted.slice(0, MAX_LISTED_ERRORS) },
  );
}

/** Multiple values in one CSV cell (data items, categories) are separated by semicolons. */
const LIST_SEPARATOR = ';';
const splitList = (cell: string): string[] =>
  cell
    .split(LIST_SEPARATOR)
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Spreadsheet users write the class in Chinese as often as not. */
const SHARING_CLASS_ALIASES: Readonly<Record<string, string>> = {
  无条件共享: 'unconditional',
  无条件: 'unconditional',
  有条件共享: 'conditional',
  有条件: 'conditional',
  不予共享: 'not-shared',
};

interface Table {
  header: string[];
  rows: { row: number; cells: Map<string, string> }[];
}

/**
 * Reads CSV into named cells, checking the header: every required column present, no column unknown or repeated.
 * `ignored` columns (those an export adds, such as state) are accepted and dropped.
 */
function readTable(text: string, required: readonly string[], optional: readonly string[], ignored: readonly string[]): Table | RowError[] {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) return [{ row: 0, code: 'ZT_ERR_IMPORT_INVALID', message: `the CSV is malformed at ${error.message}` }];
    throw error;
  }
  if (records.length === 0) return [{ row: 1, code: 'ZT_ERR_IMPORT_INVALID', message: `the CSV is empty; its first row must name the columns: ${required.join(', ')}` }];
  const header = records[0]!.fields.map((h) => h.trim());
  const known = new Set([...required, ...optional, ...ignored]);
  const errors: RowError[] = [];
  const unknown = header.filter((h) => !known.has(h));
  if (unknown.length > 0) errors.push({ row: 1, code: 'ZT_ERR_IMPORT_INVALID', message: `unknown column ${unknown.map((u) => JSON.stringify(u)).join(', ')}; columns are ${[...required, ...optional].join(', ')}` });
  const missing = required.filter((r) => !header.includes(r));
  if (missing.length > 0) errors.push({ row: 1, code: 'ZT_ERR_IMPORT_INVALID', message: `missing column ${missing.join(', ')}` });
  const repeated = header.filter((h, i) => header.indexOf(h) !== i);
  if (repeated.length > 0) errors.push({ row: 1, code: 'ZT_ERR_IMPORT_INVALID', message: `column ${repeated.join(', ')} appears twice` });
  if (errors.length > 0) return errors;
  const rows: Table['rows'] = [];
  records.slice(1).forEach((record, i) => {
    const row = i + 2;
    if (record.fields.length !== header.length) {
      errors.push({ row, code: 'ZT_ERR_IMPORT_INVALID', message: `has ${record.fields.length} fields, the header has ${header.length}` });
      return;
    }
    const cells = new Map<string, string>();
    header.forEach((h, j) => {
      if (!ignored.includes(h)) cells.set(h, record.fields[j]!.trim());
    });
    rows.push({ row, cells });
  });
  return errors.length > 0 ? errors : { header, rows };
}

const cell = (cells: Map<string, string>, column: string): string => cells.get(column) ?? '';
const orNull = (value: string): string | null => (value === '' ? null : value);

// ---------------------------------------------------------------------------------------------------------------
// Supply lists: one CSV row per data item; the resource's columns repeat on each of its rows.

const RESOURCE_COLUMNS = ['resourceCode', 'resourceName', 'provider', 'sharingClass', 'updateCycle', 'connectorKind', 'connectorEndpoint', 'itemCode', 'itemName', 'itemType', 'itemSensitivity'] as const;
const RESOURCE_OPTIONAL = ['legalBasisTitle', 'legalBasisArticle', 'itemCategories'] as const;
const RESOURCE_IGNORED = ['createdAt', 'updatedAt'] as const;
/** Column order of an export. */
export const RESOURCE_CSV_HEADER = [
  'resourceCode',
  'resourceName',
  'provider',
  'sharingClass',
  'legalBasisTitle',
  'legalBasisArticle',
  'updateCycle',
  'connectorKind',
  'connectorEndpoint',
  'itemCode',
  'itemName',
  'itemType',
  'itemSensitivity',
  'itemCategories',
] as const;
const RESOURCE_LEVEL = ['resourceName', 'provider', 'sharingClass', 'legalBasisTitle', 'legalBasisArticle', 'updateCycle', 'connectorKind', 'connectorEndpoint'] as const;

export function resourcesToCsv(resources: readonly DataResource[]): string {
  const rows: (string | null)[][] = [[...RESOURCE_CSV_HEADER]];
  for (const r of resources) {
    for (const item of r.items) {
      rows.push([
        r.code,
        r.name,
        r.provider,
        r.sharingClass,
        r.legalBasis?.title ?? null,
        r.legalBasis?.article ?? null,
        r.updateCycle,
        r.connector.kind,
        r.connector.endpoint,
        item.code,
        item.name,
        item.type,
        item.sensitivity,
        item.categories.join(LIST_SEPARATOR),
      ]);
    }
  }
  return formatCsv(rows);
}

export function resourcesFromCsv(text: string): ImportBatch<ResourcePublication> {
  const table = readTable(text, RESOURCE_COLUMNS, RESOURCE_OPTIONAL, RESOURCE_IGNORED);
  if (Array.isArray(table)) return { records: [], errors: table };
  const errors: RowError[] = [];
  const byCode = new Map<string, { record: ImportRecord<ResourcePublication>; first: Map<string, string>; items: ResourcePublication['items'][number][] }>();
  for (const { row, cells } of table.rows) {
    const code = cell(cells, 'resourceCode');
    if (code === '') {
      errors.push({ row, column: 'resourceCode', code: 'ZT_ERR_IMPORT_INVALID', message: 'resourceCode is empty' });
      continue;
    }
    const item = {
      code: cell(cells, 'itemCode'),
      name: cell(cells, 'itemName'),
      type: cell(cells, 'itemType'),
      sensitivity: cell(cells, 'itemSensitivity'),
      categories: splitList(cell(cells, 'itemCategories')),
    };
    const existing = byCode.get(code);
    if (existing) {
      const differs = RESOURCE_LEVEL.filter((c) => cell(cells, c) !== cell(existing.first, c));
      if (differs.length > 0) {
        errors.push({
          row,
          column: differs[0]!,
          code: 'ZT_ERR_IMPORT_INVALID',
          message: `${differs.join(', ')} differ${differs.length === 1 ? 's' : ''} from the first row of resource ${code} (row ${existing.record.row})`,
        });
        continue;
      }
      existing.items.push(item);
      continue;
    }
    const title = orNull(cell(cells, 'legalBasisTitle'));
    const sharingClass = cell(cells, 'sharingClass');
    const items = [item];
    byCode.set(code, {
      first: cells,
      items,
      record: {
        row,
        value: {
          code,
          name: cell(cells, 'resourceName'),
          provider: cell(cells, 'provider'),
          sharingClass: SHARING_CLASS_ALIASES[sharingClass] ?? sharingClass,
          legalBasis: title === null ? null : { title, article: orNull(cell(cells, 'legalBasisArticle')) },
          updateCycle: cell(cells, 'updateCycle'),
          connector: { kind: cell(cells, 'connectorKind'), endpoint: cell(cells, 'connectorEndpoint') },
          items,
        },
      },
    });
  }
  return { records: [...byCode.values()].map((v) => v.record), errors };
}

const RESOURCE_FIELDS = new Set(['code', 'name', 'provider', 'sharingClass', 'legalBasis', 'updateCycle', 'connector', 'items']);
const RESOURCE_OUTPUT_FIELDS = new Set(['createdAt', 'updatedAt']);

/** { resources: [...] }, as the JSON export writes it (its createdAt/updatedAt are ignored). */
export function resourcesFromJson(body: unknown): ImportBatch<ResourcePublication> {
  return fromJsonList(body, 'resources', RESOURCE_FIELDS, RESOURCE_OUTPUT_FIELDS) as unknown as ImportBatch<ResourcePublication>;
}

function fromJsonList(body: unknown, key: string, fields: ReadonlySet<string>, outputOnly: ReadonlySet<string>): ImportBatch<Record<string, unknown>> {
  const list = (body as Record<string, unknown> | null)?.[key];
  if (!Array.isArray(list)) return { records: [], errors: [{ row: 0, code: 'ZT_ERR_IMPORT_INVALID', message: `the body must be an object { "${key}": [...] }` }] };
  const records: ImportRecord<Record<string, unknown>>[] = [];
  const errors: RowError[] = [];
  list.forEach((entry: unknown, i) => {
    const row = i + 1;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      errors.push({ row, code: 'ZT_ERR_IMPORT_INVALID', message: 'is not an object' });
      return;
    }
    const value: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(entry)) {
      if (fields.has(k)) value[k] = v;
      else if (!outputOnly.has(k)) errors.push({ row, column: k, code: 'ZT_ERR_IMPORT_INVALID', message: `unknown field ${JSON.stringify(k)}` });
    }
    records.push({ row, value });
  });
  return { records, errors };
}

// ---------------------------------------------------------------------------------------------------------------
// Demand lists: one CSV row per demand. An export adds the demand's id, state and reply; an import registers each
// row as a new demand (the state is decided afresh), so those columns are accepted and ignored.

const DEMAND_COLUMNS = ['requester', 'resource', 'items', 'serviceItem', 'legalBasisTitle', 'expectedDailyVolume', 'validTo'] as const;
const DEMAND_OPTIONAL = ['legalBasisArticle', 'validFrom'] as const;
const DEMAND_IGNORED = [
  'id',
  'provider',
  'state',
  'replyDue',
  'overdue',
  'termsItems',
  'termsDailyQuota',
  'termsValidUntil',
  'refusalNegativeListRuleId',
  'refusalLegalBasisTitle',
  'refusalLegalBasisArticle',
  'refusalReason',
  'createdAt',
] as const;
export const DEMAND_CSV_HEADER = [
  'id',
  'requester',
  'provider',
  'resource',
  'items',
  'serviceItem',
  'legalBasisTitle',
  'legalBasisArticle',
  'expectedDailyVolume',
  'validFrom',
  'validTo',
  'state',
  'replyDue',
  'overdue',
  'termsItems',
  'termsDailyQuota',
  'termsValidUntil',
  'refusalNegativeListRuleId',
  'refusalLegalBasisTitle',
  'refusalLegalBasisArticle',
  'refusalReason',
  'createdAt',
] as const;

export function demandsToCsv(demands: readonly Demand[]): string {
  const rows: (string | number | boolean | null)[][] = [[...DEMAND_CSV_HEADER]];
  for (const d of demands) {
    rows.push([
      d.id,
      d.requester,
      d.provider,
      d.resource,
      d.items.join(LIST_SEPARATOR),
      d.serviceItem,
      d.legalBasis.title,
      d.legalBasis.article,
      d.expectedDailyVolume,
      d.validFrom,
      d.validTo,
      d.state,
      d.replyDue,
      d.overdue,
      d.terms?.items?.join(LIST_SEPARATOR) ?? null,
      d.terms?.dailyQuota ?? null,
      d.terms?.validUntil ?? null,
      d.refusal?.negativeListRuleId ?? null,
      d.refusal?.legalBasis?.title ?? null,
      d.refusal?.legalBasis?.article ?? null,
      d.refusal?.reason ?? null,
      d.createdAt.toISOString(),
    ]);
  }
  return formatCsv(rows);
}

export function demandsFromCsv(text: string): ImportBatch<DemandRegistration> {
  const table = readTable(text, DEMAND_COLUMNS, DEMAND_OPTIONAL, DEMAND_IGNORED);
  if (Array.isArray(table)) return { records: [], errors: table };
  const records = table.rows.map(({ row, cells }) => {
    const volume = cell(cells, 'expectedDailyVolume');
    return {
      row,
      value: {
        requester: cell(cells, 'requester'),
        resource: cell(cells, 'resource'),
        items: splitList(cell(cells, 'items')),
        serviceItem: cell(cells, 'serviceItem'),
        legalBasis: { title: cell(cells, 'legalBasisTitle'), article: orNull(cell(cells, 'legalBasisArticle')) },
        // Left as text when not a whole number, so that the check names the value.
        expectedDailyVolume: (/^\d{1,10}$/.test(volume) ? Number(volume) : volume) as number,
        validFrom: orNull(cell(cells, 'validFrom')),
        validTo: cell(cells, 'validTo'),
      },
    };
  });
  return { records, errors: [] };
}

const DEMAND_FIELDS = new Set(['requester', 'resource', 'items', 'serviceItem', 'legalBasis', 'expectedDailyVolume', 'validFrom', 'validTo']);
const DEMAND_OUTPUT_FIELDS = new Set(['id', 'provider', 'state', 'replyDue', 'overdue', 'terms', 'refusal', 'createdAt']);

/** { demands: [...] }, as the JSON export writes it (its id, state, reply and the like are ignored). */
export function demandsFromJson(body: unknown): ImportBatch<DemandRegistration> {
  return fromJsonList(body, 'demands', DEMAND_FIELDS, DEMAND_OUTPUT_FIELDS) as unknown as ImportBatch<DemandRegistration>;
}
