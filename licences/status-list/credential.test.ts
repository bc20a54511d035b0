import { beforeAll, describe, expect, it } from 'vitest';
import { isZtError, type ZtError } from '../../core/errors/index.js';
import { InProcessSm2Signer } from '../../certs/signer/index.js';
import { generateSm2KeyPair } from '../../certs/sm2/sm2.js';
import { ISSUER, LIST_URL, makeLicenceWorld, PLATFORM_USCC, signedList, type LicenceWorld } from '../offline/test-support.js';
import { encodeEncodedList, StatusBitstring } from './bitstring.js';
import {
  buildStatusListCredential,
  publishStatusList,
  signStatusListCredential,
  statusAt,
  verifyStatusListCredential,
  type SignedStatusListCredential,
  type VerifyStatusListOptions,
} from './credential.js';
import { statusIndex } from './permutation.js';

async function failure(promise: Promise<unknown>): Promise<ZtError> {
  try {
    await promise;
  } catch (error) {
    if (isZtError(error)) return error;
    throw error;
  }
  throw new Error('expected a ZtError, but the promise resolved');
}

let world: LicenceWorld;
let other: LicenceWorld;
let trust: VerifyStatusListOptions;

beforeAll(async () => {
  world = await makeLicenceWorld();
  other = await makeLicenceWorld();
  trust = { caCertificates: { trustAnchors: [world.pki.root], intermediates: [world.pki.issuing] } };
});

const copy = (c: SignedStatusListCredential): SignedStatusListCredential => JSON.parse(JSON.stringify(c)) as SignedStatusListCredential;

describe('signed status list credential', () => {
  it('has the shape of a W3C BitstringStatusListCredential with our envelope as proof', async () => {
    const list = await signedList(world, [{ counter: 0, status: 'revoked' }]);
    expect(list['@context']).toEqual(['https://www.w3.org/ns/credentials/v2']);
    expect(list.type).toEqual(['VerifiableCredential', 'BitstringStatusListCredential']);
    expect(list.id).toBe(LIST_URL);
    expect(list.issuer).toEqual({ id: `urn:zhengtong:issuer:${ISSUER.code}`, ...ISSUER });
    expect(list.credentialSubject).toMatchObject({
      id: `${LIST_URL}#list`,
      type: 'BitstringStatusList',
      statusPurpose: 'message',
      statusSize: 2,
      revision: 7,
      statusMessage: [
        { status: '0x0', message: 'active' },
        { status: '0x1', message: 'suspended' },
        { status: '0x2', message: 'revoked' },
        { status: '0x3', message: 'superseded' },
      ],
    });
    expect(Date.parse(list.validUntil) - Date.parse(list.validFrom)).toBe(24 * 3600_000);
    expect(list.proof.type).toBe('ZhengtongSignedEnvelope');
    expect(list.proof.envelope.signer.certificate).toBe(Buffer.from(world.platformCertificate.rawData).toString('base64'));
    expect(list.proof.envelope.batch).toBeUndefined();
  });

  it('verifies after a trip through JSON text and gives every entry back', async () => {
    const list = await signedList(world, [
      { counter: 0, status: 'revoked' },
      { counter: 1, status: 'suspended' },
      { counter: 2, status: 'superseded' },
      { index: 5, status: 'revoked' },
    ]);
    const verified = await verifyStatusListCredential(JSON.stringify(list), { ...trust, expectedUrl: LIST_URL });
    expect(verified.url).toBe(LIST_URL);
    expect(verified.revision).toBe(7);
    expect(verified.stale).toBe(false);
    expect(verified.issuer).toEqual(ISSUER);
    expect(verified.signer.uscc).toBe(PLATFORM_USCC);
    expect(statusAt(verified, statusIndex(world.listKey, 0))).toBe('revoked');
    expect(statusAt(verified, statusIndex(world.listKey, 1))).toBe('suspended');
    expect(statusAt(verified, statusIndex(world.listKey, 2))).toBe('superseded');
    expect(statusAt(verified, statusIndex(world.listKey, 3))).toBe('active');
    expect(statusAt(verified, 5)).toBe('revoked');
    expect(() => statusAt(verified, 131_072)).toThrow(/outside the status list/);
  });

  it('refuses a list altered after signing: one licence flipped from revoked to active', async () => {
    const list = await signedList(world, [{ counter: 0, status: 'revoked' }]);
    const forged = copy(list);
    forged.credentialSubject.encodedList = new StatusBitstring().encode();
    const error = await failure(verifyStatusListCredential(forged, trust));
    expect(error.code).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(error.message).toMatch(new RegExp(`status list ${LIST_URL} does not match its signature`));
  });

  it('refuses a list whose revision or validity was moved', async () => {
    const list = await signedList(world);
    const later = copy(list);
    later.validUntil = new Date(Date.parse(list.validUntil) + 30 * 86_400_000).toISOString();
    expect((await failure(verifyStatusListCredential(later, trust))).code).toBe('ZT_ERR_SIGNATURE_INVALID');
    const revised = copy(list);
    revised.credentialSubject.revision = 8;
    expect((await failure(verifyStatusListCredential(revised, trust))).code).toBe('ZT_ERR_SIGNATURE_INVALID');
  });

  it('refuses a list signed by a certificate of another CA', async () => {
    const foreign = await signedList(other, [{ counter: 0, status: 'revoked' }]);
    const error = await failure(verifyStatusListCredential(foreign, trust));
    expect(error.code).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
    expect(error.message).toMatch(/is signed by a certificate that does not check out/);
  });

  it('needs the issuing CA beside the root, as the proof carries only the signer certificate', async () => {
    const list = await signedList(world);
    const error = await failure(verifyStatusListCredential(list, { caCertificates: { trustAnchors: [world.pki.root] } }));
    expect(error.code).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
  });

  it('refuses a stale list unless told to allow it, and then says it is stale', async () => {
    const list = await signedList(world, [{ counter: 0, status: 'revoked' }], { validFrom: new Date(world.now.getTime() - 3 * 86_400_000), validForMs: 86_400_000 });
    const error = await failure(verifyStatusListCredential(list, trust));
    expect(error.code).toBe('ZT_ERR_STATUS_LIST_INVALID');
    expect(error.message).toMatch(/expired at .* fetch a current copy from https:/);
    const verified = await verifyStatusListCredential(list, { ...trust, allowStale: true });
    expect(verified.stale).toBe(true);
    expect(statusAt(verified, statusIndex(world.listKey, 0))).toBe('revoked');
  });

  it('refuses a list that is not valid yet', async () => {
    const list = await signedList(world, [], { validFrom: new Date(world.now.getTime() + 3600_000) });
    expect((await failure(verifyStatusListCredential(list, trust))).message).toMatch(/valid only from/);
  });

  it('refuses a list served under another URL than expected', async () => {
    const list = await signedList(world);
    const error = await failure(verifyStatusListCredential(list, { ...trust, expectedUrl: `${LIST_URL}0` }));
    expect(error.code).toBe('ZT_ERR_STATUS_LIST_INVALID');
  });

  it('checks the length of the bitstring it signed', async () => {
    const credential = buildStatusListCredential({ url: LIST_URL, issuer: ISSUER, bitstring: new StatusBitstring(), revision: 1 });
    credential.credentialSubject.encodedList = encodeEncodedList(Buffer.alloc(1024));
    const short = await signStatusListCredential(world.signer, credential);
    const error = await failure(verifyStatusListCredential(short, trust));
    expect(error.code).toBe('ZT_ERR_STATUS_LIST_INVALID');
    expect(error.message).toMatch(/4096 entries, fewer than/);
  });

  it.each<[string, (c: Record<string, any>) => void, RegExp]>([
    ['statusMessage reordered', (c) => c.credentialSubject.statusMessage.reverse(), /statusMessage/],
    ['statusSize 1', (c) => (c.credentialSubject.statusSize = 1), /statusSize/],
    ['statusPurpose revocation', (c) => (c.credentialSubject.statusPurpose = 'revocation'), /statusPurpose/],
    ['no proof', (c) => delete c.proof, /proof/],
    ['a proof of another type', (c) => (c.proof.type = 'DataIntegrityProof'), /proof.type/],
    ['no type', (c) => delete c.type, /type/],
    ['a subject id of another list', (c) => (c.credentialSubject.id = 'https://elsewhere.example/list#list'), /credentialSubject.id/],
    ['validUntil before validFrom', (c) => (c.validUntil = '2000-01-01T00:00:00Z'), /validUntil/],
    ['an issuer code that is no code', (c) => (c.issuer.code = 'ABC'), /issuer.code/],
    ['a malformed envelope', (c) => (c.proof.envelope.signature = 'not base64!'), /malformed proof/],
  ])('refuses a list with %s', async (_what, change, message) => {
    const list = copy(await signedList(world)) as unknown as Record<string, any>;
    change(list);
    const error = await failure(verifyStatusListCredential(list, trust));
    expect(error.code).toBe('ZT_ERR_STATUS_LIST_INVALID');
    expect(error.message).toMatch(message);
  });

  it('refuses text that is not JSON', async () => {
    expect((await failure(verifyStatusListCredential('{"@context":', trust))).code).toBe('ZT_ERR_STATUS_LIST_INVALID');
  });

  it('will not sign with a signer that has no certificate to put in the proof', async () => {
    const bare = new InProcessSm2Signer({ privateKey: generateSm2KeyPair().privateKey });
    const credential = buildStatusListCredential({ url: LIST_URL, issuer: ISSUER, bitstring: new StatusBitstring(), revision: 0 });
    expect((await failure(signStatusListCredential(bare, credential))).code).toBe('ZT_ERR_CONFIG_INVALID');
  });

  it('publishes from counters only with the list key', async () => {
    await expect(publishStatusList(world.signer, { url: LIST_URL, issuer: ISSUER, entries: [{ counter: 0, status: 'revoked' }], revision: 1 })).rejects.toThrow(/need the list key/);
  });
});
