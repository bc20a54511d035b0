// Reads a whole topic from its beginning, as a fresh consumer group would, to compare what reached the broker with
// what the database committed. Stops once no message has come for `quietMs`.
import Kafka from 'node-rdkafka';

export interface TopicMessage {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

export async function readTopic(brokers: string, topic: string, quietMs = 5000, timeoutMs = 120_000): Promise<TopicMessage[]> {
  const consumer = new Kafka.KafkaConsumer(
    { 'group.id': `zt-faults-reader-${process.pid}-${Date.now()}`, 'metadata.broker.list': brokers, 'enable.auto.commit': false },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => {
    consumer.once('ready', () => resolve());
    consumer.connect({ timeout: 20_000 }, (error) => error && reject(error));
  });
  const out: TopicMessage[] = [];
  try {
    consumer.subscribe([topic]);
    const deadline = Date.now() + timeoutMs;
    let lastMessage = Date.now();
    while (Date.now() < deadline && Date.now() - lastMessage < quietMs) {
      const batch = await new Promise<Kafka.Message[]>((resolve, reject) => consumer.consume(500, (error, messages) => (error ? reject(error) : resolve(messages))));
      if (batch.length > 0) lastMessage = Date.now();
      for (const m of batch) {
        const headers: Record<string, string> = {};
        for (const h of m.headers ?? []) for (const [k, v] of Object.entries(h)) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
        out.push({ key: m.key === null || m.key === undefined ? null : m.key.toString(), value: m.value ?? Buffer.alloc(0), headers });
      }
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  return out;
}
