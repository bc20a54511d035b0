import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import { decodeEncodedList, encodeEncodedList, STATUS_LIST_MIN_ENTRIES, StatusBitstring, type StatusValue } from './bitstring.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isZtError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a ZtError');
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('StatusBitstring', () => {
  it('starts with 131,072 active entries in 32 KiB', () => {
    const list = new StatusBitstring();
    expect(list.size).toBe(STATUS_LIST_MIN_ENTRIES);
    expect(list.toBytes().length).toBe(32 * 1024);
    expect(list.get(0)).toBe(0);
    expect(list.get(list.size - 1)).toBe(0);
  });

  it('numbers entries from the left-most bit of the first byte, two bits each (W3C bit order)', () => {
    const list = new StatusBitstring();
    list.set(0, 1);
    expect(list.toBytes()[0]).toBe(0b0100_0000);
    list.set(0, 2);
    expect(list.toBytes()[0]).toBe(0b1000_0000);
    list.set(3, 3);
    expect(list.toBytes()[0]).toBe(0b1000_0011);
    list.set(4, 1);
    expect(list.toBytes()[1]).toBe(0b0100_0000);
    list.set(list.size - 1, 2);
    expect(list.toBytes().at(-1)).toBe(0b0000_0010);
  });

  it('sets and gets each value without touching the neighbours', () => {
    const list = new StatusBitstring();
    const values: StatusValue[] = [3, 1, 2, 0, 2, 3, 1];
    values.forEach((v, i) => list.set(1000 + i, v));
    values.forEach((v, i) => expect(list.get(1000 + i)).toBe(v));
    expect(list.get(999)).toBe(0);
    expect(list.get(1007)).toBe(0);
    list.set(1001, 0);
    expect([list.get(1000), list.get(1001), list.get(1002)]).toEqual([3, 0, 2]);
  });

  it('round-trips through encodedList, multibase base64url without padding', () => {
    const list = new StatusBitstring();
    for (let i = 0; i < 500; i++) list.set((i * 7919) % list.size, ((i % 3) + 1) as StatusValue);
    const encoded = list.encode();
    expect(encoded).toMatch(/^u[A-Za-z0-9_-]+$/);
    const back = StatusBitstring.decode(encoded);
    expect(back.size).toBe(list.size);
    expect(back.toBytes().equals(list.toBytes())).toBe(true);
    expect(back.get((17 * 7919) % list.size)).toBe(3);
  });

  it('reads the example of the W3C specification (an all-zero 16 KB list) and refuses it as too short for 2-bit entries', () => {
    const example = 'uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA';
    const bytes = decodeEncodedList(example);
    expect(bytes.length).toBe(16384);
    expect(bytes.every((b) => b === 0)).toBe(true);
    expect(codeOf(() => StatusBitstring.decode(example))).toBe('ZT_ERR_STATUS_LIST_INVALID');
    expect(messageOf(() => StatusBitstring.decode(example))).toMatch(/65536 entries, fewer than the 131072/);
  });

  it('refuses a decompression bomb', () => {
    const bomb = encodeEncodedList(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100_000);
    expect(codeOf(() => StatusBitstring.decode(bomb))).toBe('ZT_ERR_STATUS_LIST_INVALID');
    expect(messageOf(() => StatusBitstring.decode(bomb))).toMatch(/decompression bomb/);
  });

  it.each([
    ['no multibase prefix', new StatusBitstring().encode().slice(1)],
    ['base64 padding', `${new StatusBitstring().encode()}==`],
    ['standard base64 characters', new StatusBitstring().encode().replace(/[-_]/g, '+') + '+/'],
    ['not gzip', `u${Buffer.from('plain text, not compressed').toString('base64url')}`],
    ['a truncated gzip stream', new StatusBitstring().encode().slice(0, 30)],
    ['an empty list', `u${gzipSync(Buffer.alloc(0)).toString('base64url')}`],
  ])('refuses %s', (_what, encoded) => {
    expect(codeOf(() => StatusBitstring.decode(encoded))).toBe('ZT_ERR_STATUS_LIST_INVALID');
  });

  it('refuses indexes outside the list and values beyond two bits', () => {
    const list = new StatusBitstring();
    expect(() => list.get(list.size)).toThrow(RangeError);
    expect(() => list.set(-1, 1)).toThrow(RangeError);
    expect(() => list.set(0, 4 as StatusValue)).toThrow(RangeError);
    expect(() => new StatusBitstring(1000)).toThrow(RangeError);
  });
});
