// The blind index (盲索引) of subject identifiers: a keyed SM3-HMAC of a resident ID number or a USCC, stored in
// place of the identifier everywhere outside the source records (access records, the log's leaves, analytics, the
// outbox and its Kafka events, audit queries, the exchange's lookup keys). Whoever holds the database but not the
// key cannot tell whose record a row is, nor try the ~10^11 possible ID numbers against it; whoever holds the key
// (the gateway) computes the index of the identifier asked for and finds the rows by equality.
//
// The index is `p<version>.<43 base64url characters>`: the key version that made it, then the 32-byte HMAC. Keys
// are versioned: new indexes use the current (highest) version; a search computes the candidates under every live
// version, since rows written before a rotation keep the index they were written with (access records are
// append-only, and their leaves hash them).
//
// The message is one domain byte then the identifier trimmed and upper-cased (GB 11643's check character X, USCCs
// are upper-case). The subject's kind is not in it: a search names a code, not its kind (supervisors filter by
// code, a citizen's view is asked by code), and the kind is stored beside the index anyway.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/** A blind index as stored: version, dot, base64url of the 32-byte HMAC-SM3. */
export const BLIND_INDEX = /^p([1-9][0-9]{0,3})\.([A-Za-z0-9_-]{43})$/;
/** The same, for PostgreSQL's `~` (used by migrations and checks). */
export const BLIND_INDEX_SQL = '^p[1-9][0-9]{0,3}\\.[A-Za-z0-9_-]{43}$';

export const PSEUDONYM_KEY_BYTES = 32;
// The domain byte, as a string so that the message is one update (the code's UTF-8 bytes follow it).
const SUBJECT_DOMAIN = '\u0001';
const DERIVE_DOMAIN = Buffer.from([0x02]);
const CHECK_MESSAGE = Buffer.concat([Buffer.from([0x00]), Buffer.from('zhengtong/pseudonym-key-check/v1', 'utf8')]);

export interface PseudonymKey {
  /** 1, 2, 3…: the version a rotation adds is one more than the highest. */
  readonly version: number;
  /** 32 random bytes. */
  readonly key: Buffer;
}

/**
 * One key's HMAC-SM3 (RFC 2104), the key held as a KeyObject made once. Measured on Node 20 / OpenSSL 3.0: one
 * createHmac with a single update is about 2.6 µs for an 18-character code; copying precomputed inner and outer SM3
 * states (Hash.copy) was slower (about 4.5 µs), the extra JavaScript objects costing more than the two compressions
 * they save.
 */
class KeyedSm3 {
  readonly #key: KeyObject;

  constructor(key: Buffer) {
    this.#key = createSecretKey(key);
  }

  /** The HMAC as base64url: the form an index stores. */
  index(message: string): string {
    return createHmac('sm3', this.#key).update(message).digest('base64url');
  }

  mac(message: Buffer): Buffer {
    return createHmac('sm3', this.#key).update(message).digest();
  }
}

/** The identifier as it is indexed: trimmed and upper-cased. */
export function normaliseIdentifier(code: string): string {
  return code.trim().toUpperCase();
}

/** Whether a stored value is a blind index (rather than an identifier in clear). */
export function isBlindIndex(value: unknown): value is string {
  return typeof value === 'string' && BLIND_INDEX.test(value);
}

/** The key version a blind index was made with, or null when the value is not one. */
export function blindIndexVersion(value: string): number | null {
  const m = BLIND_INDEX.exec(value);
  return m ? Number(m[1]) : null;
}

/** HMAC-SM3 with a key, the plain way (createHmac); tests hold KeyedSm3 to it. */
export function hmacSm3(key: Buffer, ...parts: (Buffer | string)[]): Buffer {
  const h = createHmac('sm3', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * The blind index under a set of key versions. Immutable: a rotation builds a new one (the key file is read at
 * start), so the hot path reads fields that never change.
 */
export class BlindIndex {
  /** The version new indexes are made with: the highest. */
  readonly current: number;
  /** Every live version, highest first. */
  readonly versions: readonly number[];
  readonly #macs: ReadonlyMap<number, KeyedSm3>;
  readonly #currentMac: KeyedSm3;
  readonly #prefixes: ReadonlyMap<number, string>;

  constructor(keys: readonly PseudonymKey[]) {
    if (keys.length === 0) throw new TypeError('a blind index needs at least one key');
    const macs = new Map<number, KeyedSm3>();
    for (const k of keys) {
      if (!Number.isInteger(k.version) || k.version < 1 || k.version > 9999) throw new TypeError(`pseudonym key version ${k.version} is not 1 to 9999`);
      if (k.key.length !== PSEUDONYM_KEY_BYTES) throw new TypeError(`pseudonym key version ${k.version} has ${k.key.length} bytes, not ${PSEUDONYM_KEY_BYTES}`);
      if (macs.has(k.version)) throw new TypeError(`pseudonym key version ${k.version} is given twice`);
      macs.set(k.version, new KeyedSm3(k.key));
    }
    this.versions = [...macs.keys()].sort((a, b) => b - a);
    this.current = this.versions[0]!;
    this.#macs = macs;
    this.#currentMac = macs.get(this.current)!;
    this.#prefixes = new Map(this.versions.map((v) => [v, `p${v}.`]));
  }

  /** The index of an identifier under the current key: what is stored. */
  of(code: string): string {
    return `p${this.current}.${this.#currentMac.index(SUBJECT_DOMAIN + normaliseIdentifier(code))}`;
  }

  /** The index under one version (for tests and conversions). */
  under(version: number, code: string): string {
    const mac = this.#macs.get(version);
    if (!mac) throw new TypeError(`no pseudonym key of version ${version}`);
    return `${this.#prefixes.get(version)}${mac.index(SUBJECT_DOMAIN + normaliseIdentifier(code))}`;
  }

  /** The index under every live version, current first: what a search looks for. */
  candidates(code: string): string[] {
    const message = SUBJECT_DOMAIN + normaliseIdentifier(code);
    return this.versions.map((v) => `${this.#prefixes.get(v)}${this.#macs.get(v)!.index(message)}`);
  }

  /** Whether `index` is the index of `code` under one of the live versions. */
  matches(index: string, code: string): boolean {
    const version = blindIndexVersion(index);
    return version !== null && this.#macs.has(version) && this.under(version, code) === index;
  }

  /** The index of a value unless it is one already (conversions, and callers that may hold either). */
  ensure(value: string): string {
    return isBlindIndex(value) ? value : this.of(value);
  }

  /**
   * A 32-byte key for another purpose derived from one version's key (HMAC-SM3 over a domain byte of its own and the
   * purpose), e.g. the key that seals a citizen's ID number in their console account (console/accounts): no second
   * secret to distribute, and rotation gives the purpose a new version too. The domain byte keeps derived keys apart
   * from indexes and check values.
   */
  derivedKey(purpose: string, version: number = this.current): Buffer {
    const mac = this.#macs.get(version);
    if (!mac) throw new TypeError(`no pseudonym key of version ${version}`);
    return mac.mac(Buffer.concat([DERIVE_DOMAIN, Buffer.from(purpose, 'utf8')]));
  }

  /**
   * Per version, a check value (HMAC of a fixed message, hex) that identifies the key without revealing it: the
   * database keeps them, so an instance started with another key is refused instead of writing unfindable rows.
   */
  checkValues(): { version: number; check: string }[] {
    return this.versions.map((version) => ({ version, check: this.#macs.get(version)!.mac(CHECK_MESSAGE).toString('hex') }));
  }
}
