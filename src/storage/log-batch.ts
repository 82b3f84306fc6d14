import { createHash } from 'node:crypto';
import type { LogEntry } from '../cluster/log-entry.js';
import type { EventRow } from '../model/event.js';
import type { EventStore } from './event-store.js';

/** Where an entry sits in the event log: its partition and stream id. */
export interface EntryPosition {
  partition: number;
  id: string;
}

/**
 * The insert dedup token of a batch of log entries: a hash of their positions, so the same
 * batch retried is stored once by ClickHouse (`insert_deduplication_token`).
 */
export function entriesToken(entries: readonly EntryPosition[]): string {
  const hash = createHash('sha1');
  for (const { partition, id } of entries) hash.update(`${partition}/${id}\n`);
  return `log-${hash.digest('hex')}`;
}

/**
 * The rows of `entries` ClickHouse does not hold yet, and how many it does. The recovery path
 * asks this of entries whose earlier insert may have landed (a consumer that died before its
 * XACK, an insert that failed or timed out), so a row is stored once however often it is
 * recovered. Asked per project, over the rows' event times.
 */
export async function unstoredRows(
  store: Pick<EventStore, 'storedIds'>,
  entries: readonly LogEntry[],
): Promise<{ rows: EventRow[]; stored: number }> {
  const byProject = new Map<string, EventRow[]>();
  for (const entry of entries)
    for (const row of entry.rows) {
      const rows = byProject.get(row.project) ?? [];
      byProject.set(row.project, rows);
      rows.push(row);
    }
  const unstored: EventRow[] = [];
  let stored = 0;
  for (const [project, rows] of byProject) {
    let fromMs = Infinity;
    let toMs = -Infinity;
    for (const { ts } of rows) [fromMs, toMs] = [Math.min(fromMs, ts), Math.max(toMs, ts)];
    const ids = rows.map((row) => row.id);
    const present = await store.storedIds(project, ids, { fromMs, toMs });
    for (const row of rows) {
      if (present.has(row.id)) stored++;
      else unstored.push(row);
    }
  }
  return { rows: unstored, stored };
}
