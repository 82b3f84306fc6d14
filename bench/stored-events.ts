/**
 * The cluster-node-kill scenario's reader of what was stored: opens the embedded ClickHouse of
 * one node's data folder (after the node has exited) and prints one JSON line, every stored
 * id of events of `type` with how many rows it has. A process of its own per folder: chdb
 * keeps one engine per process, and the runner should not carry its memory.
 *
 * Run: `node --import tsx bench/stored-events.ts <data folder> <type>`
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openChdb } from '../src/storage/chdb-client.js';

export interface StoredEvents {
  /** Stored rows by event id. */
  ids: Record<string, number>;
  rows: number;
}

async function main(): Promise<void> {
  const [dataDir, type] = process.argv.slice(2);
  if (!dataDir || !type) throw new Error('usage: stored-events.ts <data folder> <type>');
  const folder = join(dataDir, 'clickhouse');
  const stored: StoredEvents = { ids: {}, rows: 0 };
  // A node that never opened ClickHouse (a cluster's remote node) stored nothing itself.
  if (existsSync(folder)) {
    const ch = openChdb(folder);
    try {
      const rows = await ch.query<{ id: string; n: string }>(
        'SELECT id, count() AS n FROM events WHERE type = {type:String} GROUP BY id',
        { type },
      );
      for (const row of rows) {
        stored.ids[row.id] = Number(row.n);
        stored.rows += Number(row.n);
      }
    } finally {
      await ch.close();
    }
  }
  console.log(JSON.stringify(stored));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
