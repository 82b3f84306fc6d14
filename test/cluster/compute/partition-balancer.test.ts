import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPartitionBalancer } from '../../../src/cluster/compute/partition-balancer.js';
import { partitionLease } from '../../../src/cluster/compute/partition-cursor.js';
import { openRedis, type Redis } from '../../../src/cluster/redis-connection.js';
import { createRedisLeases } from '../../../src/cluster/redis-leases.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { eventually } from '../../helpers/eventually.js';
import { log } from '../../helpers/compute-node.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';

const partitions = 16;
// Short, so shares settle within a test; the margin leaves room for a loaded machine.
const ttlMs = 1500;
const timing = { ttlMs, everyMs: ttlMs / 3, graceMs: ttlMs };

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server.stop());
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Every lease change of every node, in the order the handlers ran. */
type Change = { partition: number; node: string; change: 'acquired' | 'lost' };

/**
 * A node's partition work as the owner holds it: 16 partition leases competed for as its
 * balancer says. `lost` takes a while (the owner stops and commits its cursor then), so a
 * hand-over that deleted the lease before it returned would show in the change log.
 */
async function startNode(prefix: string, name: string, changes: Change[]) {
  const redis: Redis = await openRedis(server.url, {
    keyPrefix: prefix,
    reconnectBaseMs: 10,
    reconnectMaxMs: 100,
  });
  const nodeId = `${name}-${randomUUID()}`;
  const metrics = createMetrics(new Registry());
  const leases = createRedisLeases(redis, { nodeId, ttlMs, safetyMarginMs: 300 }, { metrics, log });
  const balancer = createPartitionBalancer(
    { redis, leases, nodeId, metrics, log },
    { partitions, ...timing },
  );
  await balancer.start();
  const held = new Set<number>();
  for (let p = 0; p < partitions; p++)
    leases.hold(
      partitionLease(p),
      {
        acquired: () => {
          changes.push({ partition: p, node: name, change: 'acquired' });
          held.add(p);
        },
        lost: async () => {
          await sleep(100);
          held.delete(p);
          changes.push({ partition: p, node: name, change: 'lost' });
        },
      },
      { compete: () => balancer.compete(p) },
    );
  let dead = false;
  const stop = async () => {
    if (dead) return;
    dead = true;
    await balancer.stop();
    await leases.close();
    await redis.quit().catch(() => redis.disconnect());
  };
  cleanups.push(stop);
  return {
    name,
    held,
    metrics,
    /** As `kill -9` would: the connection drops, nothing is released or left. */
    kill: async () => {
      dead = true;
      redis.disconnect();
      await balancer.stop();
      await leases.close();
    },
  };
}

type Node = Awaited<ReturnType<typeof startNode>>;

const shares = (nodes: Node[]) => nodes.map((node) => node.held.size).sort((a, b) => a - b);
/** Each of the 16 partitions held by exactly one of `nodes`. */
const coveredOnce = (nodes: Node[]) =>
  Array.from({ length: partitions }, (_, p) => nodes.filter((n) => n.held.has(p)).length).every(
    (holders) => holders === 1,
  );

/** Per partition, the changes alternate acquired → lost, whoever the node: never two at once. */
function expectOneHolderAtATime(changes: Change[]) {
  for (let p = 0; p < partitions; p++) {
    const mine = changes.filter((c) => c.partition === p);
    mine.forEach((c, i) => {
      expect(c.change, `partition ${p} change ${i}: ${JSON.stringify(mine)}`).toBe(
        i % 2 === 0 ? 'acquired' : 'lost',
      );
      if (c.change === 'lost') expect(c.node).toBe(mine[i - 1]!.node);
    });
  }
}

describe('partition balancer', () => {
  it('spreads 16 partitions 5/5/6 over three nodes, moves a killed node’s to the others and brings the share back to a restarted one', async () => {
    const prefix = `t-${randomUUID()}:`;
    const changes: Change[] = [];
    const a = await startNode(prefix, 'a', changes);
    await eventually(() => a.held.size === partitions, 20_000, 'the first node to take all 16');
    const b = await startNode(prefix, 'b', changes);
    const c = await startNode(prefix, 'c', changes);
    let nodes = [a, b, c];
    await eventually(
      () => coveredOnce(nodes) && shares(nodes).join() === '5,5,6',
      30_000,
      `5/5/6 (now ${shares(nodes)})`,
    );
    // Stable: no lease changes hands while the nodes stay.
    const settled = changes.length;
    await sleep(4 * ttlMs);
    expect(changes.slice(settled)).toEqual([]);
    expect(shares(nodes).join()).toBe('5,5,6');
    let handedOver = 0;
    for (const node of nodes)
      handedOver += (await node.metrics.partitionHandovers.get()).values[0]?.value ?? 0;
    expect(handedOver).toBeGreaterThanOrEqual(10); // a went from 16 to 5 or 6

    const victim = nodes.find((n) => n.held.size === 6) ?? b;
    await victim.kill();
    nodes = nodes.filter((n) => n !== victim);
    await eventually(
      () => coveredOnce(nodes) && shares(nodes).join() === '8,8',
      30_000,
      `8/8 after the kill (now ${shares(nodes)})`,
    );

    const d = await startNode(prefix, 'd', changes);
    nodes = [...nodes, d];
    await eventually(
      () => coveredOnce(nodes) && shares(nodes).join() === '5,5,6',
      30_000,
      `5/5/6 after the restart (now ${shares(nodes)})`,
    );
    // The killed node's `lost` ran at its own deadline, before its leases expired in Redis.
    expectOneHolderAtATime(changes);
  }, 120_000);
});
