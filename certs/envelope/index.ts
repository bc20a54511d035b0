export {
  assertEnvelope,
  ENVELOPE_ALGORITHM,
  ENVELOPE_VERSION,
  signEnvelope,
  verifyEnvelope,
  type EnvelopeBatchProof,
  type EnvelopeSigner,
  type SignedEnvelope,
  type SignEnvelopeOptions,
  type SignerKeyResolver,
  type VerifyEnvelopeOptions,
} from './envelope.js';
export { decodeEnvelopeJson, encodeEnvelopeJson, envelopeToJson, type EnvelopeJson } from './json.js';
export { decodeEnvelopeProtobuf, encodeEnvelopeProtobuf, envelopeFromMessage, envelopeToMessage, signedEnvelopeType } from './protobuf.js';
