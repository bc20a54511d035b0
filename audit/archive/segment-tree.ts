// The Merkle arithmetic of a segment: its root computed as the leaves stream past (a perfect tree needs one hash per
// level in memory, not every leaf), and the check that its root is a node of a checkpoint's tree.
import { nodeHash, rootFromInclusionProof, HASH_SIZE, MAX_TREE_SIZE } from '../../certs/signer/merkle.js';

/** The root of a perfect tree of 2^bits leaves, fed one leaf hash at a time in order. */
export class PerfectTreeBuilder {
  readonly #stack: { level: number; hash: Buffer }[] = [];
  #leaves = 0;

  constructor(readonly bits: number) {}

  get leaves(): number {
    return this.#leaves;
  }

  push(leafHash: Buffer): void {
    let node = { level: 0, hash: leafHash };
    for (let top = this.#stack.at(-1); top && top.level === node.level; top = this.#stack.at(-1)) {
      this.#stack.pop();
      node = { level: node.level + 1, hash: nodeHash(top.hash, node.hash) };
    }
    this.#stack.push(node);
    this.#leaves++;
  }

  /** The root, once exactly 2^bits leaves were pushed; undefined otherwise. */
  root(): Buffer | undefined {
    if (this.#leaves !== 2 ** this.bits || this.#stack.length !== 1) return undefined;
    return this.#stack[0]!.hash;
  }
}

/**
 * The root of the tree of `treeSize` leaves that `segmentPath` leads to from the root of segment [from, from + 2^bits):
 * node from/2^bits at level `bits`. Above level `bits` the tree of treeSize leaves is the RFC 6962 tree of its
 * ceil(treeSize / 2^bits) level-`bits` nodes (the last possibly partial), so the segment root is "leaf" from/2^bits of
 * that tree and the ordinary inclusion check applies. Undefined when the path cannot fit.
 */
export function rootFromSegmentPath(segmentRoot: Uint8Array, from: number, bits: number, treeSize: number, segmentPath: readonly Uint8Array[]): Buffer | undefined {
  const size = 2 ** bits;
  if (!Number.isSafeInteger(from) || from < 0 || from % size !== 0) return undefined;
  if (!Number.isSafeInteger(treeSize) || treeSize < from + size || treeSize > MAX_TREE_SIZE) return undefined;
  if (segmentRoot.length !== HASH_SIZE) return undefined;
  return rootFromInclusionProof(segmentRoot, from / size, Math.ceil(treeSize / size), segmentPath);
}
