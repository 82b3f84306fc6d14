import type { ClickHouse } from '../clickhouse.js';
import { textSql } from './field-sql.js';
import type { PropColumns } from './materialized-props.js';
import { createSqlParams, msParam, reportJsonReads, type JsonReadListener } from './sql-params.js';

export interface TrendingBackfill {
  project: string;
  /** `type` or `props.<path>`: its value as text, as breakdowns read it; absent values skip. */
  entity: string;
  types?: readonly string[];
  /** Events with ts from here on (the start of the previous period). */
  fromMs: number;
  bucketMs: number;
  halfLifeMs: number;
  /** Only events received before this (epoch ms): the live tracker counts the later ones. */
  receivedBefore?: number;
}

export interface TrendingCell {
  value: string;
  bucket: number;
  n: number;
  /** Σ 2^((ts − bucket) / halfLife) over the bucket's events of the value. */
  w: number;
}

/**
 * The stored events a trending tracker starts from, summed per value and bucket as the tracker
 * sums them (src/analytics/trending-tracker.ts).
 *
 * @example
 * const trending = createTrendingQuery(ch);
 * await trending.cells({ project: 'dev', entity: 'props.artistId', fromMs, bucketMs: 60000, halfLifeMs: 21600000 });
 */
export function createTrendingQuery(
  ch: ClickHouse,
  columns?: PropColumns,
  onJsonRead?: JsonReadListener,
) {
  return {
    async cells(query: TrendingBackfill): Promise<TrendingCell[]> {
      const p = createSqlParams({}, columns);
      const where = [
        `e.project = ${p.bind(query.project, 'String')}`,
        `e.ts >= ${msParam(p, query.fromMs)}`,
      ];
      if (query.types) where.push(`e.type IN ${p.bind(query.types, 'Array(String)')}`);
      if (query.receivedBefore !== undefined)
        where.push(`e.received_at < ${msParam(p, query.receivedBefore)}`);
      const value = query.entity === 'type' ? 'e.type' : textSql(p, query.entity);
      const b = p.bind(query.bucketMs, 'Int64');
      // One row per value with its buckets as arrays: ~200 rows to parse instead of one per
      // value and bucket (tens of thousands over 2 days of minutes).
      const read = () =>
        ch.query<{
          value: string;
          buckets: Array<string | number>;
          n: Array<string | number>;
          w: number[];
        }>(
          `SELECT value, groupArray(bucket) AS buckets, groupArray(n) AS n, groupArray(w) AS w
         FROM (
           SELECT value, bucket, count() AS n, sum(exp2((t - bucket) / ${p.bind(query.halfLifeMs, 'Float64')})) AS w
           FROM (
             SELECT ${value} AS value, toUnixTimestamp64Milli(e.ts) AS t, intDiv(t, ${b}) * ${b} AS bucket
             FROM events AS e WHERE ${where.join(' AND ')})
           WHERE value IS NOT NULL
           GROUP BY value, bucket)
         GROUP BY value`,
          p.values,
        );
      const rows = await reportJsonReads(read, p.jsonFields, onJsonRead);
      return rows.flatMap((row) =>
        row.buckets.map((bucket, i) => ({
          value: row.value,
          bucket: Number(bucket),
          n: Number(row.n[i]),
          w: row.w[i]!,
        })),
      );
    },
  };
}

export type TrendingQueryRunner = ReturnType<typeof createTrendingQuery>;
