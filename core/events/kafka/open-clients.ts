// The librdkafka clients of this process whose native handle is alive (connecting or connected). A process that exits
// with one still open can abort in librdkafka's threads ("pure virtual method called"), so every path that opens one
// must close it; the test suite checks after each file that none is left. Kept apart from the bus so that reading it
// does not load the native module.
export const openClients = new Map<object, string>();

/** Descriptions of the Kafka clients this process has opened and not yet closed. */
export function openKafkaClients(): string[] {
  return [...openClients.values()];
}
