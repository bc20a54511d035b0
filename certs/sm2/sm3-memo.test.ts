import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sm3 } from './sm2.js';
import { Sm3Memo } from './sm3-memo.js';

describe('Sm3Memo', () => {
  it('gives SM3 of each input, seen before or not', () => {
    const memo = new Sm3Memo(4);
    const inputs = Array.from({ length: 10 }, (_, i) => randomBytes(100 + i));
    for (let round = 0; round < 3; round++) {
      for (const input of inputs) {
        expect(memo.hex(input)).toBe(sm3(input).toString('hex'));
        expect(memo.matches(input, sm3(input))).toBe(true);
      }
    }
  });

  it('tells apart inputs of one length that end alike', () => {
    const memo = new Sm3Memo();
    const tail = randomBytes(64);
    const a = Buffer.concat([Buffer.from('certificate A'), tail]);
    const b = Buffer.concat([Buffer.from('certificate B'), tail]);
    expect(memo.hex(a)).toBe(sm3(a).toString('hex'));
    expect(memo.hex(b)).toBe(sm3(b).toString('hex'));
    expect(memo.hex(a)).toBe(sm3(a).toString('hex'));
    expect(memo.matches(b, sm3(a))).toBe(false);
  });

  it('keeps its own copy: changing the caller\'s bytes afterwards changes nothing', () => {
    const memo = new Sm3Memo();
    const input = randomBytes(300);
    const before = sm3(input).toString('hex');
    memo.hex(input);
    input[0]! ^= 0xff;
    expect(memo.hex(input)).toBe(sm3(input).toString('hex'));
    input[0]! ^= 0xff;
    expect(memo.hex(input)).toBe(before);
  });

  it('reads a view into a larger buffer by its own bytes only', () => {
    const memo = new Sm3Memo();
    const whole = randomBytes(200);
    const view = new Uint8Array(whole.buffer, whole.byteOffset + 50, 100);
    expect(memo.hex(view)).toBe(sm3(Buffer.from(view)).toString('hex'));
    expect(memo.hex(new Uint8Array(0))).toBe(sm3(Buffer.alloc(0)).toString('hex'));
  });
});
