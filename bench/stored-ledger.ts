import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { projectRoot } from './listening-process.js';
import type { StoredEvents } from './stored-events.js';

const run = promisify(execFile);
const script = 'bench/stored-events.ts';
/** How the ledger reads a node's folder, for the report. */
export const storedEventsCommand = `node --import tsx ${script} <node's data folder> <type>`;

/** Acknowledged events against stored ones, per event id. */
export interface Ledger {
  acknowledged: number;
  /** Rows of the run's type over every node's ClickHouse. */
  storedRows: number;
  storedIds: number;
  /** Acknowledged and stored nowhere. */
  lost: number;
  /** Ids stored more than once (on one node or over several). */
  doubled: number;
  /** Rows beyond the first of every doubled id. */
  extraRows: number;
  /** Stored ids the clients never had acknowledged (refused or never tracked). */
  storedNotAcknowledged: number;
}

/**
 * Reads, one stopped node's folder at a time, every stored id of `type` (bench/stored-events.ts
 * in a process of its own), and sets them against the acknowledged ids.
 *
 * @example
 * await cluster.stopNodes();
 * const ledger = await settleLedger(ackedIds, cluster.nodes.map((n) => n.dataDir), type);
 * ledger.lost; // 0
 */
export async function settleLedger(
  acknowledged: readonly string[],
  dataDirs: readonly string[],
  type: string,
): Promise<Ledger> {
  const copies = new Map<string, number>();
  let storedRows = 0;
  for (const dir of dataDirs) {
    const stored = await readStored(dir, type);
    storedRows += stored.rows;
    for (const [id, n] of Object.entries(stored.ids)) copies.set(id, (copies.get(id) ?? 0) + n);
  }
  const acked = new Set(acknowledged);
  let lost = 0;
  for (const id of acked) if (!copies.has(id)) lost += 1;
  let doubled = 0;
  let extraRows = 0;
  let storedNotAcknowledged = 0;
  for (const [id, n] of copies) {
    if (n > 1) {
      doubled += 1;
      extraRows += n - 1;
    }
    if (!acked.has(id)) storedNotAcknowledged += 1;
  }
  return {
    acknowledged: acked.size,
    storedRows,
    storedIds: copies.size,
    lost,
    doubled,
    extraRows,
    storedNotAcknowledged,
  };
}

async function readStored(dataDir: string, type: string): Promise<StoredEvents> {
  const args = ['--import', 'tsx', script, dataDir, type];
  // A run's ids as JSON run to megabytes; chdb's start and the query take seconds.
  const { stdout } = await run(process.execPath, args, {
    cwd: projectRoot,
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as StoredEvents;
}
