import type { EventBus, OutgoingEvent } from '../events/index.js';
import type { Logger } from '../logging/index.js';
import type { Database, Queryable } from '../storage/index.js';

/** Writes an event into the outbox inside the caller's transaction; the relay publishes it after commit. */
export async function enqueueEvent(tx: Queryable, topic: string, event: OutgoingEvent): Promise<void> {
  await tx.query('INSERT INTO zt_outbox (topic, event_key, value, headers) VALUES ($1, $2, $3, $4)', [
    topic,
    event.key,
    typeof event.value === 'string' ? Buffer.from(event.value, 'utf8') : event.value,
    event.headers ?? {},
  ]);
}

interface OutboxRow {
  id: number;
  topic: string;
  event_key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

export interface OutboxRelayOptions {
  db: Database;
  bus: EventBus;
  logger: Logger;
  /** Poll interval when nothing nudges the relay (events written by other instances). */
  intervalMs?: number;
  batchSize?: number;
  /**
   * Least time between the end of a pass and the next one nudgeSoon() starts; default 50 ms. Under load every commit
   * of the access log nudges the relay, and a pass per commit cost four statements (lock, read, delete, unlock) for a
   * handful of events; with the gap one pass takes what a few commits wrote. Their events wait at most this long more.
   */
  minGapMs?: number;
}

const LOCK_KEY = 'zhengtong.outbox.relay';

/**
 * Delivery is at least once: a crash between publishing and deleting a batch publishes it again on the next pass,
 * with the same zt-event-id header, by which consumers can drop duplicates.
 *
 * Publishes outbox rows in id order, durably, then deletes them. One relay works at a time across all instances
 * (a database lock per batch), which keeps per-key order; a batch that fails stays in the outbox and is retried.
 */
export class OutboxRelay {
  readonly #db: Database;
  readonly #bus: EventBus;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #minGapMs: number;
  /** When the last pass ended (performance.now()); -Infinity before the first. */
  #lastPass = -Infinity;
  /** Whether an urgent nudge waits for the next pass. */
  #urgent = false;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = true;
  #backlog = 0;
  #published = 0;
  #failures = 0;

  constructor(options: OutboxRelayOptions) {
    this.#db = options.db;
    this.#bus = options.bus;
    this.#logger = options.logger;
    this.#intervalMs = options.intervalMs ?? 250;
    this.#batchSize = options.batchSize ?? 200;
    this.#minGapMs = options.minGapMs ?? 50;
  }

  /** Events waiting in the outbox as of the last pass. */
  get backlog(): number {
    return this.#backlog;
  }
  get published(): number {
    return this.#published;
  }
  get failures(): number {
    return this.#failures;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /**
   * Asks for a pass now: called after a commit that wrote to the outbox. Revocations, grants, roles and policy
   * changes travel this way, and every instance acts on them only once they are published.
   */
  nudge(): void {
    if (this.#stopped) return;
    this.#urgent = true;
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  /** Asks for a pass once minGapMs has passed since the last: for the access log's events, many and never urgent. */
  nudgeSoon(): void {
    if (this.#stopped) return;
    if (this.#running) this.#again = true;
    else if (!this.#urgent) this.#schedule(Math.max(0, this.#lastPass + this.#minGapMs - performance.now()));
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#pass();
    }, ms);
    this.#timer.unref();
  }

  #pass(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      let delay = this.#intervalMs;
      try {
        this.#again = false;
        this.#urgent = false;
        while ((await this.relayBatch()) === this.#batchSize);
        // Nudged during the pass: at once if urgently, else once the gap has passed, with what was written meanwhile.
        if (this.#again) delay = this.#urgent ? 0 : this.#minGapMs;
      } catch (error) {
        this.#failures++;
        delay = Math.min(5000, this.#intervalMs * 4);
        this.#logger.warn({ err: error }, 'outbox relay could not publish; will retry');
      } finally {
        this.#lastPass = performance.now();
        this.#running = null;
        if (!this.#stopped) this.#schedule(delay);
      }
    })();
    return this.#running;
  }

  /** Publishes one batch; returns how many rows it published. */
  async relayBatch(): Promise<number> {
    return this.#db.withLock(LOCK_KEY, async (session) => {
      const { rows } = await session.query<OutboxRow>(
        'SELECT id, topic, event_key, value, headers FROM zt_outbox ORDER BY id LIMIT $1',
        [this.#batchSize],
        { prepare: true },
      );
      if (rows.length === 0) {
        this.#backlog = 0;
        return 0;
      }
      try {
        await Promise.all(rows.map((r) => this.#bus.publish(r.topic, { key: r.event_key, value: r.value, headers: { ...r.headers, 'zt-event-id': String(r.id) } }, { durable: true })));
      } catch (error) {
        await session
          .query('UPDATE zt_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id), String((error as Error).message).slice(0, 500)])
          .catch(() => undefined);
        throw error;
      }
      await session.query('DELETE FROM zt_outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)], { prepare: true });
      this.#published += rows.length;
      // A short batch emptied the outbox (up to what was written meanwhile, which the next pass takes): counting the
      // table after every batch cost a scan per batch under load, so it is counted only when a full batch suggests
      // more is waiting.
      if (rows.length < this.#batchSize) {
        this.#backlog = 0;
      } else {
        const { rows: left } = await session.query<{ n: number }>('SELECT count(*) AS n FROM zt_outbox');
        this.#backlog = Number(left[0]?.n ?? 0);
      }
      return rows.length;
    });
  }

  /** Stops polling after publishing everything in the outbox (graceful shutdown). Gives up after timeoutMs. */
  async drainAndStop(timeoutMs: number): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const deadline = Date.now() + timeoutMs;
    await this.#running;
    while (Date.now() < deadline) {
      try {
        if ((await this.relayBatch()) === 0) return;
      } catch (error) {
        this.#logger.warn({ err: error }, 'outbox relay could not publish during shutdown; events stay in the outbox for the next start');
        return;
      }
    }
  }
}
