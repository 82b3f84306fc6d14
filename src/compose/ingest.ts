import { createDedupWindow } from '../ingest/dedup-window.js';
import { createIngest } from '../ingest/ingest-service.js';
import { createLocalAcceptance } from '../ingest/local-acceptance.js';
import { createLogAcceptance } from '../ingest/log-acceptance.js';
import { warmDedup } from '../ingest/warm-dedup.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { Service } from '../ops/lifecycle.js';
import type { ClusterNode } from './cluster-node.js';
import type { AppConfig } from './config.js';
import type { Stored } from './storage.js';

/**
 * Ingest. Single node: accepted events go to the events writer, de-duplicated over a window
 * of ids restored from ClickHouse at start (its `services`). Cluster node: each batch is one
 * append to the Redis event log, which de-duplicates across the nodes.
 */
export function composeIngest(
  config: AppConfig,
  deps: { stored: Stored; node: ClusterNode | undefined; metrics: Metrics; log: Logger },
): { ingest: ReturnType<typeof createIngest>; services: Service[] } {
  const { stored, node, metrics, log } = deps;
  const { limits } = config;
  if (node)
    return {
      ingest: createIngest({ acceptance: createLogAcceptance(node.eventLog), metrics, limits }),
      services: [],
    };
  const window = { windowMs: config.storage.dedupWindowMs, maxIds: config.storage.dedupMaxIds };
  const dedup = createDedupWindow(window);
  const acceptance = createLocalAcceptance({ writer: stored.eventWriter, dedup });
  const ingest = createIngest({ acceptance, metrics, limits });
  const dedupWarmUp = {
    name: 'dedup-warm-up',
    start: async () => {
      const ids = await warmDedup(dedup, stored.events, window);
      log.info({ ids }, 'de-duplication window restored');
    },
    stop: async () => undefined,
  };
  return { ingest, services: [stored.eventWriter, dedupWarmUp] };
}
