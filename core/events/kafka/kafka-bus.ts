import { setTimeout as sleep } from 'node:timers/promises';
import Kafka from 'node-rdkafka';
import { ZtError } from '../../errors/index.js';
import { openClients } from './open-clients.js';
import {
  batchLimit,
  deliverEvent,
  deliverEvents,
  toBuffer,
  type DeliveredEvent,
  type EventBus,
  type OutgoingEvent,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from '../port.js';

export interface KafkaBusOptions {
  brokers: readonly string[];
  clientId: string;
  /** Put before every topic and group name, so several installations can share a cluster. */
  topicPrefix: string;
  connectTimeoutMs: number;
  /** Partitions of topics this bus creates. */
  partitions?: number;
  /**
   * The instance's stable id (ZT_INSTANCE_ID): each consumer joins its group as this static member
   * (group.instance.id, KIP-345). An instance restarted after a crash then takes its partitions back at once,
   * instead of waiting out its dead predecessor's session (10 s) before anything is assigned.
   */
  instanceId?: string;
  /** Receives failures that have no caller to reject (delivery reports of non-durable events, consumer errors). */
  onError?: (error: unknown, context: string) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

const ERR_TOPIC_ALREADY_EXISTS = 36;
/** How long an idle consumer waits before asking librdkafka again: the most an event's delivery is delayed. */
const IDLE_POLL_MS = 20;

const ERR_QUEUE_FULL = -184;
const ERR_ASSIGN_PARTITIONS = -175;
const ERR_REVOKE_PARTITIONS = -174;

function describeBrokers(brokers: readonly string[]): string {
  return brokers.join(',');
}

function toHeaders(headers: Record<string, string> | undefined): Kafka.MessageHeader[] | undefined {
  if (!headers) return undefined;
  const list = Object.entries(headers).map(([k, v]) => ({ [k]: v }));
  return list.length > 0 ? list : undefined;
}

function fromHeaders(headers: Kafka.MessageHeader[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of headers ?? []) for (const [k, v] of Object.entries(h)) out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  return out;
}

/**
 * The event bus on Apache Kafka through node-rdkafka (librdkafka). The producer is idempotent with acks=all, so a
 * durable publish resolves only when every in-sync replica has the event, and retries never duplicate or reorder it.
 * Subscribers are consumer groups that commit an event's offset after its handler succeeds (at least once).
 */
export class KafkaEventBus implements EventBus {
  readonly kind = 'kafka' as const;
  readonly #options: KafkaBusOptions;
  readonly #producer: Kafka.Producer;
  readonly #consumers = new Set<KafkaSubscription>();
  readonly #known = new Set<string>();
  #inFlight = 0;
  #closed = false;

  private constructor(options: KafkaBusOptions, producer: Kafka.Producer) {
    this.#options = options;
    this.#producer = producer;
    producer.on('delivery-report', (error, report) => {
      this.#inFlight--;
      const waiter = report.opaque as Waiter | undefined;
      if (error) {
        const failure = new ZtError('ZT_ERR_EVENTS_UNAVAILABLE', `Kafka did not accept an event on ${report.topic}: ${error.message}`, { cause: error });
        if (waiter) waiter.reject(failure);
        else options.onError?.(failure, 'delivery');
      } else waiter?.resolve();
    });
    producer.on('event.error', (error) => options.onError?.(error, 'producer'));
  }

  /** Connects the producer, failing within connectTimeoutMs with an actionable message when the cluster is unreachable. */
  static async connect(options: KafkaBusOptions): Promise<KafkaEventBus> {
    const producer = new Kafka.Producer(
      {
        'metadata.broker.list': describeBrokers(options.brokers),
        'client.id': options.clientId,
        'enable.idempotence': true,
        acks: 'all',
        'linger.ms': 2,
        dr_cb: true,
        'socket.keepalive.enable': true,
        'message.send.max.retries': 2147483647,
        'delivery.timeout.ms': 30000,
      } as Kafka.ProducerGlobalConfig,
      {},
    );
    openClients.set(producer, `producer ${options.clientId}`);
    await new Promise<void>((resolve, reject) => {
      producer.connect({ timeout: options.connectTimeoutMs }, (error) => {
        if (error) {
          reject(
            new ZtError(
              'ZT_ERR_EVENTS_UNAVAILABLE',
              `cannot reach Kafka at ${describeBrokers(options.brokers)} within ${options.connectTimeoutMs} ms: ${error.message}; is the broker running (npm run kafka -- start)?`,
              { cause: error },
            ),
          );
        } else resolve();
      });
    }).catch(async (error: unknown) => {
      await releaseClient(producer);
      throw error;
    });
    producer.setPollInterval(5);
    return new KafkaEventBus(options, producer);
  }

  #name(topic: string): string {
    return this.#options.topicPrefix + topic;
  }

  async ensureTopics(topics: readonly string[]): Promise<void> {
    const missing = topics.filter((t) => !this.#known.has(t));
    if (missing.length === 0) return;
    const admin = Kafka.AdminClient.create({
      'metadata.broker.list': describeBrokers(this.#options.brokers),
      'client.id': `${this.#options.clientId}-admin`,
    });
    openClients.set(admin, `admin ${this.#options.clientId}`);
    try {
      for (const topic of missing) {
        await new Promise<void>((resolve, reject) => {
          admin.createTopic(
            // -1 takes the cluster's default.replication.factor, which suits a one-node test broker and a production cluster alike.
            { topic: this.#name(topic), num_partitions: this.#options.partitions ?? 6, replication_factor: -1 },
            this.#options.connectTimeoutMs,
            (error) => {
              if (!error || error.code === ERR_TOPIC_ALREADY_EXISTS) resolve();
              else reject(new ZtError('ZT_ERR_EVENTS_UNAVAILABLE', `cannot create Kafka topic ${this.#name(topic)}: ${error.message}`, { cause: error }));
            },
          );
        });
        this.#known.add(topic);
      }
    } finally {
      admin.disconnect();
      openClients.delete(admin);
    }
  }

  async publish(topic: string, event: OutgoingEvent, options: PublishOptions = {}): Promise<void> {
    if (this.#closed) throw new ZtError('ZT_ERR_SHUTTING_DOWN', 'the event bus is closed');
    const value = toBuffer(event.value);
    const headers = toHeaders(event.headers);
    let waiter: Waiter | undefined;
    const delivered = options.durable
      ? new Promise<void>((resolve, reject) => {
          waiter = { resolve, reject };
        })
      : undefined;
    for (;;) {
      try {
        this.#producer.produce(this.#name(topic), null, value, event.key, Date.now(), waiter, headers);
        this.#inFlight++;
        break;
      } catch (error) {
        // The local queue is full: wait for deliveries to drain it rather than failing the caller.
        if ((error as { code?: number }).code !== ERR_QUEUE_FULL) {
          throw new ZtError('ZT_ERR_EVENTS_UNAVAILABLE', `cannot queue an event on ${topic}: ${(error as Error).message}`, { cause: error });
        }
        await sleep(5);
      }
    }
    await delivered;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.#closed) throw new ZtError('ZT_ERR_SHUTTING_DOWN', 'the event bus is closed');
    const subscription = new KafkaSubscription(this.#options, options, (name) => name.slice(this.#options.topicPrefix.length));
    this.#consumers.add(subscription);
    subscription.closed.then(() => this.#consumers.delete(subscription)).catch(() => undefined);
    try {
      await subscription.start(options.topics.map((t) => this.#name(t)));
    } catch (error) {
      await subscription.close();
      throw error;
    }
    return subscription;
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new ZtError('ZT_ERR_EVENTS_UNAVAILABLE', 'the event bus is closed');
    await new Promise<void>((resolve, reject) => {
      this.#producer.getMetadata({ timeout: Math.min(this.#options.connectTimeoutMs, 5000) }, (error) => {
        if (error) reject(new ZtError('ZT_ERR_EVENTS_UNAVAILABLE', `Kafka at ${describeBrokers(this.#options.brokers)} does not answer: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
  }

  pending(): number {
    return this.#inFlight;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // One at a time: each disconnect holds a libuv pool thread until its group has let it go.
    for (const consumer of [...this.#consumers]) await consumer.close();
    // Flush until every accepted event has its delivery report (each report settles a durable publish).
    const deadline = Date.now() + 60000;
    while (this.#inFlight > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => this.#producer.flush(1000, () => resolve()));
    }
    await releaseClient(this.#producer);
  }
}

/** Disconnects a client (connected, connecting or failed to connect) and waits until librdkafka has let it go. */
async function releaseClient(client: Kafka.Producer | Kafka.KafkaConsumer): Promise<void> {
  if (!openClients.has(client)) return;
  await new Promise<void>((resolve) => {
    try {
      client.disconnect(() => resolve());
    } catch {
      // Never connected: there is no native handle to release.
      resolve();
    }
  });
  openClients.delete(client);
}

class KafkaSubscription implements Subscription {
  readonly ready: Promise<void>;
  readonly closed: Promise<void>;
  #markReady!: () => void;
  #markClosed!: () => void;
  readonly #consumer: Kafka.KafkaConsumer;
  #running = true;
  #loop: Promise<void> = Promise.resolve();
  readonly #maxBatch: number;

  constructor(
    private readonly bus: KafkaBusOptions,
    private readonly options: SubscribeOptions,
    private readonly unprefix: (name: string) => string,
  ) {
    this.ready = new Promise((r) => (this.#markReady = r));
    this.closed = new Promise((r) => (this.#markClosed = r));
    this.#maxBatch = batchLimit(options);
    const self = this;
    this.#consumer = new Kafka.KafkaConsumer(
      {
        'metadata.broker.list': describeBrokers(bus.brokers),
        'client.id': `${bus.clientId}-${options.group}`,
        'group.id': bus.topicPrefix + options.group,
        'enable.auto.commit': false,
        'socket.keepalive.enable': true,
        'session.timeout.ms': 10000,
        'heartbeat.interval.ms': 1000,
        ...(bus.instanceId ? { 'group.instance.id': bus.instanceId } : {}),
        rebalance_cb(this: Kafka.KafkaConsumer, error: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]) {
          // Called from librdkafka's dispatcher: nothing may throw out of here. The revocation that a disconnect
          // causes can arrive when the client already counts as disconnected, and unassign() then throws.
          try {
            if (error.code === ERR_ASSIGN_PARTITIONS) {
              this.assign(assignment);
              self.#markReady();
            } else if (error.code === ERR_REVOKE_PARTITIONS) {
              this.unassign();
            }
          } catch (failure) {
            if (self.#running) bus.onError?.(failure, `consumer ${options.group} rebalance`);
          }
        },
      } as Kafka.ConsumerGlobalConfig,
      { 'auto.offset.reset': options.fromBeginning ? 'earliest' : 'latest' },
    );
    this.#consumer.on('event.error', (error) => bus.onError?.(error, `consumer ${options.group}`));
  }

  async start(topics: string[]): Promise<void> {
    openClients.set(this.#consumer, `consumer ${this.bus.clientId} group ${this.options.group}`);
    await new Promise<void>((resolve, reject) => {
      this.#consumer.connect({ timeout: this.bus.connectTimeoutMs }, (error) => {
        if (error) reject(new ZtError('ZT_ERR_EVENTS_UNAVAILABLE', `consumer group ${this.options.group} cannot reach Kafka: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
    // A consume call runs on libuv's thread pool (4 threads) and blocks its thread for as long as it waits. Waiting
    // there, half a dozen consumers kept the pool full, and everything else that needs it (file reads, a worker
    // thread's module loading, async crypto) queued behind them: a signer pool took 2 s instead of 0.1 s to start.
    // So a call takes only what librdkafka has already fetched, and an idle consumer waits here, on a timer.
    this.#consumer.setDefaultConsumeTimeout(0);
    this.#consumer.subscribe(topics);
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const messages = await new Promise<Kafka.Message[]>((resolve) => {
        this.#consumer.consume(Math.max(100, this.#maxBatch), (error, batch) => {
          if (error) {
            this.bus.onError?.(error, `consumer ${this.options.group}`);
            resolve([]);
          } else resolve(batch);
        });
      });
      const events = messages.map(
        (message): DeliveredEvent => ({
          topic: this.unprefix(message.topic),
          key: message.key === null || message.key === undefined ? null : message.key.toString(),
          value: message.value ?? Buffer.alloc(0),
          headers: fromHeaders(message.headers),
          partition: message.partition,
          offset: message.offset,
          timestamp: message.timestamp ?? Date.now(),
        }),
      );
      if (events.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
        continue;
      }
      if (this.options.batchHandler) {
        // Runs of one topic, in order, at most maxBatch long; positions committed after each run.
        for (let i = 0; i < events.length; ) {
          let end = i + 1;
          while (end < events.length && end - i < this.#maxBatch && events[end]!.topic === events[i]!.topic) end++;
          await deliverEvents(this.options, events.slice(i, end));
          for (let j = i; j < end; j++) this.#consumer.commitMessage(messages[j]!);
          i = end;
        }
        continue;
      }
      for (let i = 0; i < events.length; i++) {
        await deliverEvent(this.options, events[i]!);
        // Commit the position after the event: a crash before this line redelivers it (at least once).
        this.#consumer.commitMessage(messages[i]!);
      }
    }
  }

  async close(): Promise<void> {
    if (!this.#running) return this.closed;
    this.#running = false;
    await this.#loop;
    try {
      this.#consumer.commitSync(null);
    } catch {
      // Nothing consumed since the last commit.
    }
    await releaseClient(this.#consumer);
    this.#markReady();
    this.#markClosed();
  }
}
