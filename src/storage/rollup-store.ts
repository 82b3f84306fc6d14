import type { ClickHouse } from './clickhouse.js';
import {
  rollupDdl,
  rollupDrops,
  rollupObjects,
  rollupPrefix,
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

/**
 * Hourly rollups of each stream in ClickHouse (see rollup-sql.ts): created with the stream,
 * backfilled from the raw events already stored, dropped with it or when a redefinition
 * has replaced it, and swept at start when no stream owns them. Queries merge the hourly
 * states into hours, days or one total.
 *
 * @example
 * const rollups = createRollupStore(openChdb('./data/clickhouse'));
 * await rollups.ensure('dev', { ...spec, functions }); // functions: from the aggregates' registry
 */
export function createRollupStore(ch: ClickHouse, now = Date.now) {
  const drop = async (project: string, spec: RollupName): Promise<void> => {
    for (const statement of rollupDrops(project, spec)) await ch.exec(statement);
  };

  return {
    async ensure(project: string, spec: RollupSpec): Promise<void> {
      const ddl = rollupDdl(project, spec, now());
      const [existing] = await ch.query<{ n: number | string }>(
        'SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = {name:String}',
        { name: ddl.table },
      );
      await ch.exec(ddl.create);
      await ch.exec(ddl.view);
      // Rows that arrive while the view is being created may be counted twice or not at all.
      if (Number(existing?.n ?? 0) === 0) await ch.exec(ddl.backfill);
    },

    drop,

    /** Drops `old`'s rollup once `next` replaced it, unless both use the same one. */
    async retire(project: string, old: RollupName, next: RollupName): Promise<void> {
      if (rollupTable(project, old) !== rollupTable(project, next)) await drop(project, old);
    },

    /**
     * Drops every table and view under the rollup prefix that no stream in `owned` uses:
     * left by a redefinition or delete cut short, by an older naming, or by a project no
     * longer configured. Returns their names.
     */
    async sweep(owned: ReadonlyArray<readonly [project: string, spec: RollupName]>) {
      const keep = new Set(owned.flatMap(([project, spec]) => rollupObjects(project, spec)));
      const rows = await ch.query<{ name: string; engine: string }>(
        `SELECT name, engine FROM system.tables
         WHERE database = currentDatabase() AND startsWith(name, {prefix:String})`,
        { prefix: rollupPrefix },
      );
      const orphans = rows.filter((row) => !keep.has(row.name));
      // Views first: a view whose table is gone fails every insert into `events`.
      const isView = (row: { engine: string }) => row.engine === 'MaterializedView';
      for (const { name } of orphans.filter(isView))
        await ch.exec(`DROP VIEW IF EXISTS ${backquote(name)}`);
      for (const { name } of orphans.filter((row) => !isView(row)))
        await ch.exec(`DROP TABLE IF EXISTS ${backquote(name)}`);
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
      const ddl = rollupDdl(project, spec, 0);
      const start = { hour: 'bucket', day: 'toStartOfDay(bucket)', all: 'toDateTime(0)' }[bucket];
      const rows = await ch.query<Record<string, unknown>>(
        `SELECT toString(toUnixTimestamp(${start}) * 1000) AS start_ms, key, ${ddl.merges}
         FROM ${rollupTable(project, spec)}
         WHERE bucket >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
           AND bucket < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
           ${key === undefined ? '' : 'AND key = {key:String}'}
         GROUP BY start_ms, key ORDER BY start_ms, key`,
        // The hour is floored here: toStartOfHour gives a 32-bit DateTime, which wraps after 2106.
        {
          from: Math.floor(fromMs / hourMs) * hourMs,
          to: toMs,
          ...(key === undefined ? {} : { key }),
        },
      );
      return rows.map((row) => ({
        start: bucket === 'all' ? fromMs : Number(row.start_ms),
        key: row.key as string,
        values: spec.aggregates.map((_a, i) => row[`a${i}`]),
      }));
    },
  };
}

/** A name from `system.tables` as a quoted identifier, whatever characters it holds. */
const backquote = (name: string) => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
