// The connector for resources held in the exchange's own tables (前置库): it reads the record that the supplier's
// latest extract left for the subject. Records are keyed by the blind index of their subject (core/pseudonyms), so
// the subject asked for is looked up by its index under every live key version, the current one first; the values
// served are the supplier's data.
import { isZtError, ZtError } from '../../../core/errors/index.js';
import { BatchQueue } from '../../../core/batch-queue.js';
import type { BlindIndex } from '../../../core/pseudonyms/index.js';
import type { Queryable } from '../../../core/storage/index.js';
import type { Connector, ConnectorQuery, ConnectorRecord } from '../connector.js';

// Lookups are batched the way a group commit is: the first goes at once, those arriving while it runs share the next
// query (WHERE subject_code = ANY(...)), so concurrent requests cost one round trip, not one each. One query at a
// time: with two in flight, each carried half the lookups for the same cost per statement. Items are picked
// here from the record; what was not asked for never leaves the gateway.
const FETCH = `SELECT r.subject_code, r.subject_kind, r."values", r.loaded_at, r.updated_at
FROM exchange_records AS r WHERE r.resource = $1 AND r.subject_code = ANY($2::text[])`;

interface RecordRow {
  subject_code: string;
  subject_kind: string;
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
    private readonly pseudonyms: BlindIndex,
    options: { lingerMs?: number } = {},
  ) {
    this.source = `table:${resource}`;
    this.#lookups = new BatchQueue<ConnectorQuery, ConnectorRecord | null>((batch) => this.#read(batch), { maxBatch: 500, maxInFlight: 1, lingerMs: options.lingerMs ?? 0 });
  }

  readonly #lookups: BatchQueue<ConnectorQuery, ConnectorRecord | null>;
  readonly readsInPlace = true;

  async fetch(query: ConnectorQuery): Promise<ConnectorRecord | null> {
    if (query.resource !== this.resource) {
      throw new ZtError('ZT_ERR_RESOURCE_NOT_FOUND', `this connector serves ${this.resource}, not ${query.resource}`, { details: { resource: query.resource } });
    }
    query.signal?.throwIfAborted();
    const record = await this.#lookups.push(query);
    query.signal?.throwIfAborted();
    return record;
  }

  async #read(batch: ConnectorQuery[]): Promise<(ConnectorRecord | null)[]> {
    // One index per query and key version; with one version (no rotation yet) that is one HMAC-SM3 per request.
    const keys = batch.map((q) => this.pseudonyms.candidates(q.subject.code));
    let rows: RecordRow[];
    try {
      ({ rows } = await this.db.query<RecordRow>(FETCH, [this.resource, [...new Set(keys.flat())]], { prepare: true }));
    } catch (error) {
      if (isZtError(error)) throw error;
      throw new ZtError('ZT_ERR_UPSTREAM_UNAVAILABLE', `the exchange table of ${this.resource} cannot be read: ${(error as Error).message}`, { cause: error });
    }
    const bySubject = new Map<string, RecordRow>();
    for (const r of rows) bySubject.set(`${r.subject_kind}|${r.subject_code}`, r);
    return batch.map((q, i) => {
      let row: RecordRow | undefined;
      for (const key of keys[i]!) if ((row = bySubject.get(`${q.subject.kind}|${key}`))) break;
      if (!row) return null;
      const values: Record<string, unknown> = {};
      for (const item of q.items) if (Object.prototype.hasOwnProperty.call(row.values, item)) values[item] = row.values[item];
      return row.updated_at === null ? { values, retrievedAt: row.loaded_at } : { values, retrievedAt: row.loaded_at, updatedAt: row.updated_at };
    });
  }

  async close(): Promise<void> {
    // Nothing of its own to release: the database belongs to the application.
  }
}
