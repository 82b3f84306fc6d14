import type { ClickHouse } from '../storage/clickhouse.js';
import { rollupDdl, rollupObjects, rollupPrefix, rollupTable } from './rollup-sql.js';
import type { StreamSpec } from './stream-spec.js';

export type RollupBucket = 'hour' | 'day' | 'all';

const hourMs = 3600_000;

export interface RollupRow {
  start: number;
  key: string;
  values: Record<string, unknown>;
}

/**
 * Hourly rollups of each stream in ClickHouse (see rollup-sql.ts): created with the stream,
 * backfilled from the raw events already stored, dropped with it or when a redefinition
 * has replaced it, and swept at start when no stream owns them. Queries merge the hourly
 * states into hours, days or one total.
 */
export function createRollups(ch: ClickHouse, now = Date.now) {
  const drop = async (project: string, spec: StreamSpec): Promise<void> => {
    for (const statement of rollupDdl(project, spec, 0).drop) await ch.exec(statement);
  };

  return {
    async ensure(project: string, spec: StreamSpec): Promise<void> {
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
    async retire(project: string, old: StreamSpec, next: StreamSpec): Promise<void> {
      if (rollupTable(project, old) !== rollupTable(project, next)) await drop(project, old);
    },

    /**
     * Drops every table and view under the rollup prefix that no stream in `owned` uses:
     * left by a redefinition or delete cut short, by an older naming, or by a project no
     * longer configured. Returns their names.
     */
    async sweep(owned: ReadonlyArray<readonly [project: string, spec: StreamSpec]>) {
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
      spec: StreamSpec,
      fromMs: number,
      toMs: number,
      bucket: RollupBucket,
      key?: string,
    ): Promise<RollupRow[]> {
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
        values: Object.fromEntries(spec.aggregates.map((a, i) => [a.name, shape(a, row[`a${i}`])])),
      }));
    },
  };
}

export type Rollups = ReturnType<typeof createRollups>;

/** A name from `system.tables` as a quoted identifier, whatever characters it holds. */
const backquote = (name: string) => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;

function shape(aggregate: StreamSpec['aggregates'][number], value: unknown): unknown {
  if (aggregate.fn === 'quantiles') {
    const values = value as number[];
    return Object.fromEntries(
      aggregate.q.map((q, i) => [`p${Number((q * 100).toFixed(4))}`, values[i] ?? null]),
    );
  }
  if (aggregate.fn === 'topK') return (value as string[]).map((v) => ({ value: v }));
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
