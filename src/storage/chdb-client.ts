import { mkdirSync } from 'node:fs';
import { Session } from 'chdb';
import { csvChunks, parquetChunks, prepareExportDir } from './chdb-stream.js';
import { assertIdentifier, type ClickHouse } from './clickhouse.js';

/**
 * Embedded ClickHouse: a chdb `Session` on a folder. Only the async calls are used, since
 * the synchronous ones block the event loop for the whole query (the chdb-query-blocking
 * bench scenario measures both).
 * An insert that has returned survives `kill -9` of the process.
 *
 * @example
 * const ch = openChdb('./data/clickhouse');
 * await ch.query('SELECT 1 AS one'); // [{ one: 1 }]
 */
const noJit = [
  '--compile_expressions=0',
  '--compile_aggregate_expressions=0',
  '--compile_sort_description=0',
];

export function openChdb(path: string): ClickHouse {
  mkdirSync(path, { recursive: true });
  // ClickHouse compiles an expression to machine code the 4th time it runs one (LLVM), and
  // that query pays for the compiling: analytics answers of ~45 ms took ~105 ms then, once
  // per query shape and process, with no gain after (chdb 3.4, retention at 10M events).
  const session = new Session(path, { connectionArgs: noJit });
  const streams = new Set<Session>();
  const exportDir = `${path}-exports`;
  prepareExportDir(exportDir);
  return {
    kind: 'embedded',
    async exec(sql, params) {
      if (params) await session.queryBindAsync(sql, params, { format: 'Null' });
      else await session.queryAsync(sql, { format: 'Null' });
    },
    async query<T>(sql: string, params?: Record<string, unknown>) {
      const options = { format: 'JSONEachRow' };
      const result = params
        ? await session.queryBindAsync(sql, params, options)
        : await session.queryAsync(sql, options);
      return parseJsonEachRow<T>(result.text());
    },
    async insert(table, rows, options = {}) {
      if (rows.length === 0) return;
      // Rows of one insert share a shape: positional JSON skips repeating every key, which
      // measured ~30% less serialising on the event loop and faster parsing in the engine.
      const columns = Object.keys(rows[0]!);
      const lines = rows.map((row) =>
        JSON.stringify(columns.map((column) => (row as Record<string, unknown>)[column])),
      );
      await session.insert({
        table: assertIdentifier(table),
        values: Buffer.from(lines.join('\n')),
        format: 'JSONCompactEachRow',
        columns,
        ...(options.dedupToken
          ? { settings: { insert_deduplication_token: options.dedupToken } }
          : {}),
        ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
      });
    },
    async *stream(sql, params, format) {
      // A query on a connection ends the stream open on it (chdb 3.4: "No active streaming
      // query"), so each stream gets its own connection to the same folder: measured at about
      // 1 MB, since the engine and its tables are shared within the process.
      const own = new Session(path);
      streams.add(own);
      try {
        if (format === 'Parquet') yield* parquetChunks(own, sql, params, exportDir);
        else yield* csvChunks(own, sql, params);
      } finally {
        streams.delete(own);
        own.close();
      }
    },
    async close() {
      for (const own of streams) own.close();
      session.close();
    },
  };
}

function parseJsonEachRow<T>(text: string): T[] {
  const rows: T[] = [];
  for (const line of text.split('\n')) if (line.length > 0) rows.push(JSON.parse(line) as T);
  return rows;
}
