import { afterEach, describe, expect, it } from 'vitest';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import { createRedisStateStore } from '../../src/state/redis-state-store.js';
import { eventually } from '../helpers/eventually.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(args?: string[]): Promise<RedisServer> {
  const server = await startRedisServer({ args });
  cleanups.push(() => server.stop());
  return server;
}

async function client(server: RedisServer, options?: Parameters<typeof openRedis>[1]) {
  const redis = await openRedis(server.url, options);
  cleanups.push(() => redis.quit().catch(() => redis.disconnect()));
  return redis;
}

/** Writes keys `w/<n>` from `workers` loops until one fails; answers the keys acknowledged. */
async function writeUntilFailure(redis: Redis, workers: number, onAck: (n: number) => void) {
  const state = createRedisStateStore(redis);
  const acked: string[] = [];
  let next = 0;
  const worker = async () => {
    for (;;) {
      const n = next++;
      const key = `w/${String(n).padStart(6, '0')}`;
      try {
        await (n % 2 === 0 ? state.put(key, { n }) : state.update(key, () => ({ n })));
      } catch {
        return;
      }
      acked.push(key);
      onAck(acked.length);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return acked.sort();
}

describe('Redis StateStore', () => {
  it('keeps every acknowledged write through kill -9 of redis-server and a restart', async () => {
    const server = await started();
    let killing: Promise<void> | undefined;
    const acked = await writeUntilFailure(await client(server), 4, (count) => {
      if (count === 300) killing = server.kill();
    });
    await killing;
    expect(acked.length).toBeGreaterThanOrEqual(300);

    await server.restart();
    const state = createRedisStateStore(await client(server));
    const listed = await state.list<{ n: number }>('w/');
    const present = new Set(listed.map(([key]) => key));
    expect(acked.filter((key) => !present.has(key))).toEqual([]);
    for (const [key, value] of listed) expect(value.n).toBe(Number(key.slice(2)));
  });

  it('rejects at once while Redis is down, and works again once it is back', async () => {
    const server = await started();
    // Longer than the test may run: a rejection cannot come from the command timeout.
    const redis = await client(server, { commandTimeoutMs: 600_000 });
    const state = createRedisStateStore(redis);
    await state.put('k', 1);
    await server.kill();

    const refusals = await Promise.allSettled([
      state.get('k'),
      state.put('k', 2),
      state.update<number>('k', (n) => (n ?? 0) + 1),
      state.list('k'),
    ]);
    expect(refusals.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    for (const refusal of refusals)
      expect(String((refusal as PromiseRejectedResult).reason)).not.toMatch(/timed out/i);

    await server.restart();
    await eventually(() => redis.status === 'ready', 30_000, 'the client to reconnect');
    expect(await state.get('k')).toBe(1);
    expect(await state.update<number>('k', (n) => (n ?? 0) + 1)).toBe(2);
  });

  it('runs an update again on the value another writer put in between', async () => {
    const redis = await client(await started());
    const state = createRedisStateStore(redis, { maxUpdateAttempts: 3 });
    await state.put('n', 1);
    const seen: number[] = [];
    // The interfering put goes out on the same connection before the update's write, so it
    // lands in between deterministically.
    const result = await state.update<number>('n', (n) => {
      if (seen.push(n!) === 1) void state.put('n', 10);
      return n! + 1;
    });
    expect(seen).toEqual([1, 10]);
    expect(result).toBe(11);
    expect(await state.get('n')).toBe(11);

    const always = state.update<number>('n', (n) => (void state.put('n', n! + 100), n! + 1));
    await expect(always).rejects.toThrow(/lost 3 rounds/);
  });

  it('keeps deployments sharing one Redis apart by key prefix', async () => {
    const server = await started();
    const plain = await client(server, { keyPrefix: '' });
    const one = createRedisStateStore(await client(server));
    const two = createRedisStateStore(await client(server, { keyPrefix: 'other:' }));
    await one.put('a/1', 'one');
    await two.put('a/1', 'two');
    expect(await one.list('a/')).toEqual([['a/1', 'one']]);
    expect(await two.list('a/')).toEqual([['a/1', 'two']]);
    expect((await plain.keys('*')).sort()).toEqual([
      'bl:state-index',
      'bl:state:a/1',
      'other:state-index',
      'other:state:a/1',
    ]);
  });
});
