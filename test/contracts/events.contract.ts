// One contract for every event bus adapter: the in-process bus and Kafka must behave alike wherever callers can tell.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DeliveredEvent, EventBus } from '../../core/events/index.js';
import { uniqueName } from '../support/services.js';

export interface EventBusHarness {
  /** A connected bus; several calls give independent clients of the same cluster (or the same bus in-process). */
  open(): Promise<EventBus>;
  dispose(): Promise<void>;
  /** How long a delivery may take on this adapter. */
  patienceMs: number;
}

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function eventBusContract(harness: EventBusHarness): void {
  let bus: EventBus;
  const patience = harness.patienceMs;

  beforeAll(async () => {
    bus = await harness.open();
  });
  afterAll(async () => {
    await harness.dispose();
  });

  it('answers a ping', async () => {
    await expect(bus.ping()).resolves.toBeUndefined();
  });

  it('delivers a durable event with its key, value and headers', async () => {
    const topic = uniqueName('contract.roundtrip');
    await bus.ensureTopics([topic]);
    await bus.ensureTopics([topic]); // idempotent
    const received: DeliveredEvent[] = [];
    const sub = await bus.subscribe({ topics: [topic], group: uniqueName('g'), fromBeginning: true, handler: async (e) => void received.push(e) });
    await sub.ready;
    await bus.publish(topic, { key: 'dept-1', value: JSON.stringify({ 部门: '民政局' }), headers: { 'zt-type': 'test' } }, { durable: true });
    await waitFor(() => received.length === 1, patience, 'one event');
    const e = received[0]!;
    expect(e.topic).toBe(topic);
    expect(e.key).toBe('dept-1');
    expect(JSON.parse(e.value.toString('utf8'))).toEqual({ 部门: '民政局' });
    expect(e.headers['zt-type']).toBe('test');
    expect(typeof e.offset).toBe('number');
    expect(e.timestamp).toBeGreaterThan(Date.now() - 60000);
    await sub.close();
  });

  it('keeps order per key', async () => {
    const topic = uniqueName('contract.order');
    await bus.ensureTopics([topic]);
    const seen = new Map<string, number[]>();
    const sub = await bus.subscribe({
      topics: [topic],
      group: uniqueName('g'),
      fromBeginning: true,
      handler: async (e) => {
        const list = seen.get(e.key!) ?? [];
        list.push(Number(e.value.toString()));
        seen.set(e.key!, list);
      },
    });
    await sub.ready;
    const keys = ['a', 'b', 'c', 'd'];
    await Promise.all(Array.from({ length: 200 }, (_, i) => bus.publish(topic, { key: keys[i % 4]!, value: String(i) }, { durable: i % 10 === 0 })));
    await waitFor(() => [...seen.values()].reduce((n, l) => n + l.length, 0) === 200, patience, '200 events');
    for (const [, list] of seen) expect(list).toEqual([...list].sort((x, y) => x - y));
    await sub.close();
  });

  it('gives every group every event, and each event to one member of a group', async () => {
    const topic = uniqueName('contract.groups');
    await bus.ensureTopics([topic]);
    const groupA = uniqueName('ga');
    const groupB = uniqueName('gb');
    const a1: string[] = [];
    const a2: string[] = [];
    const b: string[] = [];
    const other = await harness.open();
    const subs = await Promise.all([
      bus.subscribe({ topics: [topic], group: groupA, fromBeginning: true, handler: async (e) => void a1.push(e.value.toString()) }),
      other.subscribe({ topics: [topic], group: groupA, fromBeginning: true, handler: async (e) => void a2.push(e.value.toString()) }),
      bus.subscribe({ topics: [topic], group: groupB, fromBeginning: true, handler: async (e) => void b.push(e.value.toString()) }),
    ]);
    await Promise.all(subs.map((s) => s.ready));
    const values = Array.from({ length: 60 }, (_, i) => `v${i}`);
    await Promise.all(values.map((v, i) => bus.publish(topic, { key: `k${i}`, value: v }, { durable: true })));
    await waitFor(() => a1.length + a2.length >= 60 && b.length >= 60, patience, 'both groups');
    await sleep(200);
    expect([...a1, ...a2].sort()).toEqual([...values].sort());
    expect([...b].sort()).toEqual([...values].sort());
    await Promise.all(subs.map((s) => s.close()));
  });

  it('resumes a group where it left off', async () => {
    const topic = uniqueName('contract.resume');
    const group = uniqueName('g');
    await bus.ensureTopics([topic]);
    const first: string[] = [];
    const sub1 = await bus.subscribe({ topics: [topic], group, fromBeginning: true, handler: async (e) => void first.push(e.value.toString()) });
    await sub1.ready;
    for (const v of ['1', '2', '3']) await bus.publish(topic, { key: 'k', value: v }, { durable: true });
    await waitFor(() => first.length === 3, patience, 'first three');
    await sub1.close();
    for (const v of ['4', '5']) await bus.publish(topic, { key: 'k', value: v }, { durable: true });
    const second: string[] = [];
    const sub2 = await bus.subscribe({ topics: [topic], group, fromBeginning: true, handler: async (e) => void second.push(e.value.toString()) });
    await waitFor(() => second.length === 2, patience, 'the two new events');
    await sleep(200);
    expect(second).toEqual(['4', '5']);
    await sub2.close();
  });

  it('retries a failing handler, then reports the event and moves on', async () => {
    const topic = uniqueName('contract.retry');
    await bus.ensureTopics([topic]);
    let attempts = 0;
    const reported: string[] = [];
    const handled: string[] = [];
    const sub = await bus.subscribe({
      topics: [topic],
      group: uniqueName('g'),
      fromBeginning: true,
      handler: async (e) => {
        const v = e.value.toString();
        if (v === 'flaky' && ++attempts < 3) throw new Error('transient');
        if (v === 'poison') throw new Error('always fails');
        handled.push(v);
      },
      onHandlerError: (_error, e) => void reported.push(e.value.toString()),
    });
    await sub.ready;
    for (const v of ['flaky', 'poison', 'after']) await bus.publish(topic, { key: 'same', value: v }, { durable: true });
    await waitFor(() => handled.includes('after'), patience + 10000, 'the event after the poison one');
    expect(handled).toEqual(['flaky', 'after']);
    expect(reported).toEqual(['poison']);
    await sub.close();
  });

  it('hands a batch handler the events at hand together, in order, each once', async () => {
    const topic = uniqueName('contract.batch');
    await bus.ensureTopics([topic]);
    const values = Array.from({ length: 300 }, (_, i) => `b${i}`);
    // Published before the group joins, so the events are at hand together when it does.
    for (const v of values) await bus.publish(topic, { key: 'one-key', value: v }, { durable: false });
    const batches: string[][] = [];
    const single: string[] = [];
    const sub = await bus.subscribe({
      topics: [topic],
      group: uniqueName('g'),
      fromBeginning: true,
      maxBatch: 50,
      batchHandler: async (events) => void batches.push(events.map((e) => e.value.toString())),
      handler: async (e) => void single.push(e.value.toString()),
    });
    await sub.ready;
    await waitFor(() => batches.flat().length + single.length >= values.length, patience + 10000, 'every event');
    expect([...batches.flat(), ...single].sort()).toEqual([...values].sort());
    expect(batches.flat()).toEqual(values.filter((v) => batches.flat().includes(v))); // order kept
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(50);
    expect(batches.some((b) => b.length > 1)).toBe(true);
    await sub.close();
  });

  it('falls back to one event at a time when a batch keeps failing, and skips only the bad event', async () => {
    const topic = uniqueName('contract.batch-poison');
    await bus.ensureTopics([topic]);
    for (const v of ['a', 'poison', 'c']) await bus.publish(topic, { key: 'k', value: v }, { durable: true });
    const handled: string[] = [];
    const reported: string[] = [];
    const sub = await bus.subscribe({
      topics: [topic],
      group: uniqueName('g'),
      fromBeginning: true,
      batchHandler: async (events) => {
        if (events.some((e) => e.value.toString() === 'poison')) throw new Error('one bad event spoils the batch');
        for (const e of events) handled.push(e.value.toString());
      },
      handler: async (e) => {
        if (e.value.toString() === 'poison') throw new Error('always fails');
        handled.push(e.value.toString());
      },
      onHandlerError: (_error, e) => void reported.push(e.value.toString()),
    });
    await sub.ready;
    await waitFor(() => handled.includes('c'), patience + 20000, 'the event after the poison one');
    expect(handled).toEqual(['a', 'c']);
    expect(reported).toEqual(['poison']);
    await sub.close();
  });

  it('flushes accepted events on close', async () => {
    const topic = uniqueName('contract.flush');
    const second = await harness.open();
    await second.ensureTopics([topic]);
    const received = new Set<string>();
    const sub = await bus.subscribe({ topics: [topic], group: uniqueName('g'), fromBeginning: true, handler: async (e) => void received.add(e.value.toString()) });
    await sub.ready;
    const values = Array.from({ length: 500 }, (_, i) => `e${i}`);
    // Not awaited one by one: close() must still deliver all of them.
    const publishing = values.map((v) => second.publish(topic, { key: null, value: v }));
    await Promise.all(publishing);
    await second.close();
    expect(second.pending()).toBe(0);
    await waitFor(() => received.size === values.length, patience, 'all 500 events after close');
    await sub.close();
  });
}
