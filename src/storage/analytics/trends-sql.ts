import type { ClickHouse } from '../clickhouse.js';
import { numberSql, textSql } from './field-sql.js';
import { bucketSql, type Interval } from './interval-sql.js';
import { withCohort, type AnalyticsScope } from './cohort-sql.js';
import { personEventsSql, scopedEventsSql } from './person-sql.js';
import { createSqlParams, type SqlParams } from './sql-params.js';

export type TrendMeasure = 'count' | 'users' | 'sum' | 'avg';

export interface TrendQuery {
  scope: AnalyticsScope & { fromMs: number; toMs: number };
  interval: Interval;
  /** count: events; users: distinct persons; sum, avg: of the numeric `prop`. */
  measure: TrendMeasure;
  prop?: string;
  /** `type`, or an event field: top `limit` values by the measure over the range, the rest as other. */
  breakdown?: string;
  limit: number;
  /** These breakdown values instead of the top ones (a previous period, keyed as the current). */
  keys?: ReadonlyArray<string | null>;
}

export interface TrendRow {
  /** Bucket start (epoch ms); null on a row for the whole range. */
  bucket: number | null;
  /** The breakdown value (null when absent, for other, and without a breakdown). */
  key: string | null;
  other: boolean;
  /** null: an average of nothing. */
  value: number | null;
  /** What top values rank by (the measure; events for an average). */
  rank: number;
}

const valueSql: Record<TrendMeasure, string> = {
  count: 'toFloat64(count())',
  users: 'toFloat64(uniqExact(person))',
  sum: 'coalesce(sum(x), 0)',
  avg: 'avg(x)',
};

// Top values rank by the measure itself; an average ranks by how many events it averages.
const rankSql: Record<TrendMeasure, string> = { ...valueSql, avg: 'toFloat64(count())' };

function baseSql(p: SqlParams, query: TrendQuery): string {
  const select = [`${bucketSql(query.interval)} AS bucket`];
  const { breakdown, measure, prop } = query;
  select.push(
    `${breakdown === undefined ? 'NULL' : breakdown === 'type' ? 'e.type' : textSql(p, breakdown)} AS key`,
  );
  if (measure === 'sum' || measure === 'avg') select.push(`${numberSql(p, prop!)} AS x`);
  const scope = withCohort(p, query.scope);
  return measure === 'users'
    ? personEventsSql(p, scope, select)
    : scopedEventsSql(p, scope, select);
}

/**
 * One query for a trend: a value per bucket and per key, and one per key for the whole range
 * (GROUPING SETS: distinct users over a range are not a sum of buckets).
 */
export function trendSql(query: TrendQuery): { sql: string; params: Record<string, unknown> } {
  const p = createSqlParams();
  const base = baseSql(p, query);
  const value = valueSql[query.measure];
  // grouping() is 1 where the column is aggregated away: the row for the whole range.
  const head = `SELECT if(grouping(bucket) = 1, NULL, bucket) AS bucket_ms`;
  if (query.breakdown === undefined) {
    const sql = `${head}, NULL AS key, 0 AS other, ${value} AS value, ${rankSql[query.measure]} AS rank
      FROM (${base}) GROUP BY GROUPING SETS ((bucket), ()) ORDER BY bucket_ms`;
    return { sql, params: p.values };
  }
  const top = query.keys
    ? `SELECT arrayJoin(${p.bind(query.keys, 'Array(Nullable(String))')}) AS key`
    : `SELECT key FROM base GROUP BY key ORDER BY ${rankSql[query.measure]} DESC, key LIMIT ${p.bind(query.limit, 'UInt64')}`;
  const sql = `WITH base AS (${base}), top AS (${top})
    ${head}, if(other, NULL, key_or_null) AS key, other, ${value} AS value, ${rankSql[query.measure]} AS rank
    FROM (SELECT *, key NOT IN (SELECT key FROM top) AS other, if(other, NULL, key) AS key_or_null FROM base)
    GROUP BY GROUPING SETS ((bucket, other, key_or_null), (other, key_or_null))
    ORDER BY bucket_ms, other, key
    SETTINGS transform_null_in = 1`;
  return { sql, params: p.values };
}

/**
 * Trends on ClickHouse.
 *
 * @example
 * const trends = createTrendsQuery(ch);
 * await trends.rows({ scope: { project: 'dev', fromMs, toMs, types: ['song.play'] }, interval: 'day', measure: 'users', limit: 10 });
 */
export function createTrendsQuery(ch: ClickHouse) {
  return {
    async rows(query: TrendQuery): Promise<TrendRow[]> {
      const { sql, params } = trendSql(query);
      const rows = await ch.query<{
        bucket_ms: string | number | null;
        key: string | null;
        other: number | boolean;
        value: number | null;
        rank: number | string;
      }>(sql, params);
      return rows.map((row) => ({
        bucket: row.bucket_ms === null ? null : Number(row.bucket_ms),
        key: row.key,
        other: Boolean(row.other),
        value: row.value === null ? null : Number(row.value),
        rank: Number(row.rank),
      }));
    },
  };
}

export type TrendsQuery = ReturnType<typeof createTrendsQuery>;
