// Replay protection for signed requests across instances: each (signer, nonce) is claimed in PostgreSQL once.
// Claims are batched like a group commit (no timer: the first claim goes at once, claims arriving while it is in
// flight form the next batch), so the store costs one round trip per batch, not per request; a local LRU answers
// repeats seen by this instance without asking. A claim is durable before it is answered: the caller releases
// nothing before fresh() resolves (signed-request.ts), so a replay after a crash, inside the signature window, finds
// the nonce claimed.
import { LRUCache } from 'lru-cache';
import { ZtError } from '../core/errors/index.js';
import { BatchQueue } from '../core/batch-queue.js';
import type { Database } from '../core/storage/index.js';

interface Claim {
  key: string;
  expiresAt: Date;
}

export class NonceStore {
  readonly #db: Database;
  // The database is what refuses a replay (the claim's own statement, on any instance); this only spares it the
  // repeats this instance saw lately. 200,000 keys took 22 minutes to fill at 150 req/s, so the heap grew through
  // every 10-minute soak (about 2 MB a minute); 20,000 fill in about two.
  readonly #seen = new LRUCache<string, true>({ max: 20_000 });
  // One batch in flight: more made smaller batches and more commits, and measured slower.
  readonly #claims = new BatchQueue<Claim, boolean>((batch) => this.#insert(batch), { maxBatch: 1000, maxInFlight: 1 });
  #lastSweep = 0;

  constructor(db: Database) {
    this.#db = db;
  }

  /** True when this is the first use of `key`; false when it was claimed before (a replay). */
  claim(key: string, expiresAt: Date): Promise<boolean> {
    // A key seen here is never queued twice, so a batch holds each key once.
    if (!this.reserve(key)) return Promise.resolve(false);
    return this.#claims.push({ key, expiresAt });
  }

  /**
   * The first half of a claim, in this instance only: false when `key` was seen here before (a replay). A caller
   * that reserves a key claims it in the database itself, in a commit of its own (the access record's, see
   * AccessLogWriter), or with claimReserved(); forget() it if that commit fails.
   */
  reserve(key: string): boolean {
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, true);
    return true;
  }

  /** The database half of a claim of a key reserved here. */
  claimReserved(key: string, expiresAt: Date): Promise<boolean> {
    return this.#claims.push({ key, expiresAt });
  }

  /** Forgets a reserved key whose claim was never committed, so that the request may be sent again. */
  forget(key: string): void {
    this.#seen.delete(key);
  }

  async #insert(batch: Claim[]): Promise<boolean[]> {
    try {
      // One statement in a transaction of its own, committed with the server's synchronous_commit (on unless an
      // operator turned it off): the commit waits for the WAL to reach the disk, once for the whole batch. It used to
      // be off here, and a nonce claimed just before a crash could then be replayed once within the window.
      const { rows } = await this.#db.query<{ key: string }>(
        `INSERT INTO exchange_nonces (key, expires_at) SELECT * FROM unnest($1::text[], $2::timestamptz[])
         ON CONFLICT (key) DO NOTHING RETURNING key`,
        [batch.map((c) => c.key), batch.map((c) => c.expiresAt)],
        { prepare: true },
      );
      const fresh = new Set(rows.map((r) => r.key.trim()));
      return batch.map((c) => fresh.has(c.key));
    } catch (error) {
      for (const c of batch) this.#seen.delete(c.key);
      throw new ZtError('ZT_ERR_STORAGE_UNAVAILABLE', 'the nonce of the request could not be recorded', { cause: error });
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
