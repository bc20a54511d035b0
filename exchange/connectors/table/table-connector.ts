// The connector for resources held in the exchange's own tables (前置库): it reads the record that the supplier's
// latest extract left for the subject.
import { isZtError, ZtError } from '../../../core/errors/index.js';
import type { Queryable } from '../../../core/storage/index.js';
import type { Connector, ConnectorQuery, ConnectorRecord } from '../connector.js';

// The items are picked in the database, so that what was not asked for (a photo, say) never leaves it.
const FETCH = `SELECT (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb) FROM jsonb_each(r."values") AS e WHERE e.key = ANY($4::text[])) AS "values",
  r.loaded_at, r.updated_at
FROM exchange_records AS r WHERE r.resource = $1 AND r.subject_code = $2 AND r.subject_kind = $3`;

interface RecordRow {
  values: Record<string, unknown>;
  loaded_at: Date;
  updated_at: Date | null;
}

export class TableConnector implements Connector {
  readonly source: string;

  /** Serves one resource from the tables on `db` (the application's database, which the connector does not close). */
  constructor(
    private readonly db: Queryable,
    readonly resource: string,
  ) {
    this.source = `table:${resource}`;
  }

  async fetch(query: ConnectorQuery): Promise<ConnectorRecord | null> {
    if (query.resource !== this.resource) {
      throw new ZtError('ZT_ERR_RESOURCE_NOT_FOUND', `this connector serves ${this.resource}, not ${query.resource}`, { details: { resource: query.resource } });
    }
    query.signal?.throwIfAborted();
    let rows: RecordRow[];
    try {
      ({ rows } = await this.db.query<RecordRow>(FETCH, [this.resource, query.subject.code, query.subject.kind, query.items]));
    } catch (error) {
      if (isZtError(error)) throw error;
      throw new ZtError('ZT_ERR_UPSTREAM_UNAVAILABLE', `the exchange table of ${this.resource} cannot be read: ${(error as Error).message}`, { cause: error });
    }
    const row = rows[0];
    if (row === undefined) return null;
    return row.updated_at === null ? { values: row.values, retrievedAt: row.loaded_at } : { values: row.values, retrievedAt: row.loaded_at, updatedAt: row.updated_at };
  }

  async close(): Promise<void> {
    // Nothing of its own to release: the database belongs to the application.
  }
}
