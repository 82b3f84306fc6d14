import type { ClickHouse } from './clickhouse.js';
import { lastBlock } from './event-blocks.js';
import { createRollupTurns, type RollupTurns } from './rollup-turns.js';
import {
  legacyView,
  markerKey,
  rollupPrefix,
  rollupSql,
  rollupTable,
  type RollupSpec,
} from './rollup-sql.js';

export type RollupBucket = 'hour' | 'day' | 'all';

/** One bucket of one key: each aggregate's merged state, in the order of the aggregates. */
export interface StoredRollupRow {
  start: number;
  key: string;
  values: unknown[];
}

type RollupName = Omit<RollupSpec, 'functions'>;

const hourMs = 3600_000;
// Reads that saw a roll land in between, before the last try waits for the table's turn.
const racedReads = 2;

/**
 * Hourly rollups of each stream in ClickHouse (see rollup-sql.ts): created with the stream,
 * backfilled from the raw events already stored, dropped with it or when a redefinition has
 * replaced it, and swept at start when no stream owns them. Nothing fills them on insert:
 * the roller (rollup-roller.ts) appends the events after each table's marker every few
 * seconds, and queries add the states of those not yet rolled up, so they are exact at once.
 * `turns` runs the work on one table one piece at a time, shared with the roller.
 *
 * @example
 * const rollups = createRollupStore(openChdb('./data/clickhouse'));
 * await rollups.ensure('dev', { ...spec, functions }); // functions: from the aggregates' registry
 */
export function createRollupStore(ch: ClickHouse, turns: RollupTurns = createRollupTurns()) {
  const names = (where: string, params: Record<string, unknown>) =>
    ch.query<{ name: string; engine: string }>(
      `SELECT name, engine FROM system.tables WHERE database = currentDatabase() AND ${where}`,
      params,
    );
  const marker = (table: string) => markerOf(ch, table);

  const drop = (project: string, spec: RollupName): Promise<void> => {
    const table = rollupTable(project, spec);
    return turns.take(table, async () => {
      await ch.exec(`DROP VIEW IF EXISTS ${legacyView(table)}`);
      await ch.exec(`DROP TABLE IF EXISTS ${table}`);
      turns.marks.delete(table);
    });
  };

  /** Fills a table with no marker from every stored event, then marks it. */
  async function backfill(sql: ReturnType<typeof rollupSql>): Promise<void> {
    const [rows] = await ch.query<{ n: string | number }>(`SELECT count() AS n FROM ${sql.table}`);
    // A backfill cut short (a crash) left rows and no marker: they are counted again below.
    if (Number(rows?.n ?? 0) > 0) await ch.exec(`TRUNCATE TABLE ${sql.table}`);
    const upto = await lastBlock(ch);
    await ch.exec(`INSERT INTO ${sql.table} (bucket, key, ${sql.columns}) ${sql.states(0, upto)}`);
    await ch.exec(sql.mark(upto));
    turns.marks.set(sql.table, upto);
  }

  return {
    async ensure(project: string, spec: RollupSpec): Promise<void> {
      const sql = rollupSql(project, spec);
      await turns.take(sql.table, async () => {
        const existing = await names('name IN {names:Array(String)}', {
          names: [sql.table, legacyView(sql.table)],
        });
        if (!existing.some((row) => row.name === sql.table)) await ch.exec(sql.create);
        else for (const statement of sql.upgrade) await ch.exec(statement);
        const marked = await marker(sql.table);
        if (marked !== undefined) {
          turns.marks.set(sql.table, marked);
          return;
        }
        if (existing.some((row) => row.name === legacyView(sql.table))) {
          // The older layout's view filled the table on every insert until now.
          await ch.exec(`DROP VIEW IF EXISTS ${legacyView(sql.table)}`);
          const upto = await lastBlock(ch);
          await ch.exec(sql.mark(upto));
          turns.marks.set(sql.table, upto);
          return;
        }
        await backfill(sql);
      });
    },

    drop,

    /** Drops `old`'s rollup once `next` replaced it, unless both use the same one. */
    async retire(project: string, old: RollupName, next: RollupName): Promise<void> {
      if (rollupTable(project, old) !== rollupTable(project, next)) await drop(project, old);
    },

    /**
     * Drops every table and view under the rollup prefix that no stream in `owned` uses:
     * left by a redefinition or delete cut short, by an older naming (and the views of the
     * older layout), or by a project no longer configured. Returns their names.
     */
    async sweep(owned: ReadonlyArray<readonly [project: string, spec: RollupName]>) {
      const keep = new Set(owned.map(([project, spec]) => rollupTable(project, spec)));
      const rows = await names('startsWith(name, {prefix:String})', { prefix: rollupPrefix });
      const orphans = rows.filter((row) => !keep.has(row.name));
      // Views first: a view whose table is gone fails every insert into `events`.
      const isView = (row: { engine: string }) => row.engine === 'MaterializedView';
      for (const { name } of orphans.filter(isView))
        await ch.exec(`DROP VIEW IF EXISTS ${backquote(name)}`);
      for (const { name } of orphans.filter((row) => !isView(row)))
        await turns.take(name, async () => {
          await ch.exec(`DROP TABLE IF EXISTS ${backquote(name)}`);
          turns.marks.delete(name);
        });
      return orphans.map((row) => row.name);
    },

    async query(
      project: string,
      spec: RollupSpec,
      fromMs: number,
      toMs: number,
      bucket: RollupBucket,
      key?: string,
    ): Promise<StoredRollupRow[]> {
      const sql = rollupSql(project, spec);
      const read = async () => {
        const upto = await marker(sql.table);
        if (upto === undefined) throw new Error(`rollup ${sql.table} has no marker`);
        const rows = await readRange(ch, sql, upto, { fromMs, toMs, bucket, key });
        // A roll that landed between the marker and the read would count its events twice.
        return (await marker(sql.table)) === upto ? rows : undefined;
      };
      for (let attempt = 0; attempt < racedReads; attempt++) {
        const rows = await read();
        if (rows) return toRows(rows, spec, fromMs, bucket);
      }
      const rows = await turns.take(sql.table, read);
      if (!rows) throw new Error(`rollup ${sql.table} changed during its read`);
      return toRows(rows, spec, fromMs, bucket);
    },
  };
}

/** The block the table holds events up to, from its marker row; undefined with no marker. */
export async function markerOf(ch: ClickHouse, table: string): Promise<number | undefined> {
  const [row] = await ch.query<{ upto: string; n: string | number }>(
    `SELECT toString(max(upto)) AS upto, count() AS n FROM ${table} WHERE key = ${markerKey}`,
  );
  return Number(row?.n ?? 0) > 0 ? Number(row!.upto) : undefined;
}

interface Range {
  fromMs: number;
  toMs: number;
  bucket: RollupBucket;
  key: string | undefined;
}

/** The table's states up to its marker `upto`, and those of the events after it, merged. */
function readRange(
  ch: ClickHouse,
  sql: ReturnType<typeof rollupSql>,
  upto: number,
  { fromMs, toMs, bucket, key }: Range,
) {
  const start = { hour: 'bucket', day: 'toStartOfDay(bucket)', all: 'toDateTime(0)' }[bucket];
  const byKey = key === undefined ? '' : 'AND key = {key:String}';
  return ch.query<Record<string, unknown>>(
    `SELECT toString(toUnixTimestamp(${start}) * 1000) AS start_ms, key, ${sql.merges}
     FROM (
       SELECT bucket, key, ${sql.columns} FROM ${sql.table} WHERE key != ${markerKey}
       UNION ALL
       SELECT bucket, key, ${sql.columns} FROM (${sql.states(upto)})
     )
     WHERE bucket >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
       AND bucket < fromUnixTimestamp64Milli({to:Int64}, 'UTC') ${byKey}
     GROUP BY start_ms, key ORDER BY start_ms, key`,
    // The hour is floored here: toStartOfHour gives a 32-bit DateTime, which wraps after 2106.
    {
      from: Math.floor(fromMs / hourMs) * hourMs,
      to: toMs,
      ...(key === undefined ? {} : { key }),
    },
  );
}

function toRows(
  rows: Array<Record<string, unknown>>,
  spec: RollupSpec,
  fromMs: number,
  bucket: RollupBucket,
): StoredRollupRow[] {
  return rows.map((row) => ({
    start: bucket === 'all' ? fromMs : Number(row.start_ms),
    key: row.key as string,
    values: spec.aggregates.map((_a, i) => row[`a${i}`]),
  }));
}

/** A name from `system.tables` as a quoted identifier, whatever characters it holds. */
const backquote = (name: string) => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
