// Console passwords (口令): scrypt, Node's built-in memory-hard function (RFC 7914), stored self-describing as
// `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url) so the cost can be raised later without breaking the hashes
// already stored: each is checked with the parameters it names. N = 2^15, r = 8 needs 32 MiB per hash, which is the
// point (a guesser pays it per guess) and about 60 ms on a server core; hashing runs on libuv's thread pool.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';

export const PASSWORD_MIN_LENGTH = 12;
/** A bound against a password used to make the hashing itself the attack. */
export const PASSWORD_MAX_LENGTH = 1024;

export interface ScryptCost {
  /** log2 of N, the CPU/memory cost: 15 or more in production. */
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT_COST: ScryptCost = Object.freeze({ log2N: 15, r: 8, p: 1 });

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const FORMAT = /^scrypt\$([0-9]{1,2})\$([0-9]{1,3})\$([0-9]{1,3})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{16,})$/;

function scrypt(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(password.normalize('NFC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key))));
}

function scryptOptions(cost: ScryptCost): ScryptOptions {
  const N = 2 ** cost.log2N;
  // Node refuses by default above 32 MiB; scrypt needs 128·N·r bytes and a little more.
  return { N, r: cost.r, p: cost.p, maxmem: 128 * N * cost.r * cost.p + 16 * 1024 * 1024 };
}

/** Refuses a password the console does not accept (ZT_ERR_ACCOUNT_INVALID, details.field 'password'). */
export function checkPasswordRules(password: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    throw new ZtError('ZT_ERR_ACCOUNT_INVALID', `a console password has at least ${PASSWORD_MIN_LENGTH} characters`, { details: { field: 'password' } });
  }
  if (length > PASSWORD_MAX_LENGTH) {
    throw new ZtError('ZT_ERR_ACCOUNT_INVALID', `a console password has at most ${PASSWORD_MAX_LENGTH} characters`, { details: { field: 'password' } });
  }
}

/** The stored form of a password: a fresh 16-byte salt and its scrypt hash under `cost`. */
export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scrypt(password, salt, HASH_BYTES, scryptOptions(cost));
  return `scrypt$${cost.log2N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Whether `password` is the one `stored` was made from (compared in constant time); false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = FORMAT.exec(stored);
  if (!m) return false;
  const cost = { log2N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (cost.log2N < 1 || cost.log2N > 22 || cost.r < 1 || cost.p < 1) return false;
  const expected = Buffer.from(m[5]!, 'base64url');
  if (password.length > PASSWORD_MAX_LENGTH * 4) return false;
  const actual = await scrypt(password, Buffer.from(m[4]!, 'base64url'), expected.length, scryptOptions(cost));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The cost a stored hash names, or null when it is malformed. */
export function hashCost(stored: string): ScryptCost | null {
  const m = FORMAT.exec(stored);
  return m ? { log2N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) } : null;
}
