import { createHash } from 'node:crypto';
import { blocksAfter } from './event-blocks.js';
import { conditionSql, numberOf, quote, textOf, type FieldCondition } from './field-sql.js';

/**
 * ClickHouse SQL for a stream's hourly rollup: an AggregatingMergeTree of aggregate states
 * (`uniqState`, `quantilesTDigestState`, …), so any longer range merges states — a day's
 * distinct users is not a sum of hourly counts. The table is filled off the insert path by the
 * rollup roller (rollup-roller.ts), a range of `events` blocks at a time, and says in a marker
 * row how far it got; reads add the states of the blocks after it (rollup-store.ts).
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

/** Every rollup table name starts with this; the prefix is backline's in its database. */
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

/** The view each rollup had in the older layout, filled on every insert (dropped at start). */
export const legacyView = (table: string) => `${table}_mv`;

/**
 * The marker row: `upto` is the last `events` block number (the insert order, see
 * event-blocks.ts) whose events the table holds. The key is one byte no event field can give
 * (0xFF is never in UTF-8 text), so it never meets a group key; other rows hold `upto` 0.
 */
export const markerKey = "'\\xFF'";

/** One aggregate's state column: its type, its state over some rows, its merge. */
export interface StateColumn {
  type: string;
  /** The state over the rows where `where` holds (`1`: every row of the stream). */
  state(where: string): string;
  /** The state of no rows: the marker row's. */
  empty: string;
  merge: string;
}

/** What every statement of one stream's rollup is made of. */
export interface RollupParts {
  table: string;
  /** The group key of an event: `''`, or the groupBy fields' text joined by `|`. */
  key: string;
  /** Whether an event belongs to the stream. */
  where: string;
  states: StateColumn[];
}

/** The rollup table, its states and the part of `events` it reads. */
export interface RollupSql {
  table: string;
  /** The table, with the definition in its comment for whichever node rolls it up. */
  create: string;
  /** Older tables: the marker column and the comment. */
  upgrade: string[];
  /**
   * The states of the events in the block range `(after, upto]` (`upto` undefined: no upper
   * bound) grouped by hour and key, as `bucket, key, a0, a1, …`.
   */
  states(after: number, upto?: number): string;
  /** The marker alone: for a table just filled up to `upto`, or filled by the older view. */
  mark(upto: number): string;
  /** The state columns: `a0, a1, …`. */
  columns: string;
  /** Each aggregate's states merged, as `a0, a1, …`. */
  merges: string;
}

/** What a rollup table's comment holds: enough to roll it up with no stream catalog. */
export interface RollupComment {
  project: string;
  spec: RollupSpec;
}

/** Settings that make an INSERT … SELECT one block whatever its rows, so one part: atomic. */
export const oneBlock =
  // ClickHouse's default squashes up to ~1M rows or 256 MiB, then starts another part; and
  // each insert thread would write parts of its own.
  'min_insert_block_size_rows = 1000000000000, min_insert_block_size_bytes = 1000000000000, max_insert_threads = 1';

function stateOf(rollup: RollupFunction, field: string | undefined): StateColumn {
  const params = rollup.params ? `(${rollup.params.join(', ')})` : '';
  const argument = rollup.reads === 'number' ? 'Nullable(Float64)' : 'Nullable(String)';
  const read = field === undefined ? '' : (rollup.reads === 'number' ? numberOf : textOf)(field);
  const input = read && `CAST(${read}, '${argument}')`;
  if (rollup.typedState === false)
    // No argument type in the state (count): it counts the rows where the field is present,
    // so states of stored rows and of the unrolled tail have one type.
    return {
      type: `AggregateFunction(${rollup.fn}${params})`,
      state: (where) =>
        `${rollup.fn}StateIf${params}(${where}${input && ` AND ${input} IS NOT NULL`})`,
      empty: `${rollup.fn}StateIf${params}(0)`,
      merge: `${rollup.fn}Merge${params}`,
    };
  // Rows outside `where` read NULL, which every aggregate skips.
  return {
    type: `AggregateFunction(${rollup.fn}${params}, ${argument})`,
    state: (where) =>
      `${rollup.fn}State${params}(${where === '1' ? input : `if(${where}, ${input}, NULL)`})`,
    empty: `${rollup.fn}State${params}(CAST(NULL, '${argument}'))`,
    merge: `${rollup.fn}Merge${params}`,
  };
}

/** The table, key, stream condition and state columns of one stream's rollup. */
export function rollupParts(project: string, spec: RollupSpec): RollupParts {
  const key =
    spec.groupBy.length === 0
      ? "''"
      : `arrayStringConcat([${spec.groupBy.map((f) => `coalesce(${textOf(f)}, '')`).join(', ')}], '|')`;
  const where = [`project = ${quote(project)}`];
  if (spec.source.types) where.push(`type IN (${spec.source.types.map(quote).join(', ')})`);
  for (const condition of spec.source.where) where.push(conditionSql(condition));
  return {
    table: rollupTable(project, spec),
    key,
    where: `(${where.join(' AND ')})`,
    states: spec.aggregates.map((a, i) => stateOf(spec.functions[i]!, a.field)),
  };
}

/** The marker row: bucket 0, the marker key, empty states, `upto`. */
export function markerRow(states: readonly StateColumn[], upto: number): string {
  const empty = states.map((s, i) => `${s.empty} AS a${i}`).join(', ');
  return `SELECT toDateTime(0, 'UTC') AS bucket, ${markerKey} AS key, ${empty}, toUInt64(${Math.floor(upto)}) AS upto`;
}

/**
 * The SQL of one stream's rollup: its table, the states of a range of `events` blocks, its
 * marker, and the merges that read the states back. The roller's rounds are in rollup-round.ts.
 */
export function rollupSql(project: string, spec: RollupSpec): RollupSql {
  const { table, key, where, states } = rollupParts(project, spec);
  const columns = states.map((_s, i) => `a${i}`).join(', ');
  const { name, source, groupBy, aggregates, functions } = spec;
  const comment = quote(
    JSON.stringify({
      project,
      spec: { name, source, groupBy, aggregates, functions },
    } satisfies RollupComment),
  );
  return {
    table,
    create: `CREATE TABLE IF NOT EXISTS ${table} (bucket DateTime('UTC'), key String, ${states.map((s, i) => `a${i} ${s.type}`).join(', ')},
      upto SimpleAggregateFunction(max, UInt64) DEFAULT 0)
      ENGINE = AggregatingMergeTree ORDER BY (key, bucket) COMMENT ${comment}`,
    upgrade: [
      `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS upto SimpleAggregateFunction(max, UInt64) DEFAULT 0`,
      `ALTER TABLE ${table} MODIFY COMMENT ${comment}`,
    ],
    states: (after, upto) =>
      `SELECT toStartOfHour(ts) AS bucket, ${key} AS key, ${states.map((s, i) => `${s.state('1')} AS a${i}`).join(', ')}
      FROM events WHERE ${where} AND ${blocksAfter(after, upto)}
      GROUP BY bucket, key`,
    mark: (upto) =>
      `INSERT INTO ${table} (bucket, key, ${columns}, upto) ${markerRow(states, upto)}`,
    columns,
    merges: states.map((s, i) => `${s.merge}(a${i}) AS a${i}`).join(', '),
  };
}
