import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';

export type BusMetrics = Pick<Metrics, 'busMessages' | 'busMessagesLost'>;
export type BusHandler = (message: unknown) => void;

export interface BusDeps {
  log?: Logger;
  metrics?: BusMetrics;
}

/**
 * The handlers of each channel on this node, called in subscription order. Lists are copied
 * on change, never in `deliver`: a handler that subscribes or unsubscribes during a delivery
 * changes the next delivery, not this one, and the hot path allocates nothing.
 */
export function createBusHandlers(deps: BusDeps) {
  const byChannel = new Map<string, readonly BusHandler[]>();

  return {
    /** Adds `handler`; true when it is the channel's first (the Redis bus subscribes then). */
    add(channel: string, handler: BusHandler): boolean {
      const list = byChannel.get(channel) ?? [];
      byChannel.set(channel, [...list, handler]);
      return list.length === 0;
    },
    /** Removes this one subscription; true when the channel has no handler left. */
    remove(channel: string, handler: BusHandler): boolean {
      const list = byChannel.get(channel);
      if (!list) return false;
      const at = list.indexOf(handler);
      if (at < 0) return false;
      const rest = [...list.slice(0, at), ...list.slice(at + 1)];
      if (rest.length > 0) byChannel.set(channel, rest);
      else byChannel.delete(channel);
      return rest.length === 0;
    },
    channels: () => [...byChannel.keys()],
    clear: () => byChannel.clear(),
    /** Calls every handler of `channel`; one that throws is counted and the rest still run. */
    deliver(channel: string, message: unknown): void {
      const list = byChannel.get(channel);
      if (!list) return;
      deps.metrics?.busMessages.inc({ direction: 'in' });
      for (const handler of list) {
        try {
          handler(message);
        } catch (err) {
          deps.metrics?.busMessagesLost.inc({ reason: 'handler_failed' });
          deps.log?.error({ err, channel }, 'bus handler failed');
        }
      }
    },
  };
}

export type BusHandlers = ReturnType<typeof createBusHandlers>;
