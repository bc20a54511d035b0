// Merkle trees over SM3 with RFC 6962 / RFC 9162 domain separation (the Certificate Transparency tree):
//   leaf hash  = SM3(0x00 ‖ payload)
//   node hash  = SM3(0x01 ‖ left ‖ right)
//   MTH(D[n])  = SM3(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n])), k the largest power of two below n; MTH of one leaf is
//                its leaf hash; MTH of nothing is SM3 of the empty string.
// The prefixes keep a leaf from passing for an inner node (second-preimage attacks). Pure functions, no I/O.
import { createHash } from 'node:crypto';

export const HASH_SIZE = 32;
/** The largest tree a batch head can describe (its size is a u32). */
export const MAX_TREE_SIZE = 0xffff_ffff;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export function leafHash(payload: Uint8Array): Buffer {
  return createHash('sm3').update(LEAF_PREFIX).update(payload).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sm3').update(NODE_PREFIX).update(left).update(right).digest();
}

/**
 * Every level of the tree, leaves first, root last. Pairing left to right and carrying an odd last node up
 * unchanged builds exactly RFC 6962's tree (its split at the largest power of two leaves the same right edge).
 */
export function merkleLevels(leafHashes: readonly Buffer[]): Buffer[][] {
  if (leafHashes.length === 0) throw new RangeError('a Merkle tree needs at least one leaf');
  const levels: Buffer[][] = [leafHashes.slice()];
  for (let level = levels[0]!; level.length > 1; ) {
    const next: Buffer[] = new Array<Buffer>(Math.ceil(level.length / 2));
    for (let i = 0; i + 1 < level.length; i += 2) next[i >> 1] = nodeHash(level[i]!, level[i + 1]!);
    if (level.length % 2 === 1) next[next.length - 1] = level[level.length - 1]!;
    levels.push(next);
    level = next;
  }
  return levels;
}

/** The audit path of leaf `index` from prebuilt levels, nearest sibling first (RFC 9162 §2.1.3.1). */
export function auditPath(levels: readonly Buffer[][], index: number): Buffer[] {
  const path: Buffer[] = [];
  for (let l = 0, i = index; l < levels.length - 1; l++, i >>= 1) {
    const level = levels[l]!;
    const sibling = i ^ 1;
    if (sibling < level.length) path.push(level[sibling]!); // no sibling: the node is carried up unchanged
  }
  return path;
}

/** MTH of the leaf hashes; SM3('') for none, as RFC 6962 defines the empty tree. */
export function merkleRoot(leafHashes: readonly Buffer[]): Buffer {
  if (leafHashes.length === 0) return createHash('sm3').digest();
  const levels = merkleLevels(leafHashes);
  return levels[levels.length - 1]![0]!;
}

/** The audit path PATH(index, D[n]) for leaf `index` among `leafHashes`. */
export function inclusionProof(index: number, leafHashes: readonly Buffer[]): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leafHashes.length) {
    throw new RangeError(`leaf index ${index} is outside a tree of ${leafHashes.length}`);
  }
  return auditPath(merkleLevels(leafHashes), index);
}

/**
 * The root that an audit path leads to from `leafHash` at `index` in a tree of `size` (RFC 9162 §2.1.3.2), or
 * undefined when the path cannot belong to such a tree: index out of range, a path too short or too long for
 * (index, size), or a node that is not 32 bytes.
 */
export function rootFromInclusionProof(leafHash: Uint8Array, index: number, size: number, proof: readonly Uint8Array[]): Buffer | undefined {
  if (!Number.isInteger(size) || size < 1 || size > MAX_TREE_SIZE) return undefined;
  if (!Number.isInteger(index) || index < 0 || index >= size) return undefined;
  if (leafHash.length !== HASH_SIZE) return undefined;
  // Plain numbers are exact up to 2^53; sizes here are at most 2^32 - 1, so halving by division is safe.
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0 || p.length !== HASH_SIZE) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** Whether `proof` shows that `leafHash` is leaf `index` of the tree of `size` whose root is `root`. */
export function verifyInclusion(leafHash: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const computed = rootFromInclusionProof(leafHash, index, size, proof);
  return computed !== undefined && root.length === HASH_SIZE && computed.equals(root);
}

/**
 * The consistency proof PROOF(m, D[n]) (RFC 6962 §2.1.2): the nodes that show the tree of the first `m` leaves is a
 * prefix of the tree of all `leafHashes`, i.e. that a log only grew. Empty when m = n.
 */
export function consistencyProof(m: number, leafHashes: readonly Buffer[]): Buffer[] {
  const n = leafHashes.length;
  if (!Number.isInteger(m) || m < 1 || m > n) throw new RangeError(`a consistency proof needs 1 ≤ m ≤ n; got m = ${m}, n = ${n}`);
  const proof: Buffer[] = [];
  const sub = (m: number, lo: number, hi: number, complete: boolean): void => {
    const size = hi - lo;
    if (m === size) {
      if (!complete) proof.push(merkleRoot(leafHashes.slice(lo, hi)));
      return;
    }
    let k = 1;
    while (k * 2 < size) k *= 2;
    if (m <= k) {
      sub(m, lo, lo + k, complete);
      proof.push(merkleRoot(leafHashes.slice(lo + k, hi)));
    } else {
      sub(m - k, lo + k, hi, false);
      proof.push(merkleRoot(leafHashes.slice(lo, lo + k)));
    }
  };
  sub(m, 0, n, true);
  return proof;
}

/**
 * Whether `proof` shows that the tree of size `first` with root `firstRoot` is a prefix of the tree of size `second`
 * with root `secondRoot` (RFC 9162 §2.1.4.2). A proof of the wrong length or with nodes that are not 32 bytes fails.
 */
export function verifyConsistency(first: number, second: number, proof: readonly Uint8Array[], firstRoot: Uint8Array, secondRoot: Uint8Array): boolean {
  if (!Number.isInteger(first) || !Number.isInteger(second) || first < 1 || first > second || second > MAX_TREE_SIZE) return false;
  if (firstRoot.length !== HASH_SIZE || secondRoot.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return false;
  if (first === second) return proof.length === 0 && Buffer.from(firstRoot).equals(Buffer.from(secondRoot));
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(Buffer.from(firstRoot)) && sr.equals(Buffer.from(secondRoot));
}
