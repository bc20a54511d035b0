// Signing demand transitions in tests, as a department's client does: with the demo keys an app wrote at its first
// start (startTestApp seeds the demo), or with a CA, trust store and demo signers made for a bare database.
import { readFileSync } from 'node:fs';
import { PlatformCa } from '../../certs/ca/index.js';
import { envelopeToJson, type EnvelopeJson, type SignedEnvelope } from '../../certs/envelope/index.js';
import { InProcessSm2Signer, type Signer } from '../../certs/signer/index.js';
import { TrustStore } from '../../certs/trust/index.js';
import type { Database } from '../../core/storage/index.js';
import { SignedTransitionAuthenticator, signTransition, type TransitionToSign } from '../../registry/catalogue/index.js';
import { demoKeyFiles, DemoSigners } from '../../demo/index.js';
import { makeTestCaDir, TEST_PUBLIC_URL } from './ca.js';
import { DepartmentKey } from '../../client/department-key.js';
import { newNonce, signGrpcRequest, signHttpRequest } from '../../client/request-signing.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The demo department's signer, from the key files an app wrote under its data directory. */
export function demoSigner(dataDir: string, uscc: string): Signer {
  const files = demoKeyFiles(dataDir, uscc);
  return new InProcessSm2Signer({ privateKey: readFileSync(files.key, 'utf8'), certificate: certificateDer(readFileSync(files.certificate, 'utf8')) });
}

function certificateDer(pem: string): Uint8Array {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** A signed step as the HTTP API takes it (the envelope's JSON form). */
export async function signedJson(signer: Signer, step: TransitionToSign): Promise<EnvelopeJson> {
  return envelopeToJson(await signTransition(signer, step));
}

export interface SigningWorld {
  ca: PlatformCa;
  trust: TrustStore;
  authenticator: SignedTransitionAuthenticator;
  signers: DemoSigners;
  sign(step: TransitionToSign): Promise<SignedEnvelope>;
  remove(): void;
}

/** A platform CA on `db`, a trust store over it, the authenticator the app wires, and the demo departments' signers. */
export async function makeSigningWorld(db: Database, options: { windowMs?: number; clock?: () => number } = {}): Promise<SigningWorld> {
  const caDir = await makeTestCaDir();
  const dataDir = mkdtempSync(join(tmpdir(), 'zt-keys-'));
  const ca = new PlatformCa({ db, material: caDir.material, certificateDays: 365, publicUrl: TEST_PUBLIC_URL });
  const trust = new TrustStore({ trustAnchors: [ca.root], intermediates: [ca.issuing], crls: async () => [(await ca.crl()).crl, (await ca.rootCrl()).crl] });
  const authenticator = new SignedTransitionAuthenticator({
    validate: (der) => trust.validate(der),
    windowMs: options.windowMs ?? 300_000,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const signers = new DemoSigners(ca, dataDir);
  return {
    ca,
    trust,
    authenticator,
    signers,
    sign: async (step) => signTransition(await signers.signerFor(step.actor), step),
    remove() {
      caDir.remove();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The platform operator's key (the first platform administrator): the exchange signer the app made at its first start. */
export function platformOperatorKey(config: { caDir: string }): Signer {
  const dir = (config as { platformKeyDir?: string }).platformKeyDir ?? config.caDir;
  return DepartmentKey.fromFiles(join(dir, 'exchange-signer.key.pem'), join(dir, 'exchange-signer.cert.pem'));
}

/** The Zt-* headers of an HTTP request signed by `signer` (docs/exchange-protocol.md), with the JSON content type when there is a body. */
export async function signedHeaders(signer: Signer, method: string, pathAndQuery: string, body?: string | Buffer): Promise<Record<string, string>> {
  const bytes = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const { headers } = await signHttpRequest({ method, path: pathAndQuery, body: bytes, signer, timestamp: new Date().toISOString(), nonce: newNonce() });
  return body === undefined ? headers : { ...headers, 'content-type': 'application/json' };
}

/** The metadata of a gRPC call signed by `signer` over the request message's bytes. */
export async function signedMetadata(signer: Signer, fullMethod: string, message: Buffer): Promise<import('@grpc/grpc-js').Metadata> {
  const { metadata } = await signGrpcRequest({ method: 'POST', path: fullMethod, body: message, signer, timestamp: new Date().toISOString(), nonce: newNonce() });
  return metadata;
}
