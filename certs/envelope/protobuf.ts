// The protobuf form of a signed envelope: zhengtong.v1.SignedEnvelope in proto/zhengtong/v1/envelope.proto, loaded
// once with protobufjs (the same file the gRPC server loads with every other .proto under proto/).
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { ZtError } from '../../core/errors/index.js';
import { packageRoot } from '../../core/paths.js';
import { assertEnvelope, type EnvelopeSigner, type SignedEnvelope } from './envelope.js';

let envelopeType: protobuf.Type | undefined;

/** The SignedEnvelope message type, parsed from proto/ on first use. */
export function signedEnvelopeType(): protobuf.Type {
  if (envelopeType) return envelopeType;
  const dir = join(packageRoot(), 'proto');
  const root = new protobuf.Root();
  const resolvePath = root.resolvePath.bind(root);
  // google/protobuf/* are protobufjs built-ins; everything else resolves under proto/.
  root.resolvePath = (origin, target) => (target.startsWith('google/protobuf/') ? resolvePath(origin, target) : join(dir, target));
  root.loadSync('zhengtong/v1/envelope.proto', { keepCase: false });
  root.resolveAll();
  envelopeType = root.lookupType('zhengtong.v1.SignedEnvelope');
  return envelopeType;
}

export function encodeEnvelopeProtobuf(envelope: SignedEnvelope): Uint8Array {
  return signedEnvelopeType().encode(envelopeToMessage(envelope)).finish();
}

/** The envelope as a protobufjs message object (camelCase fields), to embed in another message. */
export function envelopeToMessage(envelope: SignedEnvelope): Record<string, unknown> {
  assertEnvelope(envelope);
  const ms = envelope.signingTime.getTime();
  const message: Record<string, unknown> = {
    version: envelope.version,
    algorithm: envelope.algorithm,
    signer: { certificate: envelope.signer.certificate, certificateSm3: envelope.signer.certificateSm3 },
    userId: envelope.userId,
    signature: envelope.signature,
    signingTime: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 },
    payloadSm3: envelope.payloadSm3,
  };
  if (envelope.batch) message.batch = envelope.batch;
  return message;
}

type Long = number | string;

interface DecodedEnvelope {
  version?: number;
  algorithm?: string;
  signer?: { certificate?: Uint8Array; certificateSm3?: Uint8Array };
  userId?: string;
  signature?: Uint8Array;
  batch?: { treeSize?: number; leafIndex?: number; auditPath?: Uint8Array[]; root?: Uint8Array } | null;
  signingTime?: { seconds?: Long; nanos?: number } | null;
  payloadSm3?: Uint8Array;
}

/** Reads an envelope from protobuf bytes; ZT_ERR_ENVELOPE_MALFORMED if they are not one. */
export function decodeEnvelopeProtobuf(bytes: Uint8Array): SignedEnvelope {
  const type = signedEnvelopeType();
  let d: DecodedEnvelope;
  try {
    // Fields left at their default are absent from the object (proto3 does not tell them apart from unset).
    d = type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true }) as DecodedEnvelope;
  } catch (error) {
    throw new ZtError('ZT_ERR_ENVELOPE_MALFORMED', `the envelope is not a protobuf SignedEnvelope: ${(error as Error).message}`, { cause: error });
  }
  return envelopeFromMessage(d);
}

/**
 * An envelope from a decoded protobufjs message object (as embedded in a request, decoded with or without
 * defaults; int64 seconds as a number or a string); ZT_ERR_ENVELOPE_MALFORMED if it is not a whole envelope.
 */
export function envelopeFromMessage(message: object): SignedEnvelope {
  const d = message as DecodedEnvelope;
  const buf = (b: Uint8Array | undefined) => (b ? Buffer.from(b) : Buffer.alloc(0));
  const signer: EnvelopeSigner = {};
  if (d.signer?.certificate?.length) signer.certificate = Buffer.from(d.signer.certificate);
  if (d.signer?.certificateSm3?.length) signer.certificateSm3 = Buffer.from(d.signer.certificateSm3);
  const envelope: SignedEnvelope = {
    version: (d.version ?? 0) as SignedEnvelope['version'],
    algorithm: (d.algorithm ?? '') as SignedEnvelope['algorithm'],
    signer,
    userId: d.userId ?? '',
    signature: buf(d.signature),
    signingTime: timestamp(d.signingTime),
    payloadSm3: buf(d.payloadSm3),
  };
  if (d.batch) {
    envelope.batch = { treeSize: d.batch.treeSize ?? 0, leafIndex: d.batch.leafIndex ?? 0, auditPath: (d.batch.auditPath ?? []).map(buf), root: buf(d.batch.root) };
  }
  assertEnvelope(envelope);
  return envelope;
}

function timestamp(t: DecodedEnvelope['signingTime']): Date {
  const seconds = t ? Number(t.seconds ?? 0) : Number.NaN;
  const nanos = t?.nanos ?? 0;
  // The signed time is whole milliseconds: finer nanoseconds cannot be part of what was signed.
  if (!Number.isSafeInteger(seconds) || nanos < 0 || nanos >= 1e9 || nanos % 1e6 !== 0) {
    throw new ZtError('ZT_ERR_ENVELOPE_MALFORMED', 'envelope signingTime is missing or not a whole number of milliseconds', { details: { field: 'signingTime' } });
  }
  return new Date(seconds * 1000 + nanos / 1e6);
}
