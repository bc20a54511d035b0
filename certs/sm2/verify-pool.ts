// SM2 signature verification off the event loop: a pool of worker threads, fed in batches. A request's signature
// check is the one piece of CPU work every signed call pays before anything else (about a quarter of the exchange's
// main-thread time at peak), and on the main thread it competes with everything else the gateway does there;
// in the pool it runs on the other cores. Verifications asked for in one turn of the event loop travel together:
// one transferred buffer per thread and turn, not a message per signature. The public key travels as its
// SubjectPublicKeyInfo (91 bytes); each thread keeps the keys it has seen, so a key is imported once per thread.
import { availableParallelism } from 'node:os';
import type { KeyObject } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { ZtError } from '../../core/errors/index.js';
import type { DatabaseKind } from '../../core/storage/index.js';
import { startWorker } from '../worker-threads.js';
import { assertSignatureShape, sm2Verify } from './sm2.js';

/** @internal One verification, as packed into a batch. */
export interface VerifyTask {
  spki: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}
/** @internal A worker's answers, in the order of the tasks: 1 valid, 0 not; and what failed, by task index. */
export interface VerifyAnswers {
  valid: Uint8Array;
  errors: Record<number, string>;
}

/**
 * @internal A batch as one transferable buffer: per task the lengths of its SPKI, message and signature (u32 each,
 * big-endian), then their bytes. Posting Uint8Array views one by one would copy each view's whole backing buffer
 * (often Buffer's 8 KiB pool) and cost a structured clone per field; one transferred buffer costs neither.
 */
export function packTasks(tasks: readonly VerifyTask[]): ArrayBuffer {
  let size = 0;
  for (const t of tasks) size += 12 + t.spki.byteLength + t.message.byteLength + t.signature.byteLength;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const t of tasks) {
    view.setUint32(at, t.spki.byteLength);
    view.setUint32(at + 4, t.message.byteLength);
    view.setUint32(at + 8, t.signature.byteLength);
    at += 12;
    for (const part of [t.spki, t.message, t.signature]) {
      out.set(part, at);
      at += part.byteLength;
    }
  }
  return out.buffer;
}

/** @internal The tasks of a packed batch, as views into it. */
export function unpackTasks(buffer: ArrayBuffer): VerifyTask[] {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  const tasks: VerifyTask[] = [];
  for (let at = 0; at < bytes.byteLength; ) {
    const [a, b, c] = [view.getUint32(at), view.getUint32(at + 4), view.getUint32(at + 8)];
    at += 12;
    const spki = bytes.subarray(at, (at += a));
    const message = bytes.subarray(at, (at += b));
    const signature = bytes.subarray(at, (at += c));
    tasks.push({ spki, message, signature });
  }
  return tasks;
}

interface Pending {
  key: KeyObject;
  task: VerifyTask;
  resolve: (valid: boolean) => void;
  reject: (error: unknown) => void;
}

class VerifyThread {
  /** Batches sent and not answered, oldest first (the worker answers in order). */
  readonly batches: Pending[][] = [];
  tasks = 0;
  constructor(readonly worker: Worker) {}
}

export interface VerifyPoolOptions {
  /** Worker threads; default os.availableParallelism(). */
  threads?: number;
  /**
   * A lone verification asked for this long after the previous one, with every thread idle, is done on the calling
   * thread; default 5 ms, 0 never. At a light load a trip to a thread and back (two wake-ups, each about the cost
   * of a verification on a virtual machine) adds more latency than the verification blocks the event loop; under
   * load, verifications arrive closer together and all go to the threads.
   */
  quietGapMs?: number;
}

/**
 * Threads per gateway process when the operator names no number.
 *
 * With the embedded database, which runs on the main thread, the main thread bounds the peak: each process's main
 * thread keeps a core, and the cores left are shared among the processes, at least one thread each. On the two-core
 * reference machine a second thread there lowered the PGlite peak (1,373 and 1,244 req/s against 1,619 and 1,268).
 *
 * With a PostgreSQL server the main thread waits on the database for part of every request, and requests come in
 * convoys: the answers one access-log commit releases together come back together as the callers' next requests.
 * One thread verifies a convoy's signatures one after another while the main thread has nothing to do (at the gRPC
 * peak, a signature waited 7.3 ms at the median with its main thread 50 % idle); split over every core, the convoy is
 * verified in a fraction of that time. Each process then gets the cores shared among the processes, at least one.
 */
export function defaultVerifyThreads(cores: number, processes: number, database: DatabaseKind): number {
  const shared = database === 'pglite' ? cores - processes : cores;
  return Math.max(1, Math.floor(shared / processes));
}

/** Tasks in one turn from which they are split over the threads. */
const SPLIT_FROM = 8;

/** The SPKI DER of each public key, made once. */
const spkiOf = new WeakMap<KeyObject, Uint8Array>();

export class Sm2VerifyPool {
  readonly threads: number;
  readonly #threads: VerifyThread[] = [];
  #queue: Pending[] = [];
  #flushScheduled = false;
  #closed = false;
  readonly #quietGapMs: number;
  #lastFlush = Number.NEGATIVE_INFINITY;
  #inline = 0;
  #batches = 0;

  /** Starts the pool and resolves once every worker is up, so a broken set-up fails at start-up. */
  static async start(options: VerifyPoolOptions = {}): Promise<Sm2VerifyPool> {
    const pool = new Sm2VerifyPool(options.threads ?? availableParallelism(), options.quietGapMs ?? 5);
    await Promise.all(pool.#threads.map((t) => new Promise<void>((resolve, reject) => {
      t.worker.once('online', () => resolve());
      t.worker.once('error', reject);
    })));
    return pool;
  }

  private constructor(threads: number, quietGapMs: number) {
    if (!Number.isInteger(threads) || threads < 1) throw new ZtError('ZT_ERR_CONFIG_INVALID', `a verification pool needs at least one thread, not ${threads}`);
    if (!Number.isFinite(quietGapMs) || quietGapMs < 0) throw new ZtError('ZT_ERR_CONFIG_INVALID', `the quiet gap is a non-negative number of milliseconds, not ${quietGapMs}`);
    this.threads = threads;
    this.#quietGapMs = quietGapMs;
    for (let i = 0; i < threads; i++) this.#spawn(i);
  }

  /**
   * Whether `signature` (DER) is a valid SM2 signature of `message` under `publicKey`, with the default user ID: the
   * same answer as sm2Verify, ZT_ERR_SIGNATURE_MALFORMED for a signature that is not one, checked here at once.
   */
  verify(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (this.#closed) return Promise.reject(new ZtError('ZT_ERR_SHUTTING_DOWN', 'the verification pool is closed'));
    try {
      assertSignatureShape(signature);
    } catch (error) {
      return Promise.reject(error);
    }
    let spki = spkiOf.get(publicKey);
    if (!spki) {
      spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
      spkiOf.set(publicKey, spki);
    }
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ key: publicKey, task: { spki, message, signature }, resolve, reject });
      if (!this.#flushScheduled) {
        // At the end of the loop's turn, not of this task's microtasks: at the peak each request arrives in an I/O
        // callback of its own, and a flush per callback sent one verification per message (7,022 messages for 7,022
        // verifications in an exchange bench; 1,548 for 8,637 now).
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  /** Verifications done on the calling thread because the pool was quiet (quietGapMs). */
  get inline(): number {
    return this.#inline;
  }

  /** Batches posted to the threads: each costs a message and a thread's wake-up, whatever its size. */
  get batches(): number {
    return this.#batches;
  }

  /** Answers what was asked, then stops the threads. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#queue.length > 0 || this.#threads.some((t) => t.batches.length > 0)) await new Promise((r) => setTimeout(r, 5));
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }

  /**
   * Hands what was asked in this turn to the least busy thread, or splits it over the threads when there is enough
   * for each: waking a thread costs about as much as a verification on a virtual machine, so a few tasks are not
   * worth two wake-ups.
   */
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    const now = performance.now();
    const quiet = now - this.#lastFlush >= this.#quietGapMs;
    this.#lastFlush = now;
    if (this.#quietGapMs > 0 && quiet && queue.length === 1 && this.#threads.every((t) => t.tasks === 0)) {
      const p = queue[0]!;
      this.#inline++;
      // After this turn's ticks and I/O, not in its microtasks: what the caller started meanwhile (a database read
      // sent while the signature is checked, transport/signed-call.ts WhileVerifying) leaves before the event loop
      // is blocked, and runs beside the verification instead of after it.
      setImmediate(() => {
        try {
          p.resolve(sm2Verify(p.key, p.task.message, p.task.signature));
        } catch (error) {
          p.reject(new ZtError('ZT_ERR_SIGNATURE_INVALID', `the signature could not be verified: ${String((error as Error)?.message ?? error)}`));
        }
      });
      return;
    }
    const threads = [...this.#threads].sort((a, b) => a.tasks - b.tasks);
    const share = queue.length < SPLIT_FROM ? queue.length : Math.ceil(queue.length / threads.length);
    for (let i = 0, at = 0; at < queue.length; i++, at += share) {
      const batch = queue.slice(at, at + share);
      const thread = threads[i]!;
      if (thread.batches.length === 0) thread.worker.ref();
      thread.batches.push(batch);
      thread.tasks += batch.length;
      const packed = packTasks(batch.map((p) => p.task));
      thread.worker.postMessage(packed, [packed]);
      this.#batches++;
    }
  };

  #spawn(slot: number): void {
    const thread = new VerifyThread(startWorker(import.meta.url, 'verify-worker'));
    this.#threads[slot] = thread;
    thread.worker.unref();
    thread.worker.on('message', (answers: VerifyAnswers) => {
      const batch = thread.batches.shift();
      if (!batch) return;
      thread.tasks -= batch.length;
      if (thread.batches.length === 0) thread.worker.unref();
      batch.forEach((p, i) => {
        const error = answers.errors[i];
        if (error === undefined) p.resolve(answers.valid[i] === 1);
        else p.reject(new ZtError('ZT_ERR_SIGNATURE_INVALID', `the signature could not be verified: ${error}`));
      });
    });
    const fail = (cause: unknown) => {
      for (let batch = thread.batches.shift(); batch; batch = thread.batches.shift()) {
        thread.tasks -= batch.length;
        for (const p of batch) p.reject(new ZtError('ZT_ERR_INTERNAL', 'a verification thread stopped before answering', { cause }));
      }
    };
    thread.worker.on('error', fail);
    thread.worker.on('exit', (code) => {
      fail(new Error(`verification thread exited with code ${code}`));
      if (!this.#closed && this.#threads[slot] === thread) this.#spawn(slot);
    });
  }
}
