import { describe, expect, it } from 'vitest';
import { BatchQueue } from './batch-queue.js';

describe('BatchQueue', () => {
  it('sends the first item at once and gathers those arriving meanwhile into the next batch', async () => {
    const batches: number[][] = [];
    const queue = new BatchQueue<number, number>(
      async (items) => {
        batches.push(items);
        await new Promise((r) => setTimeout(r, 5));
        return items.map((i) => i * 2);
      },
      { maxBatch: 100, maxInFlight: 1 },
    );
    const first = queue.push(1);
    const rest = [2, 3, 4].map((i) => queue.push(i));
    expect(await Promise.all([first, ...rest])).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('keeps batches within maxBatch, and rejects every item of a failing batch only', async () => {
    const batches: number[][] = [];
    const queue = new BatchQueue<number, number>(
      async (items) => {
        batches.push(items);
        if (items.includes(3)) throw new Error('boom');
        return items;
      },
      { maxBatch: 2, maxInFlight: 1 },
    );
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => queue.push(i)));
    expect(batches).toEqual([[1], [2, 3], [4, 5]]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
  });
});
