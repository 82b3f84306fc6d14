import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { openRedis } from '../../src/cluster/redis-connection.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { eventually } from '../helpers/eventually.js';
import { freePort } from '../helpers/free-port.js';
import { startRedisServer } from '../helpers/redis-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('openRedis', () => {
  it('gives up on a Redis that never answers, naming it without its password', async () => {
    const url = `redis://:s3cret@127.0.0.1:${await freePort()}`;
    const err = await openRedis(url, { readyTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/did not answer/);
    expect(String(err)).toContain(':***@127.0.0.1');
    expect(String(err)).not.toContain('s3cret');
  });

  it('counts connection errors, logs an outage once and its end, and reconnects', async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.stop());
    const metrics = createMetrics(new Registry());
    const lines: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const redis = await openRedis(
      server.url,
      { reconnectBaseMs: 10, reconnectMaxMs: 50 },
      { log, errors: metrics.redisConnectionErrors },
    );
    cleanups.push(() => redis.quit());
    const refused = async () =>
      (await metrics.redisConnectionErrors.get()).values.find(
        (v) => v.labels.reason === 'ECONNREFUSED',
      )?.value ?? 0;

    await server.kill();
    await eventually(async () => (await refused()) >= 3, 30_000, 'three refused reconnects');
    await server.restart();
    await eventually(() => redis.status === 'ready', 30_000, 'the client to reconnect');
    expect(await redis.ping()).toBe('PONG');
    expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([
      'Redis connection lost; retrying with backoff',
    ]);
    expect(lines.at(-1)?.msg).toBe('Redis connection back');
  });
});
