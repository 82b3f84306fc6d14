import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { EventRow } from '../../src/model/event.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import type { ClickHouse } from '../../src/storage/clickhouse.js';
import { createEventStore, type EventStore } from '../../src/storage/event-store.js';
import { migrate } from '../../src/storage/migrate.js';
import { openSpool } from '../../src/storage/spool.js';
import { createSpoolReplay } from '../../src/storage/spool-replay.js';
import { row } from './clickhouse.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'backline-replay-'));
let ch: ClickHouse;
let store: EventStore;
beforeAll(async () => {
  ch = openChdb(join(dir, 'ch'));
  await migrate(ch);
  store = createEventStore(ch);
});
afterAll(() => ch.close());

const stored = async () =>
  (await ch.query<{ id: string }>("SELECT id FROM events WHERE project = 'p1' ORDER BY id")).map(
    (r) => r.id,
  );

it('runs a rewrite between replay steps: a batch read before it is inserted first, later ones rewritten', async () => {
  const spool = openSpool<EventRow>(join(dir, 'spool'));
  await spool.write('events-t-1', [row('a-gone', { user_id: 'gone' }), row('a-kept')]);
  await spool.write('events-t-2', [row('b-gone', { user_id: 'gone' }), row('b-kept')]);
  let release = () => {};
  let inserting = () => {};
  const reading = new Promise<void>((resolve) => (inserting = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  const order: string[] = [];
  const insert = async (rows: readonly EventRow[], token: string, timeoutMs: number) => {
    inserting();
    await gate; // ClickHouse slow to take the first batch
    await store.insert(rows, token, timeoutMs);
    order.push(`insert ${token}`);
  };
  const deps = { table: 'events', spool, metrics: createMetrics(), log: pino({ level: 'silent' }) };
  const options = { insertTimeoutMs: 5000, retryBaseMs: 10, retryMaxMs: 100 };
  const replay = createSpoolReplay({ ...deps, insert }, options);
  replay.start();
  await reading;
  const rewritten = replay
    .exclusive(() => spool.rewrite((r) => (r.user_id === 'gone' ? undefined : r)))
    .then((changed) => order.push(`rewrite ${changed}`));
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(order).toEqual([]); // the rewrite waits for the insert in progress
  release();
  await rewritten;
  await replay.stop();
  expect(order.slice(0, 2)).toEqual(['insert events-t-1', 'rewrite 1']);
  // The first batch went in whole (the erase deletes it from ClickHouse after); the second
  // went in rewritten, so the erased user's row of it never reached ClickHouse.
  await createSpoolReplay({ ...deps, insert: store.insert }, options).once();
  expect(await stored()).toEqual(['a-gone', 'a-kept', 'b-kept']);
});
