// The JSON form of a signed envelope (docs/envelope.md): hashes in lower-case hex, DER in base64, the signing time
// in RFC 3339. Decoding is strict about encodings, so one envelope has one JSON form (up to key order, whitespace
// and the time zone of signingTime); unknown fields are ignored, as protobuf ignores unknown fields.
import { ZtError } from '../../core/errors/index.js';
import { assertEnvelope, type EnvelopeBatchProof, type EnvelopeSigner, type SignedEnvelope } from './envelope.js';

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

export function envelopeToJson(envelope: SignedEnvelope): EnvelopeJson {
  assertEnvelope(envelope);
  const signer: EnvelopeJson['signer'] = {};
  if (envelope.signer.certificate) signer.certificate = envelope.signer.certificate.toString('base64');
  if (envelope.signer.certificateSm3) signer.certificateSm3 = envelope.signer.certificateSm3.toString('hex');
  const json: EnvelopeJson = {
    version: envelope.version,
    algorithm: envelope.algorithm,
    signer,
    userId: envelope.userId,
    signature: envelope.signature.toString('base64'),
    signingTime: envelope.signingTime.toISOString(),
    payloadSm3: envelope.payloadSm3.toString('hex'),
  };
  const { batch } = envelope;
  if (batch) {
    json.batch = { treeSize: batch.treeSize, leafIndex: batch.leafIndex, auditPath: batch.auditPath.map((h) => h.toString('hex')), root: batch.root.toString('hex') };
  }
  return json;
}

export function encodeEnvelopeJson(envelope: SignedEnvelope): string {
  return JSON.stringify(envelopeToJson(envelope));
}

/** Reads an envelope from JSON text or an already parsed value; ZT_ERR_ENVELOPE_MALFORMED, naming the field, if it does not fit. */
export function decodeEnvelopeJson(json: string | object): SignedEnvelope {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new ZtError('ZT_ERR_ENVELOPE_MALFORMED', 'the envelope is not valid JSON', { cause: error });
    }
  }
  const o = object(value, '');
  const s = object(o.signer, 'signer');
  const signer: EnvelopeSigner = {};
  if (s.certificate !== undefined) signer.certificate = base64(s.certificate, 'signer.certificate');
  if (s.certificateSm3 !== undefined) signer.certificateSm3 = hex(s.certificateSm3, 'signer.certificateSm3');
  const envelope: SignedEnvelope = {
    version: o.version as SignedEnvelope['version'],
    algorithm: o.algorithm as SignedEnvelope['algorithm'],
    signer,
    userId: o.userId as string,
    signature: base64(o.signature, 'signature'),
    signingTime: rfc3339(o.signingTime, 'signingTime'),
    payloadSm3: hex(o.payloadSm3, 'payloadSm3'),
  };
  if (o.batch !== undefined) {
    const b = object(o.batch, 'batch');
    if (!Array.isArray(b.auditPath)) malformed('batch.auditPath', 'is not a list');
    const batch: EnvelopeBatchProof = {
      treeSize: b.treeSize as number,
      leafIndex: b.leafIndex as number,
      auditPath: (b.auditPath as unknown[]).map((h, i) => hex(h, `batch.auditPath[${i}]`)),
      root: hex(b.root, 'batch.root'),
    };
    envelope.batch = batch;
  }
  assertEnvelope(envelope);
  return envelope;
}

function malformed(field: string, why: string): never {
  throw new ZtError('ZT_ERR_ENVELOPE_MALFORMED', `envelope ${field || 'JSON'} ${why}`, { details: { field } });
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) malformed(field, 'is not an object');
  return value as Record<string, unknown>;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
function base64(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || value.length === 0 || !BASE64.test(value)) malformed(field, 'is not base64');
  const bytes = Buffer.from(value, 'base64');
  // Canonical: unused bits of the last character must be zero, so re-encoding gives the same text.
  if (bytes.toString('base64') !== value) malformed(field, 'is not canonical base64');
  return bytes;
}

function hex(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) malformed(field, 'is not 64 lower-case hex digits');
  return Buffer.from(value, 'hex');
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;
function rfc3339(value: unknown, field: string): Date {
  const m = typeof value === 'string' ? RFC3339.exec(value) : null;
  if (!m) malformed(field, 'is not an RFC 3339 date-time');
  const fraction = m[7] ?? '';
  // The signed time is whole milliseconds: finer digits cannot be part of what was signed.
  if (/[1-9]/.test(fraction.slice(3))) malformed(field, 'has a precision finer than milliseconds');
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${fraction.slice(0, 3).padEnd(3, '0')}${m[8]!.toUpperCase()}`);
  if (!Number.isFinite(ms)) malformed(field, 'is not a valid date-time');
  return new Date(ms);
}
