// One thread of Sm2VerifyPool: verifies the batches it is sent, in order, with the standard SM2 code of the main
// thread (certs/sm2/sm2.ts), keeping the public keys it has imported (by their SPKI bytes).
import { parentPort } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { loadSm2PublicKey, sm2Verify } from './sm2.js';
import { unpackTasks, type VerifyAnswers } from './verify-pool.js';

const port = parentPort;
if (!port) throw new Error('verify-worker must run as a worker thread');
const keys = new LRUCache<string, KeyObject>({ max: 10_000 });

port.on('message', (packed: ArrayBuffer) => {
  const tasks = unpackTasks(packed);
  const answers: VerifyAnswers = { valid: new Uint8Array(tasks.length), errors: {} };
  tasks.forEach((task, i) => {
    try {
      const id = Buffer.from(task.spki.buffer, task.spki.byteOffset, task.spki.byteLength).toString('base64');
      let key = keys.get(id);
      if (!key) {
        key = loadSm2PublicKey(task.spki);
        keys.set(id, key);
      }
      answers.valid[i] = sm2Verify(key, task.message, task.signature) ? 1 : 0;
    } catch (error) {
      answers.errors[i] = String((error as Error)?.message ?? error);
    }
  });
  port.postMessage(answers, [answers.valid.buffer as ArrayBuffer]);
});
