import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisEventLog, partitionOf, type EventLog } from '../../src/cluster/event-log.js';
import { encodeRows, logKey } from '../../src/cluster/log-entry.js';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import type { ClickHouse } from '../../src/storage/clickhouse.js';
import { createEventStore, type EventRow } from '../../src/storage/event-store.js';
import { migrate, readMigrations } from '../../src/storage/migrate.js';
import { serveClickHouse } from '../../src/storage/redis-clickhouse.js';
import {
  createRedisStorageConsumer,
  type StorageConsumerDeps,
} from '../../src/storage/redis-storage-consumer.js';
import { eventually } from '../helpers/eventually.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const partitions = 4;
const childScript = fileURLToPath(
  new URL('../helpers/storage-consumer-process.ts', import.meta.url),
);
const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }, pino.destination(2));

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

async function connect(prefix: string, url = server.url): Promise<Redis> {
  const redis = await openRedis(url, {
    keyPrefix: prefix,
    reconnectBaseMs: 10,
    reconnectMaxMs: 200,
  });
  cleanups.push(() => redis.quit().catch(() => redis.disconnect()));
  return redis;
}

// One event time for every row, so a row built again in a test is the same row.
const now = Date.now();

function row(project: string, id: string): EventRow {
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
async function appendFrames(
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

/** How often each id of a project is stored. */
async function storedCounts(project: string): Promise<Map<string, number>> {
  const rows = await ch.query<{ id: string; n: string | number }>(
    'SELECT id, count() AS n FROM events WHERE project = {project:String} GROUP BY id',
    { project },
  );
  return new Map(rows.map((r) => [r.id, Number(r.n)]));
}

/** Every id stored, and exactly once. */
async function expectStoredOnce(project: string, ids: readonly string[]) {
  const counts = await storedCounts(project);
  expect([...counts.keys()].sort()).toEqual([...ids].sort());
  expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
}

async function storedAll(project: string, count: number) {
  await eventually(
    async () => (await storedCounts(project)).size >= count,
    30_000,
    `${count} rows of ${project} stored`,
  );
}

function startConsumer(
  redis: Redis,
  options: Partial<Parameters<typeof createRedisStorageConsumer>[2]> = {},
  deps: Partial<StorageConsumerDeps> = {},
) {
  const metrics = createMetrics(new Registry());
  const consumer = createRedisStorageConsumer(
    redis,
    { store: createEventStore(ch), metrics, log: silent, ...deps },
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
}

const value = async (
  metric: { get(): Promise<{ values: Array<{ value: number; labels: object }> }> },
  labels: object = {},
) =>
  (await metric.get()).values.find((v) => JSON.stringify(v.labels) === JSON.stringify(labels))
    ?.value ?? 0;

const pendingCount = async (redis: Redis, project: string) =>
  Number(
    ((await redis.xpending(logKey(partitionOf(project, partitions)), 'storage')) as [number])[0],
  );

describe('Redis storage consumer', () => {
  it('stores every appended row once, in batches, and acks the entries', async () => {
    const prefix = `t-${randomUUID()}:`;
    const redis = await connect(prefix);
    const eventLog = createRedisEventLog(redis, { partitions });
    const project = `live-${randomUUID()}`;
    const before = await appendFrames(eventLog, project, 10, 30);
    const { metrics } = startConsumer(redis, { maxBatchRows: 100, readCount: 2 });
    const after = await appendFrames(eventLog, project, 5, 30, 300);
    await storedAll(project, 450);
    await expectStoredOnce(project, [...before, ...after]);
    await eventually(async () => (await pendingCount(redis, project)) === 0, 10_000, 'all acked');
    expect(await value(metrics.consumerRows, { path: 'live' })).toBe(450);
    // Batches by count: 300 rows waiting at start go in inserts of at most 100 + one read.
    const batches = (await metrics.batchRows.get()).values;
    const inserts = batches.find((v) => v.metricName?.endsWith('_count'))!.value;
    expect(inserts).toBeGreaterThanOrEqual(4);
  });

  it('inserts only the missing rows of its own pending entries at start (a crash before XACK)', async () => {
    const prefix = `t-${randomUUID()}:`;
    const redis = await connect(prefix);
    const eventLog = createRedisEventLog(redis, { partitions });
    const project = `own-${randomUUID()}`;
    const ids = await appendFrames(eventLog, project, 4, 10);
    const key = logKey(partitionOf(project, partitions));
    await redis.xgroup('CREATE', key, 'storage', '0', 'MKSTREAM');
    // 'c1' read all four entries, stored the first two frames' rows, and died.
    await redis.xreadgroup('GROUP', 'storage', 'c1', 'COUNT', 10, 'STREAMS', key, '>');
    await createEventStore(ch).insert(
      ids.slice(0, 20).map((id) => row(project, id)),
      'crashed-batch',
    );

    const { metrics } = startConsumer(redis, { consumer: 'c1' });
    await eventually(async () => (await pendingCount(redis, project)) === 0, 20_000, 'all acked');
    await expectStoredOnce(project, ids);
    expect(await value(metrics.consumerRecoveries, { reason: 'start' })).toBeGreaterThanOrEqual(1);
    expect(await value(metrics.consumerRowsAlreadyStored)).toBe(20);
    expect(await value(metrics.consumerRows, { path: 'recovery' })).toBe(20);
  });

  it('claims the entries of a consumer killed between its insert and its XACK, and stores them once', async () => {
    const prefix = `t-${randomUUID()}:`;
    const redis = await connect(prefix);
    const owner = serveClickHouse(redis, ch); // the child reaches this process's chdb through it
    await owner.start();
    cleanups.push(() => owner.stop());
    const eventLog = createRedisEventLog(redis, { partitions });
    const project = `kill-${randomUUID()}`;
    const ids = await appendFrames(eventLog, project, 5, 20);

    const child = startChild({
      REDIS_URL: server.url,
      KEY_PREFIX: prefix,
      CONSUMER: 'doomed',
      PARTITIONS: String(partitions),
    });
    await eventually(() => child.lines.some((l) => l.inserted), 30_000, 'the child to insert');
    process.kill(child.process.pid!, 'SIGKILL');
    await child.exited;
    const inserted = child.lines.find((l) => l.inserted)!.inserted!;
    expect(inserted).toBe(100);
    expect(await pendingCount(redis, project)).toBe(5); // stored, never acked

    const { metrics } = startConsumer(redis, {
      consumer: 'survivor',
      claimIdleMs: 300,
      claimEveryMs: 50,
      // Claimed in other batches than the child's: their dedup tokens differ, so only the
      // recovery path's lookup keeps the rows from being stored twice.
      claimCount: 2,
    });
    await eventually(
      async () => (await pendingCount(redis, project)) === 0,
      30_000,
      'claimed and acked',
    );
    await expectStoredOnce(project, ids);
    expect(await value(metrics.consumerClaims)).toBe(5);
    expect(await value(metrics.consumerRecoveries, { reason: 'claimed' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(await value(metrics.consumerRowsAlreadyStored)).toBe(100);
  });

  it('keeps rows pending while the insert fails and stores them once the table exists', async () => {
    const prefix = `t-${randomUUID()}:`;
    const redis = await connect(prefix);
    const eventLog = createRedisEventLog(redis, { partitions });
    const project = `later-${randomUUID()}`;
    const createEvents = readMigrations().find((m) => m.name === '001_events')!.statements;
    await ch.exec('DROP TABLE events SYNC');
    try {
      const ids = await appendFrames(eventLog, project, 3, 10);
      const { metrics } = startConsumer(redis);
      // The first insert fails, then the recovery path's lookups fail too, again and again.
      await eventually(
        async () =>
          (await value(metrics.insertFailures, { table: 'events', reason: 'error' })) === 1 &&
          (await value(metrics.consumerFailures, { reason: 'clickhouse_error' })) >= 2,
        20_000,
        'failed inserts and lookups',
      );
      expect(await pendingCount(redis, project)).toBe(3);
      for (const statement of createEvents) await ch.exec(statement);
      await eventually(async () => (await pendingCount(redis, project)) === 0, 20_000, 'all acked');
      await expectStoredOnce(project, ids);
      expect(await value(metrics.consumerRecoveries, { reason: 'retry' })).toBeGreaterThanOrEqual(
        1,
      );
    } finally {
      for (const statement of createEvents) await ch.exec(statement);
    }
  });

  it('stores every acknowledged row once across a Redis crash and restart', async () => {
    const own = await startRedisServer();
    cleanups.push(() => own.stop());
    const redis = await connect('t:', own.url);
    const eventLog = createRedisEventLog(redis, { partitions });
    const project = `restart-${randomUUID()}`;
    const { metrics } = startConsumer(redis);
    const acked: string[] = [];
    let n = 0;
    let failures = 0;
    const send = async (until: () => boolean) => {
      while (!until()) {
        const rows = [row(project, `${project}-${n}`), row(project, `${project}-${n + 1}`)];
        n += 2;
        try {
          await eventLog.append(project, rows, [{}, {}]);
          acked.push(...rows.map((r) => r.id));
        } catch {
          failures++; // not acked: a client would resend, with new ids here
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    };
    const sending = send(() => acked.length >= 600);
    await eventually(() => acked.length >= 200, 20_000, 'appends before the crash');
    await own.kill();
    await eventually(() => failures > 0, 10_000, 'appends to fail');
    await own.restart();
    await sending;
    // Appends that failed may have landed too (their reply was lost): wait for the acked ones.
    await eventually(
      async () => {
        const stored = await storedCounts(project);
        return acked.every((id) => stored.has(id));
      },
      30_000,
      'every acked row stored',
    );
    const counts = await storedCounts(project);
    expect(acked.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect([...counts.values()].filter((c) => c !== 1)).toEqual([]);
    // It noticed: a read failed, or storing (the ack) failed and was retried.
    const noticed =
      (await value(metrics.consumerFailures, { reason: 'redis_error' })) +
      (await value(metrics.consumerRecoveries, { reason: 'retry' }));
    expect(noticed).toBeGreaterThan(0);
  });

  it('trims stored entries but keeps those pending and those retainFrom asks for', async () => {
    const prefix = `t-${randomUUID()}:`;
    const redis = await connect(prefix);
    const eventLog = createRedisEventLog(redis, { partitions });
    const project = `trim-${randomUUID()}`;
    const key = logKey(partitionOf(project, partitions));
    const fast = { trimEveryMs: 20, claimIdleMs: 3600_000 };
    const first = startConsumer(redis, fast);
    await appendFrames(eventLog, project, 3, 1);
    await eventually(
      async () => (await redis.xlen(key)) === 0,
      20_000,
      'the stored entries trimmed',
    );
    expect(await value(first.metrics.consumerTrimmed)).toBe(3);
    await first.stop();

    // A consumer that read an entry and died: that entry and every later one stay.
    await appendFrames(eventLog, project, 2, 1, 3);
    const ghost = await redis.xreadgroup(
      'GROUP',
      'storage',
      'ghost',
      'COUNT',
      1,
      'STREAMS',
      key,
      '>',
    );
    const ghostId = ghost![0]![1][0]![0];
    const second = startConsumer(redis, fast);
    await storedAll(project, 4);
    await eventually(
      async () => (await value(second.metrics.consumerPending)) === 1,
      10_000,
      'a trim pass with only the ghost pending',
    );
    const kept = (await redis.xrange(key, '-', '+')).map(([id]) => id);
    expect(kept).toEqual([ghostId, expect.any(String)]);
    expect((await storedCounts(project)).has(`${project}-3`)).toBe(false);
    await second.stop();

    // The partition owner's cursor keeps entries too, stored or not.
    await redis.xack(key, 'storage', ghostId);
    await appendFrames(eventLog, project, 1, 1, 5);
    const partition = partitionOf(project, partitions);
    const third = startConsumer(redis, fast, {
      retainFrom: (p) => (p === partition ? kept[1] : undefined),
    });
    await storedAll(project, 5);
    await eventually(
      async () => (await value(third.metrics.consumerTrimmed)) > 0,
      10_000,
      'a trim pass',
    );
    const last = (await redis.xrange(key, '-', '+')).map(([id]) => id);
    expect(last).toEqual([kept[1], expect.any(String)]);
  });

  it('acks and counts an entry that does not decode, and stores the others', async () => {
    const prefix = `t-${randomUUID()}:`;
    const redis = await connect(prefix);
    const eventLog = createRedisEventLog(redis, { partitions });
    const project = `bad-${randomUUID()}`;
    const key = logKey(partitionOf(project, partitions));
    const ids = await appendFrames(eventLog, project, 1, 2);
    await redis.xadd(key, '*', 'p', project, 'r', Buffer.from([0xc1]));
    await redis.xadd(key, '*', 'p', project); // no rows at all
    const good = [row(project, 'late-good')];
    await redis.xadd(key, '*', 'p', project, 'r', encodeRows(good, [{}]));
    const { metrics } = startConsumer(redis);
    await storedAll(project, 3);
    await eventually(async () => (await pendingCount(redis, project)) === 0, 10_000, 'all acked');
    await expectStoredOnce(project, [...ids, 'late-good']);
    expect(await value(metrics.consumerFailures, { reason: 'bad_entry' })).toBe(2);
  });
});

interface ChildLine {
  ready?: boolean;
  inserted?: number;
}

function startChild(env: Record<string, string>) {
  const lines: ChildLine[] = [];
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', childScript], {
    env: { ...(process.env as Record<string, string>), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    await exited;
  });
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop()!;
    for (const part of parts) lines.push(JSON.parse(part) as ChildLine);
  });
  return { process: child, lines, exited };
}
