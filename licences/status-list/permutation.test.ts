import { describe, expect, it } from 'vitest';
import { newStatusListKey, statusIndex } from './permutation.js';

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');

describe('statusIndex, the keyed permutation of a list', () => {
  it.each([2, 5, 1000, 4096, 5001])('is a bijection of [0, %i)', (size) => {
    const seen = new Set<number>();
    for (let n = 0; n < size; n++) {
      const index = statusIndex(KEY, n, size);
      expect(index).toBeGreaterThanOrEqual(0);
      expect(index).toBeLessThan(size);
      seen.add(index);
    }
    expect(seen.size).toBe(size);
  });

  it('gives consecutive licences scattered, distinct indexes in a full-size list', () => {
    const indexes = Array.from({ length: 2000 }, (_, n) => statusIndex(KEY, n));
    expect(new Set(indexes).size).toBe(indexes.length);
    const adjacent = indexes.slice(1).filter((x, i) => Math.abs(x - indexes[i]!) <= 1).length;
    expect(adjacent).toBeLessThan(5);
    // Not the identity, nor a shift: most indexes are far from their counter.
    expect(indexes.filter((x, n) => Math.abs(x - n) < 1000).length).toBeLessThan(50);
    // Spread over the whole list, not bunched at its start.
    expect(Math.max(...indexes)).toBeGreaterThan(131_072 * 0.9);
  });

  it('depends on the key, and only on it', () => {
    const other = newStatusListKey();
    expect(other.length).toBe(32);
    const a = Array.from({ length: 20 }, (_, n) => statusIndex(KEY, n));
    expect(Array.from({ length: 20 }, (_, n) => statusIndex(Buffer.from(KEY), n))).toEqual(a);
    expect(Array.from({ length: 20 }, (_, n) => statusIndex(other, n))).not.toEqual(a);
  });

  it('refuses a short key and a counter beyond the list', () => {
    expect(() => statusIndex(Buffer.alloc(16), 0)).toThrow(RangeError);
    expect(() => statusIndex(KEY, 131_072)).toThrow(/full/);
    expect(() => statusIndex(KEY, -1)).toThrow(RangeError);
    expect(() => statusIndex(KEY, 1.5)).toThrow(RangeError);
  });
});
