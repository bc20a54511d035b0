import type { Config } from '../config/index.js';
import type { Logger } from '../logging/index.js';
import { MemoryEventBus } from './memory/memory-bus.js';
import type { EventBus } from './port.js';

/** Kafka when KAFKA_BROKERS is set, else the in-process bus. */
export async function openEventBus(config: Config, logger?: Logger): Promise<EventBus> {
  if (config.kafkaBrokers.length === 0) return new MemoryEventBus();
  // Loaded only when configured, so the embedded default never touches librdkafka.
  const { KafkaEventBus } = await import('./kafka/kafka-bus.js');
  return KafkaEventBus.connect({
    brokers: config.kafkaBrokers,
    clientId: config.kafkaClientId,
    topicPrefix: config.kafkaTopicPrefix,
    connectTimeoutMs: config.kafkaConnectTimeoutMs,
    ...(config.instanceId ? { instanceId: config.instanceId } : {}),
    onError: (error, context) => logger?.warn({ err: error, context }, 'Kafka reported an error'),
  });
}
