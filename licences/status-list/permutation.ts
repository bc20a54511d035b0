// Random status index assignment without collisions (W3C Bitstring Status List, "privacy considerations"): the
// n-th licence put on a list gets index perm(key, n), where perm is a keyed pseudorandom permutation of [0, size).
// Being a permutation, two counters never share an index, so the registry needs no "is this index taken" retry loop;
// being keyed, neighbouring licences do not get neighbouring indexes, and whoever sees some indexes cannot tell which
// are next or how many licences the list holds.
//
// The permutation is a balanced Feistel network over the smallest even number of bits that covers `size`, with an
// HMAC-SM3 round function, made to fit [0, size) by cycle-walking (apply it again until the value falls inside; the
// larger domain is less than 4 × size, so fewer than 4 applications on average). Eight rounds: four already give a
// strong pseudorandom permutation (Luby–Rackoff); the rest are margin, and cost microseconds.
import { createHmac, randomBytes } from 'node:crypto';
import { STATUS_LIST_MIN_ENTRIES } from './bitstring.js';

/** The per-list secret the registry stores (licence_status_lists.perm_key). */
export const STATUS_LIST_KEY_BYTES = 32;
const ROUNDS = 8;
const LABEL = Buffer.from('zhengtong-status-index-v1', 'ascii');
const MAX_SIZE = 2 ** 31;

/** A fresh per-list permutation key: 32 random bytes. */
export function newStatusListKey(): Buffer {
  return randomBytes(STATUS_LIST_KEY_BYTES);
}

/** The status index of the `counter`-th licence (from 0) of a list of `size` entries, under the list's key. */
export function statusIndex(key: Uint8Array, counter: number, size: number = STATUS_LIST_MIN_ENTRIES): number {
  if (key.length !== STATUS_LIST_KEY_BYTES) throw new RangeError(`a status list key is ${STATUS_LIST_KEY_BYTES} bytes, not ${key.length}`);
  if (!Number.isInteger(size) || size < 2 || size > MAX_SIZE) throw new RangeError(`a permutation size is an integer from 2 to 2^31, not ${size}`);
  if (!Number.isInteger(counter) || counter < 0 || counter >= size) throw new RangeError(`counter ${counter} is outside [0, ${size}): the list is full`);
  let bits = Math.ceil(Math.log2(size));
  if (bits % 2 === 1) bits++;
  const half = bits / 2;
  const mask = 2 ** half - 1;
  // The round input: label, size (so that lists of different sizes permute independently), round, right half.
  const input = Buffer.alloc(LABEL.length + 9);
  LABEL.copy(input);
  input.writeUInt32BE(size, LABEL.length);
  let value = counter;
  do {
    let left = Math.floor(value / 2 ** half);
    let right = value & mask;
    for (let round = 0; round < ROUNDS; round++) {
      input[LABEL.length + 4] = round;
      input.writeUInt32BE(right, LABEL.length + 5);
      const f = createHmac('sm3', key).update(input).digest().readUInt32BE(0) & mask;
      [left, right] = [right, (left ^ f) >>> 0];
    }
    value = left * 2 ** half + right;
  } while (value >= size);
  return value;
}
