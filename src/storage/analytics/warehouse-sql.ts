import { actorDaysTail } from '../actor-days.js';
import type { ClickHouse, StreamFormat } from '../clickhouse.js';
import { scoresSql, type EngagementFormula } from './engagement-sql.js';
import { personEventsSql } from './person-sql.js';
import { retentionSql, intervalMs } from './retention-sql.js';
import { createSqlParams, msParam, type SqlParams } from './sql-params.js';

const day = 86_400_000;

/** Each job kind's table (clickhouse/006_warehouse.sql) and the order its rows are read in. */
export const warehouseTables = {
  daily_users: { table: 'warehouse_daily_users', order: 'day, person' },
  user_features: { table: 'warehouse_user_features', order: 'person' },
  retention: { table: 'warehouse_retention', order: 'cohort_start, period' },
  // Model jobs (clickhouse/008_predictions.sql, src/predictions/).
  recommendations: { table: 'warehouse_recommendations', order: 'person, rank' },
  item_neighbours: { table: 'warehouse_item_neighbours', order: 'item, neighbour' },
  churn: { table: 'warehouse_churn', order: 'person' },
  forecast: { table: 'warehouse_forecasts', order: 'series, day' },
} as const;

export type WarehouseKind = keyof typeof warehouseTables;

/** One run of a job: what to compute, as of `run` (its start, epoch ms). */
export type WarehouseRun = { project: string; job: string; run: number } & (
  | { kind: 'daily_users'; days: number }
  | { kind: 'user_features'; formula: EngagementFormula }
  | {
      kind: 'retention';
      interval: 'day' | 'week';
      periods: number;
      days: number;
      cohort?: string;
      return?: string;
    }
);

const startOfDay = (ms: number) => Math.floor(ms / day) * day;

function dailyUsersSql(p: SqlParams, r: Extract<WarehouseRun, { kind: 'daily_users' }>) {
  const scope = { project: r.project, fromMs: startOfDay(r.run) - (r.days - 1) * day, toMs: r.run };
  const events = personEventsSql(p, scope, ['e.ts AS ts', 'e.type AS type']);
  return `SELECT toDate(ts) AS day, person, count() AS events, uniqExact(type) AS event_types,
      min(ts) AS first_ts, max(ts) AS last_ts
    FROM (${events}) GROUP BY day, person`;
}

function featuresSql(p: SqlParams, r: Extract<WarehouseRun, { kind: 'user_features' }>) {
  const events = personEventsSql(p, { project: r.project, toMs: r.run }, [
    'e.ts AS ts',
    'e.type AS type',
  ]);
  const week = msParam(p, r.run - 7 * day);
  const month = msParam(p, r.run - 30 * day);
  const scores = scoresSql(p, { scope: { project: r.project }, atMs: r.run, formula: r.formula });
  // A LEFT JOIN fills a person without events in the score's window with 0 (no join_use_nulls).
  return `SELECT a.person AS person, identified, first_seen, last_seen, events, active_days,
      event_types, events_7d, events_30d, s.score AS engagement
    FROM (
      SELECT person, max(identified) AS identified, min(ts) AS first_seen, max(ts) AS last_seen,
        count() AS events, uniqExact(toDate(ts)) AS active_days, uniqExact(type) AS event_types,
        countIf(ts >= ${week}) AS events_7d, countIf(ts >= ${month}) AS events_30d
      FROM (${events}) GROUP BY person) AS a
    LEFT JOIN (${scores}) AS s ON s.person = a.person`;
}

/**
 * The statement that writes one run's rows, with its bound parameters; `tailAfter` is what
 * actorDaysTail() answers (the retention kind reads persons' days).
 */
export function materializeSql(
  r: WarehouseRun,
  tailAfter: number | null,
): { sql: string; params: Record<string, unknown> } {
  const { table } = warehouseTables[r.kind];
  if (r.kind === 'retention') {
    const step = intervalMs[r.interval];
    const inner = retentionSql(
      {
        project: r.project,
        fromMs: startOfDay(r.run) - r.days * day,
        toMs: r.run,
        interval: r.interval,
        periods: r.periods,
        ...(r.cohort ? { cohortType: r.cohort } : {}),
        ...(r.return ? { returnType: r.return } : {}),
      },
      tailAfter,
    );
    // Only periods begun by the run: later ones are not zeros yet.
    const sql = `INSERT INTO ${table} (project, job, run, cohort_start, period, size, persons)
      SELECT {wh_project:String}, {wh_job:String}, {wh_run:UInt64},
        fromUnixTimestamp64Milli(toInt64(bucket)), period - 1, size, persons
      FROM (${inner.sql}) ARRAY JOIN counts AS persons, arrayEnumerate(counts) AS period
      WHERE bucket + (period - 1) * ${step} <= {wh_run:UInt64}`;
    return {
      sql,
      params: { ...inner.params, wh_project: r.project, wh_job: r.job, wh_run: r.run },
    };
  }
  const p = createSqlParams({ wh_project: r.project, wh_job: r.job, wh_run: r.run });
  const select = r.kind === 'daily_users' ? dailyUsersSql(p, r) : featuresSql(p, r);
  const sql = `INSERT INTO ${table} SELECT {wh_project:String}, {wh_job:String}, {wh_run:UInt64}, *
    FROM (${select})`;
  return { sql, params: p.values };
}

const ofRun = `project = {project:String} AND job = {job:String}`;

/**
 * Warehouse tables on ClickHouse: a run written and counted, a job's other runs dropped, a
 * run's rows streamed out.
 *
 * @example
 * const warehouse = createWarehouseQuery(ch);
 * const rows = await warehouse.materialize({ project: 'dev', job: 'daily', run: Date.now(), kind: 'daily_users', days: 30 });
 */
export function createWarehouseQuery(ch: ClickHouse) {
  return {
    /** Writes the run's rows; answers how many. */
    async materialize(r: WarehouseRun): Promise<number> {
      const tailAfter = r.kind === 'retention' ? await actorDaysTail(ch) : null;
      const { sql, params } = materializeSql(r, tailAfter);
      await ch.exec(sql, params);
      const { table } = warehouseTables[r.kind];
      const [row] = await ch.query<{ n: string | number }>(
        `SELECT count() AS n FROM ${table} WHERE ${ofRun} AND run = {run:UInt64}`,
        { project: r.project, job: r.job, run: r.run },
      );
      return Number(row?.n ?? 0);
    },

    /** Deletes the job's rows in every table but those of run `keep` (none kept: all go). */
    async drop(project: string, job: string, keep?: number): Promise<void> {
      for (const { table } of Object.values(warehouseTables)) {
        const other = keep === undefined ? '' : ' AND run != {keep:UInt64}';
        const params = { project, job, ...(keep === undefined ? {} : { keep }) };
        const [row] = await ch.query<{ n: string | number }>(
          `SELECT count() AS n FROM ${table} WHERE ${ofRun}${other}`,
          params,
        );
        if (Number(row?.n) > 0)
          await ch.exec(`DELETE FROM ${table} WHERE ${ofRun}${other}`, params);
      }
    },

    /** Deletes one run's rows (a failed run's part). */
    async dropRun(project: string, job: string, kind: WarehouseKind, run: number): Promise<void> {
      await ch.exec(
        `DELETE FROM ${warehouseTables[kind].table} WHERE ${ofRun} AND run = {run:UInt64}`,
        {
          project,
          job,
          run,
        },
      );
    },

    available: ch.stream !== undefined,
    /** One run's rows, without project, job and run, in the table's order. */
    chunks(project: string, job: string, kind: WarehouseKind, run: number, format: StreamFormat) {
      if (!ch.stream) throw new Error('this ClickHouse backend cannot stream results');
      const { table, order } = warehouseTables[kind];
      const sql = `SELECT * EXCEPT (project, job, run) FROM ${table}
        WHERE ${ofRun} AND run = {run:UInt64} ORDER BY ${order}`;
      return ch.stream(sql, { project, job, run }, format);
    },
  };
}

export type WarehouseQuery = ReturnType<typeof createWarehouseQuery>;
