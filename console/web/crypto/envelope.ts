// Signed envelopes (docs/envelope.md) in the page: a payload signed alone is a tree of one, and the SM2 signature
// covers the 62-byte tree head "zhengtong-batch-v1" ‖ u32 size ‖ root ‖ u64 signing time (ms), big-endian.
import { base64ToBytes, bytesToBase64, bytesToHex, concat, equalBytes, hexToBytes, utf8 } from './bytes.js';
import { leafHash, rootFromInclusionProof } from './merkle.js';
import { sm2Sign, sm2Verify, SM2_DEFAULT_USER_ID, sm3 } from './sm.js';

export interface EnvelopeJson {
  version: number;
  algorithm: string;
  signer: { certificate?: string; certificateSm3?: string };
  userId: string;
  signature: string;
  batch?: { treeSize: number; leafIndex: number; auditPath: string[]; root: string };
  signingTime: string;
  payloadSm3: string;
}

export function encodeTreeHead(treeSize: number, root: Uint8Array, signedAtMs: number): Uint8Array {
  const head = new Uint8Array(4 + 32 + 8);
  const view = new DataView(head.buffer);
  view.setUint32(0, treeSize);
  head.set(root, 4);
  view.setBigUint64(36, BigInt(signedAtMs));
  return concat(utf8('zhengtong-batch-v1'), head);
}

/** Signs `payload` alone with the department's key; the envelope carries the certificate, as transitions require. */
export function signEnvelope(payload: Uint8Array, key: { d: string; publicKey: string }, certificateDer: Uint8Array, now = Date.now()): EnvelopeJson {
  const signedAt = Math.floor(now);
  const signature = sm2Sign(encodeTreeHead(1, leafHash(payload), signedAt), key.d, key.publicKey);
  return {
    version: 1,
    algorithm: 'SM2-SM3',
    signer: { certificate: bytesToBase64(certificateDer), certificateSm3: bytesToHex(sm3(certificateDer)) },
    userId: SM2_DEFAULT_USER_ID,
    signature: bytesToBase64(signature),
    signingTime: new Date(signedAt).toISOString(),
    payloadSm3: bytesToHex(sm3(payload)),
  };
}

export type EnvelopeCheck = { ok: true } | { ok: false; failed: 'shape' | 'payload' | 'path' | 'signature'; message: string };

/** Verifies an envelope over `payload` with the public key '04' ‖ x ‖ y (hex), in the order docs/envelope.md gives. */
export function verifyEnvelope(envelope: EnvelopeJson, payload: Uint8Array, publicKeyHex: string): EnvelopeCheck {
  if (envelope.version !== 1 || envelope.algorithm !== 'SM2-SM3') return { ok: false, failed: 'shape', message: `envelope version ${envelope.version} / ${envelope.algorithm} is not supported` };
  if (bytesToHex(sm3(payload)) !== envelope.payloadSm3) return { ok: false, failed: 'payload', message: 'the SM3 digest of the statement differs from the envelope’s payloadSm3' };
  const leaf = leafHash(payload);
  let treeSize = 1;
  let root = leaf;
  if (envelope.batch) {
    treeSize = envelope.batch.treeSize;
    root = hexToBytes(envelope.batch.root);
    const computed = rootFromInclusionProof(leaf, envelope.batch.leafIndex, treeSize, envelope.batch.auditPath.map(hexToBytes));
    if (!computed || !equalBytes(computed, root)) return { ok: false, failed: 'path', message: 'the batch audit path does not lead to the signed root' };
  }
  const head = encodeTreeHead(treeSize, root, Date.parse(envelope.signingTime));
  if (!sm2Verify(head, base64ToBytes(envelope.signature), publicKeyHex, envelope.userId)) {
    return { ok: false, failed: 'signature', message: 'the SM2 signature does not verify over the tree head' };
  }
  return { ok: true };
}
