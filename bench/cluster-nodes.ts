import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './deadline.js';
import { redisCommand, startRedis, type RedisProcess } from './redis-process.js';
import {
  defaultServerOptions,
  describeServer,
  startServer,
  type ServerProcess,
  type ServerSettings,
} from './server-process.js';

/** N backline nodes on one redis-server; `nodes[0]` owns the embedded ClickHouse. */
export interface Cluster {
  readonly redis: RedisProcess;
  readonly nodes: ServerProcess[];
  /** The project key every node accepts. */
  readonly key: string;
  /** `ws://…/<path>?key=…` of node `i`. */
  socketUrl(i: number, path: '/v1/ingest' | '/v1/live'): string;
  /**
   * Whether the nodes ran as a cluster: a node that joined writes its leases and its log to
   * Redis, so an empty Redis means they ran as single nodes (REDIS_URL ignored).
   */
  joinedRedis(): Promise<{ joined: boolean; keys: number; usedMemoryBytes: number }>;
  /** Stops every node still running (SIGTERM) and keeps their folders and Redis. */
  stopNodes(): Promise<void>;
  /** Stops every node still running (SIGTERM), then Redis; removes every folder. */
  stop(): Promise<void>;
}

// The partitions of the event log: CLUSTER.md's default, named so the report shows it.
export const partitions = 16;
/** The Redis key of the lease whose holder runs partition `p` (`cluster.redisKeyPrefix` bl:). */
export const partitionLeaseKey = (p: number) => `bl:lease:partition:${p}`;
// The balancer samples every second and hands a partition over on two samples alike; a free
// partition waits 5 s (src/cluster/compute/partition-balancer.ts). Leases unchanged this
// long over a fair spread are taken as settled.
const settledForMs = 3000;
const settleTimeoutMs = 60_000;
// Nodes starting at once after the owner: each loads tsx and the server, which on two
// shared cores takes seconds; all at once would crowd the start timeout.
const startsAtOnce = 2;

/** A node's settings besides those of a lone server (CLUSTER.md, "Settings"). */
function nodeEnv(i: number, redisUrl: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    BACKLINE_NODE_ID: `bench-node-${i + 1}`,
    // No ClickHouse server here: node 1 opens the embedded one, the others ask it over Redis.
    BACKLINE_STORAGE_ROLE: i === 0 ? 'owner' : 'remote',
    BACKLINE_CLUSTER_PARTITIONS: String(partitions),
  };
}

/** The commands of a cluster of `count` nodes, as a reader would start them. */
export function describeCluster(count: number, settings: ServerSettings = {}): string[] {
  const url = 'redis://127.0.0.1:<redis port>';
  const key = { BACKLINE_DEV_KEY: '<random per run, the same on every node>' };
  const node = (i: number) => describeServer(settings, { ...key, ...nodeEnv(i, url) });
  const commands = [redisCommand, `node 1: ${node(0)}`];
  if (count === 2) commands.push(`node 2: ${node(1)}`);
  if (count > 2) commands.push(`nodes 2–${count} (BACKLINE_NODE_ID=bench-node-<n>): ${node(1)}`);
  return commands;
}

/**
 * Starts a fresh redis-server and `count` nodes on it sharing one key and `settings`, each on
 * its own free port and folder; the owner first, since the others query its ClickHouse.
 *
 * @example
 * const cluster = await startCluster(3);
 * try { await load(cluster.socketUrl(1, '/v1/ingest')); } finally { await cluster.stop(); }
 */
export async function startCluster(count: number, settings: ServerSettings = {}): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), 'backline-bench-cluster-'));
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  process.once('exit', removeRoot);
  const key = `bench_${randomBytes(24).toString('base64url')}`;
  const nodes: ServerProcess[] = [];
  let redis: RedisProcess | undefined;
  const stopNodes = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  const stop = async () => {
    await stopNodes();
    await redis?.stop();
    process.removeListener('exit', removeRoot);
    removeRoot();
  };
  try {
    redis = await startRedis();
    const start = (i: number) => {
      const dataDir = join(root, `node-${i + 1}`);
      mkdirSync(dataDir);
      const env = nodeEnv(i, redis!.url);
      return startServer(settings, defaultServerOptions, { key, env, dataDir });
    };
    nodes.push(await start(0));
    for (let i = 1; i < count; i += startsAtOnce) {
      const batch = Array.from({ length: Math.min(startsAtOnce, count - i) }, (_, j) => i + j);
      const started = await Promise.allSettled(batch.map(start));
      for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
      const failed = started.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    }
    await awaitBalanced(redis, nodes.length);
  } catch (err) {
    await stop();
    throw err;
  }
  const shared = redis;
  return {
    redis: shared,
    nodes,
    key,
    socketUrl: (i, path) => `ws://127.0.0.1:${nodes[i]!.port}${path}?key=${key}`,
    async joinedRedis() {
      const seen = await shared.inspect();
      return { joined: seen.keys > 0, ...seen };
    },
    stopNodes,
    stop,
  };
}

/**
 * Waits until every partition lease is held, spread fairly over the `count` nodes, and
 * unchanged for `settledForMs`: a node that joins takes partitions over from the earlier ones,
 * and a hand-over (cursor commit, rebuild) inside a measured window would be timed as load.
 */
async function awaitBalanced(redis: RedisProcess, count: number): Promise<void> {
  const keys = Array.from({ length: partitions }, (_, p) => partitionLeaseKey(p));
  const deadline = performance.now() + settleTimeoutMs;
  let last = '';
  let since = performance.now();
  for (;;) {
    const holders = await redis.mget(keys);
    const shares = [...countBy(holders).values()];
    const fair =
      holders.every((holder) => holder !== null) &&
      shares.length === count &&
      Math.max(...shares) - Math.min(...shares) <= 1;
    const seen = holders.join();
    if (seen !== last) [last, since] = [seen, performance.now()];
    if (fair && performance.now() - since >= settledForMs) return;
    if (performance.now() > deadline)
      throw new Error(`partition leases not settled over ${count} nodes: ${seen}`);
    await sleep(500);
  }
}

function countBy(values: Array<string | null>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) if (value !== null) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
