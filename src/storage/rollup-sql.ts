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
  /**
   * Inserts the states of `(after, upto]` and the marker `upto` as one block, so one part:
   * both or neither; and neither unless the marker still says `after` (the table was not
   * dropped and made again meanwhile).
   */
  roll(after: number, upto: number): string;
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

// One block whatever the number of groups, so a roll is one part: atomic (ClickHouse's
// default squashes up to ~1M rows or 256 MiB, then starts another part).
const oneBlock =
  'min_insert_block_size_rows = 1000000000000, min_insert_block_size_bytes = 1000000000000';

function stateOf(
  rollup: RollupFunction,
  field: string | undefined,
): { type: string; state: string; empty: string; merge: string } {
  const params = rollup.params ? `(${rollup.params.join(', ')})` : '';
  const argument = rollup.reads === 'number' ? 'Nullable(Float64)' : 'Nullable(String)';
  const input = field === undefined ? '' : (rollup.reads === 'number' ? numberOf : textOf)(field);
  const typed = rollup.typedState !== false;
  return {
    type: `AggregateFunction(${rollup.fn}${params}${typed ? `, ${argument}` : ''})`,
    // An untyped state (count) counts the rows where the field is present, with no argument
    // type in its state, so states of stored rows and of the unrolled tail have one type.
    state: typed
      ? `${rollup.fn}State${params}(${input})`
      : `${rollup.fn}StateIf${params}(${input ? `${input} IS NOT NULL` : '1'})`,
    empty: typed
      ? `${rollup.fn}State${params}(CAST(NULL, '${argument}'))`
      : `${rollup.fn}StateIf${params}(0)`,
    merge: `${rollup.fn}Merge${params}`,
  };
}

/**
 * The SQL of one stream's rollup: its table, the states of a range of `events` blocks, the
 * roll that appends them with their marker, and the merges that read the states back.
 */
export function rollupSql(project: string, spec: RollupSpec): RollupSql {
  const table = rollupTable(project, spec);
  const states = spec.aggregates.map((a, i) => stateOf(spec.functions[i]!, a.field));
  const key =
    spec.groupBy.length === 0
      ? "''"
      : `arrayStringConcat([${spec.groupBy.map((f) => `coalesce(${textOf(f)}, '')`).join(', ')}], '|')`;
  const where = [`project = ${quote(project)}`];
  if (spec.source.types) where.push(`type IN (${spec.source.types.map(quote).join(', ')})`);
  for (const condition of spec.source.where) where.push(conditionSql(condition));
  const columns = states.map((_s, i) => `a${i}`).join(', ');
  const { name, source, groupBy, aggregates, functions } = spec;
  const described: RollupComment = {
    project,
    spec: { name, source, groupBy, aggregates, functions },
  };
  const comment = quote(JSON.stringify(described));
  const stateRange = (after: number, upto?: number) =>
    `SELECT toStartOfHour(ts) AS bucket, ${key} AS key, ${states.map((s, i) => `${s.state} AS a${i}`).join(', ')}
    FROM events WHERE ${[...where, blocksAfter(after, upto)].join(' AND ')}
    GROUP BY bucket, key`;
  // Aggregates with no GROUP BY: one row of empty states.
  const marker = (upto: number) =>
    `SELECT toDateTime(0, 'UTC') AS bucket, ${markerKey} AS key, ${states.map((s, i) => `${s.empty} AS a${i}`).join(', ')}, toUInt64(${Math.floor(upto)}) AS upto`;
  return {
    table,
    create: `CREATE TABLE IF NOT EXISTS ${table} (bucket DateTime('UTC'), key String, ${states.map((s, i) => `a${i} ${s.type}`).join(', ')},
      upto SimpleAggregateFunction(max, UInt64) DEFAULT 0)
      ENGINE = AggregatingMergeTree ORDER BY (key, bucket) COMMENT ${comment}`,
    upgrade: [
      `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS upto SimpleAggregateFunction(max, UInt64) DEFAULT 0`,
      `ALTER TABLE ${table} MODIFY COMMENT ${comment}`,
    ],
    states: stateRange,
    roll: (after, upto) => {
      const still = `(SELECT max(upto) FROM ${table} WHERE key = ${markerKey}) = ${Math.floor(after)}`;
      return `INSERT INTO ${table} (bucket, key, ${columns}, upto)
      SELECT bucket, key, ${columns}, toUInt64(0) AS upto FROM (${stateRange(after, upto)}) WHERE ${still}
      UNION ALL
      SELECT * FROM (${marker(upto)}) WHERE ${still}
      SETTINGS ${oneBlock}`;
    },
    mark: (upto) => `INSERT INTO ${table} (bucket, key, ${columns}, upto) ${marker(upto)}`,
    columns,
    merges: states.map((s, i) => `${s.merge}(a${i}) AS a${i}`).join(', '),
  };
}
