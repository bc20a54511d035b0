// The Merkle tree of the access log as it is stored: leaves in audit_log_leaves (level 0), and the hash of every
// complete, aligned, perfect subtree in audit_log_nodes (level ≥ 1, the node covering leaves
// [idx·2^level, (idx+1)·2^level)). RFC 6962 splits [0, n) at the largest power of two below n, so every subtree a
// proof for a tree of size n needs is such an aligned perfect subtree or a chain of them: a hash is at most
// log2(n) lookups, a proof at most log2(n) hashes, and a proof is answered with two queries, never a scan.
//
// Sizes and indices are plain numbers: exact up to 2^53, far beyond any log (merkle.ts caps trees at 2^32 - 1).
// Arithmetic uses division, not bit operators (which truncate to 32 bits).
import { createHash } from 'node:crypto';
import { merkleRoot, nodeHash } from '../../certs/signer/merkle.js';
import type { Queryable } from '../../core/storage/index.js';

/** An aligned perfect subtree: `level` 0 is leaf `idx`; level l covers leaves [idx·2^l, (idx+1)·2^l). */
export interface NodeKey {
  level: number;
  idx: number;
}

/** Longest range hashed from its leaves when it is not aligned (only callers asking odd ranges pay this). */
export const MAX_UNALIGNED_RANGE = 1 << 22;

const EMPTY_ROOT = createHash('sm3').digest();

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && Number.isInteger(Math.log2(n)) && 2 ** Math.log2(n) === n;
}

/**
 * The aligned perfect subtrees whose hashes, folded from the right (node(p1, node(p2, … pk))), give MTH of
 * [from, to) as RFC 6962 defines it; null when the range does not decompose so (its start is not aligned).
 */
export function alignedPieces(from: number, to: number): NodeKey[] | null {
  const pieces: NodeKey[] = [];
  let a = from;
  while (a < to) {
    const n = to - a;
    const k = isPowerOfTwo(n) ? n : largestPowerOfTwoBelow(n);
    if (a % k !== 0) return null;
    pieces.push({ level: Math.log2(k), idx: a / k });
    a += k;
  }
  return pieces;
}

/** Folds aligned pieces from the right: the MTH of the range they cover. */
export function foldPieces(hashes: readonly Buffer[]): Buffer {
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

const keyOf = (k: NodeKey): string => `${k.level}:${k.idx}`;

/** Fetches stored hashes for these keys (leaves and nodes), two queries at most; throws if any is missing. */
export async function fetchNodes(q: Queryable, keys: readonly NodeKey[]): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  const leaves = [...new Set(keys.filter((k) => k.level === 0).map((k) => k.idx))];
  const nodes = keys.filter((k) => k.level > 0);
  if (leaves.length > 0) {
    const { rows } = await q.query<{ leaf_index: number; leaf_hash: Buffer }>(
      'SELECT leaf_index, leaf_hash FROM audit_log_leaves WHERE leaf_index = ANY($1::bigint[])',
      [leaves.map(String)],
    );
    for (const r of rows) found.set(`0:${Number(r.leaf_index)}`, Buffer.from(r.leaf_hash));
  }
  if (nodes.length > 0) {
    const { rows } = await q.query<{ level: number; idx: number; hash: Buffer }>(
      'SELECT n.level, n.idx, n.hash FROM audit_log_nodes n JOIN unnest($1::smallint[], $2::bigint[]) AS k(level, idx) ON n.level = k.level AND n.idx = k.idx',
      [nodes.map((k) => k.level), nodes.map((k) => String(k.idx))],
    );
    for (const r of rows) found.set(`${r.level}:${Number(r.idx)}`, Buffer.from(r.hash));
  }
  for (const k of keys) {
    if (!found.has(keyOf(k))) {
      throw new Error(`the audit log has no stored ${k.level === 0 ? `leaf ${k.idx}` : `node (level ${k.level}, index ${k.idx})`}: the log's tables are incomplete`);
    }
  }
  return found;
}

/**
 * Hashes to be fetched together: each requested range is a list of aligned pieces, fetched in one round, then folded.
 * Unaligned ranges (only asked for by callers choosing arbitrary ranges) are hashed from their leaves.
 */
async function rangeHashes(q: Queryable, ranges: readonly (readonly [number, number])[]): Promise<Buffer[]> {
  const plans = ranges.map(([from, to]) => (to > from ? alignedPieces(from, to) : []));
  const keys = plans.flatMap((p) => p ?? []);
  const stored = keys.length > 0 ? await fetchNodes(q, keys) : new Map<string, Buffer>();
  const out: Buffer[] = [];
  for (let i = 0; i < ranges.length; i++) {
    const [from, to] = ranges[i]!;
    const plan = plans[i];
    if (to <= from) out.push(EMPTY_ROOT);
    else if (plan) out.push(foldPieces(plan.map((k) => stored.get(keyOf(k))!)));
    else out.push(await unalignedHash(q, from, to));
  }
  return out;
}

async function unalignedHash(q: Queryable, from: number, to: number): Promise<Buffer> {
  if (to - from > MAX_UNALIGNED_RANGE) throw new RangeError(`an unaligned range of ${to - from} leaves is too long to hash (at most ${MAX_UNALIGNED_RANGE})`);
  const { rows } = await q.query<{ leaf_hash: Buffer }>(
    'SELECT leaf_hash FROM audit_log_leaves WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index',
    [from, to],
  );
  if (rows.length !== to - from) throw new Error(`the audit log holds ${rows.length} of the leaves [${from}, ${to})`);
  return merkleRoot(rows.map((r) => Buffer.from(r.leaf_hash)));
}

function checkRange(from: number, to: number): void {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) throw new RangeError(`[${from}, ${to}) is not a range of leaves`);
}

/** RFC 6962 MTH of leaves [from, to) from the stored nodes (SM3('') for an empty range). */
export async function subtreeHash(q: Queryable, from: number, to: number): Promise<Buffer> {
  checkRange(from, to);
  return (await rangeHashes(q, [[from, to]]))[0]!;
}

/** The root of the tree of the first `treeSize` leaves. */
export function rootAt(q: Queryable, treeSize: number): Promise<Buffer> {
  return subtreeHash(q, 0, treeSize);
}

/** The audit path PATH(leafIndex, D[0:treeSize]) (RFC 6962 §2.1.1), nearest sibling first. */
export async function inclusionProofAt(q: Queryable, leafIndex: number, treeSize: number): Promise<Buffer[]> {
  if (!Number.isSafeInteger(treeSize) || treeSize < 1) throw new RangeError(`${treeSize} is not a tree size`);
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= treeSize) throw new RangeError(`leaf index ${leafIndex} is outside a tree of ${treeSize}`);
  // Walk down from the root: at each split the sibling subtree's range is one element of the path (root side first).
  const siblings: [number, number][] = [];
  let lo = 0;
  let hi = treeSize;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (leafIndex < lo + k) {
      siblings.push([lo + k, hi]);
      hi = lo + k;
    } else {
      siblings.push([lo, lo + k]);
      lo += k;
    }
  }
  return (await rangeHashes(q, siblings)).reverse();
}

/** The consistency proof PROOF(first, D[0:second]) (RFC 6962 §2.1.2); empty when first = second. */
export async function consistencyProofAt(q: Queryable, first: number, second: number): Promise<Buffer[]> {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second) {
    throw new RangeError(`a consistency proof needs 1 ≤ first ≤ second; got ${first}, ${second}`);
  }
  const ranges: [number, number][] = [];
  let m = first;
  let lo = 0;
  let hi = second;
  let complete = true;
  // SUBPROOF unrolled: each step adds one range, and the recursion is a walk down one side.
  const tail: [number, number][] = [];
  for (;;) {
    const size = hi - lo;
    if (m === size) {
      if (!complete) ranges.push([lo, hi]);
      break;
    }
    const k = largestPowerOfTwoBelow(size);
    if (m <= k) {
      tail.push([lo + k, hi]);
      hi = lo + k;
    } else {
      tail.push([lo, lo + k]);
      m -= k;
      lo += k;
      complete = false;
    }
  }
  // The recursion appends each step's range after its sub-proof: innermost first.
  ranges.push(...tail.reverse());
  return rangeHashes(q, ranges);
}
