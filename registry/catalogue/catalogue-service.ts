import { ZtError } from '../../core/errors/index.js';
import { enqueueEvent } from '../../core/outbox/index.js';
import type { Database } from '../../core/storage/index.js';
import type { Department } from '../departments/department.js';
import type { ImportBatch, RowError } from './lists.js';
import { importFailed } from './lists.js';
import { CATALOGUE_EVENTS_TOPIC, normalisePublication, RESOURCE_CODE, type DataItem, type DataResource, type NewResource, type ResourcePublication } from './resource.js';
import type { ResourcePage, ResourceStore } from './store.js';

export const MAX_PAGE = 500;
/** Rows one import may carry (all checked, then written in one transaction). */
export const MAX_IMPORT_ROWS = 10_000;

/** Where the catalogue looks departments up: DepartmentService fits. */
export interface DepartmentDirectory {
  /** ZT_ERR_ID_INVALID_USCC or ZT_ERR_DEPARTMENT_NOT_FOUND when there is no such department. */
  get(uscc: string): Promise<Department>;
}

export interface CatalogueServiceOptions {
  /** Called after a commit that wrote to the outbox, so the relay publishes without waiting for its next poll. */
  onOutboxWrite?: () => void;
  clock?: () => Date;
}

export function assertPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new ZtError('ZT_ERR_REQUEST_INVALID', `limit must be a whole number from 1 to ${MAX_PAGE}, got ${limit}`);
  }
}

export function resourceEvent(type: 'resource.published' | 'resource.revised', resource: DataResource) {
  return { key: resource.code, value: JSON.stringify({ type, resource }), headers: { 'zt-event-type': type } };
}

/** The supply side of the catalogue (供给清单): publishing data resources and reading them. */
export class CatalogueService {
  readonly #onOutboxWrite: () => void;
  readonly #clock: () => Date;

  constructor(
    private readonly db: Database,
    private readonly store: ResourceStore,
    private readonly departments: DepartmentDirectory,
    options: CatalogueServiceOptions = {},
  ) {
    this.#onOutboxWrite = options.onOutboxWrite ?? (() => undefined);
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Publishes a supply-list entry; its resource.published event commits with it (outbox). */
  async publish(input: ResourcePublication, options: { at?: Date; actor?: string } = {}): Promise<DataResource> {
    const resource = normalisePublication(input);
    await this.departments.get(resource.provider);
    assertActsFor(options.actor, [resource.provider]);
    const at = options.at ?? this.#clock();
    const stored = await this.db.transaction(async (tx) => {
      const row = await this.store.insert(tx, resource, at);
      await enqueueEvent(tx, CATALOGUE_EVENTS_TOPIC, resourceEvent('resource.published', row));
      return row;
    });
    this.#onOutboxWrite();
    return stored;
  }

  /**
   * Revises a supply-list entry in place: its name, sharing class, legal basis, update cycle, connector and items,
   * by its provider (the code and the provider stay). An item that a pending, granted or approved demand names cannot
   * be removed (ZT_ERR_RESOURCE_IN_USE): withdraw, refuse or let those demands expire first. Its resource.revised
   * event commits with it; the negative list recompiles on it as on a publication.
   */
  async revise(code: string, input: ResourcePublication, options: { at?: Date; actor?: string } = {}): Promise<DataResource> {
    const resource = normalisePublication(input);
    if (resource.code !== code) throw new ZtError('ZT_ERR_REQUEST_INVALID', `the body revises ${resource.code}, the path ${code}: a resource's code does not change`);
    assertActsFor(options.actor, [resource.provider]);
    const at = options.at ?? this.#clock();
    const stored = await this.db.transaction(async (tx) => {
      const current = await this.store.getForUpdate(tx, code);
      if (!current) throw new ZtError('ZT_ERR_RESOURCE_NOT_FOUND', `no data resource in the catalogue has code ${JSON.stringify(code)}`);
      if (current.provider !== resource.provider) {
        throw new ZtError('ZT_ERR_ACTING_FOR_ANOTHER', `${code} is provided by ${current.provider}; a revision cannot move it to ${resource.provider}`);
      }
      const kept = new Set(resource.items.map((i) => i.code));
      const removed = current.items.map((i) => i.code).filter((c) => !kept.has(c));
      if (removed.length > 0) {
        const { rows } = await tx.query<{ item: string }>(
          `SELECT DISTINCT item FROM demands, unnest(items) AS item
            WHERE resource_code = $1 AND state IN ('pending', 'granted', 'approved') AND item = ANY($2::text[]) ORDER BY item`,
          [code, removed],
        );
        if (rows.length > 0) {
          const items = rows.map((r) => r.item);
          throw new ZtError('ZT_ERR_RESOURCE_IN_USE', `${code}: ${items.join(', ')} ${items.length === 1 ? 'is' : 'are'} named by pending, granted or approved demands and cannot be removed`, { details: { items } });
        }
      }
      const row = (await this.store.replace(tx, resource, at))!;
      await enqueueEvent(tx, CATALOGUE_EVENTS_TOPIC, resourceEvent('resource.revised', row));
      return row;
    });
    this.#onOutboxWrite();
    return stored;
  }

  async get(code: string): Promise<DataResource> {
    const found = RESOURCE_CODE.test(code) ? await this.store.get(code) : null;
    if (!found) throw new ZtError('ZT_ERR_RESOURCE_NOT_FOUND', `no data resource in the catalogue has code ${JSON.stringify(code)}`);
    return found;
  }

  async items(code: string): Promise<DataItem[]> {
    return (await this.get(code)).items;
  }

  /** A page of resources by code, optionally of one provider (which must be a registered department). */
  async list(query: { provider?: string | null; limit: number; after?: string | null }): Promise<ResourcePage> {
    assertPageLimit(query.limit);
    const provider = query.provider ? query.provider.toUpperCase() : null;
    if (provider) await this.departments.get(provider);
    return this.store.list({ provider, limit: query.limit, after: query.after ?? null });
  }

  /** Every resource (of one provider, or all), for export. */
  async exportAll(provider: string | null = null): Promise<DataResource[]> {
    const all: DataResource[] = [];
    let after: string | null = null;
    do {
      const page = await this.list({ provider, limit: MAX_PAGE, after });
      all.push(...page.items);
      after = page.next;
    } while (after !== null);
    return all;
  }

  /**
   * Imports supply-list entries, all or nothing: every record is checked first (shape, provider, codes unique in
   * the file and new to the catalogue), and the errors of all rows are reported together (ZT_ERR_IMPORT_INVALID).
   */
  async import(batch: ImportBatch<ResourcePublication>, options: { at?: Date; actor?: string } = {}): Promise<DataResource[]> {
    const { records } = batch;
    assertActsFor(
      options.actor,
      records.map((r) => String((r.value as { provider?: unknown }).provider ?? '').trim().toUpperCase()),
    );
    if (records.length > MAX_IMPORT_ROWS) throw new ZtError('ZT_ERR_IMPORT_INVALID', `an import may carry at most ${MAX_IMPORT_ROWS} records; this one has ${records.length}`);
    const errors: RowError[] = [...batch.errors];
    const valid: { row: number; resource: NewResource }[] = [];
    const departmentKnown = new Map<string, Promise<ZtError | null>>();
    const firstRow = new Map<string, number>();
    for (const { row, value } of records) {
      let resource: NewResource;
      try {
        resource = normalisePublication(value);
      } catch (error) {
        errors.push(rowError(row, error));
        continue;
      }
      const seen = firstRow.get(resource.code);
      if (seen !== undefined) {
        errors.push({ row, code: 'ZT_ERR_RESOURCE_EXISTS', message: `resource ${resource.code} appears again (first at row ${seen})` });
        continue;
      }
      firstRow.set(resource.code, row);
      if (!departmentKnown.has(resource.provider)) {
        departmentKnown.set(
          resource.provider,
          this.departments.get(resource.provider).then(
            () => null,
            (error: unknown) => toZt(error),
          ),
        );
      }
      const problem = await departmentKnown.get(resource.provider)!;
      if (problem) {
        errors.push({ row, code: problem.code, message: problem.message });
        continue;
      }
      valid.push({ row, resource });
    }
    const taken = new Set(await this.store.existing(valid.map((v) => v.resource.code)));
    for (const v of valid) {
      if (taken.has(v.resource.code)) errors.push({ row: v.row, code: 'ZT_ERR_RESOURCE_EXISTS', message: `data resource ${v.resource.code} is already in the catalogue` });
    }
    if (errors.length > 0) throw importFailed(errors);
    if (valid.length === 0) return [];
    const at = options.at ?? this.#clock();
    const stored = await this.db.transaction(async (tx) => {
      const rows: DataResource[] = [];
      for (const { resource } of valid) {
        const row = await this.store.insert(tx, resource, at);
        await enqueueEvent(tx, CATALOGUE_EVENTS_TOPIC, resourceEvent('resource.published', row));
        rows.push(row);
      }
      return rows;
    });
    this.#onOutboxWrite();
    return stored;
  }
}

export function toZt(error: unknown): ZtError {
  if (error instanceof ZtError) return error;
  throw error;
}

export function rowError(row: number, error: unknown): RowError {
  const zt = toZt(error);
  return { row, code: zt.code, message: zt.message };
}

/**
 * A department publishes into its own supply list only: every provider named must be the signing department. An
 * actor left undefined is the platform itself (the demo seed) or its administrator (a catalogue moved in whole).
 */
function assertActsFor(actor: string | undefined, providers: readonly string[]): void {
  if (actor === undefined) return;
  const others = [...new Set(providers.filter((p) => p !== actor))];
  if (others.length > 0) {
    throw new ZtError('ZT_ERR_ACTING_FOR_ANOTHER', `${actor} signed the request, but it names ${others.join(', ')} as provider; a department publishes its own supply list`, {
      details: { actor, providers: others },
    });
  }
}
