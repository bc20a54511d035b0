import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign as nodeSign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// sm-crypto is an independent, pure-JavaScript SM2 implementation, used here only to cross-check.
import smCrypto from 'sm-crypto';
import { describe, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import {
  asSm2Key,
  computeZa,
  decodeSignature,
  encodeSignature,
  generateSm2KeyPair,
  loadSm2PrivateKey,
  loadSm2PublicKey,
  publicPoint,
  sm2Sign,
  sm2Verify,
  sm3,
  SM2_DEFAULT_USER_ID,
} from './sm2.js';

const { sm2: smSm2 } = smCrypto as unknown as {
  sm2: {
    doSignature(msg: string | number[], privateKeyHex: string, options: { hash: boolean; der: boolean; userId?: string; publicKey?: string }): string;
    doVerifySignature(msg: string | number[], sigHex: string, publicKeyHex: string, options: { hash: boolean; der: boolean; userId?: string }): boolean;
    generateKeyPairHex(): { privateKey: string; publicKey: string };
  };
};

// GM/T 0003.5 (GB/T 32918.5) Annex A, also in OpenSSL's sm2_internal_test.c.
const VECTOR = {
  d: '3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8',
  x: '09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020',
  y: 'CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13',
  message: 'message digest',
  za: 'B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3',
  e: 'F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640',
  r: 'F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3',
  s: 'B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA',
};

/** PKCS#8 DER of an SM2 private key d (with its public point), built by hand so no library is trusted. */
function pkcs8FromScalar(dHex: string, xHex: string, yHex: string): Buffer {
  const ecPrivateKey = Buffer.concat([
    Buffer.from('307702010104', 'hex'),
    Buffer.from([0x20]),
    Buffer.from(dHex, 'hex'),
    Buffer.from('a00a06082a811ccf5501822d', 'hex'),
    Buffer.from('a144034200', 'hex'),
    Buffer.from(`04${xHex}${yHex}`, 'hex'),
  ]);
  const algorithm = Buffer.from('301306072a8648ce3d020106082a811ccf5501822d', 'hex');
  const octet = Buffer.concat([Buffer.from([0x04, ecPrivateKey.length]), ecPrivateKey]);
  const body = Buffer.concat([Buffer.from('020100', 'hex'), algorithm, octet]);
  return Buffer.concat([Buffer.from([0x30, 0x81, body.length]), body]);
}

function vectorKeys() {
  const privateKey = loadSm2PrivateKey(pkcs8FromScalar(VECTOR.d, VECTOR.x, VECTOR.y));
  return { privateKey, publicKey: asSm2Key(createPublicKey(privateKey)) };
}

function hexOfPublic(key: ReturnType<typeof generateSm2KeyPair>['publicKey']): string {
  return `04${publicPoint(key).toString('hex')}`;
}

function privateScalarHex(key: ReturnType<typeof generateSm2KeyPair>['privateKey']): string {
  // PKCS#8 → ECPrivateKey: the 32-byte scalar follows the OCTET STRING header 04 20 after version 02 01 01.
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const at = der.indexOf(Buffer.from('0201010420', 'hex'));
  return der.subarray(at + 5, at + 37).toString('hex');
}

/** Test keys encrypted with the passphrase "correct-horse" (throwaway keys, made for this file). */
const ENCRYPTED_PKCS8 = `-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHrMFYGCSqGSIb3DQEFDTBJMCgGCSqGSIb3DQEFDDAbBAhsL+C6ph8/NQIBATAM
BggqhkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQ4vO0fu59xUnuNrD9qF65SQSBkEpr
GkIdJrOkdS2GrQZ63jg9L6kE3A4UjjTHnTfI01ZeJiA/P47umYsNCI9W3lGhizOn
bU6y2IcInJYDCjOrOm3CG7GDlvfRFWEZg1l56JaRdHms6tuC6QREYavEER6i0whB
lRfYJNZ9Ank1IYE8cH8VBEm9dBtLyHjw3NZTdSjv600qU3sp5MCrAiHCRYfFUA==
-----END ENCRYPTED PRIVATE KEY-----
`;
const ENCRYPTED_PKCS8_DER = Buffer.from(ENCRYPTED_PKCS8.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
const ENCRYPTED_SEC1 = `-----BEGIN EC PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: AES-256-CBC,3E5E0208E8452326E969C566DD322CDA

kOW+evD50yGc9fBfjxjpUtNoFTirMZIhA6Ga5NhmpJS653AoSgrcj3WSevzz65bA
IsWD/wmoNnjcSGv6DiKnrkqDZ6GOmUOnRPyJTiIFMS2pRNsRa+3TbqVGm146pFrD
vLfQfR4Icb4hCFFl33P+1CI5oZwYrK9ZKs6TUhZpEYA=
-----END EC PRIVATE KEY-----
`;

describe('SM2 against the GM/T 0003.5 Annex A vector', () => {
  it('computes ZA and e of the standard', () => {
    const { publicKey } = vectorKeys();
    expect(publicPoint(publicKey).toString('hex').toUpperCase()).toBe(VECTOR.x + VECTOR.y);
    const za = computeZa(publicKey);
    expect(za.toString('hex').toUpperCase()).toBe(VECTOR.za);
    expect(sm3(za, Buffer.from(VECTOR.message)).toString('hex').toUpperCase()).toBe(VECTOR.e);
  });

  it('accepts the standard signature (r, s) and refuses it for another message or ID', () => {
    const { publicKey } = vectorKeys();
    const signature = encodeSignature(BigInt(`0x${VECTOR.r}`), BigInt(`0x${VECTOR.s}`));
    expect(sm2Verify(publicKey, Buffer.from(VECTOR.message), signature)).toBe(true);
    expect(sm2Verify(publicKey, Buffer.from('message digesT'), signature)).toBe(false);
    expect(sm2Verify(publicKey, Buffer.from(VECTOR.message), signature, { userId: '' })).toBe(false);
  });

  it('signs with the vector key so that the standard verifies it', () => {
    const { privateKey, publicKey } = vectorKeys();
    const signature = sm2Sign(privateKey, Buffer.from(VECTOR.message));
    expect(sm2Verify(publicKey, Buffer.from(VECTOR.message), signature)).toBe(true);
    expect(smSm2.doVerifySignature(VECTOR.message, signature.toString('hex'), `04${VECTOR.x}${VECTOR.y}`.toLowerCase(), { hash: true, der: true })).toBe(true);
  });
});

describe('SM2 keys however they were made', () => {
  it('turns an EC key on the SM2 curve (which would sign ECDSA) into an SM2 key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    expect(privateKey.asymmetricKeyType).toBe('ec');
    const sm2Private = asSm2Key(privateKey);
    const sm2Public = asSm2Key(publicKey);
    const message = randomBytes(100);
    const signature = sm2Sign(sm2Private, message);
    expect(sm2Verify(sm2Public, message, signature)).toBe(true);
    expect(smSm2.doVerifySignature([...message], signature.toString('hex'), hexOfPublic(sm2Public), { hash: true, der: true })).toBe(true);
  });

  it('loads PEM, DER and passphrase-protected PKCS#8', () => {
    const { privateKey, publicKey } = generateSm2KeyPair();
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const encrypted = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' }) as string;
    const message = Buffer.from('政务数据共享');
    for (const loaded of [loadSm2PrivateKey(pem), loadSm2PrivateKey(der), loadSm2PrivateKey(encrypted, 'correct horse')]) {
      expect(sm2Verify(publicKey, message, sm2Sign(loaded, message))).toBe(true);
    }
    const pubPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(sm2Verify(loadSm2PublicKey(pubPem), message, sm2Sign(privateKey, message))).toBe(true);

    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return isZtError(error) ? error.code : String(error);
      }
      return 'no error';
    };
    expect(codeOf(() => loadSm2PrivateKey(encrypted))).toBe('ZT_ERR_KEY_PASSPHRASE');
    expect(codeOf(() => loadSm2PrivateKey(encrypted, 'wrong'))).toBe('ZT_ERR_KEY_PASSPHRASE');
    expect(codeOf(() => loadSm2PrivateKey('-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n'))).toBe('ZT_ERR_KEY_MALFORMED');
    expect(codeOf(() => loadSm2PrivateKey(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])))).toBe('ZT_ERR_KEY_MALFORMED');
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(codeOf(() => loadSm2PrivateKey(p256))).toBe('ZT_ERR_KEY_NOT_SM2');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(codeOf(() => loadSm2PublicKey(rsa))).toBe('ZT_ERR_KEY_NOT_SM2');
  });

  // A wrong passphrase decrypts to garbage that, about once in 256, ends in valid CBC padding; OpenSSL then fails to
  // decode it rather than to decrypt it. That is still a wrong passphrase, not a malformed key. Fixed keys and fixed
  // passphrases make the cases the same on every run: these 2000 hit valid padding 11 times (PKCS#8) and 4 times
  // (SEC1). The PKCS#8 key was encrypted with one PBKDF2 iteration (openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 1), not
  // the default 2048, so the three loops together take about a second.
  it('calls every wrong passphrase a passphrase error, also those that decrypt to valid padding', () => {
    for (const [form, key] of [
      ['PKCS#8 PEM', ENCRYPTED_PKCS8],
      ['PKCS#8 DER', ENCRYPTED_PKCS8_DER],
      ['SEC1 PEM', ENCRYPTED_SEC1],
    ] as const) {
      expect(publicPoint(loadSm2PrivateKey(key, 'correct-horse')), form).toHaveLength(64);
      const codes: Record<string, string[]> = {};
      // The cases that matter: OpenSSL decrypted to valid padding and failed to decode what came out.
      const decoded: string[] = [];
      for (let i = 0; i < 2000; i++) {
        const passphrase = `wrong-${i}`;
        let code = 'no error';
        try {
          loadSm2PrivateKey(key, passphrase);
        } catch (error) {
          code = isZtError(error) ? error.code : String(error);
          if (!/bad decrypt/.test(((error as Error).cause as Error | undefined)?.message ?? '')) decoded.push(passphrase);
        }
        (codes[code] ??= []).push(passphrase);
      }
      expect(decoded.length, `${form}: passphrases that decrypt to valid padding`).toBeGreaterThan(0);
      const { ZT_ERR_KEY_PASSPHRASE: passphraseErrors, ...others } = codes;
      expect(others, `${form}: wrong passphrases reported otherwise`).toEqual({});
      expect(passphraseErrors, form).toHaveLength(2000);
    }
  });
});

describe('SM2 signatures are standard: cross-checked with sm-crypto in both directions', () => {
  it('on many random keys and messages, default and custom IDs', () => {
    for (let i = 0; i < 24; i++) {
      const { privateKey, publicKey } = generateSm2KeyPair();
      const message = randomBytes(1 + Math.floor(Math.random() * 300));
      const userId = i % 3 === 0 ? 'zhengtong@shenyang.gov.cn' : undefined;
      const ours = sm2Sign(privateKey, message, { userId });
      expect(smSm2.doVerifySignature([...message], ours.toString('hex'), hexOfPublic(publicKey), { hash: true, der: true, userId: userId ?? SM2_DEFAULT_USER_ID })).toBe(true);
      const theirs = smSm2.doSignature([...message], privateScalarHex(privateKey), { hash: true, der: true, userId: userId ?? SM2_DEFAULT_USER_ID, publicKey: hexOfPublic(publicKey) });
      expect(sm2Verify(publicKey, message, Buffer.from(theirs, 'hex'), { userId })).toBe(true);
      expect(sm2Verify(publicKey, Buffer.concat([message, Buffer.from([1])]), Buffer.from(theirs, 'hex'), { userId })).toBe(false);
    }
  });

  it('refuses signatures made the non-standard ways Node and OpenSSL default to', () => {
    const { privateKey, publicKey } = generateSm2KeyPair();
    const message = Buffer.from('不予共享');
    // crypto.sign with an SM2 key uses an empty ID.
    const emptyId = nodeSign('sm3', message, privateKey);
    expect(sm2Verify(publicKey, message, emptyId)).toBe(false);
    expect(sm2Verify(publicKey, message, emptyId, { userId: '' })).toBe(true);
  });

  it('refuses malformed DER with its own code', () => {
    const { publicKey } = generateSm2KeyPair();
    for (const bad of [Buffer.alloc(0), Buffer.from('3006020100020100', 'hex'), Buffer.from('30060201010201', 'hex'), randomBytes(64)]) {
      let code = 'none';
      try {
        sm2Verify(publicKey, Buffer.from('m'), bad);
      } catch (error) {
        code = isZtError(error) ? error.code : 'other';
      }
      expect(code).toBe('ZT_ERR_SIGNATURE_MALFORMED');
    }
    const [r, s] = decodeSignature(encodeSignature(5n, 2n ** 255n))!;
    expect([r, s]).toEqual([5n, 2n ** 255n]);
  });
});

// The OpenSSL 3 command line is part of the reference machine; without it (or without SM2 in it) these fail.
describe('SM2 signatures cross-checked with the OpenSSL command line (distid)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zt-sm2-openssl-'));
  const run = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  it('OpenSSL verifies ours and we verify OpenSSL\'s, on random keys and messages', () => {
    for (let i = 0; i < 6; i++) {
      const { privateKey, publicKey } = generateSm2KeyPair();
      const keyPath = join(dir, `k${i}.pem`);
      const pubPath = join(dir, `p${i}.pem`);
      const msgPath = join(dir, `m${i}.bin`);
      writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      writeFileSync(pubPath, publicKey.export({ type: 'spki', format: 'pem' }));
      const message = randomBytes(10 + i * 37);
      writeFileSync(msgPath, message);

      const oursPath = join(dir, `ours${i}.sig`);
      writeFileSync(oursPath, sm2Sign(privateKey, message));
      expect(run(['pkeyutl', '-verify', '-pubin', '-inkey', pubPath, '-rawin', '-digest', 'sm3', '-pkeyopt', `distid:${SM2_DEFAULT_USER_ID}`, '-in', msgPath, '-sigfile', oursPath])).toMatch(
        /Signature Verified Successfully/,
      );

      const theirsPath = join(dir, `theirs${i}.sig`);
      run(['pkeyutl', '-sign', '-inkey', keyPath, '-rawin', '-digest', 'sm3', '-pkeyopt', `distid:${SM2_DEFAULT_USER_ID}`, '-in', msgPath, '-out', theirsPath]);
      expect(sm2Verify(publicKey, message, readFileSync(theirsPath))).toBe(true);
    }
  });

  it('a key made by OpenSSL signs and verifies here', () => {
    const keyPath = join(dir, 'openssl-made.pem');
    run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', keyPath]);
    const privateKey = loadSm2PrivateKey(readFileSync(keyPath, 'utf8'));
    const publicKey = asSm2Key(createPublicKey(privateKey));
    const message = Buffer.from('openssl-made key');
    expect(sm2Verify(publicKey, message, sm2Sign(privateKey, message))).toBe(true);
    expect(createPrivateKey(readFileSync(keyPath, 'utf8'))).toBeDefined();
  });
});
