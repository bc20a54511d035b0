// Batching in the manner of a group commit, for work whose cost is per round trip rather than per item (a database
// statement over many rows): no timer, the first item goes at once, and items arriving while a batch is in flight
// form the next one. Each item gets its own answer; a batch that fails rejects every item in it.

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/** A batcher whose last batch ended this recently is under load. */
const BUSY_MS = 20;
/** …and lingers only for an item that came within this many lingers of the one before it. */
const ARRIVAL_GAP_LINGERS = 4;

/**
 * Whether an item that finds a lingering batcher idle should wait for company: only under steady load, when the
 * last batch ended less than 20 ms ago and the previous item arrived less than 4 lingers before this one. The linger
 * gathers company only when items come closer together than it; at 50 req/s (an item every 20 ms) the last batch
 * has often just ended, yet a 2 ms wait finds nobody and only delays the answer (PGlite's p50 at 50 req/s was
 * 9.6–10.3 ms on the 20 ms window alone, 6.1–7.6 ms with this gate, docs/performance.md).
 */
export class LingerGate {
  readonly lingerMs: number;
  #lastArrival = Number.NEGATIVE_INFINITY;

  constructor(lingerMs: number) {
    this.lingerMs = lingerMs;
  }

  /** Called once per item, at its arrival (`now`), with the end of the batcher's last batch. */
  arrive(now: number, lastBatchEnd: number): boolean {
    const gap = now - this.#lastArrival;
    this.#lastArrival = now;
    return this.lingerMs > 0 && now - lastBatchEnd < BUSY_MS && gap < this.lingerMs * ARRIVAL_GAP_LINGERS;
  }
}

export interface BatchQueueOptions {
  /** Most items in one batch. */
  maxBatch: number;
  /** Batches run at once. */
  maxInFlight: number;
  /**
   * Under steady load (LingerGate), an item that finds no batch running waits up to this long for others; an idle
   * queue, or one whose items come far apart, still sends a lone item at once. Default 0 (see AccessLogWriter's
   * lingerMs).
   */
  lingerMs?: number;
  /** Clock in milliseconds, for tests; default performance.now. */
  now?: () => number;
}

export class BatchQueue<T, R> {
  readonly #run: (items: T[]) => Promise<R[]>;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #gate: LingerGate;
  readonly #now: () => number;
  #queue: Waiting<T, R>[] = [];
  #inFlight = 0;
  #lingering = false;
  #lastBatchEnd = -Infinity;

  /** `run` answers a batch with one result per item, in the items' order. */
  constructor(run: (items: T[]) => Promise<R[]>, options: BatchQueueOptions) {
    this.#run = run;
    this.#maxBatch = options.maxBatch;
    this.#maxInFlight = options.maxInFlight;
    this.#gate = new LingerGate(options.lingerMs ?? 0);
    this.#now = options.now ?? (() => performance.now());
  }

  push(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      const steady = this.#gate.arrive(this.#now(), this.#lastBatchEnd);
      if (this.#inFlight >= this.#maxInFlight || this.#lingering) return;
      if (steady && this.#inFlight === 0) {
        this.#lingering = true;
        setTimeout(() => {
          this.#lingering = false;
          if (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) void this.#drain();
        }, this.#gate.lingerMs);
      } else void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#inFlight++;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          const results = await this.#run(batch.map((w) => w.item));
          batch.forEach((w, i) => w.resolve(results[i]!));
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
        this.#lastBatchEnd = this.#now();
      }
    } finally {
      this.#inFlight--;
    }
  }
}
