import { Redis } from 'ioredis';
import { removeDir, startServer, tempDir, type ServerProcess } from './server-process.js';
import { freePort } from './free-port.js';
import { startHaproxy, type Haproxy } from './haproxy.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

/**
 * The cluster tests' in-app rule: every `alert` event notifies its own user, with the event's
 * id in the title and data, so a test can count each notification once per event.
 */
export const alertRule = {
  name: 'alerted',
  trigger: { kind: 'event', types: ['alert'] },
  audience: { kind: 'user' },
  notification: {
    category: 'alerts',
    title: 'Alert {{event.id}}',
    body: '',
    data: { event: '{{event.id}}' },
    channels: ['in_app'],
  },
};

export interface ClusterOptions {
  /** Nodes to run (default 3): node 1 owns the embedded ClickHouse, the others are remote. */
  nodes?: number;
  /**
   * The order the nodes start in, one after another (default 1, 2, …): the first takes every
   * lease, then hands partitions over as the others join (fair shares, partition-balancer.ts).
   */
  order?: readonly number[];
  /** Every node's BACKLINE_CONFIG (projects, limits, `cluster` settings). */
  config?: object;
  /** The dev project's key (BACKLINE_DEV_KEY), the same on every node. */
  key?: string;
  /** More environment for every node. */
  env?: Record<string, string>;
  /** A real HAProxy in front of the nodes, round robin. */
  haproxy?: boolean;
}

export interface TestCluster {
  readonly redis: RedisServer;
  /** Node `n` (1-based) as it runs now; `restart(n)` replaces it. */
  node(n: number): ServerProcess;
  readonly size: number;
  readonly proxy: Haproxy | undefined;
  /** kill -9 of node `n` by its pid, and wait for the exit. */
  kill(n: number): Promise<void>;
  /** Starts node `n` again on its port, folder and settings. */
  restart(n: number): Promise<ServerProcess>;
  /** The node whose process holds lease `name` now (`partition:3`, `timers`), if any. */
  holderOf(name: string): Promise<number | undefined>;
  /** How many of the `partitions` partition leases each node holds now (index n − 1). */
  partitionsHeld(partitions?: number): Promise<number[]>;
  /** Stops the proxy, every node and redis-server, and removes the folders. */
  stop(): Promise<void>;
}

/**
 * One redis-server (fsync on every write) and `nodes` real backline processes joined through
 * it, each with its own data folder and fixed loopback port, the same key and settings; node
 * 1 is the embedded ClickHouse owner (`BACKLINE_STORAGE_ROLE=owner`), the others `remote`.
 * Node ids are `node-<n>`.
 *
 * @example
 * const cluster = await startCluster({ config, haproxy: true });
 * await cluster.kill(2); // the others take its partitions over
 * await cluster.stop();
 */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const size = options.nodes ?? 3;
  const redis = await startRedisServer();
  const specs = await Promise.all(
    Array.from({ length: size }, async (_, i) => ({
      dataDir: tempDir(`backline-node${i + 1}-`),
      port: await freePort(),
      env: {
        REDIS_URL: redis.url,
        BACKLINE_NODE_ID: `node-${i + 1}`,
        BACKLINE_STORAGE_ROLE: i === 0 ? 'owner' : 'remote',
        ...options.env,
      },
    })),
  );
  const start = (n: number) =>
    startServer({
      ...specs[n - 1]!,
      ...(options.key ? { key: options.key } : {}),
      ...(options.config ? { config: options.config } : {}),
    });
  const nodes: ServerProcess[] = [];
  let proxy: Haproxy | undefined;
  const stop = async () => {
    await proxy?.stop();
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.stop();
    for (const spec of specs) removeDir(spec.dataDir);
  };
  try {
    for (const n of options.order ?? specs.map((_, i) => i + 1)) nodes[n - 1] = await start(n);
    if (options.haproxy) proxy = await startHaproxy(specs.map((spec) => spec.port));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    redis,
    size,
    node: (n) => nodes[n - 1]!,
    get proxy() {
      return proxy;
    },
    kill: (n) => nodes[n - 1]!.kill(),
    async restart(n) {
      await nodes[n - 1]!.stop();
      return (nodes[n - 1] = await start(n));
    },
    holderOf: async (name) => (await leaseHolders(redis.port, [name], size))[0],
    async partitionsHeld(partitions = 16) {
      const names = Array.from({ length: partitions }, (_, p) => `partition:${p}`);
      const held = Array.from({ length: size }, () => 0);
      for (const n of await leaseHolders(redis.port, names, size))
        if (n !== undefined) held[n - 1]! += 1;
      return held;
    },
    stop,
  };
}

/** Reads `bl:lease:<name>` of each name: its holder's instance id is `node-<n>-<random>`. */
async function leaseHolders(port: number, names: readonly string[], size: number) {
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true });
  try {
    await client.connect();
    const holders = await client.mget(names.map((name) => `bl:lease:${name}`));
    return holders.map((holder) => {
      for (let n = 1; n <= size; n++) if (holder?.startsWith(`node-${n}-`)) return n;
      return undefined;
    });
  } finally {
    client.disconnect();
  }
}
