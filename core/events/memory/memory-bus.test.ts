import { describe } from 'vitest';
import { eventBusContract } from '../../../test/contracts/events.contract.js';
import { MemoryEventBus } from './memory-bus.js';

describe('in-process event bus: contract', () => {
  // In-process, "another client of the same cluster" is the same bus.
  let bus: MemoryEventBus | undefined;
  eventBusContract({
    patienceMs: 2000,
    async open() {
      bus ??= new MemoryEventBus();
      return bus;
    },
    async dispose() {
      await bus?.close();
    },
  });
});
