import type { ClickHouse } from '../clickhouse.js';
import { textSql } from './field-sql.js';
import { createSqlParams, msParam } from './sql-params.js';

/** One model run's rows: the job's last success. */
export interface ModelRows {
  project: string;
  job: string;
  run: number;
}

const ofRun = 'project = {project:String} AND job = {job:String} AND run = {run:UInt64}';
const num = (v: unknown) => Number(v);

/**
 * Point reads of the model tables (clickhouse/008_predictions.sql). Each reads one person, one
 * item set or one page out of a table sorted by (project, job, run, person…), so it touches a
 * granule or two whatever the table's size.
 *
 * @example
 * const reads = createPredictionReads(ch);
 * await reads.recommendations({ project: 'dev', job: 'recs', run }, 'fan-7', 10);
 */
export function createPredictionReads(ch: ClickHouse) {
  return {
    /** The person's stored list, best first ('' is the trending list). */
    async recommendations(at: ModelRows, person: string, limit: number) {
      const rows = await ch.query<Record<string, unknown>>(
        `SELECT item, score, collaborative, content, because FROM warehouse_recommendations
         WHERE ${ofRun} AND person = {person:String} ORDER BY rank LIMIT {limit:UInt32}`,
        { ...at, person, limit },
      );
      return rows.map((r) => ({
        item: String(r.item),
        score: num(r.score),
        collaborative: num(r.collaborative),
        content: num(r.content),
        because: String(r.because),
      }));
    },

    /** The items a user took up since `sinceMs` (events of `types` naming one at `field`). */
    async itemsSince(
      project: string,
      userId: string,
      types: readonly string[],
      field: string,
      sinceMs: number,
    ): Promise<string[]> {
      const p = createSqlParams({ project, user: userId });
      const item = textSql(p, field);
      const rows = await ch.query<{ item: string }>(
        `SELECT DISTINCT ${item} AS item FROM events AS e
         WHERE e.project = {project:String} AND e.type IN ${p.bind(types, 'Array(String)')}
           AND e.ts >= ${msParam(p, sinceMs)} AND e.user_id = {user:String} AND item IS NOT NULL`,
        p.values,
      );
      return rows.map((r) => r.item);
    },

    /** The stored neighbours of `items`. */
    async neighbours(at: ModelRows, items: readonly string[]) {
      if (items.length === 0) return [];
      const rows = await ch.query<Record<string, unknown>>(
        `SELECT item, neighbour, collaborative, content FROM warehouse_item_neighbours
         WHERE ${ofRun} AND item IN {items:Array(String)}`,
        { ...at, items },
      );
      return rows.map((r) => ({
        from: String(r.item),
        item: String(r.neighbour),
        collaborative: num(r.collaborative),
        content: num(r.content),
      }));
    },

    /** The person's risk, features and contributions; undefined when the run did not score them. */
    async churn(at: ModelRows, person: string) {
      const [row] = await ch.query<Record<string, unknown>>(
        `SELECT risk, features, contributions FROM warehouse_churn
         WHERE ${ofRun} AND person = {person:String} LIMIT 1`,
        { ...at, person },
      );
      if (!row) return undefined;
      return {
        risk: num(row.risk),
        features: JSON.parse(String(row.features)) as Record<string, number>,
        contributions: JSON.parse(String(row.contributions)) as Record<string, number>,
      };
    },

    /** One page of known users at risk above `above`, in byte order after `page.after`. */
    async atRisk(at: ModelRows, above: number, page: { after: string; limit: number }) {
      const rows = await ch.query<{ person: string }>(
        `SELECT person FROM warehouse_churn
         WHERE ${ofRun} AND identified = 1 AND risk > {above:Float64} AND person > {after:String}
         ORDER BY person LIMIT {limit:UInt32}`,
        { ...at, above, ...page },
      );
      return rows.map((r) => r.person);
    },

    /** Each series' forecast days (one series, or all). */
    async forecasts(at: ModelRows, series?: string) {
      const only = series === undefined ? '' : ' AND series = {series:String}';
      const rows = await ch.query<Record<string, unknown>>(
        `SELECT series, toString(day) AS day, value, low, high FROM warehouse_forecasts
         WHERE ${ofRun}${only} ORDER BY series, day`,
        { ...at, ...(series === undefined ? {} : { series }) },
      );
      const bySeries = new Map<
        string,
        { day: string; value: number; low: number; high: number }[]
      >();
      for (const r of rows) {
        const list = bySeries.get(String(r.series)) ?? [];
        bySeries.set(String(r.series), list);
        list.push({ day: String(r.day), value: num(r.value), low: num(r.low), high: num(r.high) });
      }
      return [...bySeries].map(([name, days]) => ({ series: name, days }));
    },
  };
}

export type PredictionReads = ReturnType<typeof createPredictionReads>;
