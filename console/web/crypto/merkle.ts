// RFC 6962 Merkle trees over SM3, as certs/signer/merkle.ts builds them: leaf = SM3(0x00 ‖ leaf bytes),
// node = SM3(0x01 ‖ left ‖ right). rootFromInclusionProof is RFC 9162 §2.1.3.2, step for step.
import { sm3 } from './sm.js';

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

export const leafHash = (leaf: Uint8Array): Uint8Array => sm3(LEAF, leaf);
export const nodeHash = (left: Uint8Array, right: Uint8Array): Uint8Array => sm3(NODE, left, right);

/** The root an audit path (nearest sibling first) leads to, or undefined if it cannot belong to a tree of `size`. */
export function rootFromInclusionProof(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[]): Uint8Array | undefined {
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(index) || index < 0 || index >= size || leaf.length !== 32) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0 || p.length !== 32) return undefined;
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
