import type { ClickHouse, StreamFormat } from '../clickhouse.js';
import { createSqlParams, msParam } from './sql-params.js';

export type ExportFormat = StreamFormat;

/** The columns of an export, as stored (`props` is JSON text); the project is the caller's. */
export const exportColumns = [
  'id',
  'type',
  'ts',
  'client_ts',
  'received_at',
  'user_id',
  'anonymous_id',
  'session_id',
  'props',
] as const;

/**
 * A project's raw events with `ts` in [fromMs, toMs), in the table's sort order (type, time,
 * id): ClickHouse reads the parts in order and merges them as it goes, with no sort of the
 * whole range in memory.
 */
export function exportSql(project: string, fromMs: number, toMs: number) {
  const p = createSqlParams();
  const sql = `SELECT ${exportColumns.join(', ')} FROM events
    WHERE project = ${p.bind(project, 'String')} AND ts >= ${msParam(p, fromMs)} AND ts < ${msParam(p, toMs)}
    ORDER BY type, ts, id`;
  return { sql, params: p.values };
}

/**
 * Raw event exports, streamed from ClickHouse in the chosen format.
 *
 * @example
 * const exports = createEventExport(ch);
 * for await (const chunk of exports.chunks('dev', from, to, 'Parquet')) write(chunk);
 */
export function createEventExport(ch: ClickHouse) {
  return {
    /** False where the backend cannot stream a result (a node reaching ClickHouse through another). */
    available: ch.stream !== undefined,
    chunks(project: string, fromMs: number, toMs: number, format: ExportFormat) {
      if (!ch.stream) throw new Error('this ClickHouse backend cannot stream results');
      const { sql, params } = exportSql(project, fromMs, toMs);
      return ch.stream(sql, params, format);
    },
  };
}

export type EventExport = ReturnType<typeof createEventExport>;
