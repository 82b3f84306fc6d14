import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { openRedis } from '../../src/cluster/redis-connection.js';
import { createRedisLeases } from '../../src/cluster/redis-leases.js';
import { createTimersLease } from '../../src/cluster/timers-lease.js';
import { createRedisStateStore } from '../../src/state/redis-state-store.js';
import { createTimers } from '../../src/state/timers.js';
import { eventually } from '../helpers/eventually.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const log = pino({ level: 'silent' });
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server.stop());
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A node's timers on the shared Redis state, started only under the `timers` lease. */
async function openNode(prefix: string, name: string, fired: string[]) {
  const redis = await openRedis(server.url, { keyPrefix: prefix });
  const leases = createRedisLeases(redis, {
    nodeId: `${name}-${randomUUID()}`,
    ttlMs: 1500,
    safetyMarginMs: 300,
  });
  const timers = createTimers(createRedisStateStore(redis), log, { checkEveryMs: 20 });
  timers.on('remind', async (timer) => void fired.push(`${name}:${timer.id}`));
  const service = createTimersLease({ leases, timers });
  await service.start();
  cleanups.push(async () => {
    await service.stop();
    await leases.close();
    redis.disconnect();
  });
  return { name, redis, leases, timers, kill: () => redis.disconnect() };
}

it('fires each timer once, on the lease holder only, and on the next holder after a kill -9', async () => {
  const prefix = `t-${randomUUID()}:`;
  const fired: string[] = [];
  const nodes = [await openNode(prefix, 'a', fired), await openNode(prefix, 'b', fired)];
  await eventually(() => nodes.some((n) => n.leases.holds('timers')), 10_000, 'a holder');
  const holder = nodes.find((n) => n.leases.holds('timers'))!;
  const other = nodes.find((n) => n !== holder)!;

  const first = ['t1', 't2', 't3', 't4', 't5'];
  for (const id of first) await other.timers.schedule('remind', Date.now(), {}, id);
  await eventually(() => fired.length === first.length, 10_000, 'the first timers fired');
  expect(fired.sort()).toEqual(first.map((id) => `${holder.name}:${id}`));

  holder.kill(); // no release: the lease expires by its TTL
  const second = ['t6', 't7', 't8'];
  for (const id of second) await other.timers.schedule('remind', Date.now(), {}, id);
  await eventually(() => fired.length === first.length + second.length, 15_000, 'the rest fired');
  expect(fired.slice(first.length).sort()).toEqual(second.map((id) => `${other.name}:${id}`));
  expect(other.leases.holds('timers')).toBe(true);
});
