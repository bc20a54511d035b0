// Batching in the manner of a group commit, for work whose cost is per round trip rather than per item (a database
// statement over many rows): no timer, the first item goes at once, and items arriving while a batch is in flight
// form the next one. Each item gets its own answer; a batch that fails rejects every item in it.

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export interface BatchQueueOptions {
  /** Most items in one batch. */
  maxBatch: number;
  /** Batches run at once. */
  maxInFlight: number;
  /**
   * Under steady load (a batch ended less than 20 ms ago), an item that finds no batch running waits up to this long
   * for others; an idle queue still sends a lone item at once. Default 0 (see AccessLogWriter's lingerMs).
   */
  lingerMs?: number;
}

export class BatchQueue<T, R> {
  readonly #run: (items: T[]) => Promise<R[]>;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #lingerMs: number;
  #queue: Waiting<T, R>[] = [];
  #inFlight = 0;
  #lingering = false;
  #lastBatchEnd = -Infinity;

  /** `run` answers a batch with one result per item, in the items' order. */
  constructor(run: (items: T[]) => Promise<R[]>, options: BatchQueueOptions) {
    this.#run = run;
    this.#maxBatch = options.maxBatch;
    this.#maxInFlight = options.maxInFlight;
    this.#lingerMs = options.lingerMs ?? 0;
  }

  push(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#inFlight >= this.#maxInFlight || this.#lingering) return;
      if (this.#lingerMs > 0 && this.#inFlight === 0 && performance.now() - this.#lastBatchEnd < 20) {
        this.#lingering = true;
        setTimeout(() => {
          this.#lingering = false;
          if (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) void this.#drain();
        }, this.#lingerMs);
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
        this.#lastBatchEnd = performance.now();
      }
    } finally {
      this.#inFlight--;
    }
  }
}
