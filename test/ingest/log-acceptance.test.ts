import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisEventLog } from '../../src/cluster/event-log.js';
import { decodeEntry, logKey } from '../../src/cluster/log-entry.js';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import { configSchema } from '../../src/compose/config.js';
import { createIngest } from '../../src/ingest/ingest-service.js';
import { createLogAcceptance } from '../../src/ingest/log-acceptance.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const limits = configSchema.parse({}).limits;
const partitions = 2;

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server.stop());

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One node's ingest on the event log: its own connection, as a separate process has. */
async function openNode(prefix: string) {
  const redis = await openRedis(server.url, {
    keyPrefix: prefix,
    reconnectBaseMs: 10,
    reconnectMaxMs: 100,
  });
  cleanups.push(() => redis.quit().catch(() => redis.disconnect()));
  const metrics = createMetrics(new Registry());
  const eventLog = createRedisEventLog(redis, { partitions }, { metrics });
  const ingest = createIngest({ acceptance: createLogAcceptance(eventLog), metrics, limits });
  return { redis, ingest, metrics };
}

const events = (ids: string[]) => ids.map((id) => ({ id, type: 'page.view', ts: Date.now() }));

async function loggedIds(redis: Redis): Promise<string[]> {
  const ids: string[] = [];
  for (let p = 0; p < partitions; p++) {
    const raw = (await redis.xrangeBuffer(logKey(p), '-', '+')) as Array<[Buffer, Buffer[]]>;
    for (const [id, fields] of raw)
      ids.push(...decodeEntry(id.toString(), fields).rows.map((row) => row.id));
  }
  return ids.sort();
}

describe('ingest on the Redis event log', () => {
  it('counts an id sent to two nodes once, from the log reply, and logs it once', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [a, b] = await Promise.all([openNode(prefix), openNode(prefix)]);
    const first = a.ingest.accept('p1', events(['e1', 'e2', 'e2']));
    expect(await first.durable).toEqual({ accepted: 2, duplicates: 1 });
    const again = b.ingest.accept('p1', events(['e2', 'e3', 'e1']));
    expect(await again.durable).toEqual({ accepted: 1, duplicates: 2 });
    expect(await loggedIds(a.redis)).toEqual(['e1', 'e2', 'e3']);
    const accepted = async (m: typeof a.metrics) => (await m.eventsAccepted.get()).values[0]!.value;
    expect((await accepted(a.metrics)) + (await accepted(b.metrics))).toBe(3);
  });

  it('counts each id once when two nodes take the same batch at the same time', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [a, b] = await Promise.all([openNode(prefix), openNode(prefix)]);
    const ids = Array.from({ length: 50 }, (_, i) => `c${i}`);
    const results = await Promise.all([
      a.ingest.accept('p1', events(ids)).durable,
      b.ingest.accept('p1', events([...ids].reverse())).durable,
    ]);
    expect(results[0]!.accepted + results[1]!.accepted).toBe(50);
    expect(results[0]!.duplicates + results[1]!.duplicates).toBe(50);
    expect(await loggedIds(a.redis)).toEqual([...ids].sort());
  });

  it('reports rejected events at once and appends only the valid ones', async () => {
    const { ingest, redis } = await openNode(`t-${randomUUID()}:`);
    const result = ingest.accept('p1', [{ id: 'ok', type: 't', ts: Date.now() }, { id: 'x' }]);
    expect(result.rejected).toEqual([expect.objectContaining({ i: 1, code: 'MISSING_FIELD' })]);
    expect(await result.durable).toEqual({ accepted: 1, duplicates: 0 });
    expect(await loggedIds(redis)).toEqual(['ok']);
  });

  it('answers BACKPRESSURE with a retry hint while Redis is down, and takes batches again after', async () => {
    const { ingest, redis } = await openNode(`t-${randomUUID()}:`);
    await server.kill();
    await new Promise<void>((resolve) => redis.once('close', () => resolve()));
    expect(() => ingest.accept('p1', events(['d1']))).toThrow(
      expect.objectContaining({ code: 'BACKPRESSURE', retryAfterMs: expect.any(Number) }),
    );
    await server.restart();
    await new Promise<void>((resolve) =>
      redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve()),
    );
    expect(await ingest.accept('p1', events(['d1'])).durable).toEqual({
      accepted: 1,
      duplicates: 0,
    });
  });

  it('waits on shutdown for appends in flight', async () => {
    const { ingest, redis } = await openNode(`t-${randomUUID()}:`);
    const result = ingest.accept('p1', events(['s1', 's2']));
    ingest.close();
    await ingest.durable();
    expect(await loggedIds(redis)).toEqual(['s1', 's2']);
    await expect(result.durable).resolves.toEqual({ accepted: 2, duplicates: 0 });
    expect(() => ingest.accept('p1', events(['s3']))).toThrow(
      expect.objectContaining({ code: 'SHUTTING_DOWN' }),
    );
  });
});
