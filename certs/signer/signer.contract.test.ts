// One contract for every Signer adapter: the worker pool and the in-process signer here, an HSM adapter later
// (move signerContract to test/contracts/ when an adapter outside certs/signer needs it).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
// sm-crypto is an independent, pure-JavaScript SM2 implementation, used here only to cross-check.
import smCrypto from 'sm-crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import { generateSm2KeyPair, publicPoint, sm2Verify, sm3, SM2_DEFAULT_USER_ID } from '../sm2/sm2.js';
import { InProcessSm2Signer, LocalSm2Signer } from './local-sm2-signer.js';
import type { Signer } from './signer.js';
import type { LocalSignerKeyOptions } from './signer-key.js';

const { sm2: smSm2 } = smCrypto as unknown as {
  sm2: { doVerifySignature(msg: number[], sigHex: string, publicKeyHex: string, options: { hash: boolean; der: boolean; userId?: string }): boolean };
};

/** A self-signed SM2 certificate (DER) made by the OpenSSL command line, with the default SM2 ID. */
function selfSignedCertificate(privateKey: KeyObject): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'zt-signer-cert-'));
  try {
    writeFileSync(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    execFileSync('openssl', ['req', '-new', '-x509', '-key', join(dir, 'key.pem'), '-sm3', '-sigopt', `distid:${SM2_DEFAULT_USER_ID}`, '-subj', '/CN=zhengtong signer test', '-days', '1', '-outform', 'DER', '-out', join(dir, 'cert.der')], { stdio: 'ignore' });
    return readFileSync(join(dir, 'cert.der'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SignerHarness {
  name: string;
  open(options: LocalSignerKeyOptions): Promise<Signer>;
}

export function signerContract(harness: SignerHarness): void {
  describe(`Signer contract: ${harness.name}`, () => {
    const opened: Signer[] = [];
    const open = async (options: LocalSignerKeyOptions) => {
      const signer = await harness.open(options);
      opened.push(signer);
      return signer;
    };
    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
    });

    it('describes itself: SM2-SM3, the default SM2 ID, an SM2 public key, a concurrency of at least one', async () => {
      const { privateKey, publicKey } = generateSm2KeyPair();
      const signer = await open({ privateKey });
      expect(signer.algorithm).toBe('SM2-SM3');
      expect(signer.userId).toBe(SM2_DEFAULT_USER_ID);
      expect(publicPoint(signer.publicKey)).toEqual(publicPoint(publicKey));
      expect(signer.publicKey.type).toBe('public');
      expect(signer.concurrency).toBeGreaterThanOrEqual(1);
      expect(signer.certificate).toBeUndefined();
    });

    it('makes standard SM2 signatures: they verify with sm2.ts and with sm-crypto', async () => {
      const { privateKey, publicKey } = generateSm2KeyPair();
      const signer = await open({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string });
      const xy = publicPoint(publicKey).toString('hex');
      for (const message of [Buffer.alloc(0), Buffer.from('message digest'), Buffer.alloc(5000, 7)]) {
        const signature = await signer.sign(message);
        expect(sm2Verify(publicKey, message, signature)).toBe(true);
        expect(smSm2.doVerifySignature([...message], signature.toString('hex'), `04${xy}`, { hash: true, der: true })).toBe(true);
      }
    });

    it('signs with its configured SM2 ID, which enters ZA', async () => {
      const { privateKey, publicKey } = generateSm2KeyPair();
      const userId = 'signer@shenyang.gov.cn';
      const signer = await open({ privateKey, userId });
      expect(signer.userId).toBe(userId);
      const message = Buffer.from('with another ID');
      const signature = await signer.sign(message);
      expect(sm2Verify(publicKey, message, signature, { userId })).toBe(true);
      expect(sm2Verify(publicKey, message, signature)).toBe(false);
      const xy = publicPoint(publicKey).toString('hex');
      expect(smSm2.doVerifySignature([...message], signature.toString('hex'), `04${xy}`, { hash: true, der: true, userId })).toBe(true);
    });

    it('answers many concurrent requests, each with the signature of its own message', async () => {
      const { privateKey, publicKey } = generateSm2KeyPair();
      const signer = await open({ privateKey });
      const messages = Array.from({ length: 64 }, (_, i) => Buffer.from(`message ${i}`));
      // Some of them views into one larger buffer, as a caller slicing a bigger payload would pass.
      const big = Buffer.concat(messages);
      const views = messages.map((m, i) => (i % 2 ? m : big.subarray(big.indexOf(m), big.indexOf(m) + m.length)));
      const signatures = await Promise.all(views.map((m) => signer.sign(m)));
      signatures.forEach((sig, i) => expect(sm2Verify(publicKey, messages[i]!, sig)).toBe(true));
    });

    it('carries its certificate with the SM3 fingerprint of the DER', async () => {
      const { privateKey } = generateSm2KeyPair();
      const der = selfSignedCertificate(privateKey);
      const signer = await open({ privateKey, certificate: der });
      expect(signer.certificate?.der).toEqual(der);
      expect(signer.certificate?.fingerprint).toBe(sm3(der).toString('hex'));
      expect(signer.certificate?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    });

    it('refuses a certificate of another key, a non-SM2 key and an empty SM2 ID', async () => {
      const { privateKey } = generateSm2KeyPair();
      const other = generateSm2KeyPair();
      const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (isZtError(e) ? e.code : String(e)));
      expect(await codeOf(open({ privateKey, certificate: selfSignedCertificate(other.privateKey) }))).toBe('ZT_ERR_CERT_MALFORMED');
      const { generateKeyPairSync } = await import('node:crypto');
      expect(await codeOf(open({ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }))).toBe('ZT_ERR_KEY_NOT_SM2');
      expect(await codeOf(open({ privateKey: other.publicKey }))).toBe('ZT_ERR_KEY_MALFORMED');
      expect(await codeOf(open({ privateKey, userId: '' }))).toBe('ZT_ERR_CONFIG_INVALID');
    });

    it('close() lets signatures in progress finish, then refuses new ones with ZT_ERR_SHUTTING_DOWN', async () => {
      const { privateKey, publicKey } = generateSm2KeyPair();
      const signer = await harness.open({ privateKey });
      const message = Buffer.from('before close');
      const inProgress = Array.from({ length: 20 }, () => signer.sign(message));
      const closed = signer.close();
      const signatures = await Promise.all(inProgress);
      for (const sig of signatures) expect(sm2Verify(publicKey, message, sig)).toBe(true);
      await closed;
      await expect(signer.sign(message)).rejects.toMatchObject({ code: 'ZT_ERR_SHUTTING_DOWN' });
      await signer.close(); // twice is harmless
    });
  });
}

signerContract({ name: 'LocalSm2Signer (worker pool)', open: (options) => LocalSm2Signer.start(options) });
signerContract({ name: 'LocalSm2Signer (one worker)', open: (options) => LocalSm2Signer.start({ ...options, workers: 1 }) });
signerContract({ name: 'InProcessSm2Signer', open: async (options) => new InProcessSm2Signer(options) });
