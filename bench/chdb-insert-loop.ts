/**
 * The storage ceiling's measuring process: inserts batches of `EventRow`s straight into an
 * embedded ClickHouse on a temp folder, through the same `ClickHouse.insert` backline uses,
 * and prints one JSON line of figures. A separate process, so the runner never loads chdb
 * (about 200 MB of RSS before any data: the chdb-session-memory scenario) and a hung insert
 * can be killed.
 *
 * Run: `node --import tsx bench/chdb-insert-loop.ts <batches> <seconds> <rowsPerBatch>`
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBatchOptions } from '../src/storage/batch-writer.js';
import { openChdb } from '../src/storage/chdb-client.js';
import { eventsTable } from '../src/storage/event-store.js';
import type { EventRow } from '../src/model/event.js';
import { migrate } from '../src/storage/migrate.js';

const [batches, seconds, rowsPerBatch] = process.argv.slice(2, 5).map(Number) as [
  number,
  number,
  number,
];
// As many inserts in flight as backline's batch writer allows, so the ceiling is its own.
const lanes = defaultBatchOptions.maxInflightInserts;

/** Rows as validate-event.ts shapes them from the bench's frames (event-frames.ts). */
function makeRows(): EventRow[] {
  const now = Date.now();
  return Array.from({ length: rowsPerBatch }, (_, i) => {
    const k = i % 1000;
    return {
      project: 'dev',
      type: 'page.view',
      ts: now,
      client_ts: now,
      sent_at: null,
      received_at: now,
      id: '',
      user_id: `u${k}`,
      anonymous_id: '',
      session_id: '',
      props: JSON.stringify({ path: `/shows/${k}`, ms: Math.round(Math.random() * 5000) / 10 }),
    };
  });
}

function withIds(rows: EventRow[], batch: string): EventRow[] {
  for (let i = 0; i < rows.length; i += 1) rows[i]!.id = `${batch}.${i}`;
  return rows;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'backline-ceiling-'));
  const ch = openChdb(join(dir, 'clickhouse'));
  const runId = randomBytes(4).toString('hex');
  try {
    await migrate(ch);
    // One batch first, unmeasured: the engine's first part and caches.
    await ch.insert(eventsTable, withIds(makeRows(), `${runId}-warm`), { dedupToken: runId });
    const deadline = performance.now() + seconds * 1000;
    let next = 0;
    let rows = 0;
    const started = performance.now();
    const lane = async () => {
      // Built once per lane, outside the loop: backline builds rows as events arrive, not
      // in the insert. Only the ids change, so every row is new to ClickHouse.
      const batchRows = makeRows();
      while (next < batches && performance.now() < deadline) {
        const batch = `${runId}-${next++}`;
        await ch.insert(eventsTable, withIds(batchRows, batch), { dedupToken: batch });
        rows += batchRows.length;
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
    const elapsed = (performance.now() - started) / 1000;
    const [stored] = await ch.query<{ n: string }>(`SELECT count() AS n FROM ${eventsTable}`);
    const result = { rows, seconds: elapsed, lanes, rowsPerBatch, stored: Number(stored?.n) };
    console.log(JSON.stringify(result));
  } finally {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
