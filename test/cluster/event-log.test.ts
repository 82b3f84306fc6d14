import { randomUUID } from 'node:crypto';
import { Unpackr } from 'msgpackr';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisEventLog,
  fnv1a,
  partitionOf,
  type EventLogOptions,
} from '../../src/cluster/event-log.js';
import {
  decodeEntry,
  logKey,
  nextId,
  readLog,
  type LogEntry,
} from '../../src/cluster/log-entry.js';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import { createMetrics, type Metrics } from '../../src/ops/metrics.js';
import type { EventRow } from '../../src/model/event.js';
import { eventually } from '../helpers/eventually.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server.stop());

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function connect(prefix: string, url = server.url): Promise<Redis> {
  const redis = await openRedis(url, {
    keyPrefix: prefix,
    reconnectBaseMs: 10,
    reconnectMaxMs: 100,
  });
  cleanups.push(() => redis.quit().catch(() => redis.disconnect()));
  return redis;
}

async function openNode(prefix: string, options: Partial<EventLogOptions> = {}, url?: string) {
  const redis = await connect(prefix, url);
  const metrics = createMetrics(new Registry());
  const eventLog = createRedisEventLog(redis, { partitions: 4, ...options }, { metrics });
  return { redis, metrics, eventLog };
}

function row(id: string, project = 'p1'): EventRow {
  return {
    project,
    type: 'page.view',
    ts: 1_700_000_000_000,
    client_ts: 1_700_000_000_000,
    sent_at: null,
    received_at: 1_700_000_000_001,
    id,
    user_id: 'u1',
    anonymous_id: '',
    session_id: 's1',
    props: JSON.stringify({ n: id }),
  };
}

/** Every entry of every partition, decoded as a consumer would. */
async function readAll(redis: Redis, partitions: number): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for (let p = 0; p < partitions; p++) {
    const raw = (await redis.xrangeBuffer(logKey(p), '-', '+')) as Array<[Buffer, Buffer[]]>;
    for (const [id, fields] of raw) entries.push(decodeEntry(id.toString(), fields));
  }
  return entries;
}

const appendsBy = async (metrics: Metrics) =>
  Object.fromEntries(
    (await metrics.logAppends.get()).values.map((v) => [v.labels.outcome, v.value]),
  );

describe('fnv1a and partitionOf', () => {
  it('match the published FNV-1a 32-bit vectors, so every node picks the same partition', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
    expect(partitionOf('foobar', 16)).toBe(0xbf9cf968 % 16);
  });
});

describe('Redis event log', () => {
  it('appends a frame as one entry of its partition with rows and props that decode anywhere', async () => {
    const prefix = `t-${randomUUID()}:`;
    const { redis, eventLog, metrics } = await openNode(prefix);
    const props = [{ n: 1, nested: { big: '9007199254740993' } }, { n: 2 }];
    expect(await eventLog.append('p1', [row('a'), row('b')], props)).toEqual({ duplicates: [] });

    const p = partitionOf('p1', 4);
    const raw = (await redis.xrangeBuffer(logKey(p), '-', '+')) as Array<[Buffer, Buffer[]]>;
    expect(raw).toHaveLength(1);
    const [id, fields] = raw[0]!;
    expect(fields.filter((_, i) => i % 2 === 0).map(String)).toEqual(['p', 'r']);
    // The blob carries its own record definitions: a fresh decoder reads it.
    const blob = fields[3]!;
    expect(new Unpackr().unpack(blob)).toEqual([[row('a'), row('b')], props]);
    expect(decodeEntry(id.toString(), fields)).toEqual({
      id: id.toString(),
      project: 'p1',
      rows: [row('a'), row('b')],
      props,
      duplicates: [],
    });
    expect(await redis.keys(`${prefix}log:*`)).toEqual([`${prefix}log:${p}`]);
    expect(await appendsBy(metrics)).toEqual({ appended: 1 });
  });

  it('returns duplicates within a frame and across frames, and writes no entry when all are', async () => {
    const prefix = `t-${randomUUID()}:`;
    const { redis, eventLog, metrics } = await openNode(prefix);
    expect(await eventLog.append('p1', [row('a'), row('b'), row('a')], [{}, {}, { x: 1 }])).toEqual(
      {
        duplicates: [2],
      },
    );
    expect(await eventLog.append('p1', [row('b'), row('c')], [{}, { c: 1 }])).toEqual({
      duplicates: [0],
    });
    expect(await eventLog.append('p1', [row('c'), row('a')], [{}, {}])).toEqual({
      duplicates: [0, 1],
    });
    // Another project has its own ids.
    expect(await eventLog.append('p2', [row('a', 'p2')], [{}])).toEqual({ duplicates: [] });

    const entries = await readAll(redis, 4);
    const p1 = entries.filter((entry) => entry.project === 'p1');
    expect(p1.map((entry) => entry.rows.map((r) => r.id))).toEqual([['a', 'b'], ['c']]);
    expect(p1.map((entry) => entry.duplicates)).toEqual([[2], [0]]);
    expect(p1[1]!.props).toEqual([{ c: 1 }]);
    expect(await appendsBy(metrics)).toEqual({ appended: 3, duplicate: 1 });
    const dedupKeys = (await redis.keys(`${prefix}dedup:*`)).map((key) => key.slice(prefix.length));
    expect(dedupKeys.sort()).toEqual([
      expect.stringMatching(/^dedup:p1:\d+$/),
      expect.stringMatching(/^dedup:p2:\d+$/),
    ]);
  });

  it('reads a partition from a cursor, oldest first, and waits for the next entry', async () => {
    const prefix = `t-${randomUUID()}:`;
    const { redis, eventLog } = await openNode(prefix);
    const p = partitionOf('p1', 4);
    for (const id of ['a', 'b', 'c']) await eventLog.append('p1', [row(id)], [{ id }]);
    const all = await readLog(redis, p, '0', { count: 10 });
    expect(all.map((raw) => decodeEntry(raw.id, raw.fields!).props)).toEqual([
      [{ id: 'a' }],
      [{ id: 'b' }],
      [{ id: 'c' }],
    ]);
    const afterFirst = await readLog(redis, p, all[0]!.id, { count: 1 });
    expect(afterFirst.map((raw) => raw.id)).toEqual([all[1]!.id]);
    expect(nextId('1700000000000-7')).toBe('1700000000000-8');

    const reader = await connect(prefix);
    const waiting = readLog(reader, p, all[2]!.id, { count: 10, blockMs: 5000 });
    await eventLog.append('p1', [row('d')], [{ id: 'd' }]);
    const [next] = await waiting;
    expect(decodeEntry(next!.id, next!.fields!).rows.map((r) => r.id)).toEqual(['d']);
  });

  it('stores and counts an id once when two nodes get it at the same time', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [a, b] = await Promise.all([openNode(prefix), openNode(prefix)]);
    const ids = Array.from({ length: 2000 }, (_, i) => `e${i}`);
    const frames = (order: string[]) =>
      Array.from({ length: order.length / 20 }, (_, i) => order.slice(i * 20, i * 20 + 20));
    const shuffled = [...ids].sort(() => Math.random() - 0.5);
    const send = async (node: typeof a, order: string[]) => {
      const duplicated: string[] = [];
      await Promise.all(
        frames(order).map(async (frame) => {
          const projectRows = frame.map((id) => row(id));
          const { duplicates } = await node.eventLog.append(
            'p1',
            projectRows,
            frame.map(() => ({})),
          );
          for (const i of duplicates) duplicated.push(frame[i]!);
        }),
      );
      return duplicated;
    };
    const [dupA, dupB] = await Promise.all([send(a, ids), send(b, shuffled)]);

    // Every id was sent twice: duplicate on exactly one side, stored exactly once.
    expect(dupA.length + dupB.length).toBe(ids.length);
    expect(new Set([...dupA, ...dupB]).size).toBe(ids.length);
    const stored = (await readAll(a.redis, 4)).flatMap((entry) => entry.rows.map((r) => r.id));
    expect(stored).toHaveLength(ids.length);
    expect(new Set(stored).size).toBe(ids.length);
  });

  it('forgets an id after two windows, and with a window of 0 finds duplicates only within a frame', async () => {
    const prefix = `t-${randomUUID()}:`;
    const shortWindow = await openNode(prefix, { dedupWindowMs: 5 });
    expect(await shortWindow.eventLog.append('p1', [row('a')], [{}])).toEqual({ duplicates: [] });
    const [key] = await shortWindow.redis.keys(`${prefix}dedup:p1:*`);
    expect(await shortWindow.redis.pttl(key!.slice(prefix.length))).toBeLessThanOrEqual(10);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await shortWindow.eventLog.append('p1', [row('a')], [{}])).toEqual({ duplicates: [] });

    const nonePrefix = `t-${randomUUID()}:`;
    const none = await openNode(nonePrefix, { dedupWindowMs: 0 });
    expect(await none.eventLog.append('p1', [row('a'), row('a')], [{}, {}])).toEqual({
      duplicates: [1],
    });
    expect(await none.eventLog.append('p1', [row('a')], [{}])).toEqual({ duplicates: [] });
    expect(await none.redis.keys(`${nonePrefix}dedup*`)).toEqual([]);
  });

  it('keeps every acknowledged entry and de-dup id across a Redis crash (AOF)', async () => {
    const own = await startRedisServer();
    cleanups.push(() => own.stop());
    const { redis, eventLog } = await openNode('t:', {}, own.url);
    const acked: string[] = [];
    let failed = 0;
    let n = 0;
    const sending = (async () => {
      while (n < 400) {
        const id = `k${n++}`;
        try {
          await eventLog.append('p1', [row(id)], [{}]);
          acked.push(id);
        } catch (err) {
          failed++;
          expect((err as { code: string }).code).toMatch(/^(BACKPRESSURE|STORAGE_FAILED)$/);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    })();
    await eventually(() => acked.length >= 50, 10_000, 'appends before the crash');
    await own.kill();
    await eventually(() => failed > 0, 10_000, 'appends to fail while Redis is down');
    await own.restart();
    await sending;
    await eventually(() => redis.status === 'ready', 10_000, 'the client to reconnect');

    const stored = new Set((await readAll(redis, 4)).flatMap((e) => e.rows.map((r) => r.id)));
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    // The de-dup sets came back too: an acked id sent again is a duplicate.
    expect(await eventLog.append('p1', [row(acked[0]!)], [{}])).toEqual({ duplicates: [0] });
  });

  it('answers BACKPRESSURE while Redis is down, and pressure() gives a retry delay', async () => {
    const own = await startRedisServer();
    cleanups.push(() => own.stop());
    const { redis, eventLog, metrics } = await openNode('t:', { retryAfterMs: 750 }, own.url);
    expect(eventLog.pressure()).toBeUndefined();
    await own.kill();
    await eventually(() => redis.status !== 'ready', 10_000, 'the client to see Redis gone');
    expect(eventLog.pressure()).toBe(750);
    await expect(eventLog.append('p1', [row('a')], [{}])).rejects.toMatchObject({
      code: 'BACKPRESSURE',
      retryAfterMs: 750,
    });
    expect(await appendsBy(metrics)).toEqual({ unavailable: 1 });
  });

  it('answers BACKPRESSURE, not STORAGE_FAILED, for an append in flight when Redis goes away', async () => {
    const own = await startRedisServer();
    cleanups.push(() => own.stop());
    const { eventLog, metrics } = await openNode('t:', { retryAfterMs: 750 }, own.url);
    const admin = await connect('t:', own.url);
    // Redis holds the append unanswered, then dies: the command was sent with Redis up.
    await admin.call('CLIENT', 'PAUSE', '30000', 'ALL');
    const appended = eventLog.append('p1', [row('a')], [{}]).catch((err: unknown) => err);
    await own.kill();
    expect(await appended).toMatchObject({ code: 'BACKPRESSURE', retryAfterMs: 750 });
    expect(await appendsBy(metrics)).toEqual({ unavailable: 1 });
  });

  it('answers BACKPRESSURE for an append sent on a connection that dropped before the client noticed', async () => {
    const { redis, eventLog, metrics } = await openNode('t:', { retryAfterMs: 750 });
    // The socket is gone; ioredis hears of it on 'close', after the append has been refused.
    redis.stream.destroy();
    expect(redis.status).toBe('ready');
    await expect(eventLog.append('p1', [row('a')], [{}])).rejects.toMatchObject({
      code: 'BACKPRESSURE',
      retryAfterMs: 750,
    });
    expect(await appendsBy(metrics)).toEqual({ unavailable: 1 });
  });

  it('answers STORAGE_FAILED when Redis answers the append with an error', async () => {
    const { redis, eventLog, metrics } = await openNode('wrongtype:', { partitions: 1 });
    await redis.set(logKey(0), 'not a stream'); // XADD then fails with WRONGTYPE
    await expect(eventLog.append('p1', [row('a')], [{}])).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
    });
    expect(await appendsBy(metrics)).toEqual({ failed: 1 });
  });

  it('reports pressure once the sampled log is longer than maxLogEntries', async () => {
    const prefix = `t-${randomUUID()}:`;
    const { eventLog, metrics } = await openNode(prefix, { maxLogEntries: 5, sampleEveryMs: 0 });
    for (let i = 0; i < 5; i++) await eventLog.append(`p${i}`, [row(`x${i}`, `p${i}`)], [{}]);
    // Sampling is driven by pressure(), as ingest calls it before every frame.
    await eventually(
      async () =>
        eventLog.pressure() === undefined &&
        (await metrics.logEntries.get()).values[0]?.value === 5,
      10_000,
      'a sample of 5',
    );
    expect(eventLog.pressure()).toBeUndefined();
    await eventLog.append('p9', [row('x9', 'p9')], [{}]);
    await eventually(() => eventLog.pressure() === 1000, 10_000, 'pressure over 5 entries');
  });

  it('reports pressure when Redis memory is near maxmemory', async () => {
    const own = await startRedisServer();
    cleanups.push(() => own.stop());
    const { redis, eventLog } = await openNode('t:', { sampleEveryMs: 0 }, own.url);
    await eventLog.append('p1', [row('a')], [{}]);
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    expect(eventLog.pressure()).toBeUndefined();
    await redis.config('SET', 'maxmemory', String(Math.floor(used / 0.95)));
    await eventually(() => eventLog.pressure() === 1000, 10_000, 'pressure near maxmemory');
  });
});
