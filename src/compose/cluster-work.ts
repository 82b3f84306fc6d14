import { createPartitionBalancer } from '../cluster/compute/partition-balancer.js';
import { createPartitionOwner, type PartitionOwner } from '../cluster/compute/partition-owner.js';
import { createDefinitionSync } from '../cluster/definition-sync.js';
import { leasedService } from '../cluster/leased-service.js';
import { createTimersLease } from '../cluster/timers-lease.js';
import type { Service } from '../ops/lifecycle.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { PipelineService } from '../pipeline/pipeline-service.js';
import { streamReach } from '../pipeline/replay-recent.js';
import type { StreamSpec } from '../pipeline/stream-spec.js';
import type { WindowCache } from '../pipeline/window-cache.js';
import type { RuleSpec } from '../rules/rule-spec.js';
import type { RulesService } from '../rules/rules-service.js';
import { serveClickHouse } from '../storage/redis-clickhouse.js';
import { createRedisStorageConsumer } from '../storage/redis-storage-consumer.js';
import type { ClusterNode } from './cluster-node.js';
import type { AppConfig } from './config.js';
import type { Stored } from './storage.js';

interface WorkDeps {
  node: ClusterNode;
  stored: Stored;
  pipeline: PipelineService;
  cache: WindowCache;
  rules: RulesService;
  projects: AppConfig['projects'];
  metrics: Metrics;
  log: Logger;
}

/**
 * The work a cluster shares out. `storage`: the event log into ClickHouse (a consumer of the
 * storage group on every node with CLICKHOUSE_URL, on the owner node without it, which also
 * answers the remote nodes' queries), and the rollup roller under the `rollups` lease. `compute`: definition changes from the bus, and the
 * partitions whose lease this node wins (their streams and event rules, fed from the log).
 * The balancer keeps each node at its fair share of the partitions (partition-balancer.ts).
 * `timers`: the persistent timers, run by the holder of the `timers` lease.
 *
 * @example
 * const work = composeClusterWork(config, { node, stored, pipeline, cache, rules, projects, metrics, log });
 * await lifecycle.start([…, stored.storage, ...work.storage, …, rules, ...work.compute, …, work.timers, …]);
 */
export function composeClusterWork(config: AppConfig, deps: WorkDeps) {
  const { node, stored, pipeline, cache, rules, metrics, log } = deps;
  const sync = createDefinitionSync({
    bus: node.bus,
    kinds: {
      stream: {
        saved: () => node.definitions.streams.saved(),
        reload: (project, name) => node.definitions.streams.reload(project, name),
        current: (project, name) => pipeline.stream(project, name),
        define: (project, spec) => {
          pipeline.define(project, spec as StreamSpec);
          cache.forget(project, spec.name);
        },
        remove: (project, name) => {
          pipeline.remove(project, name);
          cache.forget(project, name);
        },
      },
      rule: {
        saved: () => node.definitions.rules.saved(),
        reload: (project, name) => node.definitions.rules.reload(project, name),
        current: (project, name) => rules.get(project, name),
        define: (project, spec) => rules.define(project, spec as RuleSpec),
        remove: (project, name) => rules.remove(project, name),
      },
    },
    metrics,
    log,
  });
  const { partitions, leaseTtlMs } = config.cluster;
  const balancer = createPartitionBalancer(
    { redis: node.redis, leases: node.leases, nodeId: node.instanceId, metrics, log },
    // Sampled as often as the leases are tried; a partition free for a TTL goes to anyone.
    { partitions, ttlMs: leaseTtlMs, everyMs: leaseTtlMs / 3, graceMs: leaseTtlMs },
  );
  const owner = createPartitionOwner(
    {
      redis: node.redis,
      leases: node.leases,
      compete: balancer.compete,
      nodeId: node.instanceId,
      projects: () => deps.projects.map((p) => p.id),
      pipeline,
      streams: (project) => pipeline.streams(project).map((spec) => streamReach(spec)),
      onEvents: rules.onEvents,
      store: stored.events,
      seen: (project, stream, key, start) => cache.latest(project, stream, key, start),
      metrics,
      log,
    },
    { partitions },
  );
  const leases: Service = {
    name: 'leases',
    start: async () => undefined,
    stop: () => node.leases.close(),
  };
  return {
    storage: storageWork(config, deps, owner),
    compute: [sync, leases, balancer, owner],
    timers: createTimersLease({ leases: node.leases, timers: stored.timers }),
  };
}

/** The storage consumer (and, on the embedded owner, the RPC server) this node runs. */
function storageWork(config: AppConfig, deps: WorkDeps, owner: PartitionOwner): Service[] {
  const { node, stored, metrics, log } = deps;
  if (node.storage === 'remote') return [];
  const { maxBatchRows, flushIntervalMs, insertTimeoutMs } = config.storage;
  const consumer = createRedisStorageConsumer(
    node.redis,
    {
      store: stored.events,
      metrics,
      log,
      retainFrom: owner.retainFrom,
      connectionErrors: metrics.redisConnectionErrors,
    },
    {
      partitions: config.cluster.partitions,
      consumer: node.nodeId,
      claimIdleMs: config.cluster.claimIdleMs,
      ...{ maxBatchRows, flushIntervalMs, insertTimeoutMs },
    },
  );
  // One node at a time brings the rollups up to date (rollup-roller.ts).
  const roller = leasedService(node.leases, 'rollups', stored.roller);
  if (node.storage === 'server') return [consumer, roller];
  return [serveClickHouse(node.redis, stored.storage.ch, {}, { metrics, log }), consumer, roller];
}
