// A circuit breaker (熔断器) for calls to one upstream: it stops sending work to a supplier that is failing, so the
// supplier can recover and callers fail at once instead of waiting out timeouts.
//
//   closed    ── N consecutive failures, or a failure rate at or over the threshold in the window ──▶ open
//   open      ── cool-down elapsed (checked when asked: no timer) ─────────────────────────────────▶ half-open
//   half-open ── lets `halfOpenTrials` calls through at a time; a success closes, a failure re-opens
//
// The clock is injected, and the open → half-open step happens lazily when the breaker is consulted, so the breaker
// owns no timer and tests drive it by moving the clock.

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  readonly failureThreshold?: number;
  /** Failure rate in (0, 1] over the window that opens the circuit, once `minimumCalls` are in the window. Default 0.5. */
  readonly failureRateThreshold?: number;
  /** Length of the failure-rate window in milliseconds. Default 10 000. */
  readonly windowMs?: number;
  /** Calls the window must hold before its failure rate counts. Default 20. */
  readonly minimumCalls?: number;
  /** How long the circuit stays open before letting a trial through, in milliseconds. Default 5 000. */
  readonly coolDownMs?: number;
  /** Trial calls let through at a time while half-open. Default 1. */
  readonly halfOpenTrials?: number;
  /** Milliseconds since the epoch; Date.now by default. */
  readonly now?: () => number;
  /** Called on every change of state (for metrics and logs). Called synchronously: it must not throw. */
  readonly onStateChange?: ((state: CircuitState, previous: CircuitState) => void) | null;
}

/** The failure-rate window is kept as this many buckets, so it slides in steps of windowMs / WINDOW_BUCKETS. */
const WINDOW_BUCKETS = 10;

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, not ${value}`);
  return value;
}

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly failureRateThreshold: number;
  readonly windowMs: number;
  readonly minimumCalls: number;
  readonly coolDownMs: number;
  readonly halfOpenTrials: number;

  /** Calls recorded as successes, since construction. */
  successes = 0;
  /** Calls recorded as failures, since construction. */
  failures = 0;
  /** Calls refused because the circuit was open (or half-open with its trials taken), since construction. */
  rejected = 0;
  /** Times the circuit has opened, since construction. */
  opened = 0;
  /** Failures since the last success. */
  consecutiveFailures = 0;

  #state: CircuitState = 'closed';
  /** When an open circuit lets its first trial through (ms since the epoch); NaN unless open. */
  #retryAt = Number.NaN;
  #trialsInFlight = 0;
  readonly #now: () => number;
  readonly #onStateChange: ((state: CircuitState, previous: CircuitState) => void) | null;
  readonly #bucketMs: number;
  /** Per bucket: the bucket's number (time / bucketMs) it currently counts, its calls and its failures. */
  readonly #bucketEpoch = new Float64Array(WINDOW_BUCKETS).fill(-1);
  readonly #bucketCalls = new Uint32Array(WINDOW_BUCKETS);
  readonly #bucketFailures = new Uint32Array(WINDOW_BUCKETS);

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = positiveInteger('failureThreshold', options.failureThreshold ?? 5);
    this.failureRateThreshold = options.failureRateThreshold ?? 0.5;
    if (!(this.failureRateThreshold > 0 && this.failureRateThreshold <= 1)) {
      throw new RangeError(`failureRateThreshold must be in (0, 1], not ${this.failureRateThreshold}`);
    }
    this.windowMs = positiveInteger('windowMs', options.windowMs ?? 10_000);
    this.minimumCalls = positiveInteger('minimumCalls', options.minimumCalls ?? 20);
    this.coolDownMs = positiveInteger('coolDownMs', options.coolDownMs ?? 5_000);
    this.halfOpenTrials = positiveInteger('halfOpenTrials', options.halfOpenTrials ?? 1);
    this.#now = options.now ?? Date.now;
    this.#onStateChange = options.onStateChange ?? null;
    this.#bucketMs = Math.max(1, this.windowMs / WINDOW_BUCKETS);
  }

  /** The state now (an open circuit whose cool-down has passed reports, and becomes, half-open). */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() >= this.#retryAt) this.#transition('half-open');
    return this.#state;
  }

  /** When an open circuit will let a trial through, or null when it is not open. */
  get retryAt(): Date | null {
    return this.state === 'open' ? new Date(this.#retryAt) : null;
  }

  /**
   * Asks to make one call. True: make it, then report how it went with recordSuccess, recordFailure or release.
   * False: the circuit is open, do not call.
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'half-open' && this.#trialsInFlight < this.halfOpenTrials) {
      this.#trialsInFlight++;
      return true;
    }
    this.rejected++;
    return false;
  }

  recordSuccess(): void {
    this.successes++;
    this.consecutiveFailures = 0;
    if (this.#state === 'closed') this.#count(false);
    else if (this.#state === 'half-open') this.#transition('closed');
    // Open: a call let through before the circuit opened; it does not close the circuit early.
  }

  recordFailure(): void {
    this.failures++;
    this.consecutiveFailures++;
    if (this.#state === 'closed') {
      if (this.consecutiveFailures >= this.failureThreshold || this.#count(true)) this.#transition('open');
    } else if (this.#state === 'half-open') {
      this.#transition('open');
    }
  }

  /** A call that was let through ended without saying anything about the upstream (e.g. the caller gave up). */
  release(): void {
    if (this.#state === 'half-open' && this.#trialsInFlight > 0) this.#trialsInFlight--;
  }

  /** Adds one call to the window; true when the window's failure rate now opens the circuit. */
  #count(failed: boolean): boolean {
    const epoch = Math.floor(this.#now() / this.#bucketMs);
    const index = epoch % WINDOW_BUCKETS;
    if (this.#bucketEpoch[index] !== epoch) {
      this.#bucketEpoch[index] = epoch;
      this.#bucketCalls[index] = 0;
      this.#bucketFailures[index] = 0;
    }
    this.#bucketCalls[index]!++;
    if (!failed) return false;
    this.#bucketFailures[index]!++;
    let calls = 0;
    let failures = 0;
    for (let i = 0; i < WINDOW_BUCKETS; i++) {
      if (this.#bucketEpoch[i]! > epoch - WINDOW_BUCKETS) {
        calls += this.#bucketCalls[i]!;
        failures += this.#bucketFailures[i]!;
      }
    }
    return calls >= this.minimumCalls && failures >= calls * this.failureRateThreshold;
  }

  #transition(state: CircuitState): void {
    const previous = this.#state;
    this.#state = state;
    this.#trialsInFlight = 0;
    if (state === 'open') {
      this.opened++;
      this.#retryAt = this.#now() + this.coolDownMs;
    } else {
      this.#retryAt = Number.NaN;
      if (state === 'closed') {
        this.consecutiveFailures = 0;
        this.#bucketEpoch.fill(-1);
      }
    }
    if (this.#onStateChange !== null) this.#onStateChange(state, previous);
  }
}
