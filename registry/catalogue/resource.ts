// Supply-list entries (供给清单): the data resources (数据资源) a department offers to the others, with their data
// items (数据项), sharing class and the connector that serves them. Pure domain code: no framework, no driver.
import { ZtError } from '../../core/errors/index.js';
import { assertUscc } from '../departments/department.js';

export const CATALOGUE_EVENTS_TOPIC = 'registry.catalogue';

/** 无条件共享 / 有条件共享 / 不予共享 (《政务数据共享条例》). */
export const SHARING_CLASSES = ['unconditional', 'conditional', 'not-shared'] as const;
export type SharingClass = (typeof SHARING_CLASSES)[number];
export const SHARING_CLASS_LABELS: Readonly<Record<SharingClass, string>> = {
  unconditional: '无条件共享',
  conditional: '有条件共享',
  'not-shared': '不予共享',
};

export const ITEM_TYPES = ['string', 'integer', 'decimal', 'boolean', 'date', 'datetime', 'binary'] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

/** 公开 / 内部 / 敏感 / 受限: how carefully an item must be handled once shared. */
export const SENSITIVITIES = ['public', 'internal', 'sensitive', 'restricted'] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number];

/** 更新周期: 实时 / 每日 / 每周 / 每月 / 每季 / 每年 / 不定期. */
export const UPDATE_CYCLES = ['realtime', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'irregular'] as const;
export type UpdateCycle = (typeof UPDATE_CYCLES)[number];

export const CONNECTOR_KINDS = ['http', 'grpc', 'database', 'file'] as const;
export type ConnectorKind = (typeof CONNECTOR_KINDS)[number];

/** A law, regulation or policy (and optionally the article) that a decision rests on. */
export interface LegalBasis {
  title: string;
  article: string | null;
}

/** How the exchange reaches the supplier's system for this resource. */
export interface Connector {
  kind: ConnectorKind;
  endpoint: string;
}

export interface DataItem {
  code: string;
  name: string;
  type: ItemType;
  sensitivity: Sensitivity;
  /** Free tags (personal, biometric, health …) that negative-list rules can match on. */
  categories: string[];
}

export interface DataResource {
  code: string;
  name: string;
  /** USCC of the supplying department. */
  provider: string;
  sharingClass: SharingClass;
  /** Required for not-shared resources, null otherwise. */
  legalBasis: LegalBasis | null;
  updateCycle: UpdateCycle;
  connector: Connector;
  items: DataItem[];
  createdAt: Date;
  updatedAt: Date;
}

export interface DataItemInput {
  code: string;
  name: string;
  type: string;
  sensitivity: string;
  categories?: readonly string[] | null;
}

export interface LegalBasisInput {
  title: string;
  article?: string | null;
}

export interface ResourcePublication {
  code: string;
  name: string;
  provider: string;
  sharingClass: string;
  legalBasis?: LegalBasisInput | null;
  updateCycle: string;
  connector: { kind: string; endpoint: string };
  items: readonly DataItemInput[];
}

export type NewResource = Omit<DataResource, 'createdAt' | 'updatedAt'>;

export const RESOURCE_CODE = /^[A-Z0-9][A-Z0-9._-]{1,63}$/;
export const ITEM_CODE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const CATEGORY = /^[a-z][a-z0-9-]{0,39}$/;
export const MAX_ITEMS = 500;

function invalid(message: string, details?: unknown): ZtError {
  return new ZtError('ZT_ERR_REQUEST_INVALID', message, details === undefined ? {} : { details });
}

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max) throw invalid(`${field} must have 1 to ${max} characters`);
  return trimmed;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(`${field} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
}

export function normaliseLegalBasis(input: unknown, field = 'legalBasis'): LegalBasis {
  if (!input || typeof input !== 'object') throw invalid(`${field} must be an object { title, article? }`);
  const { title, article } = input as LegalBasisInput;
  return {
    title: text(title, `${field}.title`, 200),
    article: article === undefined || article === null || (typeof article === 'string' && article.trim() === '') ? null : text(article, `${field}.article`, 100),
  };
}

export function normaliseItem(input: DataItemInput, field = 'item'): DataItem {
  if (!input || typeof input !== 'object') throw invalid(`${field} must be an object`);
  const code = typeof input.code === 'string' ? input.code.trim() : '';
  if (!ITEM_CODE.test(code)) throw invalid(`${field}.code must be a letter then up to 63 letters, digits or _; got ${JSON.stringify(input.code)}`);
  const categories = [...new Set((input.categories ?? []).map((c) => (typeof c === 'string' ? c.trim() : c)))];
  for (const c of categories) {
    if (typeof c !== 'string' || !CATEGORY.test(c)) throw invalid(`${field}.categories: ${JSON.stringify(c)} is not a tag (lower-case letters, digits, -)`);
  }
  return {
    code,
    name: text(input.name, `${field}.name`, 200),
    type: oneOf(input.type, ITEM_TYPES, `${field}.type`),
    sensitivity: oneOf(input.sensitivity, SENSITIVITIES, `${field}.sensitivity`),
    categories: categories as string[],
  };
}

/** Validates a supply-list entry and normalises it; throws the catalogue code of the first problem found. */
export function normalisePublication(input: ResourcePublication): NewResource {
  if (!input || typeof input !== 'object') throw invalid('a resource must be an object');
  const code = typeof input.code === 'string' ? input.code.trim() : '';
  if (!RESOURCE_CODE.test(code)) {
    throw invalid(`code must be 2 to 64 characters of A–Z, 0–9, '.', '-' or '_', starting with a letter or digit; got ${JSON.stringify(input.code)}`);
  }
  const provider = typeof input.provider === 'string' ? input.provider.trim().toUpperCase() : '';
  assertUscc(provider);
  const sharingClass = oneOf(input.sharingClass, SHARING_CLASSES, 'sharingClass');
  let legalBasis: LegalBasis | null = null;
  if (sharingClass === 'not-shared') {
    if (input.legalBasis === undefined || input.legalBasis === null) {
      throw new ZtError('ZT_ERR_REFUSAL_BASIS_MISSING', `resource ${code} is not shared (不予共享), which needs a legal or national-policy basis: give legalBasis { title, article? }`);
    }
    legalBasis = normaliseLegalBasis(input.legalBasis);
  } else if (input.legalBasis !== undefined && input.legalBasis !== null) {
    throw invalid(`legalBasis is only recorded for not-shared resources; ${code} is ${sharingClass}`);
  }
  const connector = input.connector as { kind?: unknown; endpoint?: unknown } | undefined;
  if (!connector || typeof connector !== 'object') throw invalid('connector must be an object { kind, endpoint }');
  if (!Array.isArray(input.items) || input.items.length === 0 || input.items.length > MAX_ITEMS) {
    throw invalid(`items must list 1 to ${MAX_ITEMS} data items`);
  }
  const items = input.items.map((item, i) => normaliseItem(item, `items[${i}]`));
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.code)) throw invalid(`data item ${item.code} is listed twice`);
    seen.add(item.code);
  }
  return {
    code,
    name: text(input.name, 'name', 200),
    provider,
    sharingClass,
    legalBasis,
    updateCycle: oneOf(input.updateCycle, UPDATE_CYCLES, 'updateCycle'),
    connector: { kind: oneOf(connector.kind, CONNECTOR_KINDS, 'connector.kind'), endpoint: text(connector.endpoint, 'connector.endpoint', 500) },
    items,
  };
}

/** Checks that `codes` name items of the resource; unknown ones → ZT_ERR_DATA_ITEM_UNKNOWN listing them. */
export function assertItemsKnown(resource: Pick<DataResource, 'code' | 'items'>, codes: readonly string[]): void {
  const known = new Set(resource.items.map((i) => i.code));
  const unknown = codes.filter((c) => !known.has(c));
  if (unknown.length > 0) {
    throw new ZtError('ZT_ERR_DATA_ITEM_UNKNOWN', `resource ${resource.code} has no data item ${unknown.join(', ')}`, {
      details: { resource: resource.code, unknown, known: [...known] },
    });
  }
}
