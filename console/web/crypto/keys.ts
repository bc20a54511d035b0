// Reading a department's certificate and SM2 private key in the page, from the PEM files the project writes
// (certs/ca: PKCS#8 PEM, optionally encrypted with PBES2 / PBKDF2 / AES-CBC; OpenSSL's SEC1 "EC PRIVATE KEY" too).
// The key never leaves the page: it is read with FileReader, parsed here and kept in memory only.
import { children, integer, oid, pemBlocks, readDer, type Der } from './asn1.js';
import { bytesToHex, utf8 } from './bytes.js';
import { publicKeyOf, sm3 } from './sm.js';

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_SM2_CURVE = '1.2.156.10197.1.301';
const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
const PRF: Record<string, string> = {
  '1.2.840.113549.2.7': 'SHA-1',
  '1.2.840.113549.2.9': 'SHA-256',
  '1.2.840.113549.2.10': 'SHA-384',
  '1.2.840.113549.2.11': 'SHA-512',
};
const AES_CBC: Record<string, number> = { '2.16.840.1.101.3.4.1.2': 128, '2.16.840.1.101.3.4.1.22': 192, '2.16.840.1.101.3.4.1.42': 256 };

export class KeyFileError extends Error {
  constructor(
    readonly reason: 'no-pem' | 'not-sm2' | 'malformed' | 'passphrase-needed' | 'passphrase-wrong' | 'legacy-encrypted' | 'mismatch',
    message: string,
  ) {
    super(message);
  }
}

export interface CertificateInfo {
  der: Uint8Array;
  /** SM3 of the DER, lower-case hex. */
  sm3: string;
  /** '04' ‖ x ‖ y, hex. */
  publicKey: string;
  /** Subject attributes by short name (CN, O, OU, serialNumber…). */
  subject: Record<string, string>;
}

const NAMES: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.5': 'serialNumber', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST' };

function text(d: Der): string {
  return new TextDecoder().decode(d.value);
}

/** Reads the first CERTIFICATE block of a PEM text (or DER bytes): its SM2 public key and subject. */
export function readCertificate(input: string | Uint8Array): CertificateInfo {
  let der: Uint8Array;
  if (typeof input === 'string') {
    const block = pemBlocks(input).find((b) => b.label === 'CERTIFICATE');
    if (!block) throw new KeyFileError('no-pem', 'no "BEGIN CERTIFICATE" block');
    der = block.der;
  } else der = input;
  try {
    const cert = readDer(der);
    const tbs = children(children(cert)[0]!);
    // version [0] is optional: serial, signature, issuer, validity, subject, spki follow it.
    const at = tbs[0]!.tag === 0xa0 ? 1 : 0;
    const subjectDer = tbs[at + 4]!;
    const spki = children(tbs[at + 5]!);
    const alg = children(spki[0]!);
    if (oid(alg[0]!) !== OID_EC_PUBLIC_KEY || !alg[1] || oid(alg[1]) !== OID_SM2_CURVE) throw new KeyFileError('not-sm2', 'the certificate key is not an SM2 key');
    const bits = spki[1]!.value; // unused-bits byte, then 04 ‖ x ‖ y
    const subject: Record<string, string> = {};
    for (const rdn of children(subjectDer)) {
      for (const atv of children(rdn)) {
        const [type, value] = children(atv);
        subject[NAMES[oid(type!)] ?? oid(type!)] = text(value!);
      }
    }
    return { der, sm3: bytesToHex(sm3(der)), publicKey: bytesToHex(bits.subarray(1)), subject };
  } catch (error) {
    if (error instanceof KeyFileError) throw error;
    throw new KeyFileError('malformed', `the certificate cannot be read (${(error as Error).message})`);
  }
}

/** ECPrivateKey (RFC 5915) → d as 64 hex digits; the curve, when named, must be sm2p256v1. */
function fromEcPrivateKey(der: Uint8Array): string {
  const parts = children(readDer(der));
  if (integer(parts[0]!) !== 1 || parts[1]!.tag !== 0x04) throw new KeyFileError('malformed', 'not an EC private key');
  const params = parts.find((p) => p.tag === 0xa0);
  if (params && oid(children(params)[0]!) !== OID_SM2_CURVE) throw new KeyFileError('not-sm2', 'the key is not on the SM2 curve (sm2p256v1)');
  return bytesToHex(parts[1]!.value).padStart(64, '0');
}

/** PrivateKeyInfo (PKCS#8) → d. */
function fromPkcs8(der: Uint8Array): string {
  const parts = children(readDer(der));
  const alg = children(parts[1]!);
  if (oid(alg[0]!) !== OID_EC_PUBLIC_KEY || !alg[1] || oid(alg[1]) !== OID_SM2_CURVE) throw new KeyFileError('not-sm2', 'the key is not an SM2 key (sm2p256v1)');
  return fromEcPrivateKey(parts[2]!.value);
}

/** WebCrypto takes bytes over a plain ArrayBuffer: a copy gives one. */
const copy = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

/** EncryptedPrivateKeyInfo with PBES2 (PBKDF2 + AES-CBC), decrypted by WebCrypto. */
async function decryptPkcs8(der: Uint8Array, passphrase: string): Promise<Uint8Array> {
  const [algorithm, data] = children(readDer(der));
  const [scheme, params] = children(algorithm!);
  if (oid(scheme!) !== OID_PBES2) throw new KeyFileError('legacy-encrypted', 'only PBES2 encrypted keys can be opened in the page');
  const [kdf, enc] = children(params!);
  const [kdfOid, kdfParams] = children(kdf!);
  if (oid(kdfOid!) !== OID_PBKDF2) throw new KeyFileError('legacy-encrypted', 'only PBKDF2 key derivation can be opened in the page');
  const kp = children(kdfParams!);
  const salt = kp[0]!.value;
  const iterations = integer(kp[1]!);
  const prfAlg = kp.find((p) => p.tag === 0x30);
  const hash = prfAlg ? PRF[oid(children(prfAlg)[0]!)] : 'SHA-1';
  const [encOid, iv] = children(enc!);
  const bits = AES_CBC[oid(encOid!)];
  if (!hash || !bits) throw new KeyFileError('legacy-encrypted', 'the key is encrypted with a cipher the page does not have (AES-CBC with PBKDF2 only)');
  const subtle = globalThis.crypto.subtle;
  const base = await subtle.importKey('raw', copy(utf8(passphrase)), 'PBKDF2', false, ['deriveKey']);
  const key = await subtle.deriveKey({ name: 'PBKDF2', salt: copy(salt), iterations, hash }, base, { name: 'AES-CBC', length: bits }, false, ['decrypt']);
  try {
    return new Uint8Array(await subtle.decrypt({ name: 'AES-CBC', iv: copy(iv!.value) }, key, copy(data!.value)));
  } catch {
    throw new KeyFileError('passphrase-wrong', 'the passphrase does not decrypt the private key');
  }
}

export interface PrivateKeyInfo {
  /** d, 64 hex digits. */
  d: string;
  /** '04' ‖ x ‖ y, hex. */
  publicKey: string;
}

export function isEncryptedKey(pem: string): boolean {
  return /BEGIN ENCRYPTED PRIVATE KEY|Proc-Type:\s*4,\s*ENCRYPTED/.test(pem);
}

/** Reads an SM2 private key from PEM: PKCS#8, SEC1, or PBES2-encrypted PKCS#8 with its passphrase. */
export async function readPrivateKey(pem: string, passphrase?: string): Promise<PrivateKeyInfo> {
  const blocks = pemBlocks(pem);
  const block = blocks.find((b) => /PRIVATE KEY$/.test(b.label));
  if (!block) throw new KeyFileError('no-pem', 'no "BEGIN … PRIVATE KEY" block');
  let d: string;
  try {
    if (block.label === 'ENCRYPTED PRIVATE KEY') {
      if (!passphrase) throw new KeyFileError('passphrase-needed', 'the private key is encrypted; give its passphrase');
      const plain = await decryptPkcs8(block.der, passphrase);
      try {
        d = fromPkcs8(plain);
      } catch {
        throw new KeyFileError('passphrase-wrong', 'the passphrase does not decrypt the private key');
      }
    } else if (/Proc-Type:\s*4,\s*ENCRYPTED/.test(block.headers)) {
      throw new KeyFileError('legacy-encrypted', 'traditional OpenSSL encryption (Proc-Type: 4,ENCRYPTED) cannot be opened in the page; convert with `openssl pkcs8 -topk8 -v2 aes-256-cbc`');
    } else if (block.label === 'EC PRIVATE KEY') d = fromEcPrivateKey(block.der);
    else if (block.label === 'PRIVATE KEY') d = fromPkcs8(block.der);
    else throw new KeyFileError('not-sm2', `a "${block.label}" is not an SM2 private key`);
  } catch (error) {
    if (error instanceof KeyFileError) throw error;
    throw new KeyFileError('malformed', `the private key cannot be read (${(error as Error).message})`);
  }
  return { d, publicKey: publicKeyOf(d) };
}

/** Checks that a key and a certificate belong together (the certificate's public key is the key's). */
export function assertKeyMatches(key: PrivateKeyInfo, certificate: CertificateInfo): void {
  if (key.publicKey.toLowerCase() !== certificate.publicKey.toLowerCase()) {
    throw new KeyFileError('mismatch', 'the private key does not belong to the certificate');
  }
}
