// The view of the data catalogue (数据目录) that the negative list is compiled against. The registry owns the
// catalogue and will implement CatalogueView; policies/ only reads a snapshot of it at compile time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZtError } from '../core/errors/index.js';
import { isValidUscc } from '../core/identifiers/index.js';
import { packageRoot } from '../core/paths.js';

// The shapes follow registry/catalogue (DataResource, DataItem) so that the registry's resources can be handed to
// the engine as they are; only subjectKind is extra, and optional.

/** The three classes of 《政务数据共享条例》: 无条件共享, 有条件共享, 不予共享. */
export const SHARING_CLASSES = ['unconditional', 'conditional', 'not-shared'] as const;
export type SharingClass = (typeof SHARING_CLASSES)[number];

export const SUBJECT_KINDS = ['person', 'organisation'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/** Value types of data items (数据项); masks are checked against them when a policy is compiled. */
export const DATA_ITEM_TYPES = ['string', 'integer', 'decimal', 'boolean', 'date', 'datetime', 'binary'] as const;
export type DataItemType = (typeof DATA_ITEM_TYPES)[number];

/** 公开 / 内部 / 敏感 / 受限, as the supplier grades its items. The engine records it; rules match categories. */
export const SENSITIVITIES = ['public', 'internal', 'sensitive', 'restricted'] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number];

/**
 * Category tags of data items are free tags (lower-case letters, digits, '-'), e.g. personal, biometric,
 * identity-number, health, financial. Two have a fixed meaning: 'state-secret' (国家秘密) and 'work-secret'
 * (工作秘密) are out of sharing altogether, whatever the list says.
 */
export const SECRET_CATEGORIES = ['state-secret', 'work-secret'] as const;
export const CATEGORY_TAG = /^[a-z][a-z0-9-]{0,39}$/;

/** A law, regulation or national policy (法律依据) and, where one applies, the article. */
export interface LegalBasis {
  readonly title: string;
  readonly article: string | null;
}

export interface CatalogueItem {
  /** Stable code within its resource, e.g. 'idNumber'. */
  readonly code: string;
  /** Name shown to people, e.g. '公民身份号码'. */
  readonly name: string;
  readonly type: DataItemType;
  readonly sensitivity: Sensitivity;
  readonly categories: readonly string[];
}

export interface CatalogueResource {
  /** e.g. '210100-GA-0001'. */
  readonly code: string;
  /** e.g. '人口基本信息'. */
  readonly name: string;
  /** USCC of the supplying department. */
  readonly provider: string;
  readonly sharingClass: SharingClass;
  /** For a 不予共享 resource, the basis recorded in the catalogue; it stands for a list entry if the list has none. */
  readonly legalBasis?: LegalBasis | null;
  /** Whose records these are. Subject categories (e.g. minors) can only apply to people's; absent: not stated. */
  readonly subjectKind?: SubjectKind;
  readonly items: readonly CatalogueItem[];
}

/** What the engine needs from the catalogue. The engine copies what it needs at compile time and never calls back. */
export interface CatalogueView {
  /** Identifies the catalogue state (shown in the engine's status and in compile errors). */
  readonly revision: string;
  listResources(): readonly CatalogueResource[];
}

export function isSecret(item: CatalogueItem): boolean {
  return item.categories.includes('state-secret') || item.categories.includes('work-secret');
}

/** A catalogue view over resources held in memory (e.g. the registry's DataResource list, as it is). */
export function catalogueOf(revision: string, resources: readonly CatalogueResource[]): CatalogueView {
  return new StaticCatalogue(revision, resources);
}

/** A catalogue held in memory: the demo catalogue, tests and benchmarks. */
export class StaticCatalogue implements CatalogueView {
  readonly revision: string;
  readonly #resources: readonly CatalogueResource[];

  constructor(revision: string, resources: readonly CatalogueResource[]) {
    this.revision = revision;
    this.#resources = resources;
  }

  listResources(): readonly CatalogueResource[] {
    return this.#resources;
  }
}

interface CatalogueJson {
  revision?: unknown;
  resources?: unknown;
}

/**
 * Reads a catalogue from JSON ({ revision, resources: [...] }), checking what the engine relies on: unique codes,
 * valid provider codes, known types and categories. Throws ZT_ERR_IMPORT_INVALID listing every problem.
 */
export function catalogueFromJson(text: string, name = 'catalogue.json'): StaticCatalogue {
  let raw: CatalogueJson;
  try {
    raw = JSON.parse(text) as CatalogueJson;
  } catch (cause) {
    throw new ZtError('ZT_ERR_IMPORT_INVALID', `${name}: not valid JSON`, { cause });
  }
  const problems: string[] = [];
  const revision = typeof raw.revision === 'string' && raw.revision.length > 0 ? raw.revision : undefined;
  if (revision === undefined) problems.push('revision must be a non-empty string');
  if (!Array.isArray(raw.resources)) problems.push('resources must be an array');
  const resources: CatalogueResource[] = [];
  const codes = new Set<string>();
  const nonEmpty = (v: unknown) => typeof v === 'string' && v.trim().length > 0;
  for (const [i, r] of ((raw.resources as unknown[] | undefined) ?? []).entries()) {
    const at = `resources[${i}]`;
    const res = r as Partial<Record<keyof CatalogueResource, unknown>>;
    if (!nonEmpty(res.code)) problems.push(`${at}.code must be a non-empty string`);
    else if (codes.has(res.code as string)) problems.push(`${at}.code ${String(res.code)} appears twice`);
    else codes.add(res.code as string);
    if (!nonEmpty(res.name)) problems.push(`${at}.name must be a non-empty string`);
    if (typeof res.provider !== 'string' || !isValidUscc(res.provider)) problems.push(`${at}.provider must be a valid USCC`);
    if (!SHARING_CLASSES.includes(res.sharingClass as SharingClass)) problems.push(`${at}.sharingClass must be one of ${SHARING_CLASSES.join(', ')}`);
    if (res.subjectKind !== undefined && !SUBJECT_KINDS.includes(res.subjectKind as SubjectKind)) problems.push(`${at}.subjectKind must be one of ${SUBJECT_KINDS.join(', ')}`);
    const basis = res.legalBasis as Partial<LegalBasis> | null | undefined;
    if (basis != null && (!nonEmpty(basis.title) || (basis.article != null && !nonEmpty(basis.article)))) problems.push(`${at}.legalBasis must be { title, article? }`);
    if (!Array.isArray(res.items) || res.items.length === 0) {
      problems.push(`${at}.items must be a non-empty array`);
      continue;
    }
    const itemCodes = new Set<string>();
    for (const [j, it] of (res.items as unknown[]).entries()) {
      const iat = `${at}.items[${j}]`;
      const item = it as Partial<Record<keyof CatalogueItem, unknown>>;
      if (typeof item.code !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(item.code)) problems.push(`${iat}.code must be an identifier`);
      else if (itemCodes.has(item.code)) problems.push(`${iat}.code ${item.code} appears twice in ${String(res.code)}`);
      else itemCodes.add(item.code);
      if (!nonEmpty(item.name)) problems.push(`${iat}.name must be a non-empty string`);
      if (!DATA_ITEM_TYPES.includes(item.type as DataItemType)) problems.push(`${iat}.type must be one of ${DATA_ITEM_TYPES.join(', ')}`);
      if (!SENSITIVITIES.includes(item.sensitivity as Sensitivity)) problems.push(`${iat}.sensitivity must be one of ${SENSITIVITIES.join(', ')}`);
      if (!Array.isArray(item.categories) || !item.categories.every((c) => typeof c === 'string' && CATEGORY_TAG.test(c))) {
        problems.push(`${iat}.categories must be a list of tags (lower-case letters, digits, -)`);
      }
    }
    resources.push({ ...(res as unknown as CatalogueResource), legalBasis: basis == null ? null : { title: basis.title!, article: basis.article ?? null } });
  }
  if (problems.length > 0) {
    throw new ZtError('ZT_ERR_IMPORT_INVALID', `${name}: ${problems.join('; ')}`, { details: { problems } });
  }
  return new StaticCatalogue(revision!, resources);
}

/** The demo city's catalogue (policies/demo-catalogue.json), used by the shipped default policy and the tests. */
export function demoCatalogue(): StaticCatalogue {
  const path = join(packageRoot(), 'policies', 'demo-catalogue.json');
  return catalogueFromJson(readFileSync(path, 'utf8'), 'policies/demo-catalogue.json');
}
