import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../src/ops/metrics.js';
import type { defaultBatchOptions } from '../../src/storage/batch-writer.js';
import { createBatchWriter } from '../../src/storage/batch-writer.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import { insertInto, type ClickHouse } from '../../src/storage/clickhouse.js';
import type { EventRow } from '../../src/model/event.js';
import { migrate } from '../../src/storage/migrate.js';
import { openSpool } from '../../src/storage/spool.js';
import { row } from './clickhouse.contract.js';

// Every insert here is real: a table that does not exist (yet) is how ClickHouse fails.
const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'backline-loss-'));
let ch: ClickHouse;

beforeAll(async () => {
  ch = openChdb(join(dir, 'ch'));
  await migrate(ch);
});
afterAll(async () => {
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = (type: string, n: number) =>
  Array.from({ length: n }, (_, i) => row(`${type}-${i}`, { type }));

async function lost(metrics: Metrics, reason: string, table = 'events'): Promise<number> {
  const { values } = await metrics.rowsLost.get();
  return values.find((v) => v.labels.table === table && v.labels.reason === reason)?.value ?? 0;
}

async function insertFailures(metrics: Metrics): Promise<number> {
  const { values } = await metrics.insertFailures.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function writer(table: string, spoolDir: string, options: Partial<typeof defaultBatchOptions>) {
  const metrics = createMetrics();
  const spool = openSpool<EventRow>(spoolDir);
  const w = createBatchWriter<EventRow>(
    { table: 'events', insert: insertInto<EventRow>(ch, table), spool, metrics, log },
    { flushIntervalMs: 1, retryBaseMs: 10, retryMaxMs: 20, ...options },
  );
  return { w, metrics, spool };
}

describe('rows neither ClickHouse nor the spool took', () => {
  it('are counted as lost when the spool is full, and their batch fails', async () => {
    const { w, metrics, spool } = writer('missing_a', join(dir, 'full'), { maxSpoolBytes: 1 });
    w.enqueue(rows('first', 3));
    await w.durable(); // ClickHouse failed, the spool took it
    expect(spool.totals().rows).toBe(3);
    w.enqueue(rows('second', 7));
    await expect(w.durable()).rejects.toThrow(/spool is full/);
    expect(await lost(metrics, 'spool_full')).toBe(7);
    await w.stop();
  });

  it('are counted as lost when the spool cannot write', async () => {
    const spoolDir = join(dir, 'broken');
    const { w, metrics } = writer('missing_b', spoolDir, {});
    // The folder turns into a regular file: writes fail even for root.
    rmSync(spoolDir, { recursive: true });
    writeFileSync(spoolDir, 'not a folder');
    w.enqueue(rows('broken', 4));
    await expect(w.durable()).rejects.toThrow(/spool write failed/);
    expect(await lost(metrics, 'spool_error')).toBe(4);
    await w.stop();
  });

  it('with maxSpoolBytes 0: no spool, no backpressure while ClickHouse takes the rows', async () => {
    const { w, metrics } = writer('events', join(dir, 'off-ok'), { maxSpoolBytes: 0 });
    expect(w.pressure()).toBeUndefined();
    w.enqueue(rows('nospool', 5));
    await w.durable();
    expect(w.pressure()).toBeUndefined();
    expect(await lost(metrics, 'no_spool')).toBe(0);
    await w.stop();
  });

  it('with maxSpoolBytes 0: a failed insert fails the batch at once and writes no file', async () => {
    const spoolDir = join(dir, 'off-failing');
    const { w, metrics } = writer('missing_c', spoolDir, { maxSpoolBytes: 0 });
    w.enqueue(rows('nospool-lost', 6));
    await expect(w.durable()).rejects.toThrow(/no spool/);
    expect(await lost(metrics, 'no_spool')).toBe(6);
    expect(readdirSync(spoolDir)).toEqual([]);
    await w.stop();
  });

  it('with retryUnstored: are kept in memory and retried until ClickHouse takes them', async () => {
    const { w, metrics } = writer('retried', join(dir, 'retry'), {
      maxSpoolBytes: 0,
      retryUnstored: true,
    });
    w.enqueue(rows('kept', 9));
    let durable = false;
    void w.durable().then(() => (durable = true));
    await until(async () => (await insertFailures(metrics)) >= 3);
    expect(durable).toBe(false);
    await ch.exec('CREATE TABLE retried AS events');
    await w.durable();
    const [stored] = await ch.query<{ n: string | number }>('SELECT count() AS n FROM retried');
    expect(Number(stored!.n)).toBe(9);
    expect(await lost(metrics, 'no_spool')).toBe(0);
    await w.stop();
  });

  it('with retryUnstored: rows past maxBufferedRows, and rows still unstored at stop, count as lost', async () => {
    const { w, metrics } = writer('missing_d', join(dir, 'bound'), {
      maxSpoolBytes: 0,
      retryUnstored: true,
      maxBufferedRows: 10,
    });
    w.enqueue(rows('held', 8));
    await until(async () => (await insertFailures(metrics)) >= 1);
    w.enqueue(rows('over', 5));
    expect(await lost(metrics, 'buffer_full')).toBe(5);
    await w.stop();
    expect(await lost(metrics, 'no_spool')).toBe(8);
  });
});
