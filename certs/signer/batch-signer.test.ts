// BatchSigner: how batches form (with a signer whose signatures finish only when the test says so), the real
// worker pool under 1, 16 and 300 concurrent callers, and verifyBatchSignature against tampering.
import { setImmediate as tick } from 'node:timers/promises';
import smCrypto from 'sm-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import { generateSm2KeyPair, publicPoint, type Sm2KeyPair } from '../sm2/sm2.js';
import { BatchSigner, encodeTreeHead, TREE_HEAD_SIZE, verifyBatchSignature, type BatchSignature } from './batch-signer.js';
import { InProcessSm2Signer, LocalSm2Signer } from './local-sm2-signer.js';
import { leafHash, merkleRoot } from './merkle.js';
import type { Signer } from './signer.js';

const { sm2: smSm2 } = smCrypto as unknown as {
  sm2: { doVerifySignature(msg: number[], sigHex: string, publicKeyHex: string, options: { hash: boolean; der: boolean }): boolean };
};

/** Signs for real, but each signature completes only when release() is called: the test drives the timing. */
class GatedSigner implements Signer {
  readonly algorithm = 'SM2-SM3' as const;
  readonly userId: string;
  readonly publicKey;
  readonly concurrency: number;
  readonly heads: Buffer[] = [];
  readonly #inner: InProcessSm2Signer;
  readonly #gates: (() => void)[] = [];
  failNext = false;

  constructor(keys: Sm2KeyPair, concurrency: number) {
    this.#inner = new InProcessSm2Signer({ privateKey: keys.privateKey });
    this.userId = this.#inner.userId;
    this.publicKey = this.#inner.publicKey;
    this.concurrency = concurrency;
  }
  sign(message: Uint8Array): Promise<Buffer> {
    this.heads.push(Buffer.from(message));
    const fail = this.failNext;
    this.failNext = false;
    return new Promise((resolve, reject) => this.#gates.push(() => (fail ? reject(new Error('HSM unplugged')) : resolve(this.#inner.sign(message)))));
  }
  /** Completes the oldest signature in progress and lets the batch signer react. */
  async release(): Promise<void> {
    this.#gates.shift()!();
    await tick();
  }
  get inProgress(): number {
    return this.#gates.length;
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}

const sizeOf = (head: Buffer) => head.readUInt32BE(TREE_HEAD_SIZE - 8 - 32 - 4);
const payload = (i: number) => Buffer.from(`payload ${i}`);
const codeOf = (fn: () => void): string => {
  try {
    fn();
    return 'verified';
  } catch (error) {
    return isZtError(error) ? error.code : String(error);
  }
};

describe('BatchSigner: batches close when the signer becomes free', () => {
  const keys = generateSm2KeyPair();

  it('signs a lone payload at once in a tree of one; what arrives meanwhile is the next batch', async () => {
    const signer = new GatedSigner(keys, 1);
    const batch = new BatchSigner(signer);
    const first = batch.sign(payload(0));
    await tick();
    expect(signer.heads.map(sizeOf)).toEqual([1]);
    const next = [1, 2, 3, 4, 5].map((i) => batch.sign(payload(i)));
    await tick();
    expect(signer.heads).toHaveLength(1); // the signer is busy: they wait
    await signer.release();
    const lone = await first;
    expect(lone).toMatchObject({ treeSize: 1, leafIndex: 0, proof: [] });
    expect(lone.root).toEqual(leafHash(payload(0)));
    verifyBatchSignature(keys.publicKey, payload(0), lone);
    expect(signer.heads.map(sizeOf)).toEqual([1, 5]);
    await signer.release();
    const results = await Promise.all(next);
    results.forEach((r, i) => {
      expect(r).toMatchObject({ treeSize: 5, leafIndex: i });
      verifyBatchSignature(keys.publicKey, payload(i + 1), r);
    });
    expect(results[0]!.root).toEqual(merkleRoot([1, 2, 3, 4, 5].map((i) => leafHash(payload(i)))));
    expect(batch.stats()).toEqual({ batches: 2, payloads: 6, largestBatch: 5 });
  });

  it('payloads submitted in the same turn share one batch', async () => {
    const signer = new GatedSigner(keys, 4);
    const batch = new BatchSigner(signer);
    const pending = Array.from({ length: 16 }, (_, i) => batch.sign(payload(i)));
    await tick();
    expect(signer.heads.map(sizeOf)).toEqual([16]);
    await signer.release();
    expect((await Promise.all(pending)).map((r) => r.leafIndex)).toEqual([...Array(16).keys()]);
  });

  it('keeps as many batches in flight as the signer has threads, no more', async () => {
    const signer = new GatedSigner(keys, 2);
    const batch = new BatchSigner(signer);
    const a = batch.sign(payload(0));
    await tick();
    const b = batch.sign(payload(1));
    await tick();
    expect(signer.inProgress).toBe(2);
    const queued = [2, 3, 4].map((i) => batch.sign(payload(i)));
    await tick();
    expect(signer.heads.map(sizeOf)).toEqual([1, 1]);
    await signer.release();
    expect(signer.heads.map(sizeOf)).toEqual([1, 1, 3]);
    await signer.release();
    await signer.release();
    await Promise.all([a, b, ...queued]);
  });

  it('never exceeds the batch size cap: the rest waits for the next free signer', async () => {
    const signer = new GatedSigner(keys, 1);
    const batch = new BatchSigner(signer, { maxBatchSize: 3 });
    const first = batch.sign(payload(0));
    await tick();
    const rest = Array.from({ length: 10 }, (_, i) => batch.sign(payload(i + 1)));
    for (let i = 0; i < 5; i++) await signer.release();
    expect(signer.heads.map(sizeOf)).toEqual([1, 3, 3, 3, 1]);
    const results = await Promise.all([first, ...rest]);
    expect(results.map((r) => r.treeSize)).toEqual([1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1]);
    expect(batch.stats().largestBatch).toBe(3);
  });

  it('a failed signature fails every payload of its batch, and only those', async () => {
    const signer = new GatedSigner(keys, 1);
    const batch = new BatchSigner(signer);
    signer.failNext = true;
    const failing = batch.sign(payload(0)).then(() => 'signed', (e: Error) => e.message);
    await tick();
    const later = batch.sign(payload(1));
    await signer.release();
    expect(await failing).toBe('HSM unplugged');
    await signer.release();
    verifyBatchSignature(keys.publicKey, payload(1), await later);
  });

  it('close() signs what is queued, then refuses new payloads', async () => {
    const signer = new GatedSigner(keys, 1);
    const batch = new BatchSigner(signer);
    const pending = [0, 1, 2].map((i) => batch.sign(payload(i)));
    await tick();
    let closed = false;
    const closing = batch.close().then(() => (closed = true));
    await expect(batch.sign(payload(9))).rejects.toMatchObject({ code: 'ZT_ERR_SHUTTING_DOWN' });
    expect(closed).toBe(false);
    await signer.release();
    await closing;
    expect(closed).toBe(true);
    expect(await Promise.all(pending)).toHaveLength(3);
  });

  it('with a least interval, signs a lone payload at once, then lets the next batch grow until the interval has passed', async () => {
    const signer = new GatedSigner(keys, 4);
    const batch = new BatchSigner(signer, { minIntervalMs: 40 });
    const first = batch.sign(payload(0));
    await tick();
    expect(signer.inProgress).toBe(1); // at once: nothing was signed before
    await signer.release();
    await first;
    // Within the interval, even with threads free, payloads wait and form one batch.
    const more = [1, 2, 3, 4, 5].map((i) => batch.sign(payload(i)));
    await tick();
    expect(signer.inProgress).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(signer.inProgress).toBe(1);
    expect(sizeOf(signer.heads[1]!)).toBe(5);
    await signer.release();
    expect((await Promise.all(more)).map((r) => r.treeSize)).toEqual([5, 5, 5, 5, 5]);
    expect(() => new BatchSigner(signer, { minIntervalMs: -1 })).toThrow(expect.objectContaining({ code: 'ZT_ERR_CONFIG_INVALID' }));
  });

  it('with a full batch, starts a queue that long at once inside the interval, and leaves a shorter one to the interval', async () => {
    const signer = new GatedSigner(keys, 4);
    const batch = new BatchSigner(signer, { minIntervalMs: 300, fullBatch: 3 });
    const first = batch.sign(payload(0));
    await tick();
    await signer.release();
    await first;
    // Inside the interval: two payloads wait...
    const waiting = [1, 2].map((i) => batch.sign(payload(i)));
    await tick();
    expect(signer.inProgress).toBe(0);
    // ...and the third makes the batch full: it starts at once, without waiting for the interval.
    const third = batch.sign(payload(3));
    await tick();
    expect(signer.inProgress).toBe(1);
    expect(sizeOf(signer.heads[1]!)).toBe(3);
    await signer.release();
    expect((await Promise.all([...waiting, third])).map((r) => r.treeSize)).toEqual([3, 3, 3]);
    // A shorter queue afterwards waits for the interval again.
    const lone = batch.sign(payload(4));
    await tick();
    expect(signer.inProgress).toBe(0);
    await new Promise((r) => setTimeout(r, 350));
    expect(signer.inProgress).toBe(1);
    await signer.release();
    expect((await lone).treeSize).toBe(1);
    expect(() => new BatchSigner(signer, { fullBatch: -1 })).toThrow(expect.objectContaining({ code: 'ZT_ERR_CONFIG_INVALID' }));
    expect(() => new BatchSigner(signer, { fullBatch: 1.5 })).toThrow(expect.objectContaining({ code: 'ZT_ERR_CONFIG_INVALID' }));
  });

  it('refuses a cap or a number of batches in flight that makes no sense', () => {
    const signer = new GatedSigner(keys, 1);
    expect(() => new BatchSigner(signer, { maxBatchSize: 0 })).toThrow(expect.objectContaining({ code: 'ZT_ERR_CONFIG_INVALID' }));
    expect(() => new BatchSigner(signer, { maxInFlight: 0.5 })).toThrow(expect.objectContaining({ code: 'ZT_ERR_CONFIG_INVALID' }));
  });
});

describe('BatchSigner on the worker pool', () => {
  const keys = generateSm2KeyPair();
  let signer: LocalSm2Signer;
  beforeAll(async () => {
    signer = await LocalSm2Signer.start({ privateKey: keys.privateKey });
  });
  afterAll(() => signer.close());

  const signAll = async (batch: BatchSigner, count: number) => {
    const payloads = Array.from({ length: count }, (_, i) => Buffer.from(`concurrent payload ${i} of ${count}`));
    const results = await Promise.all(payloads.map((p) => batch.sign(p)));
    results.forEach((r, i) => verifyBatchSignature(keys.publicKey, payloads[i]!, r));
    return results;
  };
  const distinctBatches = (results: BatchSignature[]) => new Set(results.map((r) => r.signature.toString('hex'))).size;

  it('1 caller: a tree of one, signed at once', async () => {
    const [r] = await signAll(new BatchSigner(signer), 1);
    expect(r).toMatchObject({ treeSize: 1, leafIndex: 0, proof: [] });
  });

  it('16 concurrent callers: batches of more than one form, and every result verifies', async () => {
    const batch = new BatchSigner(signer);
    const results = await signAll(batch, 16);
    expect(Math.max(...results.map((r) => r.treeSize))).toBeGreaterThan(1);
    expect(distinctBatches(results)).toBeLessThan(16);
    expect(batch.stats().payloads).toBe(16);
  });

  it('300 concurrent callers with a cap of 64: several batches, none above the cap, every index once', async () => {
    const batch = new BatchSigner(signer, { maxBatchSize: 64 });
    const results = await signAll(batch, 300);
    expect(Math.max(...results.map((r) => r.treeSize))).toBe(64);
    expect(distinctBatches(results)).toBeGreaterThanOrEqual(5);
    const bySignature = new Map<string, number[]>();
    for (const r of results) bySignature.set(r.signature.toString('hex'), [...(bySignature.get(r.signature.toString('hex')) ?? []), r.leafIndex]);
    for (const [sig, indices] of bySignature) {
      const size = results.find((r) => r.signature.toString('hex') === sig)!.treeSize;
      expect(indices.sort((a, b) => a - b)).toEqual([...Array(size).keys()]);
    }
    expect(batch.stats()).toMatchObject({ payloads: 300, largestBatch: 64 });
  });

  it('callers arriving while signatures are in progress are batched too', async () => {
    const batch = new BatchSigner(signer);
    const payloads: Buffer[] = [];
    const pending: Promise<BatchSignature>[] = [];
    for (let i = 0; i < 200; i++) {
      payloads.push(Buffer.from(`staggered ${i}`));
      pending.push(batch.sign(payloads[i]!));
      if (i % 10 === 9) await tick();
    }
    const results = await Promise.all(pending);
    results.forEach((r, i) => verifyBatchSignature(keys.publicKey, payloads[i]!, r));
    expect(batch.stats().batches).toBeLessThan(200);
  });

  it('the head signature is standard SM2: sm-crypto verifies it over the encoded tree head', async () => {
    const [r] = await signAll(new BatchSigner(signer), 3);
    const head = encodeTreeHead(r!.treeSize, r!.root, r!.signedAt.getTime());
    expect(head.subarray(0, 18).toString('ascii')).toBe('zhengtong-batch-v1');
    expect(head).toHaveLength(62);
    const xy = publicPoint(keys.publicKey).toString('hex');
    expect(smSm2.doVerifySignature([...head], r!.signature.toString('hex'), `04${xy}`, { hash: true, der: true })).toBe(true);
  });
});

describe('verifyBatchSignature rejects tampering with the right code', () => {
  const keys = generateSm2KeyPair();
  const payloads = Array.from({ length: 7 }, (_, i) => payload(i));
  let results: BatchSignature[];
  beforeAll(async () => {
    const batch = new BatchSigner(new InProcessSm2Signer({ privateKey: keys.privateKey }));
    results = await Promise.all(payloads.map((p) => batch.sign(p)));
    expect(results[0]!.treeSize).toBe(7);
  });
  const check = (i: number, change: Partial<BatchSignature>, p: Buffer = payloads[i]!) => codeOf(() => verifyBatchSignature(keys.publicKey, p, { ...results[i]!, ...change }));

  it('the untouched results verify', () => {
    for (let i = 0; i < 7; i++) expect(check(i, {})).toBe('verified');
  });

  it('ZT_ERR_PROOF_INVALID: another payload, a truncated or extended path, a tampered node, another index or root', () => {
    const r = results[2]!;
    expect(check(2, {}, Buffer.from('payload 2!'))).toBe('ZT_ERR_PROOF_INVALID');
    expect(check(2, { proof: r.proof.slice(0, -1) })).toBe('ZT_ERR_PROOF_INVALID');
    expect(check(2, { proof: [] })).toBe('ZT_ERR_PROOF_INVALID');
    expect(check(2, { proof: [...r.proof, r.root] })).toBe('ZT_ERR_PROOF_INVALID');
    const tampered = r.proof.map((p) => Buffer.from(p));
    tampered[1]![0]! ^= 1;
    expect(check(2, { proof: tampered })).toBe('ZT_ERR_PROOF_INVALID');
    expect(check(2, { proof: [r.proof[0]!, r.proof[1]!.subarray(1), r.proof[2]!] })).toBe('ZT_ERR_PROOF_INVALID');
    expect(check(2, { leafIndex: 3 })).toBe('ZT_ERR_PROOF_INVALID');
    expect(check(2, { leafIndex: 7 })).toBe('ZT_ERR_PROOF_INVALID');
    expect(check(2, { leafIndex: -1 })).toBe('ZT_ERR_PROOF_INVALID');
    expect(check(2, { treeSize: 0 })).toBe('ZT_ERR_PROOF_INVALID');
    expect(check(6, { treeSize: 8 })).toBe('ZT_ERR_PROOF_INVALID'); // leaf 6 of 8 would need a sibling
    expect(check(2, { root: results[2]!.proof[0]! })).toBe('ZT_ERR_PROOF_INVALID');
    expect(check(2, { proof: results[3]!.proof })).toBe('ZT_ERR_PROOF_INVALID');
  });

  it('ZT_ERR_SIGNATURE_INVALID: another key, signing time, tree size the path happens to fit, or signature', async () => {
    const other = generateSm2KeyPair();
    expect(codeOf(() => verifyBatchSignature(other.publicKey, payloads[0]!, results[0]!))).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(check(0, { signedAt: new Date(results[0]!.signedAt.getTime() + 1) })).toBe('ZT_ERR_SIGNATURE_INVALID');
    // Leaf 0 of 7 and leaf 0 of 8 have paths of the same shape: only the signed size tells them apart.
    expect(check(0, { treeSize: 8 })).toBe('ZT_ERR_SIGNATURE_INVALID');
    const elsewhere = await new BatchSigner(new InProcessSm2Signer({ privateKey: keys.privateKey })).sign(payloads[0]!);
    expect(check(0, { signature: elsewhere.signature })).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(codeOf(() => verifyBatchSignature(keys.publicKey, payloads[0]!, results[0]!, { userId: 'someone else' }))).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(check(0, { signature: Buffer.from('not DER at all') })).toBe('ZT_ERR_SIGNATURE_MALFORMED');
  });
});
