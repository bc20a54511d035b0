// The event bus port. Two adapters (in-process and Kafka) pass one contract suite (test/contracts/events.contract.ts).
// Semantics follow Kafka's, which the in-process bus imitates: topics are append-only logs, consumer groups
// share the work (each event reaches one member of each group), delivery is at least once, and order holds per key.

export interface OutgoingEvent {
  /** Events with the same key keep their order. */
  key: string | null;
  value: Buffer | string;
  headers?: Record<string, string>;
}

export interface DeliveredEvent {
  topic: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  partition: number;
  offset: number;
  /** Milliseconds since the epoch, when the event was published. */
  timestamp: number;
}

export interface PublishOptions {
  /**
   * When true, publish resolves only once the bus has durably accepted the event (Kafka: the delivery report of an
   * acks=all, idempotent producer). When false it resolves once the event is queued; close() still flushes it.
   */
  durable?: boolean;
}

export type EventHandler = (event: DeliveredEvent) => Promise<void>;

/** Handles events of one topic that the bus had at hand together, in order. */
export type EventBatchHandler = (events: readonly DeliveredEvent[]) => Promise<void>;

/** Most events handed to a batch handler at once. */
export const MAX_EVENT_BATCH = 500;

export interface SubscribeOptions {
  topics: readonly string[];
  /** Consumer group; members of one group share the events, and each group gets every event. */
  group: string;
  /** Where a group with no committed position starts: the oldest retained event (true) or new events only. */
  fromBeginning?: boolean;
  handler: EventHandler;
  /**
   * Optional: when set, the events at hand (up to maxBatch, in order) go to it together and their positions are
   * committed after it resolves, so a consumer can fold many events into one transaction. If it keeps failing, the
   * batch's events go to `handler` one by one, so that one bad event is retried, reported and skipped alone.
   */
  batchHandler?: EventBatchHandler;
  /** Most events per batch, 1 to MAX_EVENT_BATCH; default 100. */
  maxBatch?: number;
  /** Called when the handler keeps failing for one event and the event is skipped. */
  onHandlerError?: (error: unknown, event: DeliveredEvent) => void;
}

export interface Subscription {
  /** Resolves once the subscriber is connected and assigned (Kafka) or registered (in-process). */
  readonly ready: Promise<void>;
  /** Stops receiving; finishes the event being handled and commits its position. */
  close(): Promise<void>;
}

export type EventBusKind = 'memory' | 'kafka';

export interface EventBus {
  readonly kind: EventBusKind;
  /** Creates the topics that do not exist yet (Kafka); a no-op where topics need no creation. */
  ensureTopics(topics: readonly string[]): Promise<void>;
  publish(topic: string, event: OutgoingEvent, options?: PublishOptions): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Rejects with ZT_ERR_EVENTS_UNAVAILABLE when the bus cannot be reached. */
  ping(): Promise<void>;
  /** Number of events accepted by publish but not yet confirmed. */
  pending(): number;
  /** Flushes every accepted event, stops subscribers, disconnects. Idempotent. */
  close(): Promise<void>;
}

/** Retries a failing handler this many times, backing off, before the event is reported and skipped. */
export const HANDLER_ATTEMPTS = 5;

export function handlerBackoffMs(attempt: number): number {
  return Math.min(2000, 50 * 2 ** attempt);
}

export function batchLimit(options: Pick<SubscribeOptions, 'maxBatch'>): number {
  const n = options.maxBatch ?? 100;
  if (!Number.isInteger(n) || n < 1 || n > MAX_EVENT_BATCH) throw new RangeError(`maxBatch must be a whole number from 1 to ${MAX_EVENT_BATCH}, got ${n}`);
  return n;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the handler for one event, retrying with backoff; reports and skips it after HANDLER_ATTEMPTS failures. */
export async function deliverEvent(options: Pick<SubscribeOptions, 'handler' | 'onHandlerError'>, event: DeliveredEvent): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await options.handler(event);
      return;
    } catch (error) {
      if (attempt + 1 >= HANDLER_ATTEMPTS) {
        options.onHandlerError?.(error, event);
        return;
      }
      await sleep(handlerBackoffMs(attempt));
    }
  }
}

/**
 * Delivers events to the batch handler when there is one (retrying the batch, then falling back to one event at a
 * time), else one by one. Resolves once every event was handled or skipped: their positions may be committed.
 */
export async function deliverEvents(options: Pick<SubscribeOptions, 'handler' | 'batchHandler' | 'onHandlerError'>, events: readonly DeliveredEvent[]): Promise<void> {
  if (events.length === 0) return;
  const batch = options.batchHandler;
  if (batch && events.length > 1) {
    for (let attempt = 0; attempt < HANDLER_ATTEMPTS - 1; attempt++) {
      try {
        await batch(events);
        return;
      } catch {
        await sleep(handlerBackoffMs(attempt));
      }
    }
  }
  for (const event of events) await deliverEvent(options, event);
}

export function toBuffer(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}
