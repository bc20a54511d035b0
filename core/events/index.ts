export type {
  DeliveredEvent,
  EventBus,
  EventBusKind,
  EventHandler,
  OutgoingEvent,
  PublishOptions,
  SubscribeOptions,
  Subscription,
} from './port.js';
export { HANDLER_ATTEMPTS } from './port.js';
export { MemoryEventBus, type MemoryBusOptions } from './memory/memory-bus.js';
export { openEventBus } from './open.js';
