// The sequencer shares the gateway's event loop with the requests: a large batch is appended in slices, with a turn
// of the loop between them, and the slices make the same tree as one pass would.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { merkleRoot } from '../../certs/signer/merkle.js';
import type { Queryable } from '../../core/storage/index.js';
import { appendLeafHashes, SEQUENCE_SLICE } from './sequencer.js';

/** A transaction that answers at once (a microtask) and keeps the parameters of what it was asked. */
function recordingTx(): Queryable & { inserts: Map<string, readonly unknown[]> } {
  const inserts = new Map<string, readonly unknown[]>();
  return {
    inserts,
    query: async (sql: string, params?: readonly unknown[]) => {
      const table = /INSERT INTO (\w+)/.exec(sql)?.[1];
      if (table && params) inserts.set(table, params);
      return { rows: [], rowCount: 0 } as never;
    },
    exec: async () => undefined,
  };
}

describe('appendLeafHashes on a large batch', () => {
  const leaves = Array.from({ length: 3 * SEQUENCE_SLICE + 5 }, (_, i) => ({ seq: 1000 + i, hash: randomBytes(32) }));

  it('gives the event loop a turn between slices', async () => {
    let turns = 0;
    let counting = true;
    const count = (): void => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    // The transaction answers in microtasks: without a yield, the whole batch would be done before any turn.
    await appendLeafHashes(recordingTx(), 0, leaves);
    counting = false;
    expect(turns).toBeGreaterThanOrEqual(3);
  });

  it('writes every leaf, and the nodes of one pass', async () => {
    const tx = recordingTx();
    expect(await appendLeafHashes(tx, 0, leaves)).toBe(leaves.length);
    const [index, seq, hex] = tx.inserts.get('audit_log_leaves') as [number[], number[], string[]];
    expect(index).toEqual(leaves.map((_, i) => i));
    expect(seq).toEqual(leaves.map((l) => l.seq));
    expect(hex).toEqual(leaves.map((l) => l.hash.toString('hex')));
    const [level, idx, nodeHex] = tx.inserts.get('audit_log_nodes') as [number[], number[], string[]];
    const node = (l: number, i: number): string | undefined => nodeHex[level.findIndex((x, k) => x === l && idx[k] === i)];
    // Complete aligned subtrees that span the slices' boundaries.
    expect(node(8, 0)).toBe(merkleRoot(leaves.slice(0, 256).map((l) => l.hash)).toString('hex'));
    expect(node(7, 2)).toBe(merkleRoot(leaves.slice(256, 384).map((l) => l.hash)).toString('hex'));
    expect(node(2, 96)).toBe(merkleRoot(leaves.slice(384, 388).map((l) => l.hash)).toString('hex'));
    // Every node a leaf completes, once: n leaves complete n − popcount(n) nodes.
    expect(level).toHaveLength(leaves.length - leaves.length.toString(2).replace(/0/g, '').length);
  });
});
