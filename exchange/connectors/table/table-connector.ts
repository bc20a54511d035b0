// The connector for resources held in the exchange's own tables (前置库): it reads the record that the supplier's
// latest extract left for the subject.
import { isZtError, ZtError } from '../../../core/errors/index.js';
import type { Queryable } from '../../../core/storage/index.js';
import type { Connector, ConnectorQuery, ConnectorRecord } from '../connector.js';

// Lookups are batched the way a group commit is: the first goes at once, those arriving while it runs share the next
// query (WHERE subject_code = ANY(...)), so concurrent requests cost one round trip, not one each. Items are picked
// here from the record; what was not asked for never leaves the gateway.
const FETCH = `SELECT r.subject_code, r.subject_kind, r."values", r.loaded_at, r.updated_at
FROM exchange_records AS r WHERE r.resource = $1 AND r.subject_code = ANY($2::text[])`;
const MAX_BATCH = 500;
const MAX_IN_FLIGHT = 2;

interface RecordRow {
  subject_code: string;
  subject_kind: string;
  values: Record<string, unknown>;
  loaded_at: Date;
  updated_at: Date | null;
}

interface Lookup {
  query: ConnectorQuery;
  resolve: (record: ConnectorRecord | null) => void;
  reject: (error: unknown) => void;
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

  #queue: Lookup[] = [];
  #inFlight = 0;

  fetch(query: ConnectorQuery): Promise<ConnectorRecord | null> {
    if (query.resource !== this.resource) {
      return Promise.reject(new ZtError('ZT_ERR_RESOURCE_NOT_FOUND', `this connector serves ${this.resource}, not ${query.resource}`, { details: { resource: query.resource } }));
    }
    try {
      query.signal?.throwIfAborted();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ query, resolve, reject });
      if (this.#inFlight < MAX_IN_FLIGHT) void this.#run();
    });
  }

  async #run(): Promise<void> {
    this.#inFlight++;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        let rows: RecordRow[];
        try {
          ({ rows } = await this.db.query<RecordRow>(FETCH, [this.resource, [...new Set(batch.map((l) => l.query.subject.code))]]));
        } catch (error) {
          const failure = isZtError(error)
            ? error
            : new ZtError('ZT_ERR_UPSTREAM_UNAVAILABLE', `the exchange table of ${this.resource} cannot be read: ${(error as Error).message}`, { cause: error });
          for (const l of batch) l.reject(failure);
          continue;
        }
        const bySubject = new Map<string, RecordRow>();
        for (const r of rows) bySubject.set(`${r.subject_kind}|${r.subject_code}`, r);
        for (const l of batch) {
          if (l.query.signal?.aborted) {
            l.reject(l.query.signal.reason);
            continue;
          }
          const row = bySubject.get(`${l.query.subject.kind}|${l.query.subject.code}`);
          if (!row) {
            l.resolve(null);
            continue;
          }
          const values: Record<string, unknown> = {};
          for (const item of l.query.items) if (Object.prototype.hasOwnProperty.call(row.values, item)) values[item] = row.values[item];
          l.resolve(row.updated_at === null ? { values, retrievedAt: row.loaded_at } : { values, retrievedAt: row.loaded_at, updatedAt: row.updated_at });
        }
      }
    } finally {
      this.#inFlight--;
    }
  }

  async close(): Promise<void> {
    // Nothing of its own to release: the database belongs to the application.
  }
}
