import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/cluster/event-log.js';
import { encodeRows, logKey } from '../../src/cluster/log-entry.js';
import { readMigrations } from '../../src/storage/migrate.js';
import { eventually } from '../helpers/eventually.js';
import {
  appendFrames,
  partitions,
  pendingCount,
  row,
  useStorageConsumerFixture,
  value,
} from '../helpers/storage-consumer-fixture.js';

const { openLog, startConsumer, storedAll, storedCounts, expectStoredOnce, ch } =
  useStorageConsumerFixture();

describe('Redis storage consumer', () => {
  it('stores every appended row once, in batches, and acks the entries', async () => {
    const { redis, eventLog } = await openLog();
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

  it('keeps rows pending while the insert fails and stores them once the table exists', async () => {
    const { redis, eventLog } = await openLog();
    const project = `later-${randomUUID()}`;
    const createEvents = readMigrations().find((m) => m.name === '001_events')!.statements;
    await ch().exec('DROP TABLE events SYNC');
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
      for (const statement of createEvents) await ch().exec(statement);
      await eventually(async () => (await pendingCount(redis, project)) === 0, 20_000, 'all acked');
      await expectStoredOnce(project, ids);
      expect(await value(metrics.consumerRecoveries, { reason: 'retry' })).toBeGreaterThanOrEqual(
        1,
      );
    } finally {
      for (const statement of createEvents) await ch().exec(statement);
    }
  });

  it('trims stored entries but keeps those pending and those retainFrom asks for', async () => {
    const { redis, eventLog } = await openLog();
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
    const { redis, eventLog } = await openLog();
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
