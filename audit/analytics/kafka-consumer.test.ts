// The analytics consumer group on a real Kafka broker: two members (as two gateways, or a gateway and
// `zhengtong audit consume`) share the access-record topic's partitions, every event is applied exactly once into
// the totals, and redelivered events change nothing. Skipped with a message when ZT_TEST_KAFKA_BROKERS is unset.
import { afterAll, expect, it } from 'vitest';
import { KafkaEventBus } from '../../core/events/kafka/kafka-bus.js';
import { createLogger } from '../../core/logging/index.js';
import type { Database } from '../../core/storage/index.js';
import { openMigratedDatabase, waitUntil } from '../../test/support/ca.js';
import { describeWithService, kafkaBrokers, uniqueName } from '../../test/support/services.js';
import { ACCESS_RECORD_TOPIC } from '../access-record.js';
import { AnalyticsConsumer } from './consumer.js';
import { AnalyticsProjection } from './projection.js';
import { eventOf, GA, MZ, permitted, person, YS } from './test-support.js';
import { WorkingHours } from './working-hours.js';

describeWithService('kafka', 'analytics consumer group on Kafka', () => {
  const prefix = `${uniqueName('zt_analytics')}.`;
  const buses: KafkaEventBus[] = [];
  const consumers: AnalyticsConsumer[] = [];
  let db: Database;

  afterAll(async () => {
    for (const c of consumers) await c.close();
    for (const b of buses) await b.close();
    await db?.close();
  });

  it('shares the partitions between two members and counts every record once', async () => {
    db = await openMigratedDatabase();
    const logger = createLogger({ level: 'silent', instanceId: 'test' });
    const projection = new AnalyticsProjection(db, { workingHours: WorkingHours.parse(), retentionDays: 30 });
    for (const name of ['a', 'b']) {
      const bus = await KafkaEventBus.connect({ brokers: kafkaBrokers, clientId: `analytics-${name}`, topicPrefix: prefix, connectTimeoutMs: 10_000, partitions: 4 });
      buses.push(bus);
      await bus.ensureTopics([ACCESS_RECORD_TOPIC]);
      consumers.push(await AnalyticsConsumer.start({ bus, projection, logger, pruneIntervalMs: 0 }));
    }
    await Promise.all(consumers.map((c) => c.ready));
    const records = Array.from({ length: 400 }, (_, i) =>
      permitted(new Date(Date.parse('2026-03-09T02:00:00Z') + i * 1000), { requester: [GA, YS, MZ][i % 3], subjectCode: person(i), caseNumber: `K-2026-${i}` }),
    );
    const publish = (list: typeof records) =>
      Promise.all(list.map((r) => buses[0]!.publish(ACCESS_RECORD_TOPIC, { key: r.subjectCode, value: eventOf(r).value, headers: { 'zt-event-type': 'access.recorded' } }, { durable: true })));
    await publish(records);
    // At least once: the same events again, as a producer retry or an uncommitted offset would deliver them.
    await publish(records.slice(0, 50));
    const delivered = () => consumers.reduce((t, c) => t + c.stats.events, 0);
    await waitUntil(() => delivered() === 450, 60_000, 'both members to receive the 450 events');
    const { rows } = await db.query<{ n: string }>('SELECT sum(requests) AS n FROM audit_analytics_hourly');
    expect(Number(rows[0]!.n)).toBe(400);
    expect(consumers.reduce((t, c) => t + c.stats.applied, 0)).toBe(400);
    expect(consumers.reduce((t, c) => t + c.stats.duplicates, 0)).toBe(50);
    // The group spread the partitions: each member handled some of the events.
    for (const c of consumers) expect(c.stats.events).toBeGreaterThan(0);
  }, 120_000);
});
