// Service item definitions (事项): what a department needs when it takes an application (受理) for a service item,
// and where each value on the form comes from. A definition is checked once, when loaded, against the data
// catalogue and the licence types, so that intake itself only looks things up and never meets a dangling code.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZtError } from '../core/errors/index.js';
import { isValidUscc } from '../core/identifiers/index.js';
import { packageRoot } from '../core/paths.js';

/** 事项编码: the same rule as the exchange's purpose.serviceItem, so every item code can be sent as a purpose. */
export const SERVICE_ITEM_CODE = /^[A-Za-z0-9-]{4,64}$/;
/** Codes of materials and form fields, local to their item: camelCase like data item and licence field codes. */
export const LOCAL_CODE = /^[a-z][A-Za-z0-9]{0,63}$/;

export const APPLICANT_KINDS = ['person', 'organisation'] as const;
/** 自然人 or 法人和其他组织: decides whose data and licences can fill the form. */
export type ApplicantKind = (typeof APPLICANT_KINDS)[number];

/** The value types of form fields; the same as licence field kinds, so a licence value fits as it is. */
export const FIELD_TYPES = ['string', 'date', 'integer', 'decimal', 'boolean'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** 设定依据: the law or regulation that sets the service item up. */
export interface ServiceItemLegalBasis {
  readonly title: string;
  readonly article: string | null;
}

/** Where a material (申请材料) comes from. */
export type MaterialSource =
  /** The applicant's e-licence (电子证照) of this type: 免提交, fetched from the licence registry. */
  | { readonly kind: 'licence'; readonly type: string }
  /** Shared data (共享数据) about the applicant from a catalogue resource, through the exchange. */
  | { readonly kind: 'data'; readonly resource: string; readonly items: readonly string[]; readonly subject: 'applicant' }
  /** Only the applicant can provide it (e.g. a lease contract). */
  | { readonly kind: 'applicant' };

export interface Material {
  readonly code: string;
  /** Shown to people, e.g. 营业执照. */
  readonly name: string;
  readonly required: boolean;
  readonly source: MaterialSource;
}

/** Where a form field's value comes from. */
export type FieldSource =
  | { readonly kind: 'data'; readonly resource: string; readonly item: string }
  | { readonly kind: 'licence'; readonly type: string; readonly field: string }
  | { readonly kind: 'applicant' };

export interface FormField {
  readonly code: string;
  /** Shown to people, e.g. 企业名称. */
  readonly label: string;
  readonly type: FieldType;
  readonly required: boolean;
  readonly source: FieldSource;
  /** Derived: a value from shared data or a licence is government-verified, so the applicant may not change it. */
  readonly locked: boolean;
  /** Derived: the code of the material the value comes from (its provenance); null for applicant fields. */
  readonly material: string | null;
}

export interface ServiceItem {
  readonly code: string;
  /** 事项名称, e.g. 开办餐馆. */
  readonly name: string;
  readonly applicantKind: ApplicantKind;
  /** USCCs of the departments that take applications (受理部门). */
  readonly intakeDepartments: readonly string[];
  readonly legalBasis: ServiceItemLegalBasis | null;
  readonly materials: readonly Material[];
  readonly fields: readonly FormField[];
}

/** What a definition is checked against: the data catalogue and the licence types, as known when loading. */
export interface ServiceItemContext {
  readonly resources: ReadonlyMap<string, { readonly subjectKind: ApplicantKind | null; readonly items: ReadonlySet<string> }>;
  readonly licenceTypes: ReadonlyMap<string, { readonly holderKind: ApplicantKind; readonly fields: ReadonlySet<string> }>;
}

/** One thing wrong with a definition; `file` is set when it was read from a directory. */
export interface ServiceItemProblem {
  readonly file?: string;
  /** JSON path into the definition, e.g. $.materials[1].source.type. */
  readonly path: string;
  readonly message: string;
}

/**
 * Builds a context from catalogue resources and licence types in the registry's shapes (DataResource / the policy
 * catalogue, LicenceType), so callers need not assemble the maps by hand. A resource without subjectKind is "not
 * stated" and is not checked against the applicant kind.
 */
export function serviceItemContext(
  resources: Iterable<{ readonly code: string; readonly subjectKind?: ApplicantKind | null; readonly items: readonly { readonly code: string }[] }>,
  licenceTypes: Iterable<{ readonly code: string; readonly holderKind: ApplicantKind; readonly fields: readonly { readonly code: string }[] }>,
): ServiceItemContext {
  return {
    resources: new Map([...resources].map((r) => [r.code, { subjectKind: r.subjectKind ?? null, items: new Set(r.items.map((i) => i.code)) }])),
    licenceTypes: new Map([...licenceTypes].map((t) => [t.code, { holderKind: t.holderKind, fields: new Set(t.fields.map((f) => f.code)) }])),
  };
}

/** Checks one definition and returns it frozen; throws ZT_ERR_SERVICE_ITEM_INVALID listing every problem. */
export function readServiceItem(raw: unknown, context: ServiceItemContext): ServiceItem {
  const checker = new Checker(undefined);
  const item = checkServiceItem(raw, context, checker);
  if (item === null) throw invalid(`the service item ${describe(raw)} is invalid`, checker.problems);
  return item;
}

/**
 * Reads every *.json file directly in `dir`, in name order, one service item each. All files are checked before
 * anything is returned, so one bad file names all its problems (and the others') at once, and nothing half-loaded
 * is ever used.
 */
export function loadServiceItems(dir: string, context: ServiceItemContext): ServiceItem[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch (cause) {
    throw new ZtError('ZT_ERR_SERVICE_ITEM_INVALID', `cannot read the service item directory ${dir}: ${(cause as Error).message}`, { cause });
  }
  if (names.length === 0) throw new ZtError('ZT_ERR_SERVICE_ITEM_INVALID', `the service item directory ${dir} has no .json files`);
  const problems: ServiceItemProblem[] = [];
  const items: ServiceItem[] = [];
  const fileOf = new Map<string, string>();
  for (const name of names) {
    const checker = new Checker(name);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    } catch (cause) {
      checker.add('$', `is not readable JSON: ${(cause as Error).message}`);
      problems.push(...checker.problems);
      continue;
    }
    const item = checkServiceItem(raw, context, checker);
    problems.push(...checker.problems);
    if (item === null) continue;
    const other = fileOf.get(item.code);
    if (other !== undefined) {
      problems.push({ file: name, path: '$.code', message: `duplicates the service item code ${item.code} of ${other}` });
      continue;
    }
    fileOf.set(item.code, name);
    items.push(item);
  }
  if (problems.length > 0) throw invalid(`the service items in ${dir} are invalid`, problems);
  return items;
}

/** The shipped demo service items. */
export function defaultServiceItemDirectory(): string {
  return join(packageRoot(), 'intake', 'items');
}

function invalid(headline: string, problems: readonly ServiceItemProblem[]): ZtError {
  const lines = problems.map((p) => `  ${p.file === undefined ? '' : `${p.file} `}${p.path}: ${p.message}`);
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new ZtError('ZT_ERR_SERVICE_ITEM_INVALID', `${headline} (${count}):\n${lines.join('\n')}`, { details: { problems } });
}

function describe(raw: unknown): string {
  const code = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).code : undefined;
  return typeof code === 'string' ? JSON.stringify(code) : '(without a code)';
}

type Json = Record<string, unknown>;

/** Collects problems instead of throwing, so one pass reports everything wrong with a definition. */
class Checker {
  readonly problems: ServiceItemProblem[] = [];
  readonly #file: string | undefined;

  constructor(file: string | undefined) {
    this.#file = file;
  }

  add(path: string, message: string): void {
    this.problems.push(this.#file === undefined ? { path, message } : { file: this.#file, path, message });
  }

  object(value: unknown, path: string): Json | null {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.add(path, 'must be an object');
      return null;
    }
    return value as Json;
  }

  /** Unknown properties are refused: a misspelt "requried" would otherwise silently mean "not required". */
  onlyKeys(o: Json, allowed: readonly string[], path: string): void {
    for (const key of Object.keys(o)) if (!allowed.includes(key)) this.add(`${path}.${key}`, `is not a known property (expected ${allowed.join(', ')})`);
  }

  text(o: Json, key: string, path: string, max: number): string | null {
    const value = o[key];
    if (typeof value !== 'string') {
      this.add(`${path}.${key}`, value === undefined ? 'is required' : 'must be a string');
      return null;
    }
    const length = [...value.trim()].length;
    if (length < 1 || length > max || value.trim() !== value) {
      this.add(`${path}.${key}`, `must have 1 to ${max} characters, without leading or trailing spaces`);
      return null;
    }
    return value;
  }

  code(o: Json, key: string, path: string, pattern: RegExp, rule: string): string | null {
    const value = o[key];
    if (typeof value !== 'string') {
      this.add(`${path}.${key}`, value === undefined ? 'is required' : 'must be a string');
      return null;
    }
    if (!pattern.test(value)) {
      this.add(`${path}.${key}`, `${JSON.stringify(value)} is not a valid code: ${rule}`);
      return null;
    }
    return value;
  }

  /** A string that is looked up afterwards (resource, item, type, field): its existence is the real check. */
  reference(o: Json, key: string, path: string): string | null {
    const value = o[key];
    if (typeof value !== 'string' || value.length === 0) {
      this.add(`${path}.${key}`, value === undefined ? 'is required' : 'must be a non-empty string');
      return null;
    }
    return value;
  }

  boolean(o: Json, key: string, path: string): boolean | null {
    const value = o[key];
    if (typeof value !== 'boolean') {
      this.add(`${path}.${key}`, value === undefined ? 'is required (true or false)' : 'must be true or false');
      return null;
    }
    return value;
  }

  oneOf<T extends string>(o: Json, key: string, path: string, allowed: readonly T[]): T | null {
    const value = o[key];
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.add(`${path}.${key}`, value === undefined ? `is required (one of ${allowed.join(', ')})` : `must be one of ${allowed.join(', ')}`);
      return null;
    }
    return value as T;
  }

  array(o: Json, key: string, path: string): unknown[] | null {
    const value = o[key];
    if (!Array.isArray(value)) {
      this.add(`${path}.${key}`, value === undefined ? 'is required (an array)' : 'must be an array');
      return null;
    }
    return value;
  }
}

const ITEM_KEYS = ['code', 'name', 'applicantKind', 'intakeDepartments', 'legalBasis', 'materials', 'fields'] as const;
const ITEM_CODE_RULE = '4 to 64 letters, digits or "-"';
const LOCAL_CODE_RULE = 'a lower-case letter, then up to 63 letters or digits (camelCase)';

/** The whole check; returns the frozen item, or null when the checker holds problems. */
function checkServiceItem(raw: unknown, context: ServiceItemContext, c: Checker): ServiceItem | null {
  const o = c.object(raw, '$');
  if (o === null) return null;
  c.onlyKeys(o, ITEM_KEYS, '$');
  const code = c.code(o, 'code', '$', SERVICE_ITEM_CODE, ITEM_CODE_RULE);
  const name = c.text(o, 'name', '$', 200);
  const applicantKind = c.oneOf(o, 'applicantKind', '$', APPLICANT_KINDS);
  const intakeDepartments = checkDepartments(o, c);
  const legalBasis = checkLegalBasis(o.legalBasis, c);
  const materials = checkMaterials(o, applicantKind, context, c);
  const fields = checkFields(o, applicantKind, materials, context, c);
  if (c.problems.length > 0) return null;
  return deepFreeze({ code: code!, name: name!, applicantKind: applicantKind!, intakeDepartments, legalBasis, materials, fields });
}

function checkDepartments(o: Json, c: Checker): string[] {
  const list = c.array(o, 'intakeDepartments', '$');
  if (list === null) return [];
  if (list.length === 0) c.add('$.intakeDepartments', 'must name at least one department');
  const seen = new Set<string>();
  list.forEach((value, i) => {
    const path = `$.intakeDepartments[${i}]`;
    if (typeof value !== 'string' || !isValidUscc(value)) c.add(path, `${JSON.stringify(value)} is not a valid unified social credit code (统一社会信用代码)`);
    else if (seen.has(value)) c.add(path, `${value} is listed twice`);
    else seen.add(value);
  });
  return [...seen];
}

function checkLegalBasis(value: unknown, c: Checker): ServiceItemLegalBasis | null {
  if (value === undefined || value === null) return null;
  const o = c.object(value, '$.legalBasis');
  if (o === null) return null;
  c.onlyKeys(o, ['title', 'article'], '$.legalBasis');
  const title = c.text(o, 'title', '$.legalBasis', 200);
  const article = o.article === undefined || o.article === null ? null : c.text(o, 'article', '$.legalBasis', 100);
  return title === null ? null : { title, article };
}

/** Checks a licence type reference: known, and held by the kind of applicant this item serves. */
function checkLicenceType(type: string, applicantKind: ApplicantKind | null, path: string, context: ServiceItemContext, c: Checker): { fields: ReadonlySet<string> } | null {
  const known = context.licenceTypes.get(type);
  if (known === undefined) {
    c.add(path, `unknown licence type ${JSON.stringify(type)}`);
    return null;
  }
  if (applicantKind !== null && known.holderKind !== applicantKind) c.add(path, `licences of type ${type} are held by ${plural(known.holderKind)}, but the applicant is ${applicantKind === 'person' ? 'a person' : 'an organisation'}`);
  return known;
}

/** Checks a resource reference: known, and (when the catalogue says) about the kind of applicant this item serves. */
function checkResource(resource: string, applicantKind: ApplicantKind | null, path: string, context: ServiceItemContext, c: Checker): { items: ReadonlySet<string> } | null {
  const known = context.resources.get(resource);
  if (known === undefined) {
    c.add(path, `unknown data resource ${JSON.stringify(resource)}`);
    return null;
  }
  if (applicantKind !== null && known.subjectKind !== null && known.subjectKind !== applicantKind) {
    c.add(path, `the records of ${resource} are about ${plural(known.subjectKind)}, but the applicant is ${applicantKind === 'person' ? 'a person' : 'an organisation'}`);
  }
  return known;
}

function checkMaterials(o: Json, applicantKind: ApplicantKind | null, context: ServiceItemContext, c: Checker): Material[] {
  const list = c.array(o, 'materials', '$');
  if (list === null) return [];
  const out: Material[] = [];
  const codes = new Set<string>();
  list.forEach((value, i) => {
    const path = `$.materials[${i}]`;
    const m = c.object(value, path);
    if (m === null) return;
    c.onlyKeys(m, ['code', 'name', 'required', 'source'], path);
    const code = c.code(m, 'code', path, LOCAL_CODE, LOCAL_CODE_RULE);
    if (code !== null) {
      if (codes.has(code)) c.add(`${path}.code`, `${code} is used by another material`);
      codes.add(code);
    }
    const name = c.text(m, 'name', path, 200);
    const required = c.boolean(m, 'required', path);
    const source = checkMaterialSource(m.source, `${path}.source`, applicantKind, context, c);
    if (code !== null && name !== null && required !== null && source !== null) out.push({ code, name, required, source });
  });
  return out;
}

function checkMaterialSource(value: unknown, path: string, applicantKind: ApplicantKind | null, context: ServiceItemContext, c: Checker): MaterialSource | null {
  const s = c.object(value, path);
  if (s === null) return null;
  const kind = c.oneOf(s, 'kind', path, ['licence', 'data', 'applicant'] as const);
  if (kind === 'applicant') {
    c.onlyKeys(s, ['kind'], path);
    return { kind };
  }
  if (kind === 'licence') {
    c.onlyKeys(s, ['kind', 'type'], path);
    const type = c.reference(s, 'type', path);
    if (type === null) return null;
    checkLicenceType(type, applicantKind, `${path}.type`, context, c);
    return { kind, type };
  }
  if (kind === 'data') {
    c.onlyKeys(s, ['kind', 'resource', 'items', 'subject'], path);
    // Only the applicant's own records for now; the field leaves room for others (e.g. a spouse) later.
    if (s.subject !== undefined && s.subject !== 'applicant') c.add(`${path}.subject`, 'must be "applicant" (the only subject supported)');
    const resource = c.reference(s, 'resource', path);
    const known = resource === null ? null : checkResource(resource, applicantKind, `${path}.resource`, context, c);
    const list = c.array(s, 'items', path);
    if (list !== null && list.length === 0) c.add(`${path}.items`, 'must name at least one data item');
    const items: string[] = [];
    list?.forEach((item, i) => {
      const at = `${path}.items[${i}]`;
      if (typeof item !== 'string' || item.length === 0) c.add(at, 'must be a non-empty string');
      else if (items.includes(item)) c.add(at, `${item} is listed twice`);
      else {
        if (known !== null && !known.items.has(item)) c.add(at, `the data resource ${resource} has no data item ${JSON.stringify(item)}`);
        items.push(item);
      }
    });
    return resource === null ? null : { kind, resource, items, subject: 'applicant' };
  }
  return null;
}

function checkFields(o: Json, applicantKind: ApplicantKind | null, materials: readonly Material[], context: ServiceItemContext, c: Checker): FormField[] {
  const list = c.array(o, 'fields', '$');
  if (list === null) return [];
  const out: FormField[] = [];
  const codes = new Set<string>();
  list.forEach((value, i) => {
    const path = `$.fields[${i}]`;
    const f = c.object(value, path);
    if (f === null) return;
    c.onlyKeys(f, ['code', 'label', 'type', 'required', 'source'], path);
    const code = c.code(f, 'code', path, LOCAL_CODE, LOCAL_CODE_RULE);
    if (code !== null) {
      if (codes.has(code)) c.add(`${path}.code`, `${code} is used by another field`);
      codes.add(code);
    }
    const label = c.text(f, 'label', path, 200);
    const type = c.oneOf(f, 'type', path, FIELD_TYPES);
    const required = c.boolean(f, 'required', path);
    const sourced = checkFieldSource(f.source, `${path}.source`, applicantKind, materials, context, c);
    if (code !== null && label !== null && type !== null && required !== null && sourced !== null) {
      out.push({ code, label, type, required, source: sourced.source, locked: sourced.source.kind !== 'applicant', material: sourced.material });
    }
  });
  return out;
}

/**
 * A field filled from data or a licence must be covered by a material of the same resource (fetching that item) or
 * licence type: the material list is then the complete account of where the form's values come from.
 */
function checkFieldSource(
  value: unknown,
  path: string,
  applicantKind: ApplicantKind | null,
  materials: readonly Material[],
  context: ServiceItemContext,
  c: Checker,
): { source: FieldSource; material: string | null } | null {
  const s = c.object(value, path);
  if (s === null) return null;
  const kind = c.oneOf(s, 'kind', path, ['data', 'licence', 'applicant'] as const);
  if (kind === 'applicant') {
    c.onlyKeys(s, ['kind'], path);
    return { source: { kind }, material: null };
  }
  if (kind === 'data') {
    c.onlyKeys(s, ['kind', 'resource', 'item'], path);
    const resource = c.reference(s, 'resource', path);
    const item = c.reference(s, 'item', path);
    if (resource === null || item === null) return null;
    const known = checkResource(resource, applicantKind, `${path}.resource`, context, c);
    if (known === null) return null;
    if (!known.items.has(item)) c.add(`${path}.item`, `the data resource ${resource} has no data item ${JSON.stringify(item)}`);
    const sameResource = materials.filter((m) => m.source.kind === 'data' && m.source.resource === resource);
    const covering = sameResource.find((m) => m.source.kind === 'data' && m.source.items.includes(item));
    if (covering === undefined) {
      c.add(
        path,
        sameResource.length === 0
          ? `no material takes data from ${resource}; add one with source { kind: "data", resource: "${resource}" }`
          : `no material from ${resource} fetches the item ${item}; add it to the items of ${sameResource.map((m) => m.code).join(' or ')}`,
      );
      return null;
    }
    return { source: { kind, resource, item }, material: covering.code };
  }
  if (kind === 'licence') {
    c.onlyKeys(s, ['kind', 'type', 'field'], path);
    const type = c.reference(s, 'type', path);
    const field = c.reference(s, 'field', path);
    if (type === null || field === null) return null;
    const known = checkLicenceType(type, applicantKind, `${path}.type`, context, c);
    if (known === null) return null;
    if (!known.fields.has(field)) c.add(`${path}.field`, `licences of type ${type} have no field ${JSON.stringify(field)}`);
    const covering = materials.find((m) => m.source.kind === 'licence' && m.source.type === type);
    if (covering === undefined) {
      c.add(path, `no material is a licence of type ${type}; add one with source { kind: "licence", type: "${type}" }`);
      return null;
    }
    return { source: { kind, type, field }, material: covering.code };
  }
  return null;
}

function plural(kind: ApplicantKind): string {
  return kind === 'person' ? 'persons' : 'organisations';
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
