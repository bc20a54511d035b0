// Replay protection for signed requests across instances: each (signer, nonce) is claimed in PostgreSQL once.
// Claims are batched like a group commit (no timer: the first claim goes at once, claims arriving while it is in
// flight form the next batch), so the store costs one round trip per batch, not per request; a local LRU answers
// repeats seen by this instance without asking.
import { LRUCache } from 'lru-cache';
import { ZtError } from '../core/errors/index.js';
import type { Database } from '../core/storage/index.js';

interface Claim {
  key: string;
  expiresAt: Date;
  resolve: (fresh: boolean) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 1000;
/** Batches in flight at once. More than one made smaller batches and more commits, and measured slower. */
const MAX_IN_FLIGHT = 1;

export class NonceStore {
  readonly #db: Database;
  readonly #seen = new LRUCache<string, true>({ max: 200_000 });
  #queue: Claim[] = [];
  #inFlight = 0;
  #lastSweep = 0;

  constructor(db: Database) {
    this.#db = db;
  }

  /** True when this is the first use of `key`; false when it was claimed before (a replay). */
  claim(key: string, expiresAt: Date): Promise<boolean> {
    if (this.#seen.has(key)) return Promise.resolve(false);
    this.#seen.set(key, true);
    return new Promise((resolve, reject) => {
      this.#queue.push({ key, expiresAt, resolve, reject });
      if (this.#inFlight < MAX_IN_FLIGHT) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#inFlight++;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        try {
          // Not waiting for the disk: a nonce lost in a crash in the next fraction of a second could be replayed
          // once, within the window; the access record of the request is written durably either way.
          const { rows } = await this.#db.transaction(async (tx) => {
            await tx.query('SET LOCAL synchronous_commit TO OFF');
            return tx.query<{ key: string }>(
              `INSERT INTO exchange_nonces (key, expires_at) SELECT * FROM unnest($1::text[], $2::timestamptz[])
               ON CONFLICT (key) DO NOTHING RETURNING key`,
              [batch.map((c) => c.key), batch.map((c) => c.expiresAt)],
            );
          });
          const fresh = new Set(rows.map((r) => r.key.trim()));
          // The same key twice in one batch: the first claim wins.
          const answered = new Set<string>();
          for (const c of batch) {
            const first = fresh.has(c.key) && !answered.has(c.key);
            answered.add(c.key);
            c.resolve(first);
          }
        } catch (error) {
          for (const c of batch) {
            this.#seen.delete(c.key);
            c.reject(new ZtError('ZT_ERR_STORAGE_UNAVAILABLE', 'the nonce of the request could not be recorded', { cause: error }));
          }
        }
      }
    } finally {
      this.#inFlight--;
    }
  }

  /** Deletes expired nonces (at most once a minute, whoever calls). */
  async sweep(now = Date.now()): Promise<number> {
    if (now - this.#lastSweep < 60_000) return 0;
    this.#lastSweep = now;
    const { rowCount } = await this.#db.query('DELETE FROM exchange_nonces WHERE expires_at < $1', [new Date(now)]);
    return rowCount;
  }
}
