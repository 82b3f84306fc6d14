import { createLeaseEvents, type LeaseDeps, type LeaseEvents } from './lease-events.js';
import type { Leases } from './leases.js';

/**
 * Single-node Leases: this node is the only competitor, so it holds every lease from `hold`
 * until `close`.
 *
 * @example
 * const leases = createMemoryLeases({ log, metrics });
 * leases.hold('timers', { acquired: () => timers.start(), lost: () => timers.stop() });
 */
export function createMemoryLeases(deps: LeaseDeps = {}): Leases {
  const held = new Map<string, LeaseEvents>();
  let closed = false;
  return {
    hold(name, handlers) {
      if (held.has(name)) throw new Error(`lease ${name} is already held`);
      if (closed) return;
      const events = createLeaseEvents(name, handlers, deps);
      held.set(name, events);
      events.acquired();
    },
    holds: (name) => held.has(name),
    /** The only competitor takes it straight back: `lost`, then `acquired` again. */
    async release(name) {
      const events = held.get(name);
      if (!events || closed) return;
      events.lost();
      events.acquired();
      await events.settled();
    },
    async close() {
      closed = true;
      const all = [...held.values()];
      held.clear();
      for (const events of all) events.lost();
      await Promise.all(all.map((events) => events.settled()));
    },
  };
}
