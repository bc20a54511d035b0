// The Merkle tree against trees written out by hand (the shapes RFC 6962 gives for sizes 1 to 9), hashed with
// sm3() directly rather than through merkle.ts, and the proofs against every kind of tampering.
import { describe, expect, it } from 'vitest';
import { sm3 } from '../sm2/sm2.js';
import { auditPath, consistencyProof, inclusionProof, leafHash, merkleLevels, merkleRoot, nodeHash, rootFromInclusionProof, verifyConsistency, verifyInclusion } from './merkle.js';

type Shape = number | [Shape, Shape];

// RFC 6962 §2.1: split at the largest power of two below n; the right subtree takes the rest.
const SHAPES: Record<number, Shape> = {
  1: 0,
  2: [0, 1],
  3: [[0, 1], 2],
  4: [
    [0, 1],
    [2, 3],
  ],
  5: [
    [
      [0, 1],
      [2, 3],
    ],
    4,
  ],
  6: [
    [
      [0, 1],
      [2, 3],
    ],
    [4, 5],
  ],
  7: [
    [
      [0, 1],
      [2, 3],
    ],
    [[4, 5], 6],
  ],
  8: [
    [
      [0, 1],
      [2, 3],
    ],
    [
      [4, 5],
      [6, 7],
    ],
  ],
  9: [
    [
      [
        [0, 1],
        [2, 3],
      ],
      [
        [4, 5],
        [6, 7],
      ],
    ],
    8,
  ],
};

const payloads = Array.from({ length: 9 }, (_, i) => Buffer.from(`payload ${i}`));
const leaves = payloads.map((p) => sm3(Buffer.from([0x00]), p));

function hashShape(shape: Shape): Buffer {
  return typeof shape === 'number' ? leaves[shape]! : sm3(Buffer.from([0x01]), hashShape(shape[0]), hashShape(shape[1]));
}
const contains = (shape: Shape, i: number): boolean => (typeof shape === 'number' ? shape === i : contains(shape[0], i) || contains(shape[1], i));

/** Siblings on the way down to leaf i, reversed: nearest first. */
function handProof(shape: Shape, i: number): Buffer[] {
  const top: Buffer[] = [];
  for (let node = shape; typeof node !== 'number'; ) {
    const [left, right] = node;
    if (contains(left, i)) {
      top.push(hashShape(right));
      node = left;
    } else {
      top.push(hashShape(left));
      node = right;
    }
  }
  return top.reverse();
}

describe('SM3 Merkle tree (RFC 6962 shape and domain separation)', () => {
  it('uses SM3 itself (GB/T 32905 vectors) and the 0x00 / 0x01 prefixes', () => {
    expect(sm3(Buffer.from('abc')).toString('hex')).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
    expect(merkleRoot([]).toString('hex')).toBe('1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b');
    expect(leafHash(Buffer.from('abc'))).toEqual(sm3(Buffer.from([0]), Buffer.from('abc')));
    expect(nodeHash(leaves[0]!, leaves[1]!)).toEqual(sm3(Buffer.from([1]), leaves[0]!, leaves[1]!));
    expect(leafHash(Buffer.from('abc'))).not.toEqual(sm3(Buffer.from('abc')));
  });

  for (let size = 1; size <= 9; size++) {
    const shape = SHAPES[size]!;
    const tree = leaves.slice(0, size);
    const root = hashShape(shape);

    it(`size ${size}: root and the audit path of every leaf match the tree written by hand`, () => {
      expect(merkleRoot(tree)).toEqual(root);
      const levels = merkleLevels(tree);
      for (let i = 0; i < size; i++) {
        const proof = handProof(shape, i);
        expect(inclusionProof(i, tree)).toEqual(proof);
        expect(auditPath(levels, i)).toEqual(proof);
        expect(verifyInclusion(tree[i]!, i, size, proof, root)).toBe(true);
      }
    });

    it(`size ${size}: truncated, extended, tampered, misplaced and misattributed proofs fail`, () => {
      for (let i = 0; i < size; i++) {
        const proof = handProof(shape, i);
        if (proof.length > 0) expect(verifyInclusion(tree[i]!, i, size, proof.slice(0, -1), root)).toBe(false);
        expect(verifyInclusion(tree[i]!, i, size, [...proof, leaves[0]!], root)).toBe(false);
        for (let k = 0; k < proof.length; k++) {
          const tampered = proof.map((p) => Buffer.from(p));
          tampered[k]![7]! ^= 0x01;
          expect(verifyInclusion(tree[i]!, i, size, tampered, root)).toBe(false);
          expect(verifyInclusion(tree[i]!, i, size, proof.map((p, j) => (j === k ? p.subarray(0, 31) : p)), root)).toBe(false);
        }
        for (let j = 0; j < size; j++) if (j !== i) expect(verifyInclusion(tree[i]!, j, size, proof, root)).toBe(false);
        expect(verifyInclusion(tree[i]!, size, size, proof, root)).toBe(false);
        expect(verifyInclusion(tree[i]!, -1, size, proof, root)).toBe(false);
        expect(verifyInclusion(leafHash(Buffer.from('another payload')), i, size, proof, root)).toBe(false);
        // The raw payload hash is not a leaf hash: the 0x00 prefix matters.
        expect(verifyInclusion(sm3(payloads[i]!), i, size, proof, root)).toBe(false);
        const otherRoot = Buffer.from(root);
        otherRoot[0]! ^= 0x80;
        expect(verifyInclusion(tree[i]!, i, size, proof, otherRoot)).toBe(false);
      }
    });
  }

  it('a size that the path does not fit is refused; one the path happens to fit yields the root only for the signed size', () => {
    const tree = leaves.slice(0, 5);
    const proof = inclusionProof(4, tree); // leaf 4 of 5: one sibling, the root of the first 4
    expect(proof).toHaveLength(1);
    expect(rootFromInclusionProof(tree[4]!, 4, 6, proof)).toBeUndefined(); // leaf 4 of 6 has a sibling (leaf 5) too
    expect(rootFromInclusionProof(tree[4]!, 4, 0, proof)).toBeUndefined();
    expect(rootFromInclusionProof(tree[4]!, 4, 2 ** 32, proof)).toBeUndefined();
    expect(rootFromInclusionProof(tree[4]!, 4.5, 5, proof)).toBeUndefined();
  });

  it('builds large unbalanced trees with audit paths of ceil(log2 n) hashes or fewer, all verifying', () => {
    for (const size of [10, 31, 33, 100, 1000, 4095, 4096]) {
      const tree = Array.from({ length: size }, (_, i) => leafHash(Buffer.from(String(i))));
      const levels = merkleLevels(tree);
      const root = merkleRoot(tree);
      for (const i of [0, 1, Math.floor(size / 2), size - 2, size - 1]) {
        const proof = auditPath(levels, i);
        expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(size)));
        expect(verifyInclusion(tree[i]!, i, size, proof, root)).toBe(true);
      }
    }
  });

  it('refuses an empty tree for levels and proofs, and indexes outside the tree', () => {
    expect(() => merkleLevels([])).toThrow(RangeError);
    expect(() => inclusionProof(0, [])).toThrow(RangeError);
    expect(() => inclusionProof(3, leaves.slice(0, 3))).toThrow(RangeError);
  });
});

describe('consistency proofs (RFC 6962 §2.1.2, RFC 9162 §2.1.4)', () => {
  const leaves = Array.from({ length: 40 }, (_, i) => leafHash(Buffer.from(`record ${i}`)));
  const root = (n: number) => merkleRoot(leaves.slice(0, n));

  it('proves every prefix of every tree up to 40 leaves, and nothing else', () => {
    for (let n = 1; n <= leaves.length; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(m, leaves.slice(0, n));
        expect(verifyConsistency(m, n, proof, root(m), root(n)), `m ${m}, n ${n}`).toBe(true);
        if (m < n) {
          // Another first tree, another second tree, a tampered node, a missing node: all refused.
          const edited = leaves.slice(0, n);
          edited[m - 1] = leafHash(Buffer.from('edited'));
          expect(verifyConsistency(m, n, proof, merkleRoot(edited.slice(0, m)), root(n))).toBe(false);
          expect(verifyConsistency(m, n, proof, root(m), merkleRoot(edited))).toBe(false);
          expect(verifyConsistency(m, n, proof.slice(0, -1), root(m), root(n))).toBe(false);
          const flipped = proof.map((p) => Buffer.from(p));
          if (flipped.length > 0) {
            flipped[0]![0]! ^= 1;
            expect(verifyConsistency(m, n, flipped, root(m), root(n))).toBe(false);
          }
        }
      }
    }
  });

  it('gives the RFC 6962 proof shapes', () => {
    // The example tree of RFC 6962 §2.1.3 (7 leaves): PROOF(3, D[7]) = [c, d, g, l], PROOF(4, D[7]) = [l], PROOF(6, D[7]) = [i, j, k].
    expect(consistencyProof(3, leaves.slice(0, 7))).toHaveLength(4);
    expect(consistencyProof(4, leaves.slice(0, 7))).toEqual([merkleRoot(leaves.slice(4, 7))]);
    expect(consistencyProof(6, leaves.slice(0, 7))).toHaveLength(3);
    expect(consistencyProof(7, leaves.slice(0, 7))).toEqual([]);
    expect(() => consistencyProof(0, leaves)).toThrow(RangeError);
    expect(verifyConsistency(5, 4, [], root(5), root(4))).toBe(false);
  });
});
