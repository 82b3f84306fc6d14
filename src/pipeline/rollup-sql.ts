import { createHash } from 'node:crypto';
import type { AggregateSpec, Condition, StreamSpec } from './stream-spec.js';

/**
 * ClickHouse SQL for a stream's hourly rollup: an AggregatingMergeTree of aggregate states
 * (`uniqState`, `quantilesTDigestState`, …) fed by a materialized view on `events`, so any
 * longer range merges states — a day's distinct users is not a sum of hourly counts. The
 * expressions mirror the pipeline's reading of fields: text as JSON text unless a string,
 * numbers only when numeric, '' top-level fields as absent.
 */
/** Every rollup table and view name starts with this; the prefix is backline's in its database. */
export const rollupPrefix = 'rollup_';

/**
 * `rollup_<stream>_<hash>`: one table per project, stream and definition, so two streams
 * with the same source and aggregates never share one, and a redefinition gets a new table
 * (backfilled) while the old one still answers. The stream part is only for people reading
 * `system.tables` (`-` is not allowed in a bare identifier); the hash of project, stream and
 * definition keeps names unique and under 100 characters.
 */
export function rollupTable(project: string, spec: StreamSpec): string {
  const hash = createHash('sha1')
    .update(JSON.stringify([project, spec.name, spec.source, spec.groupBy, spec.aggregates]))
    .digest('hex');
  return `${rollupPrefix}${spec.name.replace(/[^a-z0-9_]/g, '_')}_${hash.slice(0, 16)}`;
}

/** The table and its materialized view. */
export function rollupObjects(project: string, spec: StreamSpec): [table: string, view: string] {
  const table = rollupTable(project, spec);
  return [table, `${table}_mv`];
}

const columns: Record<string, string> = {
  id: 'id',
  type: 'type',
  userId: 'user_id',
  anonymousId: 'anonymous_id',
  sessionId: 'session_id',
};

const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function jsonPath(field: string): string {
  return field.split('.').slice(1).map(quote).join(', ');
}

/** The field as text (NULL when absent or JSON null), as `asText` does in the pipeline. */
export function textOf(field: string): string {
  if (field === 'ts') return 'toString(toUnixTimestamp64Milli(ts))';
  if (columns[field]) return `nullIf(${columns[field]}, '')`;
  const path = jsonPath(field);
  return `multiIf(JSONType(props, ${path}) = 'String', JSONExtractString(props, ${path}), JSONType(props, ${path}) IN ('Null', ''), NULL, JSONExtractRaw(props, ${path}))`;
}

/** The field as a number (NULL unless numeric), as `numeric` does in the pipeline. */
export function numberOf(field: string): string {
  if (field === 'ts') return 'toFloat64(toUnixTimestamp64Milli(ts))';
  if (columns[field]) return "CAST(NULL, 'Nullable(Float64)')";
  const path = jsonPath(field);
  return `if(JSONType(props, ${path}) IN ('Int64', 'UInt64', 'Double'), JSONExtractFloat(props, ${path}), NULL)`;
}

export function conditionSql({ field, op, value }: Condition): string {
  const literal = (v: unknown) =>
    typeof v === 'number'
      ? { expr: numberOf(field), lit: String(v) }
      : { expr: textOf(field), lit: quote(typeof v === 'string' ? v : JSON.stringify(v)) };
  const typed = (v: unknown) =>
    typeof v === 'string' && !columns[field] && field !== 'ts'
      ? `JSONType(props, ${jsonPath(field)}) = 'String' AND `
      : '';
  switch (op) {
    case 'exists':
      return `${textOf(field)} IS NOT NULL`;
    case 'in':
      return `(${(Array.isArray(value) ? value : [value]).map((v) => conditionSql({ field, op: 'eq', value: v })).join(' OR ') || '0'})`;
    case 'ne':
      return `NOT (${conditionSql({ field, op: 'eq', value })})`;
    default: {
      const { expr, lit } = literal(value);
      const sqlOp = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' }[op];
      return `(${typed(value)}coalesce(${expr} ${sqlOp} ${lit}, 0))`;
    }
  }
}

function stateOf(a: AggregateSpec): { type: string; state: string; merge: string } {
  switch (a.fn) {
    case 'count':
      return {
        type: 'AggregateFunction(count)',
        state: a.field ? `countState(${textOf(a.field)})` : 'countState()',
        merge: 'countMerge',
      };
    case 'sum':
    case 'min':
    case 'max':
    case 'avg':
      return {
        type: `AggregateFunction(${a.fn}, Nullable(Float64))`,
        state: `${a.fn}State(${numberOf(a.field)})`,
        merge: `${a.fn}Merge`,
      };
    case 'uniq':
      return {
        type: 'AggregateFunction(uniq, Nullable(String))',
        state: `uniqState(${textOf(a.field)})`,
        merge: 'uniqMerge',
      };
    case 'quantiles': {
      const levels = a.q.join(', ');
      return {
        type: `AggregateFunction(quantilesTDigest(${levels}), Nullable(Float64))`,
        state: `quantilesTDigestState(${levels})(${numberOf(a.field)})`,
        merge: `quantilesTDigestMerge(${levels})`,
      };
    }
    case 'topK':
      return {
        type: `AggregateFunction(topK(${a.k}), Nullable(String))`,
        state: `topKState(${a.k})(${textOf(a.field)})`,
        merge: `topKMerge(${a.k})`,
      };
  }
}

/** DDL for the rollup table and its view, plus the statement that backfills older events. */
export function rollupDdl(project: string, spec: StreamSpec, backfillBeforeMs: number) {
  const [table, mv] = rollupObjects(project, spec);
  const states = spec.aggregates.map(stateOf);
  const key =
    spec.groupBy.length === 0
      ? "''"
      : `arrayStringConcat([${spec.groupBy.map((f) => `coalesce(${textOf(f)}, '')`).join(', ')}], '|')`;
  const where = [`project = ${quote(project)}`];
  if (spec.source.types) where.push(`type IN (${spec.source.types.map(quote).join(', ')})`);
  for (const condition of spec.source.where) where.push(conditionSql(condition));
  const select = `SELECT toStartOfHour(ts) AS bucket, ${key} AS key, ${states.map((s, i) => `${s.state} AS a${i}`).join(', ')}
    FROM events WHERE ${where.join(' AND ')}`;
  return {
    table,
    create: `CREATE TABLE IF NOT EXISTS ${table} (bucket DateTime('UTC'), key String, ${states.map((s, i) => `a${i} ${s.type}`).join(', ')})
      ENGINE = AggregatingMergeTree ORDER BY (key, bucket)`,
    view: `CREATE MATERIALIZED VIEW IF NOT EXISTS ${mv} TO ${table} AS ${select} GROUP BY bucket, key`,
    backfill: `INSERT INTO ${table} ${select} AND received_at < fromUnixTimestamp64Milli(${Math.floor(backfillBeforeMs)}) GROUP BY bucket, key`,
    // The view first: a view whose table is gone fails every insert into `events`.
    drop: [`DROP VIEW IF EXISTS ${mv}`, `DROP TABLE IF EXISTS ${table}`],
    merges: states.map((s, i) => `${s.merge}(a${i}) AS a${i}`).join(', '),
  };
}
