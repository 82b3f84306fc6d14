import { createMemoryBus } from '../cluster/memory-bus.js';
import { createMemoryPresence } from '../cluster/memory-presence.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';

/**
 * The cluster seam, one instance each: the Bus (window results, user messages, definition
 * changes) and Presence (who holds a user socket). In-process in single-node mode; cluster
 * mode swaps in `createRedisBus` and `createRedisPresence` here and nowhere else.
 */
export function composeCluster(deps: { metrics: Metrics; log: Logger }) {
  const bus = createMemoryBus(deps);
  const presence = createMemoryPresence();
  return {
    bus,
    presence,
    // Started first, so stopped last: the pipeline's last windows still cross the bus.
    service: {
      name: 'cluster',
      start: async () => undefined,
      stop: async () => {
        await Promise.all([bus.close(), presence.close()]);
      },
    },
  };
}
