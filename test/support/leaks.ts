// Runs after every test file: a Kafka client left open when the worker exits can abort the whole process in
// librdkafka's threads, far from the test that leaked it. Failing here names the file instead.
import { afterAll } from 'vitest';
import { openKafkaClients } from '../../core/events/kafka/open-clients.js';

afterAll(() => {
  const open = openKafkaClients();
  if (open.length > 0) throw new Error(`Kafka clients left open by this file: ${open.join('; ')}`);
});
