import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createPartitionOwner } from '../../src/cluster/compute/partition-owner.js';
import { createRedisBus } from '../../src/cluster/redis-bus.js';
import type { Redis } from '../../src/cluster/redis-connection.js';
import { createRedisLeases } from '../../src/cluster/redis-leases.js';
import type { StreamEvent } from '../../src/model/event.js';
import type { WindowResult } from '../../src/model/window-result.js';
import { createCaps } from '../../src/notify/caps.js';
import type { DecisionLog } from '../../src/notify/decision-log.js';
import { createDelivery } from '../../src/notify/delivery.js';
import { createInbox } from '../../src/notify/inbox.js';
import type { NotificationIntent } from '../../src/notify/notification.js';
import { createPreferences } from '../../src/notify/preferences.js';
import { createRouter } from '../../src/notify/router.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createPipelineService } from '../../src/pipeline/pipeline-service.js';
import { streamReach } from '../../src/pipeline/replay-recent.js';
import type { StreamSpec } from '../../src/pipeline/stream-spec.js';
import { createWindowCache } from '../../src/pipeline/window-cache.js';
import type { RuleSpec } from '../../src/rules/rule-spec.js';
import { createRulesService } from '../../src/rules/rules-service.js';
import { createRedisStateStore } from '../../src/state/redis-state-store.js';
import { createTimers } from '../../src/state/timers.js';
import type { EventStore } from '../../src/storage/event-store.js';

export const partitions = 4;
// TEST_LOG_LEVEL=debug shows the nodes' logs on stderr.
export const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }, pino.destination(2));

// Short, so a takeover happens within a test; the margin leaves room for a loaded machine.
const leaseTiming = { ttlMs: 1500, safetyMarginMs: 300 };

export interface NodeHooks {
  /** Runs after the router handled an intent on this node (a test kills the node there). */
  afterRoute?: (intent: NotificationIntent) => void;
}

interface Shared {
  connect(): Promise<Redis>;
  store: EventStore;
  decisions: DecisionLog;
  specs: Record<string, StreamSpec[]>;
  rules: Record<string, RuleSpec[]>;
}

/**
 * One cluster node's compute in the test process: its own Redis connections, leases, bus,
 * bus-fed window cache, pipeline publishing to the bus, rules routed through the real router
 * on the shared Redis state, and the partition owner tying them together. `kill` stops it the
 * way `kill -9` would: connections dropped, nothing released, nothing flushed.
 */
export async function startComputeNode(
  shared: Shared,
  name: string,
  hooks: NodeHooks,
  cleanups: Array<() => Promise<unknown>>,
) {
  const redis = await shared.connect();
  const readers: Redis[] = [];
  const nodeId = `${name}-${Math.random().toString(36).slice(2)}`;
  const metrics = createMetrics(new Registry());
  const leases = createRedisLeases(redis, { nodeId, ...leaseTiming }, { metrics, log });
  const bus = createRedisBus(redis, { metrics, log });
  const cache = createWindowCache();
  bus.subscribe('windows', (message) => {
    const { project, results } = message as { project: string; results: WindowResult[] };
    cache.sink.write(project, results);
  });
  const publish = {
    write: (project: string, results: readonly WindowResult[]) =>
      bus.publish('windows', { project, results }),
  };
  const pipeline = createPipelineService({ sinks: [publish], metrics, log }, shared.specs);
  await pipeline.start();

  const state = createRedisStateStore(redis);
  const timers = createTimers(state, log);
  const channels = new Map();
  const router = createRouter({
    state,
    preferences: createPreferences(state),
    caps: createCaps(state, () => []),
    inbox: createInbox(state),
    channels,
    delivery: createDelivery({ channels, timers, decisions: shared.decisions, log }),
    decisions: shared.decisions,
    timers,
  });
  /** Intents this node routed, per de-duplication key. */
  const routed = new Map<string, number>();
  const route = async (intent: NotificationIntent) => {
    routed.set(intent.dedupKey!, (routed.get(intent.dedupKey!) ?? 0) + 1);
    await router.route(intent);
    hooks.afterRoute?.(intent);
  };
  const segments = { users: () => Promise.reject(new Error('no segments in this test')) };
  const rules = createRulesService({ state, timers, segments, route, metrics, log }, shared.rules);

  /** Event ids this node fed to its streams live (not through a takeover rebuild). */
  const fed: Array<{ project: string; id: string }> = [];
  const owner = createPartitionOwner(
    {
      redis,
      openReader: () => {
        const reader = redis.duplicate({ lazyConnect: true });
        readers.push(reader);
        return reader;
      },
      leases,
      nodeId,
      projects: () => Object.keys(shared.specs),
      pipeline: {
        ...pipeline,
        feed(project: string, events: StreamEvent[]) {
          for (const event of events) fed.push({ project, id: event.id });
          pipeline.feed(project, events);
        },
      },
      streams: (project) => pipeline.streams(project).map((spec) => streamReach(spec)),
      onEvents: rules.onEvents,
      store: shared.store,
      seen: (project, stream, key, start) => cache.latest(project, stream, key, start),
      metrics,
      log,
    },
    { partitions, blockMs: 200, retryBaseMs: 20, retryMaxMs: 200, lagEveryMs: 100 },
  );
  await owner.start();

  let killed = false;
  const connections = () => [redis, ...readers];
  cleanups.push(async () => {
    if (!killed) await owner.stop();
    await leases.close();
    await bus.close();
    await pipeline.stop();
    await rules.stop();
    for (const connection of connections()) connection.disconnect();
  });
  return {
    name,
    nodeId,
    metrics,
    leases,
    pipeline,
    owner,
    cache,
    rules,
    routed,
    fed,
    /** Like kill -9: every connection dropped at once, no lease released, nothing flushed. */
    kill(): void {
      killed = true;
      for (const connection of connections()) connection.disconnect();
      void pipeline.stop(); // the process is gone: no idle tick or early emission any more
    },
  };
}

export type ComputeNode = Awaited<ReturnType<typeof startComputeNode>>;
