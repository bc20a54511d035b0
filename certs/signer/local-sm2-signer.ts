// Signer adapters that hold the SM2 private key in this process. LocalSm2Signer signs in a pool of worker threads,
// so signing uses every core and never blocks the event loop; InProcessSm2Signer signs on the calling thread (for
// command-line tools and tests, and as the baseline in benchmarks).
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import { ZtError, type ErrorCode, errorCatalogue } from '../../core/errors/index.js';
import { sm2Sign } from '../sm2/sm2.js';
import { startWorker } from '../worker-threads.js';
import type { Signer, SignerCertificate } from './signer.js';
import { loadLocalSignerKey, type LocalSignerKeyOptions } from './signer-key.js';

export interface LocalSm2SignerOptions extends LocalSignerKeyOptions {
  /** Worker threads in the pool; default os.availableParallelism(). */
  workers?: number;
}

/** @internal The messages between LocalSm2Signer and sign-worker. */
export interface SignWorkerData {
  pkcs8: Uint8Array;
  userId: string;
}
/** @internal A request is the message to sign; answers come back in the order requests were sent. */
export type SignRequest = Uint8Array;
/** @internal */
export type SignResponse = { signature: Uint8Array } | { error: { code: string | undefined; message: string } } | { ready: number };

interface Pending {
  resolve: (signature: Buffer) => void;
  reject: (error: unknown) => void;
}

/** One thread of the pool; fields all set here so the shape never changes. */
class PoolThread {
  readonly worker: Worker;
  /** Requests sent and not answered, oldest first (the worker answers in order). */
  readonly pending: Pending[] = [];
  /** The worker's own threadId, as it reported it once its key was loaded; 0 until then. */
  threadId = 0;
  signed = 0;
  constructor(worker: Worker) {
    this.worker = worker;
  }
}

export interface SignerPoolStats {
  threadId: number;
  signed: number;
  inFlight: number;
}

export class LocalSm2Signer implements Signer {
  readonly algorithm = 'SM2-SM3' as const;
  readonly userId: string;
  readonly publicKey: KeyObject;
  readonly certificate?: SignerCertificate;
  readonly concurrency: number;
  readonly #privateKey: KeyObject;
  readonly #threads: PoolThread[] = [];
  #inFlight = 0;
  #closing: Promise<void> | undefined;
  #idle: (() => void) | undefined;
  /** Set when a worker could not start: the pool cannot sign, and says why. */
  #broken: ZtError | undefined;

  /** Starts the pool and resolves once every worker has loaded the key, so a broken set-up fails at start-up. */
  static async start(options: LocalSm2SignerOptions): Promise<LocalSm2Signer> {
    const signer = new LocalSm2Signer(options);
    await signer.#ready;
    return signer;
  }

  readonly #ready: Promise<void>;

  private constructor(options: LocalSm2SignerOptions) {
    const key = loadLocalSignerKey(options);
    const workers = options.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 1) throw new ZtError('ZT_ERR_CONFIG_INVALID', `a signer pool needs at least one worker, not ${workers}`);
    this.userId = key.userId;
    this.publicKey = key.publicKey;
    if (key.certificate) this.certificate = key.certificate;
    this.concurrency = workers;
    this.#privateKey = key.privateKey;
    const ready: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) ready.push(this.#spawn(i));
    this.#ready = Promise.all(ready).then(
      () => undefined,
      async (error: unknown) => {
        await Promise.all(this.#threads.map((t) => t.worker.terminate()));
        throw error;
      },
    );
  }

  sign(message: Uint8Array): Promise<Buffer> {
    if (this.#closing) return Promise.reject(new ZtError('ZT_ERR_SHUTTING_DOWN', 'the signer is closed'));
    if (this.#broken) return Promise.reject(this.#broken);
    // The least busy thread; with equal loads the first, so a lone request always goes to the same warm thread.
    let thread = this.#threads[0]!;
    for (let i = 1; i < this.#threads.length; i++) if (this.#threads[i]!.pending.length < thread.pending.length) thread = this.#threads[i]!;
    return new Promise<Buffer>((resolve, reject) => {
      if (thread.pending.length === 0) thread.worker.ref();
      thread.pending.push({ resolve, reject });
      this.#inFlight++;
      // A view into a larger buffer (Buffer's 8 KiB pool, a slice of a big payload) would be cloned whole.
      thread.worker.postMessage(message.byteLength === message.buffer.byteLength ? message : new Uint8Array(message));
    });
  }

  /** Per thread: its threadId as the worker reported it, signatures made, requests in flight. */
  stats(): SignerPoolStats[] {
    return this.#threads.map((t) => ({ threadId: t.threadId, signed: t.signed, inFlight: t.pending.length }));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#ready.catch(() => undefined);
      if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
      await Promise.all(this.#threads.map((t) => t.worker.terminate()));
    })();
    return this.#closing;
  }

  #spawn(slot: number): Promise<void> {
    const pkcs8 = this.#privateKey.export({ type: 'pkcs8', format: 'der' });
    const worker = startWorker(import.meta.url, 'sign-worker', { workerData: { pkcs8, userId: this.userId } satisfies SignWorkerData });
    pkcs8.fill(0); // the worker got a copy
    const thread = new PoolThread(worker);
    this.#threads[slot] = thread;
    return new Promise<void>((resolveReady, rejectReady) => {
      worker.on('message', (response: SignResponse) => {
        if ('ready' in response) {
          thread.threadId = response.ready;
          if (thread.pending.length === 0) worker.unref();
          resolveReady();
          return;
        }
        const pending = thread.pending.shift();
        if (!pending) return;
        this.#settled(thread);
        if ('signature' in response) {
          thread.signed++;
          pending.resolve(Buffer.from(response.signature.buffer, response.signature.byteOffset, response.signature.byteLength));
        } else {
          const code = response.error.code && response.error.code in errorCatalogue ? (response.error.code as ErrorCode) : 'ZT_ERR_INTERNAL';
          pending.reject(new ZtError(code, response.error.message));
        }
      });
      worker.on('error', (error) => {
        if (thread.threadId === 0) {
          // It never loaded the key (worker file missing, key refused): respawning would fail the same way.
          this.#broken = new ZtError('ZT_ERR_INTERNAL', `a signing worker could not start: ${error.message}`, { cause: error });
          rejectReady(this.#broken);
        }
        this.#fail(thread, error);
      });
      worker.on('exit', (exitCode) => {
        this.#fail(thread, new Error(`signing worker exited with code ${exitCode}`));
        if (!this.#closing && !this.#broken && this.#threads[slot] === thread) void this.#spawn(slot).catch(() => undefined);
      });
    });
  }

  #settled(thread: PoolThread): void {
    if (thread.pending.length === 0) thread.worker.unref();
    if (--this.#inFlight === 0 && this.#idle) {
      this.#idle();
      this.#idle = undefined;
    }
  }

  /** A worker died: whatever it had in hand fails (the caller may retry); a replacement is spawned on exit. */
  #fail(thread: PoolThread, cause: unknown): void {
    for (let pending = thread.pending.shift(); pending; pending = thread.pending.shift()) {
      this.#settled(thread);
      pending.reject(new ZtError('ZT_ERR_INTERNAL', 'the signing worker stopped before answering', { cause }));
    }
  }
}

/** Signs on the calling thread; concurrency 1. */
export class InProcessSm2Signer implements Signer {
  readonly algorithm = 'SM2-SM3' as const;
  readonly userId: string;
  readonly publicKey: KeyObject;
  readonly certificate?: SignerCertificate;
  readonly concurrency = 1;
  readonly #privateKey: KeyObject;
  #closed = false;

  constructor(options: LocalSignerKeyOptions) {
    const key = loadLocalSignerKey(options);
    this.userId = key.userId;
    this.publicKey = key.publicKey;
    if (key.certificate) this.certificate = key.certificate;
    this.#privateKey = key.privateKey;
  }

  async sign(message: Uint8Array): Promise<Buffer> {
    if (this.#closed) throw new ZtError('ZT_ERR_SHUTTING_DOWN', 'the signer is closed');
    return sm2Sign(this.#privateKey, message, { userId: this.userId });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
