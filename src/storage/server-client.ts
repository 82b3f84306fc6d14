import { createClient } from '@clickhouse/client';
import { assertIdentifier, type ClickHouse } from './clickhouse.js';

/**
 * A ClickHouse server over HTTP, chosen by `CLICKHOUSE_URL`
 * (e.g. `http://user:pass@127.0.0.1:8123/backline`; the path names the database).
 */
export function openClickHouseServer(url: string): ClickHouse {
  const client = createClient({
    url,
    clickhouse_settings: { date_time_input_format: 'best_effort' },
  });
  return {
    kind: 'server',
    async exec(sql, params) {
      await client.command({ query: sql, ...(params ? { query_params: params } : {}) });
    },
    async query<T>(sql: string, params?: Record<string, unknown>) {
      const result = await client.query({
        query: sql,
        format: 'JSONEachRow',
        ...(params ? { query_params: params } : {}),
      });
      return result.json<T>();
    },
    async insert(table, rows, options = {}) {
      if (rows.length === 0) return;
      const abort = options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined;
      await client.insert({
        table: assertIdentifier(table),
        values: rows as object[],
        format: 'JSONEachRow',
        ...(abort ? { abort_signal: abort } : {}),
        ...(options.dedupToken
          ? { clickhouse_settings: { insert_deduplication_token: options.dedupToken } }
          : {}),
      });
    },
    async *stream(sql, params, format) {
      const abort = new AbortController();
      const result = await client.exec({
        // Row groups of 65,536 rows: the server holds one before writing it (default 1M).
        query: `${sql} FORMAT ${format} SETTINGS output_format_parquet_row_group_size = 65536`,
        query_params: params,
        abort_signal: abort.signal,
      });
      try {
        for await (const chunk of result.stream as AsyncIterable<Buffer>) yield chunk;
      } finally {
        // A consumer that stopped early: end the request, so the server cancels the query.
        abort.abort();
        result.stream.destroy();
      }
    },
    async close() {
      await client.close();
    },
  };
}
