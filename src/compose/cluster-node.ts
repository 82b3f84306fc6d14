import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createRedisBus } from '../cluster/redis-bus.js';
import { openRedis, type Redis } from '../cluster/redis-connection.js';
import { checkDurability, RedisDurabilityError } from '../cluster/redis-durability.js';
import { createRedisEventLog } from '../cluster/event-log.js';
import { checkPartitionCount } from '../cluster/partition-count.js';
import { createRedisLeases } from '../cluster/redis-leases.js';
import { createRedisPresence } from '../cluster/redis-presence.js';
import type { RateLimit } from '../limits/rate-limiter.js';
import { createRedisRateLimiter } from '../limits/redis-rate-limiter.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { StartError } from '../ops/start-error.js';
import { streamSpecSchema } from '../pipeline/stream-spec.js';
import { ruleSpecSchema } from '../rules/rule-spec.js';
import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import { createRedisStateStore } from '../state/redis-state-store.js';
import type { StateStore } from '../state/state-store.js';
import { cohortSpecSchema } from '../analytics/cohort-spec.js';
import { openStateDefinitions } from '../state/state-definitions.js';
import type { AppConfig } from './config.js';

/** Where a cluster node's ClickHouse is: a server every node writes, or the owner's embedded one. */
export type StorageKind = 'server' | 'owner' | 'remote';

/** `npm start -- --cluster` without REDIS_URL: the Redis on this machine. */
export const defaultClusterRedisUrl = 'redis://127.0.0.1:6379';

/** REDIS_URL, or the local Redis when started with `--cluster`; unset: single node. */
export function withClusterFlag(config: AppConfig, argv: readonly string[]): AppConfig {
  if (config.redisUrl || !argv.includes('--cluster')) return config;
  return { ...config, redisUrl: defaultClusterRedisUrl };
}

/**
 * Joins a cluster: refuses a storage setting that cannot work, connects to Redis and checks it
 * fsyncs every write and agrees on the partition count, then opens what the nodes share: the
 * Bus, Presence, Leases, the StateStore, the event log and the saved definitions. Node ids:
 * `nodeId` names this node in logs, metrics and the storage consumer group (stable when
 * configured, so a restart finds its pending entries); `instanceId` is unique to this process
 * start, for leases, presence and RPC replies, which a restarted process must not inherit.
 *
 * @example
 * const node = await joinCluster(config, { metrics, log }); // with config.redisUrl set
 */
export async function joinCluster(config: AppConfig, deps: { metrics: Metrics; log: Logger }) {
  const storage = storageKind(config, deps.log);
  const nodeId =
    config.cluster.nodeId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const instanceId = `${nodeId}-${randomBytes(4).toString('hex')}`;
  const { metrics } = deps;
  const log = deps.log.child({ node: nodeId });
  const redis = await connect(config, metrics, log);
  await checkPartitionCount(redis, config.cluster.partitions);
  const state = createRedisStateStore(redis);
  const definitions = await openDefinitions(state, log);
  const shared = openShared(config, redis, { instanceId, metrics, log });
  metrics.clusterNodeInfo.set({ node: nodeId, storage }, 1);
  log.info({ storage, instance: instanceId }, 'joined the cluster');
  const { bus, presence } = shared;
  return {
    nodeId,
    instanceId,
    storage,
    redis,
    log,
    ...shared,
    state,
    definitions,
    /** The rate limiters every node takes from (`createRateLimiters`' factory). */
    rateLimiter: (limit: RateLimit, name: string) =>
      createRedisRateLimiter(redis, name, limit, { metrics, log }),
    /** Resolves while Redis answers (readiness). */
    ping: async () => void (await redis.ping()),
    // Started first, so stopped last: the pipeline's last windows still cross the bus.
    service: {
      name: 'cluster',
      start: async () => undefined,
      stop: async () => {
        await Promise.all([bus.close(), presence.close()]);
        await redis.quit().catch(() => redis.disconnect());
      },
    },
  };
}

export type ClusterNode = Awaited<ReturnType<typeof joinCluster>>;

/** The saved streams and rules, every one loaded now. */
async function openDefinitions(state: StateStore, log: Logger) {
  const warnInvalid = (key: string, err: unknown) =>
    log.warn({ err, key }, 'a saved definition no longer validates; its configuration applies');
  const open = <T extends { name: string }>(
    kind: string,
    schema: z.ZodType<T>,
    badCode: ErrorCode,
  ) => openStateDefinitions(state, { kind, schema, badCode }, warnInvalid);
  return {
    streams: await open('stream', streamSpecSchema, 'BAD_STREAM'),
    rules: await open('rule', ruleSpecSchema, 'BAD_RULE'),
    cohorts: await open('cohort', cohortSpecSchema, 'BAD_COHORT'),
  };
}

/** What the nodes exchange through Redis: the Bus, Presence, Leases and the event log. */
function openShared(
  config: AppConfig,
  redis: Redis,
  deps: { instanceId: string; metrics: Metrics; log: Logger },
) {
  const { instanceId, metrics, log } = deps;
  const { partitions, leaseTtlMs, maxLogEntries } = config.cluster;
  const connectionErrors = metrics.redisConnectionErrors;
  // The margin must stay under a third of the TTL (createRedisLeases checks it).
  const safetyMarginMs = Math.min(1000, Math.floor(leaseTtlMs / 4));
  const { dedupWindowMs } = config.storage;
  return {
    bus: createRedisBus(redis, { log, metrics, connectionErrors }),
    presence: createRedisPresence(redis, { nodeId: instanceId }, { log }),
    leases: createRedisLeases(
      redis,
      { nodeId: instanceId, ttlMs: leaseTtlMs, safetyMarginMs },
      { log, metrics },
    ),
    eventLog: createRedisEventLog(
      redis,
      { partitions, dedupWindowMs, maxLogEntries },
      { metrics, log },
    ),
  };
}

/** With CLICKHOUSE_URL every node writes and reads the server; without, the role decides. */
function storageKind(config: AppConfig, log: Logger): StorageKind {
  const role = config.cluster.storageRole;
  if (config.clickhouseUrl) {
    if (role) log.warn({ role }, 'BACKLINE_STORAGE_ROLE is ignored with CLICKHOUSE_URL');
    return 'server';
  }
  if (role) return role;
  throw new StartError(
    'cluster mode without CLICKHOUSE_URL needs BACKLINE_STORAGE_ROLE (cluster.storageRole): ' +
      'owner on exactly one node (it opens the embedded ClickHouse), remote on the others',
  );
}

/** Redis, checked to fsync every write: what makes an ack durable. Failures stop the start. */
async function connect(config: AppConfig, metrics: Metrics, log: Logger): Promise<Redis> {
  let redis: Redis;
  try {
    redis = await openRedis(
      config.redisUrl!,
      { keyPrefix: config.cluster.redisKeyPrefix },
      { log, errors: metrics.redisConnectionErrors },
    );
  } catch (err) {
    throw new StartError(`cluster mode: ${(err as Error).message} (REDIS_URL)`, { cause: err });
  }
  try {
    await checkDurability(redis, { mode: config.cluster.redisDurability, log });
  } catch (err) {
    redis.disconnect();
    if (err instanceof RedisDurabilityError) throw new StartError(err.message, { cause: err });
    throw err;
  }
  return redis;
}
