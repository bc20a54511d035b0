// Signed envelopes: signing alone and in batches, JSON and protobuf round trips, every kind of tampering with
// its code, and sm-crypto verifying the signature to show it is standard SM2.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import smCrypto from 'sm-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZtError, ZtError } from '../../core/errors/index.js';
import { loadProtos } from '../../gateway/grpc/protos.js';
import { generateSm2KeyPair, publicPoint, sm3, SM2_DEFAULT_USER_ID } from '../sm2/sm2.js';
import { BatchSigner, encodeTreeHead } from '../signer/batch-signer.js';
import { InProcessSm2Signer, LocalSm2Signer } from '../signer/local-sm2-signer.js';
import { leafHash } from '../signer/merkle.js';
import {
  decodeEnvelopeJson,
  decodeEnvelopeProtobuf,
  encodeEnvelopeJson,
  encodeEnvelopeProtobuf,
  envelopeToJson,
  signedEnvelopeType,
  signEnvelope,
  verifyEnvelope,
  type EnvelopeJson,
  type SignedEnvelope,
} from './index.js';

const { sm2: smSm2 } = smCrypto as unknown as {
  sm2: { doVerifySignature(msg: number[], sigHex: string, publicKeyHex: string, options: { hash: boolean; der: boolean; userId?: string }): boolean };
};

function selfSignedCertificate(privateKey: KeyObject): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'zt-envelope-cert-'));
  try {
    writeFileSync(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    execFileSync('openssl', ['req', '-new', '-x509', '-key', join(dir, 'key.pem'), '-sm3', '-sigopt', `distid:${SM2_DEFAULT_USER_ID}`, '-subj', '/CN=zhengtong envelope test', '-days', '1', '-outform', 'DER', '-out', join(dir, 'cert.der')], { stdio: 'ignore' });
    return readFileSync(join(dir, 'cert.der'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (error) {
    return isZtError(error) ? error.code : `${(error as Error).name}: ${(error as Error).message}`;
  }
}

const keys = generateSm2KeyPair();
const certificate = selfSignedCertificate(keys.privateKey);
const payload = Buffer.from('{"licence":"91210102MA0XXXXXX1","holder":"沈阳市某某有限公司"}');
let pool: LocalSm2Signer;
let batch: BatchSigner;
let alone: SignedEnvelope;
let batched: SignedEnvelope[];
const batchPayloads = Array.from({ length: 21 }, (_, i) => Buffer.from(`licence ${i}`));

beforeAll(async () => {
  pool = await LocalSm2Signer.start({ privateKey: keys.privateKey, certificate });
  batch = new BatchSigner(pool);
  alone = await signEnvelope(pool, payload);
  batched = await Promise.all(batchPayloads.map((p) => signEnvelope(batch, p)));
});
afterAll(() => pool.close());

const verify = (envelope: SignedEnvelope, p: Uint8Array = payload, publicKey: KeyObject = keys.publicKey) => verifyEnvelope(envelope, p, { publicKey });
const withChanges = (envelope: SignedEnvelope, changes: Partial<SignedEnvelope>): SignedEnvelope => ({ ...envelope, ...changes });

describe('signEnvelope and verifyEnvelope', () => {
  it('a payload signed alone: no batch proof, the certificate and its SM3 fingerprint, the default SM2 ID', async () => {
    expect(alone).toMatchObject({ version: 1, algorithm: 'SM2-SM3', userId: SM2_DEFAULT_USER_ID });
    expect(alone.batch).toBeUndefined();
    expect(alone.signer.certificate).toEqual(certificate);
    expect(alone.signer.certificateSm3).toEqual(sm3(certificate));
    expect(alone.payloadSm3).toEqual(sm3(payload));
    expect(Math.abs(alone.signingTime.getTime() - Date.now())).toBeLessThan(60_000);
    await verify(alone);
  });

  it('payloads signed in a batch carry their audit path, and all verify', async () => {
    expect(batched.some((e) => e.batch && e.batch.treeSize > 1)).toBe(true);
    for (const [i, e] of batched.entries()) {
      await verify(e, batchPayloads[i]);
      if (e.batch) expect(e.batch.auditPath.length).toBeGreaterThan(0);
    }
  });

  it('the fingerprint alone when asked not to embed the certificate; nothing about a signer without one', async () => {
    const lean = await signEnvelope(pool, payload, { includeCertificate: false });
    expect(lean.signer).toEqual({ certificateSm3: sm3(certificate) });
    await verify(lean);
    const bare = await signEnvelope(new InProcessSm2Signer({ privateKey: keys.privateKey, userId: 'bureau@example.gov.cn' }), payload);
    expect(bare.signer).toEqual({});
    expect(bare.userId).toBe('bureau@example.gov.cn');
    await verify(bare);
  });

  it('the signature is standard SM2: sm-crypto verifies it over the tree head the envelope describes', () => {
    const xy = `04${publicPoint(keys.publicKey).toString('hex')}`;
    const head = encodeTreeHead(1, leafHash(payload), alone.signingTime.getTime());
    expect(smSm2.doVerifySignature([...head], alone.signature.toString('hex'), xy, { hash: true, der: true })).toBe(true);
    const e = batched.find((x) => x.batch)!;
    const batchHead = encodeTreeHead(e.batch!.treeSize, e.batch!.root, e.signingTime.getTime());
    expect(smSm2.doVerifySignature([...batchHead], e.signature.toString('hex'), xy, { hash: true, der: true })).toBe(true);
  });

  it('the signer key can come from a resolveSignerKey hook, which sees the envelope and may refuse it', async () => {
    const seen: SignedEnvelope[] = [];
    await verifyEnvelope(alone, payload, {
      resolveSignerKey: async (envelope) => {
        seen.push(envelope);
        return keys.publicKey;
      },
    });
    expect(seen).toEqual([alone]);
    const refusing = () => {
      throw new ZtError('ZT_ERR_CERT_UNKNOWN_ISSUER');
    };
    expect(await codeOf(verifyEnvelope(alone, payload, { resolveSignerKey: refusing }))).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
    expect(await codeOf(verifyEnvelope(alone, payload, {} as never))).toMatch(/^TypeError/);
  });
});

describe('envelope encodings', () => {
  it('JSON: hashes in hex, DER in base64, RFC 3339 time; decodes to the same envelope, from text or parsed', async () => {
    const e = batched.find((x) => x.batch)!;
    const json = envelopeToJson(e);
    expect(json).toMatchObject({ version: 1, algorithm: 'SM2-SM3', userId: SM2_DEFAULT_USER_ID });
    expect(json.payloadSm3).toMatch(/^[0-9a-f]{64}$/);
    expect(json.signer.certificateSm3).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(json.signer.certificate!, 'base64')).toEqual(certificate);
    expect(Buffer.from(json.signature, 'base64')).toEqual(e.signature);
    expect(json.signingTime).toBe(e.signingTime.toISOString());
    expect(json.batch!.root).toMatch(/^[0-9a-f]{64}$/);
    expect(json.batch!.auditPath.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
    const text = encodeEnvelopeJson(e);
    expect(decodeEnvelopeJson(text)).toEqual(e);
    expect(decodeEnvelopeJson(JSON.parse(text) as object)).toEqual(e);
    expect(decodeEnvelopeJson(encodeEnvelopeJson(alone))).toEqual(alone);
    await verify(decodeEnvelopeJson(text), batchPayloads[batched.indexOf(e)]);
  });

  it('JSON: the same instant in another time zone or with fewer fraction digits reads the same', async () => {
    const json = envelopeToJson(alone);
    const ms = alone.signingTime.getTime();
    const beijing = new Date(ms + 8 * 3600_000).toISOString().replace('Z', '+08:00');
    expect(decodeEnvelopeJson({ ...json, signingTime: beijing }).signingTime.getTime()).toBe(ms);
    const nanos = json.signingTime.replace('Z', '000000Z');
    expect(decodeEnvelopeJson({ ...json, signingTime: nanos }).signingTime.getTime()).toBe(ms);
  });

  it('protobuf: round trip for alone and batched envelopes; JSON → protobuf → JSON is the identity', async () => {
    for (const e of [alone, ...batched]) {
      const bytes = encodeEnvelopeProtobuf(e);
      expect(decodeEnvelopeProtobuf(bytes)).toEqual(e);
      expect(envelopeToJson(decodeEnvelopeProtobuf(encodeEnvelopeProtobuf(decodeEnvelopeJson(encodeEnvelopeJson(e)))))).toEqual(envelopeToJson(e));
    }
    const e = batched.find((x) => x.batch)!;
    const decoded = signedEnvelopeType().toObject(signedEnvelopeType().decode(encodeEnvelopeProtobuf(e)), { longs: String, defaults: true });
    expect(decoded).toMatchObject({ version: 1, algorithm: 'SM2-SM3', batch: { treeSize: e.batch!.treeSize, leafIndex: e.batch!.leafIndex } });
    expect(decoded.signingTime).toEqual({ seconds: String(Math.floor(e.signingTime.getTime() / 1000)), nanos: (e.signingTime.getTime() % 1000) * 1e6 });
    await verify(decodeEnvelopeProtobuf(encodeEnvelopeProtobuf(alone)));
  });

  it('proto/zhengtong/v1/envelope.proto loads with every other .proto, through protobufjs and proto-loader, as the server does', () => {
    const { root, packageDefinition } = loadProtos();
    expect(root.lookupType('zhengtong.v1.SignedEnvelope').fieldsArray.map((f) => f.name)).toEqual([
      'version',
      'algorithm',
      'signer',
      'userId',
      'signature',
      'batch',
      'signingTime',
      'payloadSm3',
    ]);
    expect(packageDefinition['zhengtong.v1.SignedEnvelope']).toBeDefined();
  });
});

describe('verifyEnvelope rejects tampering with the right code', () => {
  const flip = (b: Buffer, at = 0) => {
    const c = Buffer.from(b);
    c[at]! ^= 0x01;
    return c;
  };
  let inBatch: SignedEnvelope;
  let inBatchPayload: Buffer;
  beforeAll(() => {
    const i = batched.findIndex((x) => x.batch && x.batch.auditPath.length >= 2);
    inBatch = batched[i]!;
    inBatchPayload = batchPayloads[i]!;
  });
  const verifyBatched = (changes: Partial<SignedEnvelope>) => codeOf(verify(withChanges(inBatch, changes), inBatchPayload));
  const batchWith = (changes: Partial<NonNullable<SignedEnvelope['batch']>>) => verifyBatched({ batch: { ...inBatch.batch!, ...changes } });

  it('ZT_ERR_SIGNATURE_INVALID: payload, its digest, signature, signing time, SM2 ID, key', async () => {
    expect(await codeOf(verify(alone, Buffer.from(`${payload.toString()} `)))).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(await codeOf(verify(withChanges(alone, { payloadSm3: flip(alone.payloadSm3) })))).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(await codeOf(verify(withChanges(alone, { signature: batched[0]!.signature })))).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(await codeOf(verify(withChanges(alone, { signingTime: new Date(alone.signingTime.getTime() - 1) })))).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(await codeOf(verify(withChanges(alone, { userId: 'someone else' })))).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(await codeOf(verify(alone, payload, generateSm2KeyPair().publicKey))).toBe('ZT_ERR_SIGNATURE_INVALID');
    // A batched payload presented as signed alone: its leaf is not the signed root.
    expect(await verifyBatched({ batch: undefined })).toBe('ZT_ERR_SIGNATURE_INVALID');
  });

  it('ZT_ERR_SIGNATURE_MALFORMED: a signature that is not DER (r, s)', async () => {
    expect(await codeOf(verify(withChanges(alone, { signature: Buffer.from('0123456789', 'hex') })))).toBe('ZT_ERR_SIGNATURE_MALFORMED');
  });

  it('ZT_ERR_PROOF_INVALID: tampered, truncated or extended path, another index, size or root', async () => {
    const path = inBatch.batch!.auditPath;
    expect(await verifyBatched({})).toBe('ok');
    expect(await batchWith({ auditPath: path.map((h, k) => (k === 1 ? flip(h, 31) : h)) })).toBe('ZT_ERR_PROOF_INVALID');
    expect(await batchWith({ auditPath: path.slice(0, -1) })).toBe('ZT_ERR_PROOF_INVALID');
    expect(await batchWith({ auditPath: [...path, path[0]!] })).toBe('ZT_ERR_PROOF_INVALID');
    expect(await batchWith({ leafIndex: inBatch.batch!.leafIndex ^ 1 })).toBe('ZT_ERR_PROOF_INVALID');
    expect(await batchWith({ leafIndex: inBatch.batch!.treeSize })).toBe('ZT_ERR_PROOF_INVALID');
    expect(await batchWith({ root: flip(inBatch.batch!.root) })).toBe('ZT_ERR_PROOF_INVALID');
    expect(await batchWith({ treeSize: 2 ** 20 })).toBe('ZT_ERR_PROOF_INVALID');
  });

  it('ZT_ERR_ENVELOPE_MALFORMED: unknown algorithm or version, bad shapes, disagreeing fingerprint', async () => {
    const malformed = (changes: Record<string, unknown>) => codeOf(verify({ ...alone, ...changes } as SignedEnvelope));
    expect(await malformed({ algorithm: 'SM2' })).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await malformed({ algorithm: 'ECDSA-SHA256' })).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await malformed({ version: 2 })).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await malformed({ userId: '' })).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await malformed({ payloadSm3: alone.payloadSm3.subarray(1) })).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await malformed({ signingTime: new Date(Number.NaN) })).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await malformed({ signer: { ...alone.signer, certificateSm3: flip(alone.signer.certificateSm3!) } })).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await malformed({ batch: { treeSize: 2, leafIndex: 0, auditPath: [Buffer.alloc(31)], root: Buffer.alloc(32) } })).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await malformed({ batch: { treeSize: 0, leafIndex: 0, auditPath: [], root: Buffer.alloc(32) } })).toBe('ZT_ERR_ENVELOPE_MALFORMED');
  });

  it('JSON that is not an envelope is ZT_ERR_ENVELOPE_MALFORMED, and the error names the field', async () => {
    const json = envelopeToJson(alone);
    const decode = (value: string | object) => codeOf(() => decodeEnvelopeJson(value));
    expect(await decode('{not json')).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await decode('[]')).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    const variants: [string, Partial<Record<keyof EnvelopeJson, unknown>>][] = [
      ['algorithm', { algorithm: 'SM2-SHA256' }],
      ['version', { version: '1' }],
      ['signature', { signature: undefined }],
      ['signature', { signature: 'not base64!' }],
      ['signature', { signature: `${json.signature}=` }],
      ['payloadSm3', { payloadSm3: json.payloadSm3.toUpperCase() }],
      ['payloadSm3', { payloadSm3: json.payloadSm3.slice(2) }],
      ['signingTime', { signingTime: '2026-01-01 10:00:00' }],
      ['signingTime', { signingTime: '2026-01-01T10:00:00.0001Z' }],
      ['signer', { signer: 'me' }],
      ['batch', { batch: [] }],
      ['batch.auditPath', { batch: { treeSize: 2, leafIndex: 0, auditPath: 'ab', root: json.payloadSm3 } }],
    ];
    for (const [field, change] of variants) {
      let error: unknown;
      try {
        decodeEnvelopeJson({ ...json, ...change });
      } catch (e) {
        error = e;
      }
      expect(error, field).toMatchObject({ code: 'ZT_ERR_ENVELOPE_MALFORMED', details: { field } });
    }
  });

  it('protobuf bytes that are not an envelope are ZT_ERR_ENVELOPE_MALFORMED', async () => {
    const decode = (bytes: Uint8Array) => codeOf(() => decodeEnvelopeProtobuf(bytes));
    expect(await decode(Buffer.from('ffffffffff', 'hex'))).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await decode(new Uint8Array(0))).toBe('ZT_ERR_ENVELOPE_MALFORMED'); // version 0, nothing else
    const type = signedEnvelopeType();
    const message = type.toObject(type.decode(encodeEnvelopeProtobuf(alone))) as Record<string, unknown>;
    expect(await decode(type.encode({ ...message, algorithm: 'SM2' }).finish())).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await decode(type.encode({ ...message, version: 2 }).finish())).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await decode(type.encode({ ...message, signingTime: { seconds: 1_700_000_000, nanos: 1 } }).finish())).toBe('ZT_ERR_ENVELOPE_MALFORMED');
    expect(await decode(type.encode({ ...message, signingTime: undefined }).finish())).toBe('ZT_ERR_ENVELOPE_MALFORMED');
  });
});
