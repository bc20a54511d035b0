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

export interface SubscribeOptions {
  topics: readonly string[];
  /** Consumer group; members of one group share the events, and each group gets every event. */
  group: string;
  /** Where a group with no committed position starts: the oldest retained event (true) or new events only. */
  fromBeginning?: boolean;
  handler: EventHandler;
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

export function toBuffer(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}
