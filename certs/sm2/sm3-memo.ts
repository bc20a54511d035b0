import { sm3 } from './sm2.js';

interface Remembered {
  input: Buffer;
  digest: Buffer;
  hex: string;
}

/** Bytes from the end of an input that key it: a certificate ends in its signature, which differs from any other's. */
const KEY_BYTES = 24;

/**
 * SM3 digests of byte strings that come back again and again: the few certificates a gateway is shown on every
 * request (each department presents its own), or signs with (the platform's). Up to `size` inputs are kept by
 * content, as copies, so a repeat costs a lookup and a byte comparison instead of a hash; a new input is hashed and,
 * once the memo is full, takes the place of the oldest.
 */
export class Sm3Memo {
  readonly #size: number;
  /** By the input's length and last bytes; the whole input is compared before a digest is reused. */
  readonly #entries = new Map<string, Remembered>();

  constructor(size = 16) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`an SM3 memo holds at least one input, not ${size}`);
    this.#size = size;
  }

  /** SM3(bytes) in lower-case hex. */
  hex(bytes: Uint8Array): string {
    return this.#find(bytes).hex;
  }

  /** Whether `digest` is SM3(bytes). */
  matches(bytes: Uint8Array, digest: Uint8Array): boolean {
    return this.#find(bytes).digest.equals(digest);
  }

  #find(bytes: Uint8Array): Remembered {
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const key = `${view.length}:${view.toString('latin1', Math.max(0, view.length - KEY_BYTES))}`;
    const known = this.#entries.get(key);
    if (known && known.input.equals(view)) return known;
    const digest = sm3(view);
    const entry = { input: Buffer.from(view), digest, hex: digest.toString('hex') };
    this.#entries.delete(key);
    if (this.#entries.size >= this.#size) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, entry);
    return entry;
  }
}
