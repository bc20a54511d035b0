// One thread of LocalSm2Signer's pool: loads the private key from PKCS#8 DER once, then signs the messages it is
// sent, in order, with the same standard SM2 code as the main thread (certs/sm2/sm2.ts).
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { loadSm2PrivateKey, sm2Sign } from '../sm2/sm2.js';
import type { SignRequest, SignResponse, SignWorkerData } from './local-sm2-signer.js';

const port = parentPort;
if (!port) throw new Error('sign-worker must run as a worker thread');
const { pkcs8, userId } = workerData as SignWorkerData;
const privateKey = loadSm2PrivateKey(pkcs8);
pkcs8.fill(0); // this thread's copy of the key bytes; the KeyObject holds the key from now on

port.on('message', (request: SignRequest) => {
  let response: SignResponse;
  try {
    response = { signature: sm2Sign(privateKey, request, { userId }) };
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown };
    response = { error: { code: typeof e.code === 'string' ? e.code : undefined, message: String(e.message ?? error) } };
  }
  port.postMessage(response);
});
port.postMessage({ ready: threadId } satisfies SignResponse);
