import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import { createMemoryRateLimiter } from '../../src/limits/memory-rate-limiter.js';
import type { RateLimit, RateLimiter } from '../../src/limits/rate-limiter.js';
import { createRedisRateLimiter } from '../../src/limits/redis-rate-limiter.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { eventually } from '../helpers/eventually.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  redis = await openRedis(server.url, {
    keyPrefix: 't:',
    reconnectBaseMs: 10,
    reconnectMaxMs: 100,
  });
});
afterAll(async () => {
  await redis.quit().catch(() => redis.disconnect());
  await server.stop();
});

/**
 * One contract for every RateLimiter (Hono's shared-suite pattern): cluster mode adds its
 * Redis limiter to this list. Nothing here waits for a refill, so it holds on any clock.
 */
const implementations: Array<[string, (limit: RateLimit) => RateLimiter]> = [
  ['memory', (limit) => createMemoryRateLimiter(limit)],
  // A limiter name of its own per test, so tests share no bucket.
  ['redis', (limit) => createRedisRateLimiter(redis, randomUUID(), limit)],
];

describe.each(implementations)('RateLimiter: %s', (_name, create) => {
  it('lets a key take its burst, then refuses with the time the refill takes', async () => {
    const limiter = create({ perSecond: 10, burst: 20 });
    expect(await limiter.take('k1', 15)).toEqual({ ok: true, retryAfterMs: 0 });
    expect(await limiter.take('k1', 5)).toEqual({ ok: true, retryAfterMs: 0 });
    const refused = await limiter.take('k1', 5);
    expect(refused.ok).toBe(false);
    // Five tokens at ten per second; a little less once some time has passed.
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(500);
  });

  it('takes nothing when it refuses', async () => {
    const limiter = create({ perSecond: 0.001, burst: 10 });
    expect((await limiter.take('k1', 8)).ok).toBe(true);
    expect((await limiter.take('k1', 5)).ok).toBe(false);
    expect((await limiter.take('k1', 2)).ok).toBe(true);
  });

  it('keeps keys apart', async () => {
    const limiter = create({ perSecond: 0.001, burst: 3 });
    expect((await limiter.take('a', 3)).ok).toBe(true);
    expect((await limiter.take('a', 1)).ok).toBe(false);
    expect((await limiter.take('b', 3)).ok).toBe(true);
  });

  it('lets a count above the burst through only when the bucket is full', async () => {
    const limiter = create({ perSecond: 0.001, burst: 10 });
    expect((await limiter.take('k1', 50)).ok).toBe(true);
    expect((await limiter.take('k1', 50)).ok).toBe(false);
  });

  it('answers concurrent takes in the order they were asked', async () => {
    const limiter = create({ perSecond: 0.001, burst: 3 });
    const order: number[] = [];
    const takes = [1, 2, 3, 4].map((n) =>
      limiter.take('k1', 1).then((decision) => {
        order.push(n);
        return decision.ok;
      }),
    );
    expect(await Promise.all(takes)).toEqual([true, true, true, false]);
    expect(order).toEqual([1, 2, 3, 4]);
  });
});

describe('createMemoryRateLimiter', () => {
  it('refills at its rate', async () => {
    let t = 0;
    const limiter = createMemoryRateLimiter({ perSecond: 100, burst: 100 }, {}, () => t);
    expect((await limiter.take('k', 100)).ok).toBe(true);
    expect(await limiter.take('k', 50)).toEqual({ ok: false, retryAfterMs: 500 });
    t = 500;
    expect((await limiter.take('k', 50)).ok).toBe(true);
  });

  it('drops buckets that refilled, so memory follows the active keys', async () => {
    let t = 0;
    const limiter = createMemoryRateLimiter(
      { perSecond: 10, burst: 10 },
      { sweepIntervalMs: 1000 },
      () => t,
    );
    for (let i = 0; i < 100; i++) await limiter.take(`user-${i}`, 5);
    expect(limiter.size).toBe(100);
    t = 400; // half refilled: kept
    await limiter.take('user-0', 1);
    expect(limiter.size).toBe(100);
    t = 1500; // full again (user-0 too): a new bucket would be the same
    await limiter.take('active', 10);
    expect(limiter.size).toBe(1);
    expect((await limiter.take('active', 1)).ok).toBe(false);
  });
});

describe('createRedisRateLimiter', () => {
  it('is one bucket per key for every node', async () => {
    const other = await openRedis(server.url, { keyPrefix: 't:' });
    try {
      const name = randomUUID();
      const a = createRedisRateLimiter(redis, name, { perSecond: 0.001, burst: 10 });
      const b = createRedisRateLimiter(other, name, { perSecond: 0.001, burst: 10 });
      const takes = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).take('k1', 1)),
      );
      expect(takes.filter((decision) => decision.ok)).toHaveLength(10);
      expect((await b.take('k2', 10)).ok).toBe(true);
    } finally {
      await other.quit();
    }
  });

  it('keeps a bucket in Redis only until it would be full again', async () => {
    const name = randomUUID();
    const limiter = createRedisRateLimiter(redis, name, { perSecond: 100, burst: 100 });
    await limiter.take('k1', 50); // 50 missing: full again in 500 ms
    const ttl = await redis.pttl(`rate:${name}:k1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(500);
    await limiter.take('k2', 50);
    const before = await redis.hgetall(`rate:${name}:k2`);
    expect((await limiter.take('k2', 60)).ok).toBe(false);
    expect(await redis.hgetall(`rate:${name}:k2`)).toEqual(before); // refused: nothing written
  });

  it('lets takes through while Redis is down, and counts them', async () => {
    const own = await startRedisServer();
    const conn = await openRedis(own.url, { reconnectBaseMs: 10, reconnectMaxMs: 100 });
    try {
      const metrics = createMetrics(new Registry());
      const limiter = createRedisRateLimiter(
        conn,
        'n',
        { perSecond: 0.001, burst: 1 },
        { metrics },
      );
      expect((await limiter.take('k', 1)).ok).toBe(true);
      expect((await limiter.take('k', 1)).ok).toBe(false);
      await own.kill();
      await eventually(() => conn.status !== 'ready', 10_000, 'the client to see Redis gone');
      expect(await limiter.take('k', 1)).toEqual({ ok: true, retryAfterMs: 0 });
      expect((await metrics.rateLimiterFailures.get()).values).toEqual([
        { labels: { reason: 'unavailable' }, value: 1 },
      ]);
    } finally {
      conn.disconnect();
      await own.stop();
    }
  });
});
