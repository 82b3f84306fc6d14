import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { StateStore } from '../state/state-store.js';
import type { ClickHouse } from '../storage/clickhouse.js';
import { createRemoteClickHouse } from '../storage/redis-clickhouse.js';
import { createStorageService } from '../storage/storage-service.js';
import type { Service } from '../ops/lifecycle.js';
import type { ClusterNode } from './cluster-node.js';
import type { AppConfig } from './config.js';

/**
 * A cluster node's storage: the shared Redis StateStore, and ClickHouse as its storage kind
 * says: the server (every node migrates it; migrations are idempotent), the embedded chdb on
 * the owner node (migrated there), or, on a remote node, the owner's over Redis (no migration
 * here: the owner applies them).
 */
export function clusterStorage(
  config: AppConfig,
  node: ClusterNode,
  deps: { metrics: Metrics; log: Logger },
): { storage: Service & { readonly ch: ClickHouse }; state: StateStore } {
  if (node.storage !== 'remote') {
    const { dataDir, clickhouseUrl } = config;
    const options = {
      dataDir,
      clickhouseUrl,
      retentionDays: config.storage.retentionDays,
      materializedProps: config.analytics.materializedProps,
    };
    return { storage: createStorageService(options, deps.log), state: node.state };
  }
  const ch = createRemoteClickHouse(node.redis, { node: node.instanceId }, deps);
  const storage = {
    name: 'storage',
    ch,
    start: async () => deps.log.info('storage: the owner node’s ClickHouse, over Redis'),
    stop: () => ch.close(),
  };
  return { storage, state: node.state };
}
