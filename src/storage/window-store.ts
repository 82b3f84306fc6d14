import { insertInto, type ClickHouse } from './clickhouse.js';

/** A final window result as stored in `stream_windows` (times in epoch ms, values as JSON). */
export interface WindowRow {
  project: string;
  stream: string;
  key: string;
  start: number;
  end: number;
  rev: number;
  values: string;
  emitted_at: number;
}

export interface StoredWindow {
  stream: string;
  key: string;
  start: number;
  end: number;
  rev: number;
  values: Record<string, unknown>;
}

export const windowsTable = 'stream_windows';

/** Window results in ClickHouse: written in batches by a BatchWriter, read by history queries. */
export function createWindowStore(ch: ClickHouse) {
  return {
    insert: insertInto<WindowRow>(ch, windowsTable),

    /** Stored windows of a stream starting in [from, to), latest revision each. */
    async between(
      project: string,
      stream: string,
      fromMs: number,
      toMs: number,
      key?: string,
    ): Promise<StoredWindow[]> {
      const rows = await ch.query<{
        key: string;
        start_ms: string;
        end_ms: string;
        rev: number;
        values: string;
      }>(
        `SELECT key, toString(toUnixTimestamp64Milli(start)) AS start_ms, toString(toUnixTimestamp64Milli(end)) AS end_ms,
                rev, values
         FROM stream_windows FINAL
         WHERE project = {project:String} AND stream = {stream:String}
           AND start >= fromUnixTimestamp64Milli({from:Int64}) AND start < fromUnixTimestamp64Milli({to:Int64})
           ${key === undefined ? '' : 'AND key = {key:String}'}
         ORDER BY start, key
         LIMIT 100000`,
        { project, stream, from: fromMs, to: toMs, ...(key === undefined ? {} : { key }) },
      );
      return rows.map((row) => ({
        stream,
        key: row.key,
        start: Number(row.start_ms),
        end: Number(row.end_ms),
        rev: Number(row.rev),
        values: JSON.parse(row.values) as Record<string, unknown>,
      }));
    },
  };
}

export type WindowStore = ReturnType<typeof createWindowStore>;
