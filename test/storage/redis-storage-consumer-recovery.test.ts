import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRedisEventLog, partitionOf } from '../../src/cluster/event-log.js';
import { logKey } from '../../src/cluster/log-entry.js';
import { createEventStore } from '../../src/storage/event-store.js';
import { serveClickHouse } from '../../src/storage/redis-clickhouse.js';
import { eventually } from '../helpers/eventually.js';
import { startRedisServer } from '../helpers/redis-server.js';
import {
  appendFrames,
  partitions,
  pendingCount,
  row,
  useStorageConsumerFixture,
  value,
} from '../helpers/storage-consumer-fixture.js';

const childScript = fileURLToPath(
  new URL('../helpers/storage-consumer-process.ts', import.meta.url),
);
const fixture = useStorageConsumerFixture();
const { connect, openLog, startConsumer, storedCounts, expectStoredOnce, ch, server, cleanups } =
  fixture;

describe('Redis storage consumer: recovery', () => {
  it('inserts only the missing rows of its own pending entries at start (a crash before XACK)', async () => {
    const { redis, eventLog } = await openLog();
    const project = `own-${randomUUID()}`;
    const ids = await appendFrames(eventLog, project, 4, 10);
    const key = logKey(partitionOf(project, partitions));
    await redis.xgroup('CREATE', key, 'storage', '0', 'MKSTREAM');
    // 'c1' read all four entries, stored the first two frames' rows, and died.
    await redis.xreadgroup('GROUP', 'storage', 'c1', 'COUNT', 10, 'STREAMS', key, '>');
    await createEventStore(ch()).insert(
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
    const owner = serveClickHouse(redis, ch()); // the child reaches this process's chdb through it
    await owner.start();
    cleanups.push(() => owner.stop());
    const eventLog = createRedisEventLog(redis, { partitions });
    const project = `kill-${randomUUID()}`;
    const ids = await appendFrames(eventLog, project, 5, 20);

    const child = startChild({
      REDIS_URL: server().url,
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
    // It notices: a read fails, or storing (the ack) fails and is retried. Redis stays down
    // until then: a consumer busy inserting through a short outage would touch Redis only
    // after it (seen in CI: nothing noticed, every row still stored once).
    const noticed = async () =>
      (await value(metrics.consumerFailures, { reason: 'redis_error' })) +
      (await value(metrics.consumerRecoveries, { reason: 'retry' }));
    await own.kill();
    await eventually(() => failures > 0, 10_000, 'appends to fail');
    await eventually(async () => (await noticed()) > 0, 10_000, 'the consumer to notice');
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
