/**
 * The few things backline asks of ClickHouse. The embedded engine (chdb) and a server
 * (@clickhouse/client) implement it with the same SQL, and one contract suite tests both.
 * Parameters use ClickHouse's `{name:Type}` placeholders, bound by the engine.
 */
export interface ClickHouse {
  readonly kind: 'embedded' | 'server';
  /** A statement with no result (DDL, ALTER, INSERT … SELECT), with bound `{name:Type}` params. */
  exec(sql: string, params?: Record<string, unknown>): Promise<void>;
  /** A SELECT; rows come back as objects (UInt64 and larger as strings or numbers). */
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /**
   * Inserts rows as JSONEachRow. With a `dedupToken`, the same batch inserted twice is
   * stored once (`insert_deduplication_token`), which makes spool replays idempotent.
   */
  insert(table: string, rows: readonly object[], options?: InsertOptions): Promise<void>;
  /**
   * A SELECT's output in a file format, chunk by chunk as the engine produces it, so a large
   * result is never held whole (exports). `sql` ends without FORMAT or SETTINGS: each backend
   * adds its own. Stopping the iteration ends the query where the backend can. Absent where
   * results cannot be streamed (a node that reaches ClickHouse through another).
   */
  stream?(
    sql: string,
    params: Record<string, unknown>,
    format: StreamFormat,
  ): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/** Output formats a stream may ask for. */
export type StreamFormat = 'CSVWithNames' | 'Parquet';

export interface InsertOptions {
  dedupToken?: string;
  timeoutMs?: number;
}

/** Quotes an identifier we generate ourselves (table names); never user input. */
export function assertIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) throw new Error(`bad identifier ${name}`);
  return name;
}

/** A table's insert in the shape a BatchWriter takes: rows, their batch's dedup token, a timeout. */
export function insertInto<Row extends object>(ch: ClickHouse, table: string) {
  return (rows: readonly Row[], dedupToken: string, timeoutMs?: number): Promise<void> =>
    ch.insert(table, rows, { dedupToken, ...(timeoutMs ? { timeoutMs } : {}) });
}
