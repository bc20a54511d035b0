import { describe, expect, it } from 'vitest';
import { BatchQueue, LingerGate } from './batch-queue.js';

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

  it('lingers for company under steady load, and sends at once an item that comes long after the one before', async () => {
    let clock = 0;
    const batches: number[][] = [];
    const queue = new BatchQueue<number, number>(
      async (items) => {
        batches.push(items);
        return items;
      },
      { maxBatch: 100, maxInFlight: 1, lingerMs: 25, now: () => clock },
    );
    await queue.push(1); // idle: at once
    // 5 ms later, right after that batch: steady load, so it waits for the linger and takes the next item along.
    clock = 5;
    const second = queue.push(2);
    clock = 6;
    const third = queue.push(3);
    await new Promise((r) => setTimeout(r, 1));
    expect(batches).toEqual([[1]]);
    clock = 150; // the batch ends at 150
    await Promise.all([second, third]);
    expect(batches).toEqual([[1], [2, 3]]);
    // A batch ended 6 ms ago, but this item comes 150 ms after the one before (more than 4 lingers): no wait.
    clock = 156;
    const alone = queue.push(4);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1], [2, 3], [4]]);
    await alone;
  });
});

describe('LingerGate', () => {
  it('lingers only when the last batch ended under 20 ms ago and the previous item came within 4 lingers', () => {
    const gate = new LingerGate(2);
    expect(gate.arrive(100, Number.NEGATIVE_INFINITY)).toBe(false); // nothing before it
    expect(gate.arrive(103, 101)).toBe(true); // 3 ms after the previous item, 2 ms after a batch
    expect(gate.arrive(123, 121)).toBe(false); // 20 ms after the previous item (50 req/s)
    expect(gate.arrive(126, 100)).toBe(false); // items close, but the last batch ended 26 ms ago
    expect(gate.arrive(127, 126)).toBe(true);
    expect(new LingerGate(0).arrive(1, 0)).toBe(false); // no linger configured
  });
});
