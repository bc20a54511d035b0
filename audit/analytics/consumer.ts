// The analytics consumer: the member of consumer group zhengtong.audit-analytics that folds access.recorded events
// into the projection. It runs inside every gateway (ZT_AUDIT_ANALYTICS=inline: with Kafka the topic's partitions
// spread over the instances) or apart from them (`zhengtong audit consume`, with ZT_AUDIT_ANALYTICS=off in the
// gateways), so supervision scales apart from the exchange. Both join the same group, through the EventBus port.
import type { DeliveredEvent, EventBus, Subscription } from '../../core/events/index.js';
import type { Logger } from '../../core/logging/index.js';
import { ACCESS_RECORD_TOPIC, ACCESS_RECORDED_EVENT, type AccessRecordJson } from '../access-record.js';
import type { AnalyticsProjection, ApplyReport } from './projection.js';

export const AUDIT_ANALYTICS_GROUP = 'zhengtong.audit-analytics';
const DEFAULT_PRUNE_INTERVAL_MS = 3_600_000;
/** Events applied per statement at most. */
const ANALYTICS_BATCH = 500;

export interface AnalyticsConsumerOptions {
  bus: EventBus;
  projection: AnalyticsProjection;
  logger: Logger;
  /** How often this member prunes old record ids; default hourly (first run one interval after start). 0: never. */
  pruneIntervalMs?: number;
}

export interface AnalyticsConsumerStats {
  /** Events delivered to this member. */
  events: number;
  applied: number;
  duplicates: number;
  late: number;
  malformed: number;
  /** Events of another type on the topic. */
  ignored: number;
  /** Events whose handling kept failing and that the bus skipped. */
  failed: number;
}

/** The record an event carries, 'ignored' for another event type, or null when it cannot be read. */
export function recordOfEvent(event: Pick<DeliveredEvent, 'value'>): AccessRecordJson | 'ignored' | null {
  let value: unknown;
  try {
    value = JSON.parse(event.value.toString('utf8'));
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const v = value as { type?: unknown; record?: unknown };
  if (v.type !== ACCESS_RECORDED_EVENT) return 'ignored';
  return v.record && typeof v.record === 'object' ? (v.record as AccessRecordJson) : null;
}

export class AnalyticsConsumer {
  /** Resolves once this member is assigned its share (Kafka) or registered (in-process). */
  ready: Promise<void> = Promise.resolve();
  readonly stats: AnalyticsConsumerStats = { events: 0, applied: 0, duplicates: 0, late: 0, malformed: 0, ignored: 0, failed: 0 };
  readonly #projection: AnalyticsProjection;
  readonly #logger: Logger;
  #subscription: Subscription | null = null;
  #pruner: NodeJS.Timeout | null = null;
  #pruning: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(options: AnalyticsConsumerOptions) {
    this.#projection = options.projection;
    this.#logger = options.logger;
  }

  /** Joins the group; `ready` says when this member has its share (Kafka) or is registered (in-process). */
  static async start(options: AnalyticsConsumerOptions): Promise<AnalyticsConsumer> {
    const consumer = new AnalyticsConsumer(options);
    consumer.#subscription = await options.bus.subscribe({
      topics: [ACCESS_RECORD_TOPIC],
      group: AUDIT_ANALYTICS_GROUP,
      // A group with no committed position starts at the oldest retained event: applying is idempotent, missing is not.
      fromBeginning: true,
      handler: (event) => consumer.handle(event),
      // Events at hand are applied together, one statement (one commit) per batch.
      batchHandler: (events) => consumer.handleBatch(events),
      maxBatch: ANALYTICS_BATCH,
      onHandlerError: (error, event) => {
        consumer.stats.failed++;
        options.logger.error({ err: error, partition: event.partition, offset: event.offset }, 'an access.recorded event could not be applied to the analytics; skipped');
      },
    });
    // Not awaited: the group starts from its committed position (or the oldest event), so nothing is missed while
    // it joins, and a gateway need not wait for the assignment (a Kafka group join takes seconds) before serving.
    consumer.ready = consumer.#subscription.ready;
    const interval = options.pruneIntervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
    if (interval > 0) {
      consumer.#pruner = setInterval(() => {
        consumer.#pruning = consumer.prune();
      }, interval);
      consumer.#pruner.unref();
    }
    return consumer;
  }

  /** The bus's handler: one event, applied in its own statement; throws (so the bus retries) if the database fails. */
  async handle(event: DeliveredEvent): Promise<void> {
    this.stats.events++;
    await this.applyEvents([event]);
  }

  /** The bus's batch handler: the events at hand, applied in one statement. */
  async handleBatch(events: readonly DeliveredEvent[]): Promise<void> {
    // Counted once applied: a batch that fails goes to handle() one event at a time, which counts them there.
    await this.applyEvents(events);
    this.stats.events += events.length;
  }

  /** Applies several events in one statement. */
  async applyEvents(events: readonly Pick<DeliveredEvent, 'value'>[]): Promise<ApplyReport> {
    const records: AccessRecordJson[] = [];
    for (const event of events) {
      const record = recordOfEvent(event);
      if (record === 'ignored') this.stats.ignored++;
      else if (record === null) this.stats.malformed++;
      else records.push(record);
    }
    const report = await this.#projection.apply(records);
    this.stats.applied += report.applied;
    this.stats.duplicates += report.duplicates;
    this.stats.late += report.late;
    this.stats.malformed += report.malformed;
    if (report.late > 0) this.#logger.warn({ late: report.late }, 'access records older than the analytics pruning horizon were skipped (ZT_AUDIT_ANALYTICS_RETENTION_DAYS)');
    return report;
  }

  async prune(): Promise<void> {
    try {
      const report = await this.#projection.prune();
      if (report.removedIds > 0 || report.removedSubjects > 0) this.#logger.info({ ...report }, 'pruned old record ids from the analytics');
    } catch (error) {
      this.#logger.warn({ err: error }, 'pruning the analytics record ids failed; will retry');
    }
  }

  /** Leaves the group (finishing the event in hand) and stops pruning. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pruner) clearInterval(this.#pruner);
    await this.#subscription?.close();
    await this.#pruning;
  }
}
