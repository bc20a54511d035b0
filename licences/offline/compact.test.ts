import { deflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import { signEnvelope, type SignedEnvelope } from '../../certs/envelope/index.js';
import { InProcessSm2Signer } from '../../certs/signer/index.js';
import { generateSm2KeyPair, sm3 } from '../../certs/sm2/sm2.js';
import { licenceDocumentBytes, type LicenceDocument } from '../licence.js';
import { base45Decode, base45Encode } from './base45.js';
import {
  COMPACT_LICENCE_PREFIX,
  decodeCompactLicence,
  encodeCompactLicence,
  qrAlphanumericCapacityM,
  qrVersionForAlphanumericM,
} from './compact.js';
import { COMPACT_DICTIONARY_V1 } from './compact-dictionary.js';
import { businessLicence, makeLicenceWorld, signLicence, type LicenceWorld } from './test-support.js';

let world: LicenceWorld;
let document: LicenceDocument;
let envelope: SignedEnvelope;
let compact: string;

beforeAll(async () => {
  world = await makeLicenceWorld();
  document = businessLicence(world);
  envelope = await signLicence(world, document);
  compact = encodeCompactLicence({ document, envelope });
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isZtError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a ZtError');
}

/** The container bytes inside a compact licence, and back. */
const open = (text: string): Buffer => base45Decode(text.slice(COMPACT_LICENCE_PREFIX.length));
const close = (container: Uint8Array): string => COMPACT_LICENCE_PREFIX + base45Encode(container);
/** Where the DEFLATE stream starts in a container without a custom user ID. */
const documentOffset = (container: Buffer): number => 40 + container[39]!;

describe('compact signed licence (ZTL1)', () => {
  it('restores exactly the bytes that were signed, and the envelope', () => {
    const decoded = decodeCompactLicence(compact);
    expect(decoded.documentBytes.equals(licenceDocumentBytes(document))).toBe(true);
    expect(decoded.document).toEqual(document);
    expect(decoded.document.holder.name).toBe('沈阳市和平区老边饺子餐饮有限公司');
    expect(decoded.envelope.signature.equals(envelope.signature)).toBe(true);
    expect(decoded.envelope.signingTime.getTime()).toBe(envelope.signingTime.getTime());
    expect(decoded.envelope.userId).toBe('1234567812345678');
    expect(decoded.envelope.payloadSm3.equals(envelope.payloadSm3)).toBe(true);
    expect(decoded.envelope.signer.certificateSm3!.equals(sm3(Buffer.from(world.platformCertificate.rawData)))).toBe(true);
    expect(decoded.envelope.signer.certificate).toBeUndefined();
  });

  it("uses only the QR code's alphanumeric characters, and fits a version-20 code at level M", () => {
    expect(compact.startsWith('ZTL1:')).toBe(true);
    expect(compact).toMatch(/^[0-9A-Z $%*+\-./:]+$/);
    // Measured 760 characters (version 18-M); without the dictionary it would be ~1,420 (version 25).
    expect(compact.length).toBeLessThanOrEqual(qrAlphanumericCapacityM(20));
  });

  it('encodes from the exact bytes as well as from the document', () => {
    expect(encodeCompactLicence({ document: licenceDocumentBytes(document), envelope })).toBe(compact);
  });

  it('keeps a user ID other than the default', async () => {
    const keys = generateSm2KeyPair();
    const signer = new InProcessSm2Signer({ privateKey: keys.privateKey, userId: 'zhengtong@shenyang' });
    const bytes = licenceDocumentBytes(document);
    const own = { ...(await signEnvelope(signer, bytes)), signer: { certificateSm3: Buffer.alloc(32, 7) } };
    const decoded = decodeCompactLicence(encodeCompactLicence({ document, envelope: own }));
    expect(decoded.envelope.userId).toBe('zhengtong@shenyang');
    expect(decoded.envelope.signer.certificateSm3).toEqual(Buffer.alloc(32, 7));
  });

  it('will not encode an envelope made for other bytes, or one signed in a batch', () => {
    const changed = { ...document, holder: { ...document.holder, name: '别的公司' } };
    expect(codeOf(() => encodeCompactLicence({ document: changed, envelope }))).toBe('ZT_ERR_LICENCE_TAMPERED');
    const batched: SignedEnvelope = { ...envelope, batch: { treeSize: 2, leafIndex: 0, auditPath: [Buffer.alloc(32)], root: Buffer.alloc(32) } };
    expect(codeOf(() => encodeCompactLicence({ document, envelope: batched }))).toBe('ZT_ERR_REQUEST_INVALID');
  });

  it('pins the preset dictionary: changing it would break every printed code', () => {
    expect(sm3(COMPACT_DICTIONARY_V1).toString('hex')).toBe(DICTIONARY_SM3);
  });

  describe('refuses malformed input with ZT_ERR_LICENCE_DOCUMENT_MALFORMED', () => {
    const cases: [string, () => string, RegExp][] = [
      ['another prefix', () => `ZTL2:${compact.slice(5)}`, /does not start with ZTL1:/],
      ['a lower-case prefix', () => `ztl1:${compact.slice(5)}`, /does not start with ZTL1:/],
      ['no prefix', () => compact.slice(5), /does not start with ZTL1:/],
      ['a character outside Base45', () => `${compact.slice(0, 20)}a${compact.slice(21)}`, /not a Base45 character/],
      ['a dangling Base45 character', () => compact + '0'.repeat((((1 - (compact.length - 5)) % 3) + 3) % 3), /dangling character/],
      ['a container cut in its header', () => close(open(compact).subarray(0, 30)), /fewer than its 40-byte header/],
      ['a container cut in its signature', () => close(open(compact).subarray(0, 60)), /truncated inside its signature/],
      ['a container with no document', () => close(open(compact).subarray(0, documentOffset(open(compact)))), /holds no document/],
      ['a truncated document stream', () => close(open(compact).subarray(0, open(compact).length - 10)), /cannot be inflated/],
      ['bytes after the document stream', () => close(Buffer.concat([open(compact), Buffer.from([0])])), /1 bytes after its document/],
      ['unknown flags', () => close(Buffer.concat([Buffer.from([0x80]), open(compact).subarray(1)])), /unknown flags/],
      ['a signature length beyond SM2', () => {
        const c = Buffer.from(open(compact));
        c[39] = 200;
        return close(c);
      }, /signature of 200 bytes/],
      ['an inflate bomb', () => {
        const c = open(compact);
        const bomb = deflateRawSync(Buffer.from(`{"a":"${'a'.repeat(1_000_000)}"}`), { level: 9, dictionary: COMPACT_DICTIONARY_V1 });
        return close(Buffer.concat([c.subarray(0, documentOffset(c)), bomb]));
      }, /inflates beyond 65536 bytes/],
      ['a document that is not JSON', () => withDocument(Buffer.from('营业执照 not json')), /is not JSON/],
      ['a document that is not canonical JSON', () => withDocument(Buffer.from(JSON.stringify(document, null, 1))), /not in canonical JSON/],
      ['a canonical document of the wrong shape', () => withDocument(Buffer.from('{"schema":"zhengtong/e-licence/v1"}')), /identifier is not a string/],
      ['a document that is not UTF-8', () => withDocument(Buffer.from([0x7b, 0xff, 0x7d])), /not UTF-8/],
    ];
    function withDocument(bytes: Buffer): string {
      const c = open(compact);
      return close(Buffer.concat([c.subarray(0, documentOffset(c)), deflateRawSync(bytes, { dictionary: COMPACT_DICTIONARY_V1 })]));
    }
    it.each(cases)('%s', (_what, make, message) => {
      const text = make();
      expect(codeOf(() => decodeCompactLicence(text))).toBe('ZT_ERR_LICENCE_DOCUMENT_MALFORMED');
      expect(() => decodeCompactLicence(text)).toThrow(message);
    });

    it('a text longer than any QR code holds', () => {
      expect(codeOf(() => decodeCompactLicence(`ZTL1:${'0'.repeat(5000)}`))).toBe('ZT_ERR_LICENCE_DOCUMENT_MALFORMED');
    });
  });
});

describe('QR alphanumeric capacity at level M', () => {
  it.each([
    [1, 20],
    [10, 311],
    [18, 816],
    [20, 970],
    [27, 1637],
    [40, 3391],
  ])('version %i holds %i characters', (version, capacity) => {
    expect(qrAlphanumericCapacityM(version)).toBe(capacity);
  });

  it('finds the smallest version for a length', () => {
    expect(qrVersionForAlphanumericM(20)).toBe(1);
    expect(qrVersionForAlphanumericM(21)).toBe(2);
    expect(qrVersionForAlphanumericM(3391)).toBe(40);
    expect(qrVersionForAlphanumericM(3392)).toBeUndefined();
  });
});

const DICTIONARY_SM3 = 'b0b8d8536fc55e5c36a9bef83051941b5502b68029af5e43aaed880bb9ee51e0';
