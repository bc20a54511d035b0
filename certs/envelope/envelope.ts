/**
 * Signed envelopes (签名信封): a detached SM2 signature over a payload, with what a verifier needs beside the
 * payload itself. The full description, with examples, is docs/envelope.md; this is its summary.
 *
 * Fields (JSON name / protobuf field of zhengtong.v1.SignedEnvelope in proto/zhengtong/v1/envelope.proto):
 *   version      / version (1)       format version; this code reads and writes 1, and refuses any other.
 *   algorithm    / algorithm (2)     "SM2-SM3": SM2 signature with SM3, OID 1.2.156.10197.1.501.
 *   signer       / signer (3)        { certificate: DER (base64 in JSON), certificateSm3: SM3 of that DER (hex) };
 *                                    either, both (then they must agree) or neither (the verifier knows the key).
 *   userId       / user_id (4)       the SM2 distinguishing identifier in ZA; 1234567812345678 by default.
 *   signature    / signature (5)     DER SEQUENCE { r, s } (base64 in JSON).
 *   batch        / batch (6)         optional: { treeSize, leafIndex, auditPath: [hex], root: hex }; absent when
 *                                    the payload was signed alone.
 *   signingTime  / signing_time (7)  RFC 3339 in JSON, google.protobuf.Timestamp in protobuf; milliseconds.
 *   payloadSm3   / payload_sm3 (8)   SM3 of the payload (hex in JSON).
 * Hashes are lower-case hex in JSON and DER structures base64; in protobuf both are bytes.
 *
 * What is signed. Every envelope signature is an SM2 signature (over SM3(ZA ‖ M), ZA from userId and the key) of
 * a tree head, M = 'zhengtong-batch-v1' ‖ treeSize (u32 BE) ‖ root (32) ‖ signingTime in ms (u64 BE): the root
 * of an RFC 6962 Merkle tree over SM3 whose leaves are SM3(0x00 ‖ payload). A payload signed alone is a tree of
 * one, whose root is its leaf hash; a payload signed in a batch carries its audit path to the batch's root.
 *
 * Verification: the shape (else ZT_ERR_ENVELOPE_MALFORMED), SM3(payload) = payloadSm3 (else
 * ZT_ERR_SIGNATURE_INVALID), the audit path leads from SM3(0x00 ‖ payload) at leafIndex to root in a tree of
 * treeSize (else ZT_ERR_PROOF_INVALID), and the signature verifies over the tree head under the signer's key (else
 * ZT_ERR_SIGNATURE_INVALID, or ZT_ERR_SIGNATURE_MALFORMED for bytes that are no SM2 signature, ZT_ERR_SIGNATURE_EMPTY_ID
 * or ZT_ERR_SIGNATURE_NOT_SM2 for a signature made with an empty user ID or not as SM2). The key is given by
 * the caller, or found by a resolveSignerKey hook (where certificate chain checking plugs in).
 */
import type { KeyObject } from 'node:crypto';
import { isZtError, ZtError } from '../../core/errors/index.js';
import { assertSm2Signature } from '../sm2/diagnose.js';
import { sm3 } from '../sm2/sm2.js';
import { Sm3Memo } from '../sm2/sm3-memo.js';
import { BatchSigner, encodeTreeHead, verifyBatchLeaf } from '../signer/batch-signer.js';
import { HASH_SIZE, leafHash, MAX_TREE_SIZE } from '../signer/merkle.js';
import type { Signer } from '../signer/signer.js';

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_ALGORITHM = 'SM2-SM3';
/** The audit path of a tree of at most 2^32 - 1 leaves has at most 32 hashes. */
const MAX_AUDIT_PATH = 32;
const MAX_USER_ID_BYTES = 8191;
/** An SM2 signature in DER is at most 72 bytes; a certificate is allowed 64 KiB. */
const MAX_SIGNATURE_BYTES = 72;
const MAX_CERTIFICATE_BYTES = 65536;
/** Fingerprints of signers' certificates: the platform's own is in every answer it signs. */
const SIGNERS = new Sm3Memo();

export interface EnvelopeSigner {
  /** The signer's X.509 certificate, DER. */
  certificate?: Buffer;
  /** SM3 of the certificate DER. */
  certificateSm3?: Buffer;
}

export interface EnvelopeBatchProof {
  treeSize: number;
  leafIndex: number;
  /** Sibling hashes from the leaf up. */
  auditPath: Buffer[];
  root: Buffer;
}

export interface SignedEnvelope {
  version: typeof ENVELOPE_VERSION;
  algorithm: typeof ENVELOPE_ALGORITHM;
  signer: EnvelopeSigner;
  userId: string;
  signature: Buffer;
  batch?: EnvelopeBatchProof;
  /** Whole milliseconds. */
  signingTime: Date;
  payloadSm3: Buffer;
}

export interface SignEnvelopeOptions {
  /** Put the signer's certificate in the envelope, not only its fingerprint; default true. */
  includeCertificate?: boolean;
  /**
   * The signing time to sign, for a payload that states its own time (a checkpoint's signedAt), so the two are one
   * instant; default now. Whole milliseconds. Not for a BatchSigner, whose batch has one time for all.
   */
  signingTime?: Date;
  /** SM3 of the payload, when the caller has computed it already (for its own record); not checked. Default: computed. */
  payloadSm3?: Buffer;
}

/**
 * Signs `payload` and returns its envelope. With a BatchSigner the payload joins the next batch; with a Signer it
 * is signed alone (a tree of one).
 */
export async function signEnvelope(signer: Signer | BatchSigner, payload: Uint8Array, options: SignEnvelopeOptions = {}): Promise<SignedEnvelope> {
  const keyHolder = signer instanceof BatchSigner ? signer.signer : signer;
  let signature: Buffer;
  let signingTime: Date;
  let batch: EnvelopeBatchProof | undefined;
  if (signer instanceof BatchSigner) {
    const result = await signer.sign(payload);
    signature = result.signature;
    signingTime = result.signedAt;
    if (result.treeSize > 1) batch = { treeSize: result.treeSize, leafIndex: result.leafIndex, auditPath: result.proof, root: result.root };
  } else {
    const signedAtMs = options.signingTime ? Math.floor(options.signingTime.getTime()) : Date.now();
    signature = await signer.sign(encodeTreeHead(1, leafHash(payload), signedAtMs));
    signingTime = new Date(signedAtMs);
  }
  const identity: EnvelopeSigner = {};
  if (keyHolder.certificate) {
    if (options.includeCertificate !== false) identity.certificate = keyHolder.certificate.der;
    identity.certificateSm3 = Buffer.from(keyHolder.certificate.fingerprint, 'hex');
  }
  const envelope: SignedEnvelope = {
    version: ENVELOPE_VERSION,
    algorithm: ENVELOPE_ALGORITHM,
    signer: identity,
    userId: keyHolder.userId,
    signature,
    signingTime,
    payloadSm3: options.payloadSm3 ?? sm3(payload),
  };
  if (batch) envelope.batch = batch;
  return envelope;
}

/** Finds the key of the envelope's signer, e.g. by validating its certificate chain; throws if it cannot. */
export type SignerKeyResolver = (envelope: SignedEnvelope) => KeyObject | Promise<KeyObject>;

export type VerifyEnvelopeOptions = { publicKey: KeyObject; resolveSignerKey?: undefined } | { publicKey?: undefined; resolveSignerKey: SignerKeyResolver };

/** Resolves when `envelope` is a valid signature over `payload`; throws a ZtError saying what is wrong otherwise. */
export async function verifyEnvelope(envelope: SignedEnvelope, payload: Uint8Array, options: VerifyEnvelopeOptions): Promise<void> {
  assertEnvelope(envelope);
  const publicKey = options.publicKey ?? (options.resolveSignerKey ? await options.resolveSignerKey(envelope) : undefined);
  if (!publicKey) throw new TypeError('verifyEnvelope needs a publicKey or a resolveSignerKey hook');
  if (!sm3(payload).equals(envelope.payloadSm3)) {
    throw new ZtError('ZT_ERR_SIGNATURE_INVALID', 'the payload is not the one the envelope was made for (its SM3 digest differs)');
  }
  const leaf = leafHash(payload);
  const batch = envelope.batch ?? { treeSize: 1, leafIndex: 0, auditPath: [], root: leaf };
  try {
    verifyBatchLeaf(
      publicKey,
      leaf,
      { signature: envelope.signature, treeSize: batch.treeSize, leafIndex: batch.leafIndex, proof: batch.auditPath, signedAt: envelope.signingTime, root: batch.root },
      { userId: envelope.userId },
    );
  } catch (error) {
    // The audit path held (else ZT_ERR_PROOF_INVALID), so the head signature failed: say how (empty ID, not SM2, …).
    if (!isZtError(error) || error.code !== 'ZT_ERR_SIGNATURE_INVALID') throw error;
    assertSm2Signature(publicKey, encodeTreeHead(batch.treeSize, batch.root, envelope.signingTime.getTime()), envelope.signature, { userId: envelope.userId });
    throw error;
  }
}

/** Checks the shape of an envelope: ZT_ERR_ENVELOPE_MALFORMED, naming the field, when something does not fit. */
export function assertEnvelope(envelope: SignedEnvelope): void {
  const bad = (field: string, why: string): never => {
    throw new ZtError('ZT_ERR_ENVELOPE_MALFORMED', `envelope ${field} ${why}`, { details: { field } });
  };
  if (typeof envelope !== 'object' || envelope === null) bad('', 'is not an object');
  if (envelope.version !== ENVELOPE_VERSION) bad('version', `${JSON.stringify(envelope.version)} is not supported (this code reads version ${ENVELOPE_VERSION})`);
  if (envelope.algorithm !== ENVELOPE_ALGORITHM) bad('algorithm', `${JSON.stringify(envelope.algorithm)} is not supported (only ${ENVELOPE_ALGORITHM})`);
  const { signer } = envelope;
  if (typeof signer !== 'object' || signer === null) bad('signer', 'is missing');
  if (signer.certificate !== undefined && !isBytes(signer.certificate, 1, MAX_CERTIFICATE_BYTES)) bad('signer.certificate', 'is not a DER certificate');
  if (signer.certificateSm3 !== undefined && !isBytes(signer.certificateSm3, HASH_SIZE, HASH_SIZE)) bad('signer.certificateSm3', 'is not an SM3 digest');
  if (signer.certificate && signer.certificateSm3 && !SIGNERS.matches(signer.certificate, signer.certificateSm3)) {
    bad('signer.certificateSm3', 'is not the SM3 fingerprint of signer.certificate');
  }
  if (typeof envelope.userId !== 'string' || envelope.userId.length === 0 || Buffer.byteLength(envelope.userId) > MAX_USER_ID_BYTES) {
    bad('userId', 'must be 1 to 8191 bytes of text');
  }
  if (!isBytes(envelope.signature, 1, MAX_SIGNATURE_BYTES)) bad('signature', 'is not a DER SM2 signature');
  if (!(envelope.signingTime instanceof Date) || !Number.isSafeInteger(envelope.signingTime.getTime()) || envelope.signingTime.getTime() < 0) {
    bad('signingTime', 'is not a time after 1970');
  }
  if (!isBytes(envelope.payloadSm3, HASH_SIZE, HASH_SIZE)) bad('payloadSm3', 'is not an SM3 digest');
  const { batch } = envelope;
  if (batch !== undefined) {
    if (typeof batch !== 'object' || batch === null) bad('batch', 'is not an object');
    if (!isU32(batch.treeSize) || batch.treeSize < 1 || batch.treeSize > MAX_TREE_SIZE) bad('batch.treeSize', 'is not a tree size');
    if (!isU32(batch.leafIndex)) bad('batch.leafIndex', 'is not a leaf index');
    if (!Array.isArray(batch.auditPath) || batch.auditPath.length > MAX_AUDIT_PATH) bad('batch.auditPath', `is not a list of at most ${MAX_AUDIT_PATH} hashes`);
    batch.auditPath.forEach((node, i) => isBytes(node, HASH_SIZE, HASH_SIZE) || bad(`batch.auditPath[${i}]`, 'is not an SM3 digest'));
    if (!isBytes(batch.root, HASH_SIZE, HASH_SIZE)) bad('batch.root', 'is not an SM3 digest');
  }
}

function isBytes(value: unknown, min: number, max: number): value is Buffer {
  return Buffer.isBuffer(value) && value.length >= min && value.length <= max;
}

function isU32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TREE_SIZE;
}
