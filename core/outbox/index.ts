export { enqueueEvent, OutboxRelay, type OutboxRelayOptions } from './outbox.js';
