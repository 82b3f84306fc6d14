import { createHash } from 'node:crypto';
import { conditionSql, numberOf, quote, textOf, type FieldCondition } from './field-sql.js';

/**
 * ClickHouse SQL for a stream's hourly rollup: an AggregatingMergeTree of aggregate states
 * (`uniqState`, `quantilesTDigestState`, …) fed by a materialized view on `events`, so any
 * longer range merges states — a day's distinct users is not a sum of hourly counts.
 */

/**
 * How ClickHouse rolls one aggregate up, as the aggregate's registry entry declares it
 * (src/pipeline/aggregates/): `<fn>State` by the hour, `<fn>Merge` over a range.
 */
export interface RollupFunction {
  /** The ClickHouse aggregate function: `count`, `uniq`, `quantilesTDigest`. */
  fn: string;
  /** Its parameters: `quantilesTDigest(0.5, 0.95)`, `topK(10)`. */
  params?: readonly number[];
  /** What it reads of the aggregate's field: text (NULL when absent) or a number. */
  reads: 'text' | 'number';
  /** False when the state's type names no argument type: `AggregateFunction(count)`. */
  typedState?: boolean;
}

/**
 * A stream as its rollup reads it, with the rollup function of each aggregate. A stream's
 * definition plus `functions` fits: every setting of it names the table.
 */
export interface RollupSpec {
  name: string;
  source: { types?: readonly string[]; where: readonly FieldCondition[] };
  groupBy: readonly string[];
  aggregates: ReadonlyArray<{ name: string; field?: string }>;
  /** One per aggregate, in order. */
  functions: readonly RollupFunction[];
}

/** Every rollup table and view name starts with this; the prefix is backline's in its database. */
export const rollupPrefix = 'rollup_';

/**
 * `rollup_<stream>_<hash>`: one table per project, stream and definition, so two streams
 * with the same source and aggregates never share one, and a redefinition gets a new table
 * (backfilled) while the old one still answers. The stream part is only for people reading
 * `system.tables` (`-` is not allowed in a bare identifier); the hash of project, stream and
 * definition keeps names unique and under 100 characters.
 */
export function rollupTable(project: string, spec: Omit<RollupSpec, 'functions'>): string {
  const hash = createHash('sha1')
    .update(JSON.stringify([project, spec.name, spec.source, spec.groupBy, spec.aggregates]))
    .digest('hex');
  return `${rollupPrefix}${spec.name.replace(/[^a-z0-9_]/g, '_')}_${hash.slice(0, 16)}`;
}

/** The table and its materialized view. */
export function rollupObjects(
  project: string,
  spec: Omit<RollupSpec, 'functions'>,
): [table: string, view: string] {
  const table = rollupTable(project, spec);
  return [table, `${table}_mv`];
}

/** The view first: a view whose table is gone fails every insert into `events`. */
export function rollupDrops(project: string, spec: Omit<RollupSpec, 'functions'>): string[] {
  const [table, mv] = rollupObjects(project, spec);
  return [`DROP VIEW IF EXISTS ${mv}`, `DROP TABLE IF EXISTS ${table}`];
}

function stateOf(
  rollup: RollupFunction,
  field: string | undefined,
): { type: string; state: string; merge: string } {
  const params = rollup.params ? `(${rollup.params.join(', ')})` : '';
  const argument = rollup.reads === 'number' ? 'Nullable(Float64)' : 'Nullable(String)';
  const input = field === undefined ? '' : (rollup.reads === 'number' ? numberOf : textOf)(field);
  return {
    type: `AggregateFunction(${rollup.fn}${params}${rollup.typedState === false ? '' : `, ${argument}`})`,
    state: `${rollup.fn}State${params}(${input})`,
    merge: `${rollup.fn}Merge${params}`,
  };
}

/**
 * DDL for the rollup table and its view, the statement that backfills older events, and the
 * merges that read the states back.
 */
export function rollupDdl(project: string, spec: RollupSpec, backfillBeforeMs: number) {
  const [table, mv] = rollupObjects(project, spec);
  const states = spec.aggregates.map((a, i) => stateOf(spec.functions[i]!, a.field));
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
    merges: states.map((s, i) => `${s.merge}(a${i}) AS a${i}`).join(', '),
  };
}
