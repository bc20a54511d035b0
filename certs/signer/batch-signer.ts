// Batch signing: many payloads, one SM2 signature. Each payload becomes a leaf of an SM3 Merkle tree (merkle.ts);
// the signer signs the tree head once, and each caller gets the head signature with its own audit path. SM2
// signing costs ~0.3 ms of CPU; hashing a leaf and its share of the tree costs microseconds, so under load the
// throughput is bounded by hashing, not by signatures.
//
// Batches form without timers: while the signer is busy, payloads queue; when a signature finishes, everything
// queued (up to maxBatchSize) becomes the next batch. A lone payload is signed at once in a tree of one, and with a
// pool of N signing threads up to N batches are in flight.
import type { KeyObject } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';
import { sm2Verify } from '../sm2/sm2.js';
import { auditPath, HASH_SIZE, leafHash, MAX_TREE_SIZE, merkleLevels, rootFromInclusionProof } from './merkle.js';
import type { Signer } from './signer.js';

/** What one caller of BatchSigner.sign gets. `signature`, `root` and `signedAt` are shared by the whole batch. */
export interface BatchSignature {
  /** SM2 signature (DER) over encodeTreeHead(treeSize, root, signedAt). */
  signature: Buffer;
  treeSize: number;
  leafIndex: number;
  /** Audit path from the payload's leaf to the root, nearest sibling first; empty in a tree of one. */
  proof: Buffer[];
  /** Milliseconds precision: the signed head carries milliseconds since the Unix epoch. */
  signedAt: Date;
  root: Buffer;
}

export const TREE_HEAD_LABEL = 'zhengtong-batch-v1';
const TREE_HEAD_LABEL_BYTES = Buffer.from(TREE_HEAD_LABEL, 'ascii');
export const TREE_HEAD_SIZE = TREE_HEAD_LABEL_BYTES.length + 4 + HASH_SIZE + 8;

/**
 * The bytes an SM2 batch signature covers: 'zhengtong-batch-v1' (ASCII) ‖ tree size (u32, big-endian) ‖ root
 * (32 bytes) ‖ signing time in milliseconds since the Unix epoch (u64, big-endian). Fixed length, so unambiguous.
 */
export function encodeTreeHead(treeSize: number, root: Uint8Array, signedAtMs: number): Buffer {
  if (!Number.isInteger(treeSize) || treeSize < 1 || treeSize > MAX_TREE_SIZE) throw new RangeError(`tree size ${treeSize} is not in [1, 2^32-1]`);
  if (root.length !== HASH_SIZE) throw new RangeError('a tree root is 32 bytes');
  if (!Number.isSafeInteger(signedAtMs) || signedAtMs < 0) throw new RangeError(`signing time ${signedAtMs} is not a non-negative integer of milliseconds`);
  const head = Buffer.allocUnsafe(TREE_HEAD_SIZE);
  let at = TREE_HEAD_LABEL_BYTES.copy(head, 0);
  at = head.writeUInt32BE(treeSize, at);
  at += Buffer.from(root.buffer, root.byteOffset, root.byteLength).copy(head, at);
  head.writeBigUInt64BE(BigInt(signedAtMs), at);
  return head;
}

export interface BatchSignerOptions {
  /** Most payloads under one signature; default 4096 (an audit path of at most 12 hashes). */
  maxBatchSize?: number;
  /** Batches being signed at once; default the signer's concurrency (its worker threads). */
  maxInFlight?: number;
  /**
   * Least time between the starts of two batches; default 0. Without it a busy signer signs as fast as it can, and
   * under load that is many batches of one or two payloads, each an SM2 signature burning CPU that requests need.
   * With it, batches grow with the load and signatures cost at most 1000 / minIntervalMs per second; a payload waits
   * at most this long more: a payload arriving when the last batch started longer ago than this is signed at once, so
   * a client asking one answer at a time gets one about every minIntervalMs.
   */
  minIntervalMs?: number;
  /**
   * A queue this long starts its batch at once, inside the interval (when a thread is free); default 0: the interval
   * alone paces. Under a load of many requests in flight, the interval otherwise sets the pace of every answer: a
   * client waits for the next batch however many answers are queued with it. With it, a batch that already shares
   * one signature among this many answers is not held back, and a signature still costs at most 1/fullBatch of one
   * per answer.
   */
  fullBatch?: number;
  /** Clock in milliseconds since the epoch; for tests. */
  now?: () => number;
}

export interface BatchSignerStats {
  batches: number;
  payloads: number;
  largestBatch: number;
}

/** A payload waiting for its batch; every field set here so the shape never changes. */
class Waiting {
  constructor(
    readonly leaf: Buffer,
    readonly resolve: (result: BatchSignature) => void,
    readonly reject: (error: unknown) => void,
  ) {}
}

export class BatchSigner {
  readonly signer: Signer;
  readonly maxBatchSize: number;
  readonly maxInFlight: number;
  readonly #now: () => number;
  #queue: Waiting[] = [];
  #inFlight = 0;
  #flushScheduled = false;
  #closing = false;
  readonly #minIntervalMs: number;
  readonly #fullBatch: number;
  #lastStart = Number.NEGATIVE_INFINITY;
  #paceTimer: NodeJS.Timeout | null = null;
  #idle: (() => void) | undefined;
  #batches = 0;
  #payloads = 0;
  #largestBatch = 0;

  constructor(signer: Signer, options: BatchSignerOptions = {}) {
    this.signer = signer;
    this.maxBatchSize = options.maxBatchSize ?? 4096;
    this.maxInFlight = options.maxInFlight ?? signer.concurrency;
    if (!Number.isInteger(this.maxBatchSize) || this.maxBatchSize < 1 || this.maxBatchSize > MAX_TREE_SIZE) {
      throw new ZtError('ZT_ERR_CONFIG_INVALID', `the batch size cap must be an integer in [1, 2^32-1], not ${this.maxBatchSize}`);
    }
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) {
      throw new ZtError('ZT_ERR_CONFIG_INVALID', `batches in flight must be a positive integer, not ${this.maxInFlight}`);
    }
    this.#now = options.now ?? Date.now;
    this.#minIntervalMs = options.minIntervalMs ?? 0;
    if (!Number.isFinite(this.#minIntervalMs) || this.#minIntervalMs < 0) {
      throw new ZtError('ZT_ERR_CONFIG_INVALID', `the least interval between batches must be a non-negative number of milliseconds, not ${this.#minIntervalMs}`);
    }
    this.#fullBatch = options.fullBatch ?? 0;
    if (!Number.isInteger(this.#fullBatch) || this.#fullBatch < 0) {
      throw new ZtError('ZT_ERR_CONFIG_INVALID', `a full batch is a non-negative whole number of payloads, not ${this.#fullBatch}`);
    }
  }

  /** Signs `payload` in the next batch; resolves with the batch signature and the payload's audit path. */
  sign(payload: Uint8Array): Promise<BatchSignature> {
    if (this.#closing) return Promise.reject(new ZtError('ZT_ERR_SHUTTING_DOWN', 'the batch signer is closed'));
    // Hashed here, on the caller's turn, so closing a batch only combines 32-byte hashes.
    const leaf = leafHash(payload);
    return new Promise<BatchSignature>((resolve, reject) => {
      this.#queue.push(new Waiting(leaf, resolve, reject));
      // A microtask, not a timer: payloads submitted in the same turn share a batch, and nothing waits longer.
      if (this.#paceTimer && this.#fullBatch > 0 && this.#queue.length >= this.#fullBatch && this.#inFlight < this.maxInFlight) {
        clearTimeout(this.#paceTimer);
        this.#paceTimer = null;
      }
      if (!this.#flushScheduled && !this.#paceTimer && this.#inFlight < this.maxInFlight) {
        this.#flushScheduled = true;
        queueMicrotask(this.#flush);
      }
    });
  }

  stats(): BatchSignerStats {
    return { batches: this.#batches, payloads: this.#payloads, largestBatch: this.#largestBatch };
  }

  /** Refuses new payloads and resolves once every queued one is signed. The underlying signer stays open. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#inFlight > 0 || this.#queue.length > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#paceTimer) return;
    while (this.#queue.length > 0 && this.#inFlight < this.maxInFlight) {
      if (this.#minIntervalMs > 0) {
        const wait = this.#lastStart + this.#minIntervalMs - performance.now();
        if (wait > 0 && (this.#fullBatch === 0 || this.#queue.length < this.#fullBatch)) {
          this.#paceTimer = setTimeout(() => {
            this.#paceTimer = null;
            this.#flush();
          }, wait);
          return;
        }
        this.#lastStart = performance.now();
      }
      let batch = this.#queue;
      if (batch.length <= this.maxBatchSize) this.#queue = [];
      else batch = batch.splice(0, this.maxBatchSize);
      this.#inFlight++;
      void this.#signBatch(batch);
    }
  };

  async #signBatch(batch: Waiting[]): Promise<void> {
    try {
      const levels = merkleLevels(batch.map((w) => w.leaf));
      const root = levels[levels.length - 1]![0]!;
      const signedAtMs = this.#now();
      const signature = await this.signer.sign(encodeTreeHead(batch.length, root, signedAtMs));
      const signedAt = new Date(signedAtMs);
      this.#batches++;
      this.#payloads += batch.length;
      if (batch.length > this.#largestBatch) this.#largestBatch = batch.length;
      for (let i = 0; i < batch.length; i++) {
        batch[i]!.resolve({ signature, treeSize: batch.length, leafIndex: i, proof: auditPath(levels, i), signedAt, root });
      }
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      this.#inFlight--;
      if (this.#queue.length > 0) this.#flush();
      else if (this.#inFlight === 0 && this.#idle) {
        this.#idle();
        this.#idle = undefined;
      }
    }
  }
}

export interface VerifyBatchOptions {
  /** The signer's SM2 user ID; default 1234567812345678. */
  userId?: string;
}

/**
 * Checks that `payload` is leaf `leafIndex` of the signed tree: the audit path must fit (index, size) and lead to
 * `root` (else ZT_ERR_PROOF_INVALID), and the head signature must verify under `publicKey` (else
 * ZT_ERR_SIGNATURE_INVALID; ZT_ERR_SIGNATURE_MALFORMED when it is not a DER SM2 signature).
 */
export function verifyBatchSignature(publicKey: KeyObject, payload: Uint8Array, result: BatchSignature, options: VerifyBatchOptions = {}): void {
  verifyBatchLeaf(publicKey, leafHash(payload), result, options);
}

/** verifyBatchSignature for a payload already hashed to its leaf hash, SM3(0x00 ‖ payload). */
export function verifyBatchLeaf(publicKey: KeyObject, leaf: Uint8Array, result: BatchSignature, options: VerifyBatchOptions = {}): void {
  const { treeSize, leafIndex, proof, root } = result;
  if (!Array.isArray(proof) || !(root instanceof Uint8Array)) throw new ZtError('ZT_ERR_PROOF_INVALID', 'the batch proof lacks its audit path or root');
  const computed = rootFromInclusionProof(leaf, leafIndex, treeSize, proof);
  if (!computed) {
    throw new ZtError('ZT_ERR_PROOF_INVALID', `the audit path does not fit leaf ${leafIndex} of a tree of ${treeSize} (${proof.length} hashes)`);
  }
  if (!computed.equals(root)) throw new ZtError('ZT_ERR_PROOF_INVALID', 'the audit path does not lead to the signed root');
  const signedAtMs = result.signedAt instanceof Date ? result.signedAt.getTime() : Number.NaN;
  if (!Number.isSafeInteger(signedAtMs) || signedAtMs < 0) throw new ZtError('ZT_ERR_SIGNATURE_INVALID', 'the signing time is not a valid instant');
  const head = encodeTreeHead(treeSize, computed, signedAtMs);
  if (!sm2Verify(publicKey, head, result.signature, options.userId === undefined ? {} : { userId: options.userId })) {
    throw new ZtError('ZT_ERR_SIGNATURE_INVALID', 'the batch signature does not verify against the tree head');
  }
}
