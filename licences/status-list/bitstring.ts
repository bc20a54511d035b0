// The status bitstring of a W3C Bitstring Status List (v1.0): one 2-bit entry per licence (statusSize 2,
// statusPurpose "message"), entries numbered from the left-most bit of the first byte, published as `encodedList` =
// multibase base64url (prefix 'u', no padding) of the GZIP-compressed bitstring.
//
// Decoding takes untrusted input: the compressed text and the inflated size are capped, so a small list cannot
// inflate to gigabytes (a gzip bomb), and a list shorter than the minimum is refused because short lists let a
// relying party narrow down which licence is being checked (the herd privacy the spec asks for).
import { gunzipSync, gzipSync } from 'node:zlib';
import { ZtError } from '../../core/errors/index.js';

/** Bits per entry: four values, active / suspended / revoked / superseded (STATUS_LIST_VALUE). */
export const STATUS_SIZE = 2;
/** The W3C minimum, 131,072 entries: at 2 bits each, a 32 KiB bitstring. */
export const STATUS_LIST_MIN_ENTRIES = 131_072;
/** Entries a list may have at most: 8 Mi entries, a 2 MiB bitstring. The inflate cap on decoding. */
export const STATUS_LIST_MAX_ENTRIES = 8 * 1024 * 1024;
const ENTRIES_PER_BYTE = 8 / STATUS_SIZE;
const MAX_BITSTRING_BYTES = STATUS_LIST_MAX_ENTRIES / ENTRIES_PER_BYTE;
/** Compressed lists are small (an all-zero 32 KiB list is ~60 bytes); 1 MiB of text is far beyond any real one. */
const MAX_ENCODED_LENGTH = 1024 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export type StatusValue = 0 | 1 | 2 | 3;

function invalid(message: string, cause?: unknown): ZtError {
  return new ZtError('ZT_ERR_STATUS_LIST_INVALID', message, cause === undefined ? {} : { cause });
}

/** A fixed-size array of 2-bit status entries, all 0 (active) when new. */
export class StatusBitstring {
  /** Number of entries. */
  readonly size: number;
  readonly #bytes: Uint8Array;

  /** A new all-active bitstring; `size` must be a multiple of 4 between the W3C minimum and the cap. */
  constructor(size: number = STATUS_LIST_MIN_ENTRIES) {
    if (!Number.isInteger(size) || size < STATUS_LIST_MIN_ENTRIES || size > STATUS_LIST_MAX_ENTRIES || size % ENTRIES_PER_BYTE !== 0) {
      throw new RangeError(`a status list has a multiple of ${ENTRIES_PER_BYTE} entries from ${STATUS_LIST_MIN_ENTRIES} to ${STATUS_LIST_MAX_ENTRIES}, not ${size}`);
    }
    this.size = size;
    this.#bytes = new Uint8Array(size / ENTRIES_PER_BYTE);
  }

  /** A bitstring over a copy of `bytes` (the uncompressed list); ZT_ERR_STATUS_LIST_INVALID when its length is out of range. */
  static fromBytes(bytes: Uint8Array): StatusBitstring {
    const entries = bytes.length * ENTRIES_PER_BYTE;
    if (entries < STATUS_LIST_MIN_ENTRIES) {
      throw invalid(`the status list has ${entries} entries, fewer than the ${STATUS_LIST_MIN_ENTRIES} a Bitstring Status List must have (W3C: at least 16 KB of entries)`);
    }
    if (entries > STATUS_LIST_MAX_ENTRIES) throw invalid(`the status list has ${entries} entries, more than the ${STATUS_LIST_MAX_ENTRIES} accepted`);
    const list = new StatusBitstring(entries);
    list.#bytes.set(bytes);
    return list;
  }

  /** Reads an `encodedList` (multibase 'u' + base64url of GZIP); ZT_ERR_STATUS_LIST_INVALID saying what is wrong. */
  static decode(encodedList: string): StatusBitstring {
    return StatusBitstring.fromBytes(decodeEncodedList(encodedList));
  }

  get(index: number): StatusValue {
    this.#check(index);
    const shift = 6 - 2 * (index % ENTRIES_PER_BYTE);
    return ((this.#bytes[index >>> 2]! >>> shift) & 0b11) as StatusValue;
  }

  set(index: number, value: StatusValue): void {
    this.#check(index);
    if (value !== 0 && value !== 1 && value !== 2 && value !== 3) throw new RangeError(`a 2-bit status is 0 to 3, not ${String(value)}`);
    const shift = 6 - 2 * (index % ENTRIES_PER_BYTE);
    const at = index >>> 2;
    this.#bytes[at] = (this.#bytes[at]! & ~(0b11 << shift)) | (value << shift);
  }

  /** The uncompressed bitstring (a copy). */
  toBytes(): Buffer {
    return Buffer.from(this.#bytes);
  }

  /** The W3C `encodedList`. */
  encode(): string {
    return encodeEncodedList(this.#bytes);
  }

  #check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`status index ${index} is outside the list (0 to ${this.size - 1})`);
  }
}

/** Multibase base64url (prefix 'u', no padding) of the GZIP-compressed bytes. */
export function encodeEncodedList(bytes: Uint8Array): string {
  return `u${gzipSync(bytes, { level: 9 }).toString('base64url')}`;
}

/**
 * The uncompressed bytes of an `encodedList`, whatever their length up to the cap (the caller checks the minimum):
 * ZT_ERR_STATUS_LIST_INVALID for a missing 'u' prefix, characters outside base64url, padding, a stream that is not
 * GZIP, or one that inflates beyond 2 MiB.
 */
export function decodeEncodedList(encodedList: string): Buffer {
  if (typeof encodedList !== 'string' || !encodedList.startsWith('u')) {
    throw invalid("encodedList must be multibase base64url: the letter 'u' followed by base64url without padding");
  }
  if (encodedList.length > MAX_ENCODED_LENGTH) throw invalid(`encodedList is longer than ${MAX_ENCODED_LENGTH} characters`);
  const text = encodedList.slice(1);
  if (!BASE64URL.test(text)) throw invalid('encodedList has characters outside base64url (A-Z a-z 0-9 - _), or padding');
  const compressed = Buffer.from(text, 'base64url');
  // Canonical text: the unused low bits of the last character must be zero, as re-encoding would write them.
  if (compressed.toString('base64url') !== text) throw invalid('encodedList is not canonical base64url (its last character has stray bits)');
  try {
    return gunzipSync(compressed, { maxOutputLength: MAX_BITSTRING_BYTES });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw invalid(`encodedList inflates to more than ${MAX_BITSTRING_BYTES} bytes: refused as a decompression bomb`, error);
    }
    throw invalid(`encodedList is not GZIP-compressed data: ${(error as Error).message}`, error);
  }
}
