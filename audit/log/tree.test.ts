// The stored tree answers exactly what certs/signer/merkle.ts computes in memory: roots, inclusion and consistency
// proofs for every size, with leaves appended in batches of awkward sizes (so nodes are completed across batches).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consistencyProof, inclusionProof, merkleRoot, verifyConsistency, verifyInclusion } from '../../certs/signer/merkle.js';
import type { PgliteDatabase } from '../../core/storage/index.js';
import { openMigratedDatabase } from '../../test/support/ca.js';
import { sequenceBatch } from './sequencer.js';
import { insertRecords } from './test-support.js';
import { alignedPieces, consistencyProofAt, inclusionProofAt, subtreeHash } from './tree.js';

const N = 70;
let db: PgliteDatabase;
let leaves: Buffer[];

beforeAll(async () => {
  db = await openMigratedDatabase();
  await insertRecords(db, N);
  // Batches of 1, 2, 3 … leaves: nodes are completed by later batches as often as by the one that adds their last leaf.
  for (let size = 1, done = 0; done < N; size++) {
    const report = await db.transaction((tx) => sequenceBatch(tx, { gapSeconds: 10, gapWatchSeconds: 3600, batchSize: size }));
    done += report.appended;
  }
  const { rows } = await db.query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM audit_log_leaves ORDER BY leaf_index');
  leaves = rows.map((r) => Buffer.from(r.leaf_hash));
}, 60_000);
afterAll(() => db?.close());

describe('the stored Merkle tree', () => {
  it('holds one leaf per record and exactly the complete aligned nodes', async () => {
    expect(leaves).toHaveLength(N);
    const { rows } = await db.query<{ level: number; n: number }>('SELECT level, count(*)::int AS n FROM audit_log_nodes GROUP BY level ORDER BY level');
    expect(rows.map((r) => [r.level, r.n])).toEqual([[1, 35], [2, 17], [3, 8], [4, 4], [5, 2], [6, 1]]);
  });

  it('gives the in-memory root for every prefix and for ranges', async () => {
    expect((await subtreeHash(db, 0, 0)).equals(merkleRoot([]))).toBe(true);
    for (let n = 1; n <= N; n++) expect((await subtreeHash(db, 0, n)).toString('hex'), `size ${n}`).toBe(merkleRoot(leaves.slice(0, n)).toString('hex'));
    for (const [from, to] of [[3, 9], [1, 70], [16, 48], [17, 18], [64, 70]] as const) {
      expect((await subtreeHash(db, from, to)).toString('hex'), `[${from}, ${to})`).toBe(merkleRoot(leaves.slice(from, to)).toString('hex'));
    }
  });

  it('gives the in-memory inclusion proof for every leaf of many sizes, and it verifies', async () => {
    for (const size of [1, 2, 3, 5, 7, 8, 9, 16, 31, 33, 64, 65, 70]) {
      const root = merkleRoot(leaves.slice(0, size));
      for (let i = 0; i < size; i++) {
        const proof = await inclusionProofAt(db, i, size);
        expect(proof.map((p) => p.toString('hex')), `leaf ${i} of ${size}`).toEqual(inclusionProof(i, leaves.slice(0, size)).map((p) => p.toString('hex')));
        expect(verifyInclusion(leaves[i]!, i, size, proof, root)).toBe(true);
      }
    }
  });

  it('gives the in-memory consistency proof between every pair of sizes, and it verifies', async () => {
    for (let second = 1; second <= N; second += 3) {
      for (let first = 1; first <= second; first++) {
        const proof = await consistencyProofAt(db, first, second);
        expect(proof.map((p) => p.toString('hex')), `${first} → ${second}`).toEqual(consistencyProof(first, leaves.slice(0, second)).map((p) => p.toString('hex')));
        expect(verifyConsistency(first, second, proof, merkleRoot(leaves.slice(0, first)), merkleRoot(leaves.slice(0, second)))).toBe(true);
      }
    }
  });

  it('refuses ranges and sizes outside the tree', async () => {
    await expect(inclusionProofAt(db, 5, 5)).rejects.toThrow(RangeError);
    await expect(consistencyProofAt(db, 0, 5)).rejects.toThrow(RangeError);
    await expect(consistencyProofAt(db, 6, 5)).rejects.toThrow(RangeError);
    await expect(subtreeHash(db, 0, N + 1)).rejects.toThrow(/no stored|holds/);
  });

  it('decomposes aligned ranges into O(log n) pieces', () => {
    expect(alignedPieces(0, 70)).toEqual([{ level: 6, idx: 0 }, { level: 2, idx: 16 }, { level: 1, idx: 34 }]);
    expect(alignedPieces(0, 2 ** 40 - 1)).toHaveLength(40);
    expect(alignedPieces(3, 9)).toBeNull();
  });
});
