// The page's SM2/SM3 code against the server's own: what the page signs verifies with the server's verification
// code, and what the server signs (checkpoints, proofs) verifies in the page.
import { describe, expect, it, beforeAll } from 'vitest';
import { randomBytes, type KeyObject } from 'node:crypto';
import { generateSm2KeyPair, publicPoint, sm2Sign as serverSign, sm2Verify as serverVerify } from '../../../certs/sm2/sm2.js';
import { decodeEnvelopeJson, verifyEnvelope as serverVerifyEnvelope } from '../../../certs/envelope/index.js';
import { InProcessSm2Signer, inclusionProof, leafHash as serverLeafHash, merkleRoot } from '../../../certs/signer/index.js';
import { DEPARTMENT_USCC, makeTestPki, type TestPki } from '../../../certs/x509/test-pki.js';
import { signCheckpoint, verifyCheckpoint } from '../../../audit/log/checkpoint.js';
import { transitionStatement as serverStatement, verifySignedStep } from '../../../registry/catalogue/signed-transitions.js';
import { canonicalRequest as serverCanonicalRequest, presentedSignature } from '../../../transport/request-signature.js';
import { sm3 as serverSm3 } from '../../../certs/sm2/sm2.js';
import { bytesToHex, utf8 } from './bytes.js';
import { children, readDer } from './asn1.js';
import { readCertificate, readPrivateKey, KeyFileError, assertKeyMatches } from './keys.js';
import { sm2Sign, sm2Verify, sm3 } from './sm.js';
import { signRequest, signTransition, transitionStatement, type TransitionToSign, type SigningKey } from './signing.js';
import { verifyInclusionInPage, type ProofAnswer } from './proof.js';

let pki: TestPki;
let signing: SigningKey;
const pem = (c: { toString(format: 'pem'): string }) => c.toString('pem');
/** The ECPrivateKey (SEC1) inside a PKCS#8 key: node cannot export SM2 keys as SEC1 itself. */
function sec1Der(key: KeyObject): Buffer {
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  return Buffer.from(children(readDer(pkcs8))[2]!.value);
}
const toPem = (label: string, der: Buffer, headers = '') => `-----BEGIN ${label}-----\n${headers}${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`;

beforeAll(async () => {
  pki = await makeTestPki();
  const keyPem = pki.leafKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  signing = { key: await readPrivateKey(keyPem), certificate: readCertificate(pem(pki.leaf)) };
});

describe('SM3 and SM2 in the page (sm-crypto)', () => {
  it('hashes as the server does', () => {
    for (const input of ['', 'abc', 'x'.repeat(1000)]) expect(bytesToHex(sm3(utf8(input)))).toBe(serverSm3(Buffer.from(input)).toString('hex'));
  });

  it('verifies the GM/T 0003.5 test vector (default user ID)', () => {
    const pub = '04' + '09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020' + 'CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13';
    const r = 'F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3';
    const s = 'B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA';
    const der = Buffer.concat([Buffer.from([0x30, 0x46, 0x02, 0x21, 0x00]), Buffer.from(r, 'hex'), Buffer.from([0x02, 0x21, 0x00]), Buffer.from(s, 'hex')]);
    expect(sm2Verify(utf8('message digest'), der, pub.toLowerCase())).toBe(true);
    expect(sm2Verify(utf8('message digesT'), der, pub.toLowerCase())).toBe(false);
  });

  it('signs what the server verifies, and verifies what the server signs (DER, default ID)', () => {
    const keys = generateSm2KeyPair();
    const dHex = Buffer.from(children(readDer(sec1Der(keys.privateKey)))[1]!.value).toString('hex');
    const pub = '04' + publicPoint(keys.publicKey).toString('hex');
    for (let i = 0; i < 5; i++) {
      const m = utf8(`message ${i}`);
      expect(serverVerify(keys.publicKey, m, sm2Sign(m, dHex))).toBe(true);
      expect(sm2Verify(m, serverSign(keys.privateKey, m), pub)).toBe(true);
    }
  });
});

describe('reading keys and certificates in the page', () => {
  it('reads the certificate’s SM2 key and subject', () => {
    const cert = readCertificate(pem(pki.leaf));
    expect(cert.publicKey).toBe('04' + publicPoint(pki.leafKeys.publicKey).toString('hex'));
    expect(cert.subject.serialNumber).toBe(DEPARTMENT_USCC);
    expect(cert.subject.CN).toBe('市场监管局 数据交换');
    expect(cert.sm3).toBe(serverSm3(Buffer.from(pki.leaf.rawData)).toString('hex'));
  });

  it('reads PKCS#8, SEC1 and PBES2-encrypted PKCS#8 keys', async () => {
    const k = pki.leafKeys.privateKey;
    const expected = '04' + publicPoint(pki.leafKeys.publicKey).toString('hex');
    const forms = [
      k.export({ type: 'pkcs8', format: 'pem' }) as string,
      toPem('EC PRIVATE KEY', sec1Der(k)),
    ];
    for (const f of forms) expect((await readPrivateKey(f)).publicKey).toBe(expected);
    const encrypted = k.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: '口令 secret' }) as string;
    expect((await readPrivateKey(encrypted, '口令 secret')).publicKey).toBe(expected);
    await expect(readPrivateKey(encrypted)).rejects.toMatchObject({ reason: 'passphrase-needed' });
    await expect(readPrivateKey(encrypted, 'wrong')).rejects.toBeInstanceOf(KeyFileError);
    // Node aborts exporting an SM2 key as SEC1 (OpenSSL 3.0), so the traditional encrypted form is written by hand.
    const legacy = toPem('EC PRIVATE KEY', randomBytes(128), 'Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n');
    await expect(readPrivateKey(legacy, 'x')).rejects.toMatchObject({ reason: 'legacy-encrypted' });
  });

  it('tells a key that does not match the certificate', async () => {
    const other = await readPrivateKey(generateSm2KeyPair().privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    expect(() => assertKeyMatches(other, signing.certificate)).toThrow(KeyFileError);
    expect(() => assertKeyMatches(signing.key, signing.certificate)).not.toThrow();
  });
});

describe('demand steps signed in the page', () => {
  const steps: TransitionToSign[] = [
    { kind: 'approve', demandId: '0199a1b2-0000-7000-8000-000000000001', actor: DEPARTMENT_USCC.toLowerCase(), content: { terms: { dailyQuota: 50, items: ['name', 'address'], note: '' } } },
    { kind: 'approve', demandId: 'd-2', actor: DEPARTMENT_USCC, content: { terms: {} } },
    { kind: 'refuse', demandId: 'd-3', actor: DEPARTMENT_USCC, content: { negativeListRuleId: 'NL-2026-001', legalBasis: '《政务数据共享条例》第十二条', reason: '涉及个人隐私', extra: 'ignored' } },
    { kind: 'withdraw', demandId: 'd-4', actor: DEPARTMENT_USCC, content: { reason: 'no longer needed' } },
    { kind: 'register', actor: DEPARTMENT_USCC, content: { requester: DEPARTMENT_USCC, resource: 'R-1', items: ['a', 'b'], serviceItem: 'S-1', legalBasis: 'x', expectedDailyVolume: 10, validFrom: '2026-01-01', validTo: null } },
  ];

  it('builds the statement byte for byte as the server does', () => {
    for (const step of steps) expect(Buffer.from(transitionStatement(step)).toString()).toBe(serverStatement(step).toString());
  });

  it('signs an envelope the server verifies (verifySignedStep, as the demand routes call it)', async () => {
    for (const step of steps) {
      const envelope = signTransition(signing, step);
      const decoded = decodeEnvelopeJson(envelope);
      await serverVerifyEnvelope(decoded, serverStatement(step), { publicKey: pki.leafKeys.publicKey });
      const evidence = await verifySignedStep(
        { windowMs: 300_000, validate: async () => ({ uscc: DEPARTMENT_USCC, serial: '01', publicKey: pki.leafKeys.publicKey, fingerprintSm3: 'f' }) as never },
        { kind: step.kind, what: `${step.kind} of a demand`, actor: DEPARTMENT_USCC, statement: () => serverStatement(step), proof: decoded },
      );
      expect(evidence.kind).toBe(step.kind);
    }
  });

  it('a signature over another statement is refused by the server', async () => {
    const envelope = decodeEnvelopeJson(signTransition(signing, steps[0]!));
    await expect(serverVerifyEnvelope(envelope, serverStatement(steps[1]!), { publicKey: pki.leafKeys.publicKey })).rejects.toMatchObject({ code: 'ZT_ERR_SIGNATURE_INVALID' });
  });
});

describe('catalogue calls signed in the page (Zt-* request signature)', () => {
  it('gives headers the gateway reads and a signature over its canonical request', () => {
    const body = JSON.stringify({ code: 'R-1', name: '企业登记信息' });
    const path = '/v1/catalogue/resources?x=1';
    const headers = signRequest(signing, { method: 'post', path, body });
    const presented = presentedSignature((name) => headers[{ timestamp: 'zt-timestamp', nonce: 'zt-nonce', certificate: 'zt-certificate', signature: 'zt-request-signature' }[name]]);
    expect(presented.certificate.equals(Buffer.from(pki.leaf.rawData))).toBe(true);
    const canonical = serverCanonicalRequest({ method: 'POST', path, timestamp: presented.timestamp, nonce: presented.nonce, bodySm3: serverSm3(Buffer.from(body)), certificateSm3: serverSm3(presented.certificate) });
    expect(serverVerify(pki.leafKeys.publicKey, canonical, presented.signature)).toBe(true);
    expect(serverVerify(pki.leafKeys.publicKey, Buffer.concat([canonical, Buffer.from('x')]), presented.signature)).toBe(false);
  });
});

describe('inclusion proofs checked in the page', () => {
  async function produce(count: number, index: number): Promise<ProofAnswer & { platformCertificatePem: string }> {
    const leaves = Array.from({ length: count }, (_, i) => Buffer.from(JSON.stringify({ seq: i + 1, id: `r-${i}`, decision: i % 3 ? 'permit' : 'deny' })));
    const hashes = leaves.map((l) => serverLeafHash(l));
    const signer = new InProcessSm2Signer({ privateKey: pki.leafKeys.privateKey, certificate: new Uint8Array(pki.leaf.rawData) });
    const checkpoint = await signCheckpoint(signer, { treeSize: count, rootHash: merkleRoot(hashes), platform: DEPARTMENT_USCC });
    await verifyCheckpoint(checkpoint, { trustAnchors: [pki.root], intermediates: [pki.issuing] }); // the server's own check holds
    return {
      leafIndex: index,
      leafHash: hashes[index]!.toString('hex'),
      leaf: leaves[index]!.toString('base64'),
      treeSize: count,
      proof: inclusionProof(index, hashes).map((h) => h.toString('hex')),
      checkpoint: checkpoint as ProofAnswer['checkpoint'],
      platformCertificatePem: pem(pki.leaf),
    };
  }

  it('verifies real proofs for every position of trees of several sizes', async () => {
    for (const size of [1, 2, 3, 7, 8, 13]) {
      for (const index of new Set([0, Math.floor(size / 2), size - 1])) {
        const answer = await produce(size, index);
        const report = verifyInclusionInPage(answer, answer.platformCertificatePem);
        expect(report.steps.filter((s) => !s.ok)).toEqual([]);
        expect(report.ok).toBe(true);
        expect(report.computedRoot).toBe(answer.checkpoint.rootHash);
      }
    }
  });

  it("checks the platform certificate's chain to the CA, and names where a chain breaks", async () => {
    const answer = await produce(4, 1);
    const ca = { issuing: pem(pki.issuing), root: pem(pki.root) };
    const good = verifyInclusionInPage(answer, answer.platformCertificatePem, ca);
    expect(good.steps.find((s) => s.step === 'chain')).toMatchObject({ ok: true });
    expect(good.ok).toBe(true);
    const stranger = await makeTestPki();
    const foreignRoot = verifyInclusionInPage(answer, answer.platformCertificatePem, { issuing: pem(pki.issuing), root: pem(stranger.root) });
    expect(foreignRoot.ok).toBe(false);
    expect(foreignRoot.steps.find((s) => s.step === 'chain')!.detail).toContain('the issuing CA');
    const foreignIssuer = verifyInclusionInPage(answer, answer.platformCertificatePem, { issuing: pem(stranger.issuing), root: pem(stranger.root) });
    expect(foreignIssuer.steps.find((s) => s.step === 'chain')!.detail).toContain('the platform certificate');
  });

  it('accepts the leaf as JSON text (the /v1 form) too', async () => {
    const answer = await produce(5, 3);
    answer.leaf = Buffer.from(answer.leaf!, 'base64').toString('utf8');
    expect(verifyInclusionInPage(answer, answer.platformCertificatePem).ok).toBe(true);
  });

  it('fails on an edited leaf, a wrong path, an edited checkpoint or another key', async () => {
    const answer = await produce(6, 2);
    const edited = { ...answer, leafHash: undefined, leaf: Buffer.from('{"seq":3,"id":"r-2","decision":"deny"}').toString('base64') };
    expect(verifyInclusionInPage(edited, answer.platformCertificatePem).steps.find((s) => s.step === 'root')!.ok).toBe(false);
    const path = { ...answer, proof: answer.proof.slice(1) };
    expect(verifyInclusionInPage(path, answer.platformCertificatePem).ok).toBe(false);
    const moved = { ...answer, checkpoint: { ...answer.checkpoint, signedAt: new Date(Date.parse(answer.checkpoint.signedAt) + 1).toISOString() } };
    expect(verifyInclusionInPage(moved, answer.platformCertificatePem).ok).toBe(false);
    const resized = { ...answer, checkpoint: { ...answer.checkpoint, platform: '11100000000013338W' } };
    const r = verifyInclusionInPage(resized, answer.platformCertificatePem);
    expect(r.steps.find((s) => s.step === 'signature')!.ok).toBe(false);
    const other = verifyInclusionInPage(answer, pem(pki.otherLeaf));
    expect(other.steps.find((s) => s.step === 'signature')!.ok).toBe(false);
  });
});
