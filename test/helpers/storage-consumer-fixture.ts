import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { createRedisEventLog, partitionOf, type EventLog } from '../../src/cluster/event-log.js';
import { logKey } from '../../src/cluster/log-entry.js';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import type { ClickHouse } from '../../src/storage/clickhouse.js';
import type { EventRow } from '../../src/model/event.js';
import { createEventStore } from '../../src/storage/event-store.js';
import { migrate } from '../../src/storage/migrate.js';
import {
  createRedisStorageConsumer,
  type StorageConsumerDeps,
} from '../../src/storage/redis-storage-consumer.js';
import { eventually } from './eventually.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

export const partitions = 4;
// TEST_LOG_LEVEL=debug shows the consumer's logs on stderr.
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }, pino.destination(2));
// One event time for every row, so a row built again in a test is the same row.
const now = Date.now();

export function row(project: string, id: string): EventRow {
  return {
    project,
    type: 'page.view',
    ts: now,
    client_ts: now,
    sent_at: null,
    received_at: now,
    id,
    user_id: 'u1',
    anonymous_id: '',
    session_id: '',
    props: '{}',
  };
}

/** Appends `count` frames of `size` rows (ids `<project>-<n>` from `first`); returns the ids. */
export async function appendFrames(
  eventLog: EventLog,
  project: string,
  count: number,
  size: number,
  first = 0,
) {
  const ids: string[] = [];
  for (let f = 0; f < count; f++) {
    const rows = Array.from({ length: size }, (_, i) =>
      row(project, `${project}-${first + f * size + i}`),
    );
    await eventLog.append(
      project,
      rows,
      rows.map(() => ({})),
    );
    ids.push(...rows.map((r) => r.id));
  }
  return ids;
}

type Metric = { get(): Promise<{ values: Array<{ value: number; labels: object }> }> };

/** A counter's or gauge's value for exactly these labels (0 when never set). */
export const value = async (metric: Metric, labels: object = {}) =>
  (await metric.get()).values.find((v) => JSON.stringify(v.labels) === JSON.stringify(labels))
    ?.value ?? 0;

/** Entries of a project's log read by the storage group and not acked. */
export const pendingCount = async (redis: Redis, project: string) =>
  Number(
    ((await redis.xpending(logKey(partitionOf(project, partitions)), 'storage')) as [number])[0],
  );

/**
 * A real redis-server and a migrated chdb for one test file, and what the storage consumer
 * tests do with them. Things a test opens are closed after it, in reverse order.
 */
export function useStorageConsumerFixture() {
  let server: RedisServer;
  let ch: ClickHouse;
  beforeAll(async () => {
    server = await startRedisServer();
    ch = openChdb(mkdtempSync(join(tmpdir(), 'backline-consumer-')));
    await migrate(ch);
  });
  afterAll(async () => {
    await ch.close();
    await server.stop();
  });
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** How often each id of a project is stored. */
  async function storedCounts(project: string): Promise<Map<string, number>> {
    const rows = await ch.query<{ id: string; n: string | number }>(
      'SELECT id, count() AS n FROM events WHERE project = {project:String} GROUP BY id',
      { project },
    );
    return new Map(rows.map((r) => [r.id, Number(r.n)]));
  }

  async function connect(prefix: string, url = server.url): Promise<Redis> {
    const redis = await openRedis(url, {
      keyPrefix: prefix,
      reconnectBaseMs: 10,
      reconnectMaxMs: 200,
    });
    cleanups.push(() => redis.quit().catch(() => redis.disconnect()));
    return redis;
  }

  return {
    cleanups,
    server: () => server,
    ch: () => ch,
    storedCounts,
    connect,

    /** A connection with a fresh key prefix and an event log on it. */
    async openLog(url?: string) {
      const redis = await connect(`t-${randomUUID()}:`, url);
      return { redis, eventLog: createRedisEventLog(redis, { partitions }) };
    },

    /** Every id stored, and exactly once. */
    async expectStoredOnce(project: string, ids: readonly string[]) {
      const counts = await storedCounts(project);
      expect([...counts.keys()].sort()).toEqual([...ids].sort());
      expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    },

    async storedAll(project: string, count: number) {
      await eventually(
        async () => (await storedCounts(project)).size >= count,
        30_000,
        `${count} rows of ${project} stored`,
      );
    },

    /** A started consumer with test timings; stopped after the test unless stopped before. */
    startConsumer(
      redis: Redis,
      options: Partial<Parameters<typeof createRedisStorageConsumer>[2]> = {},
      deps: Partial<StorageConsumerDeps> = {},
    ) {
      const metrics = createMetrics(new Registry());
      const consumer = createRedisStorageConsumer(
        redis,
        { store: createEventStore(ch), metrics, log, ...deps },
        {
          partitions,
          consumer: 'c1',
          flushIntervalMs: 20,
          blockMs: 200,
          retryBaseMs: 20,
          retryMaxMs: 200,
          ...options,
        },
      );
      const started = consumer.start();
      let stopped = false;
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        await started;
        await consumer.stop();
      };
      cleanups.push(stop);
      return { metrics, started, stop };
    },
  };
}
