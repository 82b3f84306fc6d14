import type { Bus } from './bus.js';
import { createBusHandlers, type BusDeps } from './bus-handlers.js';

/**
 * The single-node Bus: `publish` calls every handler before it returns, in subscription
 * order, so a single node keeps the ordering and latency it had before the bus existed.
 * Messages are handed over as they are, not copied: handlers must not change them.
 *
 * @example
 * const bus = createMemoryBus({ log, metrics });
 * bus.subscribe('windows', (message) => hub.publish(message as WindowsMessage));
 */
export function createMemoryBus(deps: BusDeps = {}): Bus {
  const handlers = createBusHandlers(deps);
  let closed = false;
  return {
    publish(channel, message) {
      if (closed) return;
      deps.metrics?.busMessages.inc({ direction: 'out' });
      handlers.deliver(channel, message);
    },
    subscribe(channel, handler) {
      handlers.add(channel, handler);
      let subscribed = true;
      return () => {
        if (subscribed) handlers.remove(channel, handler);
        subscribed = false;
      };
    },
    async close() {
      closed = true;
      handlers.clear();
    },
  };
}
