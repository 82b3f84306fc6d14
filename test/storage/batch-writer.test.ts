import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/ops/metrics.js';
import { createBatchWriter } from '../../src/storage/batch-writer.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import type { ClickHouse } from '../../src/storage/clickhouse.js';
import { createEventStore, type EventStore } from '../../src/storage/event-store.js';
import type { EventRow } from '../../src/model/event.js';
import { migrate } from '../../src/storage/migrate.js';
import { openSpool } from '../../src/storage/spool.js';
import { row } from './clickhouse.contract.js';

const log = pino({ level: 'silent' });
let ch: ClickHouse;
let store: EventStore;
const dir = mkdtempSync(join(tmpdir(), 'backline-writer-'));

beforeAll(async () => {
  ch = openChdb(join(dir, 'ch'));
  await migrate(ch);
  store = createEventStore(ch);
});
afterAll(async () => {
  await ch.close();
});

const count = async (type: string) =>
  (await store.countByType('p1', 0, Date.now() + 3600_000)).find((r) => r.type === type)?.count ??
  0;
const rows = (type: string, n: number) =>
  Array.from({ length: n }, (_, i) => row(`${type}-${i}`, { type }));

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** ClickHouse that can be taken down: inserts fail as a refused connection would. */
function flakyInsert() {
  const state = { down: false, calls: 0 };
  const insert = (batch: readonly EventRow[], token: string, timeoutMs: number) => {
    state.calls += 1;
    return state.down
      ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8123'))
      : store.insert(batch, token, timeoutMs);
  };
  return { state, insert };
}

describe('createBatchWriter', () => {
  it('batches by time and resolves durable() once rows are in ClickHouse', async () => {
    const { state, insert } = flakyInsert();
    const writer = createBatchWriter(
      {
        table: 'events',
        insert,
        spool: openSpool(join(dir, 'spool-a')),
        metrics: createMetrics(),
        log,
      },
      { flushIntervalMs: 20 },
    );
    await writer.start();
    for (let i = 0; i < 10; i++) writer.enqueue(rows(`time${i}`, 10));
    await writer.durable();
    expect(state.calls).toBe(1);
    expect(await count('time9')).toBe(10);
    await writer.stop();
  });

  it('flushes at maxBatchRows without waiting for the timer', async () => {
    const { state, insert } = flakyInsert();
    const writer = createBatchWriter(
      {
        table: 'events',
        insert,
        spool: openSpool(join(dir, 'spool-b')),
        metrics: createMetrics(),
        log,
      },
      { flushIntervalMs: 60_000, maxBatchRows: 100 },
    );
    writer.enqueue(rows('size', 100));
    await writer.durable();
    expect(state.calls).toBe(1);
    expect(await count('size')).toBe(100);
    await writer.stop();
  });

  it('sends a batch at once when no insert is running (group commit), not after the timer', async () => {
    const { state, insert } = flakyInsert();
    const writer = createBatchWriter(
      {
        table: 'events',
        insert,
        spool: openSpool(join(dir, 'spool-g1')),
        metrics: createMetrics(),
        log,
      },
      // A timer this long would outlast the test: only sending at once acknowledges in time.
      { flushIntervalMs: 600_000 },
    );
    writer.enqueue(rows('group1', 3));
    writer.enqueue(rows('group1b', 2)); // in the same turn of the event loop: the same batch
    await writer.durable();
    expect(state.calls).toBe(1);
    expect(await count('group1')).toBe(3);
    expect(await count('group1b')).toBe(2);
    await writer.stop();
  });

  it('gathers the rows that arrive while an insert runs into the next batch', async () => {
    const { state, insert } = flakyInsert();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated = async (batch: readonly EventRow[], token: string, timeoutMs: number) => {
      if (state.calls === 0) await gate; // the first insert runs until released
      return insert(batch, token, timeoutMs);
    };
    const writer = createBatchWriter(
      {
        table: 'events',
        insert: gated,
        spool: openSpool(join(dir, 'spool-g2')),
        metrics: createMetrics(),
        log,
      },
      { flushIntervalMs: 600_000 },
    );
    writer.enqueue(rows('running', 1));
    const first = writer.durable();
    await new Promise((resolve) => setImmediate(resolve)); // the first insert is running
    for (let i = 0; i < 3; i++) {
      writer.enqueue(rows(`gathered${i}`, 4));
      await new Promise((resolve) => setImmediate(resolve));
    }
    release();
    await first;
    await writer.durable();
    expect(state.calls).toBe(2);
    for (let i = 0; i < 3; i++) expect(await count(`gathered${i}`)).toBe(4);
    await writer.stop();
  });

  it('spools while ClickHouse is down, acknowledges, and replays once it is back', async () => {
    const { state, insert } = flakyInsert();
    const spool = openSpool<EventRow>(join(dir, 'spool-c'));
    const writer = createBatchWriter(
      { table: 'events', insert, spool, metrics: createMetrics(), log },
      { flushIntervalMs: 5, retryBaseMs: 20, retryMaxMs: 50 },
    );
    await writer.start();
    state.down = true;
    writer.enqueue(rows('outage', 30));
    await writer.durable();
    writer.enqueue(rows('outage2', 20));
    await writer.durable();
    expect(spool.totals().rows).toBe(50);
    expect(await count('outage')).toBe(0);
    state.down = false;
    await until(async () => spool.totals().files === 0);
    expect(await count('outage')).toBe(30);
    expect(await count('outage2')).toBe(20);
    await writer.stop();
  });

  it('replays a spooled batch that ClickHouse already took (crash before delete) only once', async () => {
    const spool = openSpool<EventRow>(join(dir, 'spool-d'));
    const batch = rows('replayed', 25);
    await spool.write('events-crash-1', batch);
    await store.insert(batch, 'events-crash-1');
    const writer = createBatchWriter({
      table: 'events',
      insert: store.insert,
      spool,
      metrics: createMetrics(),
      log,
    });
    await writer.start();
    expect(spool.totals().files).toBe(0);
    expect(await count('replayed')).toBe(25);
    await writer.stop();
  });

  it('replays complete spool files at start and deletes partial ones a crash left', async () => {
    const spoolDir = join(dir, 'spool-h');
    await openSpool<EventRow>(spoolDir).write('events-killed-1', rows('survivor', 12));
    writeFileSync(join(spoolDir, '0001760000000000-5-events-killed-2.ndjson.tmp'), '{"id":');
    const spool = openSpool<EventRow>(spoolDir);
    const writer = createBatchWriter({
      table: 'events',
      insert: store.insert,
      spool,
      metrics: createMetrics(),
      log,
    });
    await writer.start();
    expect(readdirSync(spoolDir)).toEqual([]);
    expect(await count('survivor')).toBe(12);
    await writer.stop();
  });

  it('tells producers to wait when too many rows are buffered, and recovers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const insert = async (batch: readonly EventRow[], token: string) => {
      await gate;
      await store.insert(batch, token);
    };
    const writer = createBatchWriter(
      {
        table: 'events',
        insert,
        spool: openSpool(join(dir, 'spool-e')),
        metrics: createMetrics(),
        log,
      },
      { flushIntervalMs: 1, maxBufferedRows: 100, insertTimeoutMs: 60_000 },
    );
    writer.enqueue(rows('slow', 60));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(writer.pressure()).toBeUndefined();
    writer.enqueue(rows('slow2', 60));
    expect(writer.pressure()).toBeGreaterThan(0);
    release();
    await writer.durable();
    expect(writer.pressure()).toBeUndefined();
    expect((await count('slow')) + (await count('slow2'))).toBe(120);
    await writer.stop();
  });

  it('runs two inserts at once but settles batches in the order they were sent', async () => {
    const gates: Array<() => void> = [];
    const insert = async (batch: readonly EventRow[], token: string) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      await store.insert(batch, token);
    };
    const writer = createBatchWriter(
      {
        table: 'events',
        insert,
        spool: openSpool(join(dir, 'spool-g')),
        metrics: createMetrics(),
        log,
      },
      { maxBatchRows: 10, flushIntervalMs: 60_000 },
    );
    writer.enqueue(rows('order1', 10));
    const first = writer.durable();
    writer.enqueue(rows('order2', 10));
    const second = writer.durable();
    const settled: string[] = [];
    void first.then(() => settled.push('first'));
    void second.then(() => settled.push('second'));
    expect(gates).toHaveLength(2); // both inserts are in flight
    gates[1]!();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toEqual([]);
    gates[0]!();
    await second;
    expect(settled).toEqual(['first', 'second']);
    await writer.stop();
  });
});
