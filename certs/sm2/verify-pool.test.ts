import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSm2KeyPair, sm2Sign, sm2Verify } from './sm2.js';
import { defaultVerifyThreads, Sm2VerifyPool } from './verify-pool.js';

describe('Sm2VerifyPool', () => {
  let pool: Sm2VerifyPool;
  beforeAll(async () => {
    pool = await Sm2VerifyPool.start({ threads: 2 });
  });
  afterAll(() => pool.close());

  it('answers as sm2Verify does, for many keys and signatures asked at once', async () => {
    const keys = Array.from({ length: 5 }, () => generateSm2KeyPair());
    const cases = Array.from({ length: 200 }, (_, i) => {
      const { privateKey, publicKey } = keys[i % keys.length]!;
      const message = randomBytes(64 + (i % 7));
      const signature = sm2Sign(privateKey, message);
      // Every third one is checked against another message, every fifth under another key.
      const checked = i % 3 === 0 ? randomBytes(64) : message;
      const key = i % 5 === 0 ? keys[(i + 1) % keys.length]!.publicKey : publicKey;
      return { key, checked, signature };
    });
    const answers = await Promise.all(cases.map((c) => pool.verify(c.key, c.checked, c.signature)));
    expect(answers).toEqual(cases.map((c) => sm2Verify(c.key, c.checked, c.signature)));
    expect(answers.filter(Boolean).length).toBeGreaterThan(50);
    expect(answers.filter((a) => !a).length).toBeGreaterThan(50);
  });

  it('refuses a signature that is not one with ZT_ERR_SIGNATURE_MALFORMED, before any thread sees it', async () => {
    const { publicKey } = generateSm2KeyPair();
    await expect(pool.verify(publicKey, Buffer.from('m'), Buffer.from('not a signature'))).rejects.toMatchObject({ code: 'ZT_ERR_SIGNATURE_MALFORMED' });
  });

  it('verifies a lone request of a quiet pool on the calling thread, and sends requests that come close together to the threads', async () => {
    const quiet = await Sm2VerifyPool.start({ threads: 1, quietGapMs: 50 });
    try {
      const { privateKey, publicKey } = generateSm2KeyPair();
      const message = Buffer.from('one at a time');
      const signature = sm2Sign(privateKey, message);
      await new Promise((r) => setTimeout(r, 60));
      expect(await quiet.verify(publicKey, message, signature)).toBe(true);
      expect(quiet.inline).toBe(1);
      // Within the gap, even alone: the thread.
      expect(await quiet.verify(publicKey, Buffer.from('another'), signature)).toBe(false);
      expect(quiet.inline).toBe(1);
      // Several in one turn: the thread, whatever the gap.
      await new Promise((r) => setTimeout(r, 60));
      expect(await Promise.all([quiet.verify(publicKey, message, signature), quiet.verify(publicKey, message, signature)])).toEqual([true, true]);
      expect(quiet.inline).toBe(1);
      // Alone after a gap again, and wrong: the same answer on the calling thread.
      await new Promise((r) => setTimeout(r, 60));
      expect(await quiet.verify(publicKey, Buffer.from('tampered'), signature)).toBe(false);
      expect(quiet.inline).toBe(2);
    } finally {
      await quiet.close();
    }
    const never = await Sm2VerifyPool.start({ threads: 1, quietGapMs: 0 });
    const { privateKey, publicKey } = generateSm2KeyPair();
    expect(await never.verify(publicKey, Buffer.from('m'), sm2Sign(privateKey, Buffer.from('m')))).toBe(true);
    expect(never.inline).toBe(0);
    await never.close();
    await expect(Sm2VerifyPool.start({ quietGapMs: -1 })).rejects.toMatchObject({ code: 'ZT_ERR_CONFIG_INVALID' });
  });

  it('sends the verifications asked for in separate callbacks of one turn of the event loop as one batch', async () => {
    const { privateKey, publicKey } = generateSm2KeyPair();
    const message = randomBytes(64);
    const signature = sm2Sign(privateKey, message);
    const before = pool.batches;
    // Like requests read from several sockets in one poll phase: each asks from a callback of its own.
    const answers = await new Promise<Promise<boolean>[]>((resolve) => {
      const asked: Promise<boolean>[] = [];
      for (let i = 0; i < 6; i++) {
        setImmediate(() => {
          asked.push(pool.verify(publicKey, message, signature));
          if (asked.length === 6) resolve(asked);
        });
      }
    });
    expect(await Promise.all(answers)).toEqual(Array(6).fill(true));
    expect(pool.batches - before).toBe(1);
  });

  it('refuses work once closed', async () => {
    const closed = await Sm2VerifyPool.start({ threads: 1 });
    const { privateKey, publicKey } = generateSm2KeyPair();
    const signature = sm2Sign(privateKey, Buffer.from('m'));
    const answered = closed.verify(publicKey, Buffer.from('m'), signature);
    await closed.close();
    expect(await answered).toBe(true);
    await expect(closed.verify(publicKey, Buffer.from('m'), signature)).rejects.toMatchObject({ code: 'ZT_ERR_SHUTTING_DOWN' });
  });
});

describe('defaultVerifyThreads', () => {
  // With the embedded database each process's main thread keeps a core and the rest are shared; with a database
  // server every core is shared among the processes. At least one thread each either way.
  it.each([
    [2, 1, 1, 2],
    [8, 1, 7, 8],
    [8, 2, 3, 4],
    [2, 2, 1, 1],
    [1, 1, 1, 1],
    [4, 8, 1, 1],
  ])('%i cores, %i processes: %i threads with the embedded database, %i with a server', (cores, processes, embedded, server) => {
    expect(defaultVerifyThreads(cores, processes, 'pglite')).toBe(embedded);
    expect(defaultVerifyThreads(cores, processes, 'postgres')).toBe(server);
  });
});
