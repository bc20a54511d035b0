import {
  batchLimit,
  deliverEvents,
  toBuffer,
  type DeliveredEvent,
  type EventBus,
  type OutgoingEvent,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from '../port.js';

/**
 * The in-process event bus: the embedded default, for one instance. Each topic is a log (one partition) with a
 * bounded retention; each consumer group has a position per topic and handles its events one at a time, so order
 * holds and close() can wait until every accepted event has been handled.
 */

interface TopicLog {
  events: DeliveredEvent[];
  /** Offset of events[0]. */
  base: number;
  next: number;
}

interface Member {
  readonly handler: SubscribeOptions['handler'];
  readonly batchHandler: SubscribeOptions['batchHandler'];
  readonly onHandlerError: SubscribeOptions['onHandlerError'];
  /** Events per delivery: 1 without a batch handler. */
  readonly maxBatch: number;
}

class GroupTopic {
  position: number;
  members: Member[] = [];
  running = false;
  turn = 0;
  constructor(position: number) {
    this.position = position;
  }
}

export interface MemoryBusOptions {
  /** Events kept per topic for groups that are behind or join later with fromBeginning. */
  retention?: number;
}

export class MemoryEventBus implements EventBus {
  readonly kind = 'memory' as const;
  readonly #retention: number;
  readonly #topics = new Map<string, TopicLog>();
  /** group → topic → state */
  readonly #groups = new Map<string, Map<string, GroupTopic>>();
  readonly #idle = new Set<() => void>();
  #closed = false;

  constructor(options: MemoryBusOptions = {}) {
    this.#retention = options.retention ?? 100_000;
  }

  #topic(name: string): TopicLog {
    let log = this.#topics.get(name);
    if (!log) {
      log = { events: [], base: 0, next: 0 };
      this.#topics.set(name, log);
    }
    return log;
  }

  async ensureTopics(topics: readonly string[]): Promise<void> {
    for (const t of topics) this.#topic(t);
  }

  async publish(topic: string, event: OutgoingEvent, _options?: PublishOptions): Promise<void> {
    // Accepted into this process's memory is all the durability an in-process bus has; close() drains it.
    if (this.#closed) throw new Error('the event bus is closed');
    const log = this.#topic(topic);
    log.events.push({
      topic,
      key: event.key,
      value: toBuffer(event.value),
      headers: { ...event.headers },
      partition: 0,
      offset: log.next++,
      timestamp: Date.now(),
    });
    if (log.events.length > this.#retention) {
      const drop = log.events.length - this.#retention;
      log.events.splice(0, drop);
      log.base += drop;
    }
    for (const [, topics] of this.#groups) {
      const state = topics.get(topic);
      if (state) this.#dispatch(topic, state);
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.#closed) throw new Error('the event bus is closed');
    let topics = this.#groups.get(options.group);
    if (!topics) {
      topics = new Map();
      this.#groups.set(options.group, topics);
    }
    const member: Member = {
      handler: options.handler,
      batchHandler: options.batchHandler,
      onHandlerError: options.onHandlerError,
      maxBatch: options.batchHandler ? batchLimit(options) : 1,
    };
    const states: [string, GroupTopic][] = [];
    for (const name of options.topics) {
      const log = this.#topic(name);
      let state = topics.get(name);
      if (!state) {
        state = new GroupTopic(options.fromBeginning ? log.base : log.next);
        topics.set(name, state);
      }
      state.members.push(member);
      states.push([name, state]);
      this.#dispatch(name, state);
    }
    return {
      ready: Promise.resolve(),
      close: async () => {
        for (const [, state] of states) state.members = state.members.filter((m) => m !== member);
        // Let the event in hand finish so its position is committed.
        await this.#waitIdle(() => states.every(([, s]) => !s.running || s.members.length > 0));
      },
    };
  }

  #dispatch(topic: string, state: GroupTopic): void {
    if (state.running || state.members.length === 0) return;
    state.running = true;
    void this.#drain(topic, state);
  }

  async #drain(topic: string, state: GroupTopic): Promise<void> {
    const log = this.#topic(topic);
    try {
      while (state.members.length > 0) {
        if (state.position < log.base) state.position = log.base; // fell behind retention
        const first = state.position - log.base;
        if (!log.events[first]) break;
        const member = state.members[state.turn++ % state.members.length]!;
        const events = log.events.slice(first, first + member.maxBatch);
        await deliverEvents(member, events);
        state.position = events[events.length - 1]!.offset + 1;
      }
    } finally {
      state.running = false;
      this.#notifyIdle();
      // An event may have arrived between the last check and clearing the flag.
      if (state.members.length > 0 && log.events[state.position - log.base]) this.#dispatch(topic, state);
    }
  }

  #notifyIdle(): void {
    for (const wake of [...this.#idle]) wake();
  }

  async #waitIdle(done: () => boolean): Promise<void> {
    while (!done()) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#idle.delete(wake);
          resolve();
        };
        this.#idle.add(wake);
      });
    }
  }

  pending(): number {
    let n = 0;
    for (const [, topics] of this.#groups) {
      for (const [name, state] of topics) {
        if (state.members.length > 0) n += this.#topic(name).next - state.position;
      }
    }
    return n;
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error('the event bus is closed');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Flush: every accepted event reaches the groups subscribed now.
    await this.#waitIdle(() => this.pending() === 0 && [...this.#groups.values()].every((t) => [...t.values()].every((s) => !s.running)));
    for (const [, topics] of this.#groups) for (const [, state] of topics) state.members = [];
  }
}
