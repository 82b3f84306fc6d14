import { quote } from '../field-sql.js';

/**
 * The bound parameters of one analytics query. Every value that comes from a caller (project,
 * times, event types, prop path keys, condition literals) goes in as a ClickHouse
 * `{name:Type}` placeholder bound by the engine; only names generated here and fixed SQL are
 * spliced into the text.
 *
 * @example
 * const p = createSqlParams({ project: 'dev' });
 * const sql = `SELECT count() FROM events WHERE project = {project:String} AND type = ${p.bind('song.play', 'String')}`;
 * await ch.query(sql, p.values);
 */
export interface SqlParams {
  /** A placeholder for `value` as `type` (a ClickHouse type this code names, never caller text). */
  bind(value: unknown, type: string): string;
  /** Everything bound so far, by placeholder name. */
  readonly values: Record<string, unknown>;
  /** Fields `events` keeps as columns (materialized-props.ts): read as such. */
  readonly columns?: ReadonlyMap<string, string>;
  /** The `props` fields read out of the JSON text so far (field-sql.ts `textSql`). */
  readonly jsonFields?: Set<string>;
}

/** Told after a query which `props` fields it read out of the JSON text, and how long it took. */
export type JsonReadListener = (fields: ReadonlySet<string>, ms: number) => void;

/** Runs a query and tells `listener` its time when it read fields out of the JSON text. */
export async function reportJsonReads<T>(
  run: () => Promise<T>,
  fields: ReadonlySet<string> | undefined,
  listener: JsonReadListener | undefined,
): Promise<T> {
  if (!listener || !fields?.size) return run();
  const started = performance.now();
  const result = await run();
  listener(fields, performance.now() - started);
  return result;
}

export function createSqlParams(
  fixed: Record<string, unknown> = {},
  columns?: ReadonlyMap<string, string>,
): SqlParams {
  const values: Record<string, unknown> = { ...fixed };
  let next = 0;
  return {
    values,
    jsonFields: new Set(),
    ...(columns ? { columns } : {}),
    bind(value, type) {
      const name = `p${next++}`;
      values[name] = value;
      return `{${name}:${type}}`;
    },
  };
}

/** Epoch ms as a DateTime64(3) placeholder's expression. */
export function msParam(p: SqlParams, ms: number): string {
  return `fromUnixTimestamp64Milli(${p.bind(Math.floor(ms), 'Int64')})`;
}

/**
 * Parameters spliced in as literals, for DDL, which binds none (a column's MATERIALIZED
 * expression): strings only, quoted as field-sql.ts quotes them.
 */
export function createLiteralSqlParams(): SqlParams {
  return {
    values: {},
    bind(value, type) {
      if (type !== 'String' || typeof value !== 'string')
        throw new Error(`only strings are spliced in as literals, not ${type}`);
      return quote(value);
    },
  };
}
