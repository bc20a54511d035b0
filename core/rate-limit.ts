// A token bucket per key (e.g. per client address) for anonymous endpoints: `ratePerSecond` tokens a second up to
// `burst`. Buckets live in an LRU, so a flood of distinct addresses cannot grow memory without bound. Per instance:
// with N gateways behind a balancer a client gets at most N times the rate, which is what a cheap guard needs.
import { LRUCache } from 'lru-cache';

class Bucket {
  constructor(
    public tokens: number,
    public at: number,
  ) {}
}

export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets: LRUCache<string, Bucket>;
  readonly #now: () => number;

  /** ratePerSecond 0 disables the limit. */
  constructor(options: { ratePerSecond: number; burst?: number; maxKeys?: number; now?: () => number }) {
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst ?? Math.max(1, options.ratePerSecond * 2);
    this.#buckets = new LRUCache({ max: options.maxKeys ?? 100_000 });
    this.#now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.#rate > 0;
  }

  /** Takes a token for key; returns 0 when allowed, else the seconds until one is available (for Retry-After). */
  take(key: string): number {
    if (this.#rate <= 0) return 0;
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new Bucket(this.#burst, now);
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.#rate);
  }
}
