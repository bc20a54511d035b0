// A citizen's resident ID number in their console account, sealed (AES-256-GCM) under a key derived from the
// platform's pseudonym key (core/pseudonyms BlindIndex.derivedKey), so the database alone never shows it: stored as
// `s<key version>.<base64url of IV ‖ ciphertext ‖ tag>`, the account's id as associated data (a sealed value copied
// onto another account does not open). The blind index beside it finds the account of an ID number.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { BlindIndex } from '../../core/pseudonyms/index.js';

const PURPOSE = 'zhengtong/console-subject-seal/v1';
const SEALED = /^s([1-9][0-9]{0,3})\.([A-Za-z0-9_-]{40,})$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SubjectSeal {
  readonly #pseudonyms: BlindIndex;
  readonly #keys = new Map<number, Buffer>();

  constructor(pseudonyms: BlindIndex) {
    this.#pseudonyms = pseudonyms;
  }

  #key(version: number): Buffer {
    let key = this.#keys.get(version);
    if (!key) {
      key = this.#pseudonyms.derivedKey(PURPOSE, version);
      this.#keys.set(version, key);
    }
    return key;
  }

  /** The sealed form of a resident ID number for account `accountId`, under the current key version. */
  seal(subject: string, accountId: string): string {
    const version = this.#pseudonyms.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key(version), iv);
    cipher.setAAD(Buffer.from(accountId, 'utf8'));
    const body = Buffer.concat([cipher.update(subject, 'utf8'), cipher.final()]);
    return `s${version}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** The resident ID number sealed for `accountId`; throws when it was sealed for another account or altered. */
  open(sealed: string, accountId: string): string {
    const m = SEALED.exec(sealed);
    if (!m) throw new TypeError('not a sealed subject');
    const bytes = Buffer.from(m[2]!, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#key(Number(m[1])), bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(accountId, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  /** The blind index of the ID number (one account per citizen). */
  index(subject: string): string {
    return this.#pseudonyms.of(subject);
  }

  /** Its index under every live key version. */
  candidates(subject: string): string[] {
    return this.#pseudonyms.candidates(subject);
  }
}
