import type { ClickHouse } from '../clickhouse.js';
import { churnRowsSql, churnTrainingSql, type ChurnScope } from './churn-sql.js';
import { dailyActiveSql, showDailySql, type DaysScope } from './forecast-sql.js';
import { holdingsSql, itemAttributesSql, type HoldingsScope } from './holdings-sql.js';
import { insertRows } from './insert-rows.js';
import { createPredictionReads } from './prediction-reads.js';
import { createSqlParams } from './sql-params.js';

/** The model jobs' tables (clickhouse/008_predictions.sql). */
export type PredictionTable =
  | 'warehouse_recommendations'
  | 'warehouse_item_neighbours'
  | 'warehouse_churn'
  | 'warehouse_forecasts';

/** One day of one series: `dau` or `show:<id>`, the day as `YYYY-MM-DD`. */
export interface SeriesDay {
  series: string;
  day: string;
  value: number;
}

/**
 * What the model jobs read from ClickHouse and write to it, and what serving reads
 * (prediction-reads.ts): the SQL stays in storage, the models in src/predictions.
 *
 * @example
 * const store = createPredictionStore(ch);
 * const pairs = await store.holdings({ project: 'dev', fromMs, toMs, types: ['vote.cast'], item: 'props.showId' });
 */
export function createPredictionStore(ch: ClickHouse) {
  async function run<T>(build: (p: ReturnType<typeof createSqlParams>) => string): Promise<T[]> {
    const p = createSqlParams();
    const sql = build(p);
    return ch.query<T>(sql, p.values);
  }
  return {
    ...createPredictionReads(ch),

    /** Per person and item they took up: when they first did (holdings-sql.ts). */
    async holdings(scope: HoldingsScope) {
      type Row = { person: string; item: string; first: string | number };
      const rows = await run<Row>((p) => holdingsSql(p, scope));
      return rows.map((row) => ({ person: row.person, item: row.item, first: Number(row.first) }));
    },

    /** Per item: its attributes' most frequent values ('' for none). */
    async itemAttributes(scope: HoldingsScope, attributes: readonly string[]) {
      type Row = { item: string; attrs: string[] };
      const rows = await run<Row>((p) => itemAttributesSql(p, scope, attributes));
      return new Map(rows.map((row) => [row.item, row.attrs]));
    },

    /** Per person active in the window: the churn features and label (churn-sql.ts). */
    churnRows: (scope: ChurnScope) => run<Record<string, unknown>>((p) => churnRowsSql(p, scope)),

    /** The churn model's weights (one per feature, then the bias), trained in ClickHouse. */
    async churnWeights(scope: ChurnScope, fit: Parameters<typeof churnTrainingSql>[2]) {
      const [row] = await run<{ weights: number[] }>((p) =>
        churnTrainingSql(p, churnRowsSql(p, scope), fit),
      );
      return (row?.weights ?? []).map(Number);
    },

    /** DAU per day, and each busiest show's events per day when `shows` is given. */
    async dailySeries(
      scope: DaysScope,
      shows?: { types: readonly string[]; field: string; top: number },
    ): Promise<SeriesDay[]> {
      type Row = { series: string; day: string; value: string | number };
      const rows = await run<Row>((p) => dailyActiveSql(p, scope));
      if (shows) rows.push(...(await run<Row>((p) => showDailySql(p, { ...scope, ...shows }))));
      return rows.map((row) => ({ ...row, value: Number(row.value) }));
    },

    /** Writes rows to a model table in batches; answers how many. */
    write: (table: PredictionTable, rows: Iterable<object>) => insertRows(ch, table, rows),
  };
}

export type PredictionStore = ReturnType<typeof createPredictionStore>;
