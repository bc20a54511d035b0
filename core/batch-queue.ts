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
}

export class BatchQueue<T, R> {
  readonly #run: (items: T[]) => Promise<R[]>;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  #queue: Waiting<T, R>[] = [];
  #inFlight = 0;

  /** `run` answers a batch with one result per item, in the items' order. */
  constructor(run: (items: T[]) => Promise<R[]>, options: BatchQueueOptions) {
    this.#run = run;
    this.#maxBatch = options.maxBatch;
    this.#maxInFlight = options.maxInFlight;
  }

  push(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#inFlight < this.#maxInFlight) void this.#drain();
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
      }
    } finally {
      this.#inFlight--;
    }
  }
}
