import { ZtError } from '../../../core/errors/index.js';
import { sqlState, SqlState, type Database, type Queryable } from '../../../core/storage/index.js';
import type { Connector, DataItem, DataResource, LegalBasis, NewResource, SharingClass, UpdateCycle } from '../resource.js';
import type { ResourcePage, ResourceQuery, ResourceStore } from '../store.js';

interface Row {
  code: string;
  name: string;
  provider_uscc: string;
  sharing_class: SharingClass;
  legal_basis: LegalBasis | null;
  update_cycle: UpdateCycle;
  connector: Connector;
  created_at: Date;
  updated_at: Date;
  items: DataItem[];
}

// The items come along as one JSON array per resource, in published order.
const SELECT = `SELECT r.code, r.name, r.provider_uscc, r.sharing_class, r.legal_basis, r.update_cycle, r.connector, r.created_at, r.updated_at,
  coalesce((SELECT json_agg(json_build_object('code', i.code, 'name', i.name, 'type', i.type, 'sensitivity', i.sensitivity, 'categories', i.categories)
                            ORDER BY i.position)
              FROM data_items i WHERE i.resource_code = r.code), '[]'::json) AS items
  FROM data_resources r`;

function toResource(r: Row): DataResource {
  return {
    code: r.code,
    name: r.name,
    provider: r.provider_uscc,
    sharingClass: r.sharing_class,
    legalBasis: r.legal_basis,
    updateCycle: r.update_cycle,
    connector: r.connector,
    items: r.items,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Supply-list entries in SQL that both storage adapters (PGlite and PostgreSQL) run. */
export class SqlResourceStore implements ResourceStore {
  constructor(private readonly db: Database) {}

  async insert(tx: Queryable, r: NewResource, at: Date): Promise<DataResource> {
    try {
      await tx.query(
        `INSERT INTO data_resources (code, name, provider_uscc, sharing_class, legal_basis, update_cycle, connector, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $8)`,
        [r.code, r.name, r.provider, r.sharingClass, r.legalBasis === null ? null : JSON.stringify(r.legalBasis), r.updateCycle, JSON.stringify(r.connector), at],
      );
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) {
        throw new ZtError('ZT_ERR_RESOURCE_EXISTS', `data resource ${r.code} is already in the catalogue`, { cause: error });
      }
      if (sqlState(error) === SqlState.foreignKeyViolation) {
        throw new ZtError('ZT_ERR_DEPARTMENT_NOT_FOUND', `no department is registered with code ${r.provider}`, { cause: error });
      }
      throw error;
    }
    // One statement for all items: unnest keeps the round trips at two whatever the number of items.
    await tx.query(
      `INSERT INTO data_items (resource_code, code, position, name, type, sensitivity, categories)
       SELECT $1, i.code, i.position, i.name, i.type, i.sensitivity, ARRAY(SELECT jsonb_array_elements_text(i.categories))
         FROM jsonb_to_recordset($2::jsonb) AS i(code text, position integer, name text, type text, sensitivity text, categories jsonb)`,
      [r.code, JSON.stringify(r.items.map((item, position) => ({ ...item, position })))],
    );
    return (await this.get(r.code, tx))!;
  }

  async replace(tx: Queryable, r: NewResource, at: Date): Promise<DataResource | null> {
    const { rows } = await tx.query<{ code: string }>(
      `UPDATE data_resources SET name = $2, sharing_class = $3, legal_basis = $4::jsonb, update_cycle = $5, connector = $6::jsonb, updated_at = $7
        WHERE code = $1 RETURNING code`,
      [r.code, r.name, r.sharingClass, r.legalBasis === null ? null : JSON.stringify(r.legalBasis), r.updateCycle, JSON.stringify(r.connector), at],
    );
    if (rows.length === 0) return null;
    await tx.query('DELETE FROM data_items WHERE resource_code = $1', [r.code]);
    await tx.query(
      `INSERT INTO data_items (resource_code, code, position, name, type, sensitivity, categories)
       SELECT $1, i.code, i.position, i.name, i.type, i.sensitivity, ARRAY(SELECT jsonb_array_elements_text(i.categories))
         FROM jsonb_to_recordset($2::jsonb) AS i(code text, position integer, name text, type text, sensitivity text, categories jsonb)`,
      [r.code, JSON.stringify(r.items.map((item, position) => ({ ...item, position })))],
    );
    return this.get(r.code, tx);
  }

  async getForUpdate(tx: Queryable, code: string): Promise<DataResource | null> {
    const { rows } = await tx.query<{ code: string }>('SELECT code FROM data_resources WHERE code = $1 FOR UPDATE', [code]);
    return rows.length === 0 ? null : this.get(code, tx);
  }

  async get(code: string, tx: Queryable = this.db): Promise<DataResource | null> {
    const { rows } = await tx.query<Row>(`${SELECT} WHERE r.code = $1`, [code]);
    return rows[0] ? toResource(rows[0]) : null;
  }

  async list(q: ResourceQuery): Promise<ResourcePage> {
    const { rows } = await this.db.query<Row>(
      `${SELECT} WHERE ($1::text IS NULL OR r.provider_uscc = $1) AND ($2::text IS NULL OR r.code > $2) ORDER BY r.code LIMIT $3`,
      [q.provider, q.after, q.limit + 1],
    );
    const items = rows.slice(0, q.limit).map(toResource);
    return { items, next: rows.length > q.limit ? items[items.length - 1]!.code : null };
  }

  async existing(codes: readonly string[]): Promise<string[]> {
    if (codes.length === 0) return [];
    const { rows } = await this.db.query<{ code: string }>('SELECT code FROM data_resources WHERE code = ANY($1::text[]) ORDER BY code', [codes]);
    return rows.map((r) => r.code);
  }
}
