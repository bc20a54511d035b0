import { expect, it } from 'vitest';
import { eventBusContract } from '../../../test/contracts/events.contract.js';
import { describeWithService, kafkaBrokers } from '../../../test/support/services.js';
import { isZtError } from '../../errors/index.js';
import type { EventBus } from '../port.js';
import { KafkaEventBus } from './kafka-bus.js';

const connect = (brokers: string[] = kafkaBrokers, connectTimeoutMs = 10000) =>
  KafkaEventBus.connect({ brokers, clientId: 'zt-test', topicPrefix: 'zt-test.', connectTimeoutMs, partitions: 3 });

describeWithService('kafka', 'Kafka event bus: contract', () => {
  const opened: EventBus[] = [];
  eventBusContract({
    patienceMs: 20000,
    async open() {
      const bus = await connect();
      opened.push(bus);
      return bus;
    },
    async dispose() {
      await Promise.all(opened.map((b) => b.close()));
    },
  });
});

describeWithService('kafka', 'Kafka event bus: connection errors', () => {
  it('fails within the timeout with an actionable message when no broker listens', async () => {
    const started = Date.now();
    const error = await connect(['127.0.0.1:1'], 1500).catch((e: unknown) => e);
    expect(isZtError(error) && error.code).toBe('ZT_ERR_EVENTS_UNAVAILABLE');
    expect((error as Error).message).toMatch(/cannot reach Kafka at 127\.0\.0\.1:1/);
    expect(Date.now() - started).toBeLessThan(10000);
  });
});
