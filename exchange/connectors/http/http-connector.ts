// The HTTP connector: fetches a subject's record from the supplier's own API (供给方接口), with a timeout per attempt,
// retries with exponential backoff and full jitter, and a circuit breaker in front of the network.
//
// Wire protocol with the supplier
// -------------------------------
//   POST {endpoint}/query
//   content-type: application/json        (plus any headers configured for this supplier, e.g. an API key)
//   { "resource": "210100-GA-0001", "subject": { "kind": "person" | "organisation", "code": "…" }, "items": ["…"] }
//
//   200 { "found": true, "values": { "<item>": <JSON value>, … }, "updatedAt"?: "<RFC 3339>" }   the record
//   200 { "found": false }                                                                    nothing held
//   404                                                                                       nothing held
//
// Only the requested items are returned; any other item the supplier sends is dropped, and an item whose value is
// null is treated as absent (no value held). Anything else in a 200 (not JSON, not UTF-8, not that shape, larger
// than maxBodyBytes) is ZT_ERR_UPSTREAM_BAD_RESPONSE and is not retried.
//
// What is retried, and what the breaker hears:
//   network error, attempt timeout, 429, 502, 503, 504   retried (Retry-After honoured, capped at backoffMaxMs);
//                                                         a breaker failure. When the attempts run out:
//                                                         ZT_ERR_UPSTREAM_TIMEOUT if the last one timed out, else
//                                                         ZT_ERR_UPSTREAM_UNAVAILABLE.
//   other 5xx (500, 501, …)                               ZT_ERR_UPSTREAM_UNAVAILABLE, not retried (the same query
//                                                         would most likely fail the same way); a breaker failure.
//   4xx other than 404 and 429                            ZT_ERR_UPSTREAM_BAD_RESPONSE, not retried. A breaker
//                                                         success: the supplier is up and answering, and opening the
//                                                         circuit would not mend the request or our credentials.
//   malformed 200, 3xx, other 2xx                         ZT_ERR_UPSTREAM_BAD_RESPONSE, not retried; a breaker
//                                                         failure (a supplier sending garbage is not healthy).
//   200 record, 200 found:false, 404                      a breaker success.
//   the caller's signal aborts                            stops at once (attempt or backoff) and rejects with the
//                                                         signal's reason; no retry, nothing told to the breaker.
// While the circuit is open, fetch fails fast with ZT_ERR_UPSTREAM_UNAVAILABLE without touching the network.
//
// Why not AbortSignal.timeout + AbortSignal.any: a composite signal observed by fetch stays attached to its
// long-lived sources (a shutdown signal) on Node 20 and accumulates there (nodejs/node#55351, #64476), and the
// timeout's timer outlives the attempt. One small Call object per fetch owns the attempt's controller and timer,
// listens to the caller's signal through handleEvent (no closure), and lets close() abort what is in flight.

import { ZtError } from '../../../core/errors/index.js';
import type { Connector, ConnectorQuery, ConnectorRecord } from '../connector.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';

export interface HttpConnectorOptions {
  /** Base URL of the supplier's API (http or https, no query, no credentials); requests go to `{endpoint}/query`. */
  readonly endpoint: string;
  /** Time allowed for one attempt, response body included, in milliseconds. Default 2 000. */
  readonly timeoutMs?: number;
  /** Attempts after the first for retryable failures. Default 2. */
  readonly retries?: number;
  /** Backoff before retry n (from 0) is uniformly random in [0, min(backoffMaxMs, backoffBaseMs · 2ⁿ)]. Default 50. */
  readonly backoffBaseMs?: number;
  /** Upper bound of any backoff, Retry-After included. Default 1 000. */
  readonly backoffMaxMs?: number;
  /** Largest response body accepted, in bytes. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Extra request headers for this supplier, e.g. its API key. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Breaker settings, or a breaker to use (e.g. one whose state a metrics gauge already reads). */
  readonly breaker?: CircuitBreakerOptions | CircuitBreaker;
  /** Milliseconds since the epoch, for retrievedAt and (unless breaker settings name their own) the breaker. */
  readonly now?: () => number;
  /** Random number in [0, 1) for the backoff jitter; Math.random by default. */
  readonly random?: () => number;
}

const DEFAULT_TIMEOUT_MS = 2_000;
const DEFAULT_RETRIES = 2;
const DEFAULT_BACKOFF_BASE_MS = 50;
const DEFAULT_BACKOFF_MAX_MS = 1_000;
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const DELTA_SECONDS = /^\s*\d+\s*$/;
/** Rejects bodies that are not UTF-8 instead of replacing the bad bytes. Stateless when used without `stream`. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Why the current attempt was aborted by its own timer. */
const ATTEMPT_TIMED_OUT: unique symbol = Symbol('attempt timed out');
/** Marks a Call not stopped by its caller or by close(). */
const RUNNING: unique symbol = Symbol('running');

/** A failure worth another attempt: a network error, a timeout, or 429/502/503/504. */
class TransientFailure {
  constructor(
    readonly timedOut: boolean,
    /** From Retry-After, in milliseconds; NaN when the upstream did not say. */
    readonly retryAfterMs: number,
    readonly description: string,
    readonly cause: unknown,
  ) {}
}

/** One fetch() in flight: the controller and timer of its current attempt or backoff, reachable by abort and close. */
class Call {
  controller: AbortController | null = null;
  timer: NodeJS.Timeout | undefined = undefined;
  /** Ends a backoff early. */
  wake: (() => void) | null = null;
  /** The reason the caller or close() stopped this call; RUNNING until then. */
  stopReason: unknown = RUNNING;

  constructor(readonly caller: AbortSignal | undefined) {}

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.stop(this.caller!.reason);
  }

  stop(reason: unknown): void {
    if (this.stopReason !== RUNNING) return;
    this.stopReason = reason;
    clearTimeout(this.timer);
    if (this.controller !== null) this.controller.abort(reason);
    if (this.wake !== null) this.wake();
  }
}

function onAttemptTimeout(call: Call): void {
  call.controller!.abort(ATTEMPT_TIMED_OUT);
}

function wholeNumber(name: string, value: number, minimum: number): number {
  if (!Number.isSafeInteger(value) || value < minimum) throw new RangeError(`${name} must be an integer ≥ ${minimum}, not ${value}`);
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class HttpConnector implements Connector {
  readonly source: string;
  readonly endpoint: string;
  readonly breaker: CircuitBreaker;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly maxBodyBytes: number;

  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #inFlight = new Set<Call>();
  #closed = false;

  constructor(options: HttpConnectorOptions) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch (error) {
      throw new TypeError(`endpoint is not a URL: ${JSON.stringify(options.endpoint)}`, { cause: error });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`endpoint must be http or https: ${options.endpoint}`);
    if (url.search !== '' || url.hash !== '') throw new TypeError(`endpoint must have no query or fragment: ${options.endpoint}`);
    // The endpoint is shown in logs and provenance; a secret belongs in `headers`.
    if (url.username !== '' || url.password !== '') throw new TypeError('endpoint must not carry credentials; pass them in headers');
    this.endpoint = options.endpoint;
    this.source = `http:${options.endpoint}`;
    this.#url = `${url.href.replace(/\/+$/, '')}/query`;

    this.timeoutMs = wholeNumber('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1);
    this.retries = wholeNumber('retries', options.retries ?? DEFAULT_RETRIES, 0);
    this.backoffBaseMs = wholeNumber('backoffBaseMs', options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS, 0);
    this.backoffMaxMs = wholeNumber('backoffMaxMs', options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS, 0);
    this.maxBodyBytes = wholeNumber('maxBodyBytes', options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, 1);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    headers['content-type'] = 'application/json';
    headers.accept ??= 'application/json';
    this.#headers = headers;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    const breaker = options.breaker;
    this.breaker = breaker instanceof CircuitBreaker ? breaker : new CircuitBreaker({ now: this.#now, ...breaker });
  }

  async fetch(query: ConnectorQuery): Promise<ConnectorRecord | null> {
    const caller = query.signal;
    if (caller !== undefined && caller.aborted) throw caller.reason;
    if (this.#closed) throw this.#closedError();
    const body = JSON.stringify({ resource: query.resource, subject: { kind: query.subject.kind, code: query.subject.code }, items: query.items });
    const call = new Call(caller);
    this.#inFlight.add(call);
    if (caller !== undefined) caller.addEventListener('abort', call);
    try {
      for (let attempt = 0; ; attempt++) {
        if (call.stopReason !== RUNNING) throw call.stopReason;
        if (!this.breaker.tryAcquire()) throw this.#circuitOpenError();
        const outcome = await this.#attempt(call, body, query.items);
        if (!(outcome instanceof TransientFailure)) return outcome;
        if (attempt === this.retries) throw this.#exhaustedError(outcome, attempt + 1);
        await this.#backoff(call, attempt, outcome.retryAfterMs);
      }
    } finally {
      if (caller !== undefined) caller.removeEventListener('abort', call);
      clearTimeout(call.timer);
      this.#inFlight.delete(call);
    }
  }

  /** Aborts what is in flight (those calls reject with ZT_ERR_UPSTREAM_UNAVAILABLE) and refuses new calls. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const reason = this.#closedError();
    for (const call of this.#inFlight) call.stop(reason);
    this.#inFlight.clear();
  }

  /** One request and its answer. Tells the breaker how it went, exactly once. */
  async #attempt(call: Call, body: string, items: readonly string[]): Promise<ConnectorRecord | null | TransientFailure> {
    const controller = new AbortController();
    call.controller = controller;
    call.timer = setTimeout(onAttemptTimeout, this.timeoutMs, call);
    let outcome: ConnectorRecord | null | TransientFailure | ZtError;
    try {
      const response = await fetch(this.#url, { method: 'POST', headers: this.#headers, body, signal: controller.signal, redirect: 'manual' });
      outcome = await this.#answer(response, items);
    } catch (error) {
      if (call.stopReason !== RUNNING) {
        this.breaker.release();
        throw call.stopReason;
      }
      this.breaker.recordFailure();
      if (error instanceof ZtError) throw error; // a malformed answer or a 5xx that retrying would not mend
      const timedOut = controller.signal.reason === ATTEMPT_TIMED_OUT;
      return new TransientFailure(timedOut, Number.NaN, timedOut ? `no answer within ${this.timeoutMs} ms` : 'network error', timedOut ? undefined : error);
    } finally {
      clearTimeout(call.timer);
      call.controller = null;
    }
    if (outcome instanceof TransientFailure) {
      this.breaker.recordFailure();
      return outcome;
    }
    this.breaker.recordSuccess();
    if (outcome instanceof ZtError) throw outcome; // a 4xx: the supplier is up, and refused the request
    return outcome;
  }

  /**
   * What an answer means: the record (null: nothing held), a failure worth retrying, or a refusal (a 4xx, returned
   * as a ZtError because the supplier is up). Throws ZtError for an answer that shows the supplier is broken.
   */
  async #answer(response: Response, items: readonly string[]): Promise<ConnectorRecord | null | TransientFailure | ZtError> {
    const status = response.status;
    if (status === 200) return this.#record(await this.#readBody(response), items);
    await response.body?.cancel();
    if (status === 404) return null;
    if (status === 429 || status === 502 || status === 503 || status === 504) {
      return new TransientFailure(false, this.#retryAfter(response.headers.get('retry-after')), `HTTP ${status}`, undefined);
    }
    if (status >= 500) throw new ZtError('ZT_ERR_UPSTREAM_UNAVAILABLE', `The supplier at ${this.endpoint} failed with HTTP ${status}.`);
    const error = new ZtError('ZT_ERR_UPSTREAM_BAD_RESPONSE', `The supplier at ${this.endpoint} answered HTTP ${status}.`);
    if (status >= 400) return error;
    throw error;
  }

  /** The body as text, refusing more than maxBodyBytes. */
  async #readBody(response: Response): Promise<string> {
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > this.maxBodyBytes) {
      await response.body?.cancel();
      throw this.#badBody(`a body of ${declared} bytes (at most ${this.maxBodyBytes} accepted)`);
    }
    const body = response.body;
    if (body === null) throw this.#badBody('no body');
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of body) {
      length += chunk.byteLength;
      // Leaving the loop cancels the stream.
      if (length > this.maxBodyBytes) throw this.#badBody(`a body over ${this.maxBodyBytes} bytes`);
      chunks.push(chunk);
    }
    try {
      return utf8.decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    } catch (error) {
      throw this.#badBody('a body that is not UTF-8', error);
    }
  }

  /** The record in a 200 body; null for found:false. */
  #record(text: string, items: readonly string[]): ConnectorRecord | null {
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch (error) {
      throw this.#badBody('a body that is not JSON', error);
    }
    if (!isPlainObject(answer) || typeof answer.found !== 'boolean') throw this.#badBody('no boolean "found"');
    if (!answer.found) return null;
    const values = answer.values;
    if (!isPlainObject(values)) throw this.#badBody('"found": true without a "values" object');
    let updatedAt: Date | undefined;
    const stamp = answer.updatedAt;
    if (stamp !== undefined && stamp !== null) {
      const time = typeof stamp === 'string' && RFC3339.test(stamp) ? Date.parse(stamp) : Number.NaN;
      if (Number.isNaN(time)) throw this.#badBody('an "updatedAt" that is not an RFC 3339 time');
      updatedAt = new Date(time);
    }
    const kept: Record<string, unknown> = {};
    for (const item of items) {
      if (!Object.hasOwn(values, item)) continue;
      const value = values[item];
      if (value === null) continue;
      if (item === '__proto__') Object.defineProperty(kept, item, { value, enumerable: true, writable: true, configurable: true });
      else kept[item] = value;
    }
    const record: ConnectorRecord = { values: kept, retrievedAt: new Date(this.#now()) };
    if (updatedAt !== undefined) record.updatedAt = updatedAt;
    return record;
  }

  #badBody(what: string, cause?: unknown): ZtError {
    return new ZtError('ZT_ERR_UPSTREAM_BAD_RESPONSE', `The supplier at ${this.endpoint} answered with ${what}.`, { cause });
  }

  /** Retry-After (delay-seconds or an HTTP date) in milliseconds, NaN when absent or unreadable. */
  #retryAfter(header: string | null): number {
    if (header === null) return Number.NaN;
    if (DELTA_SECONDS.test(header)) return Number(header) * 1000;
    const at = Date.parse(header);
    return Number.isNaN(at) ? Number.NaN : Math.max(0, at - Date.now());
  }

  async #backoff(call: Call, attempt: number, retryAfterMs: number): Promise<void> {
    const ms = Number.isNaN(retryAfterMs)
      ? this.#random() * Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** attempt)
      : Math.min(retryAfterMs, this.backoffMaxMs);
    if (ms > 0) {
      await new Promise<void>((resolve) => {
        call.wake = resolve;
        call.timer = setTimeout(resolve, ms);
      });
      call.wake = null;
    }
  }

  #circuitOpenError(): ZtError {
    const retryAt = this.breaker.retryAt;
    const when = retryAt === null ? 'when a trial call in progress succeeds' : `at ${retryAt.toISOString()}`;
    return new ZtError('ZT_ERR_UPSTREAM_UNAVAILABLE', `The circuit to the supplier at ${this.endpoint} is open; it will try again ${when}.`);
  }

  #exhaustedError(last: TransientFailure, attempts: number): ZtError {
    const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
    return last.timedOut
      ? new ZtError('ZT_ERR_UPSTREAM_TIMEOUT', `The supplier at ${this.endpoint} did not answer in time (${tries}, ${this.timeoutMs} ms each).`)
      : new ZtError('ZT_ERR_UPSTREAM_UNAVAILABLE', `The supplier at ${this.endpoint} is unavailable (${tries}; last: ${last.description}).`, { cause: last.cause });
  }

  #closedError(): ZtError {
    return new ZtError('ZT_ERR_UPSTREAM_UNAVAILABLE', `The connector to the supplier at ${this.endpoint} is closed.`);
  }
}
