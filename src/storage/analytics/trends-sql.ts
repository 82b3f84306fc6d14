import type { ClickHouse } from '../clickhouse.js';
import { numberSql, textSql } from './field-sql.js';
import { bucketSql, type Interval } from './interval-sql.js';
import { withCohort, type AnalyticsScope } from './cohort-sql.js';
import { personEventsSql, scopedEventsSql } from './person-sql.js';
import {
  createSqlParams,
  reportJsonReads,
  type JsonReadListener,
  type SqlParams,
} from './sql-params.js';
import { personDaysSql, wholeDays } from './person-days-sql.js';
import { actorDaysTail } from '../actor-days.js';
import type { PropColumns } from './materialized-props.js';

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
 * Distinct persons per day or week with no field condition nor breakdown need only who was
 * active on which day: the whole days of the range come from `actor_days` (person-days-sql.ts),
 * the partial days at its ends from the events.
 */
export function readsDays(query: TrendQuery): boolean {
  const { scope, interval, measure, breakdown } = query;
  if (measure !== 'users' || breakdown !== undefined || scope.where?.length) return false;
  const whole = wholeDays(scope.fromMs, scope.toMs);
  return interval !== 'hour' && whole.fromMs < whole.toMs;
}

function daysSql(p: SqlParams, query: TrendQuery, tailAfter: number | null): string {
  const scope = withCohort(p, query.scope);
  const whole = wholeDays(scope.fromMs!, scope.toMs!);
  const { project, types, personsIn } = scope;
  const persons = personsIn ? { personsIn } : {};
  const reads = [{ ...(types ? { types } : {}), days: whole }];
  const bucket = `${bucketSql(query.interval, "toDateTime(day, 'UTC')")} AS bucket`;
  const parts = [personDaysSql(p, { project, reads, tailAfter, ...persons }, [bucket])];
  const ends = [
    [scope.fromMs!, whole.fromMs],
    [whole.toMs, scope.toMs!],
  ].filter(([from, to]) => from! < to!);
  for (const [fromMs, toMs] of ends)
    parts.push(
      personEventsSql(p, { ...scope, fromMs: fromMs!, toMs: toMs! }, [
        `${bucketSql(query.interval)} AS bucket`,
      ]),
    );
  return parts.map((part) => `SELECT bucket, person FROM (${part})`).join(' UNION ALL ');
}

// A breakdown's values are kept per (bucket, key) as aggregate states, merged per key to rank
// the keys and again per series: exact, and the events are read once (distinct users merge).
const stateSql: Record<TrendMeasure, string> = {
  count: 'countState()',
  users: 'uniqExactState(person)',
  sum: 'sumState(x)',
  avg: 'avgState(x)',
};
// `over`: a window clause, which follows the aggregate itself.
const mergeSql: Record<TrendMeasure, (state: string, over?: string) => string> = {
  count: (s, over = '') => `toFloat64(countMerge(${s})${over})`,
  users: (s, over = '') => `toFloat64(uniqExactMerge(${s})${over})`,
  sum: (s, over = '') => `coalesce(sumMerge(${s})${over}, 0)`,
  avg: (s, over = '') => `avgMerge(${s})${over}`,
};

/**
 * One query for a trend: a value per bucket and per key, and one per key for the whole range
 * (GROUPING SETS: distinct users over a range are not a sum of buckets). With a breakdown, one
 * pass over the events: states per bucket and key, each key's rank merged over its buckets
 * (a window), the keys past the top `limit` folded into other.
 */
export function trendSql(
  query: TrendQuery,
  /** For the queries readsDays() takes: actorDaysTail(). */
  tailAfter?: number | null,
  columns?: PropColumns,
): { sql: string; params: Record<string, unknown>; jsonFields?: ReadonlySet<string> } {
  const p = createSqlParams({}, columns);
  const base =
    tailAfter !== undefined && readsDays(query) ? daysSql(p, query, tailAfter) : baseSql(p, query);
  const { measure } = query;
  // grouping() is 1 where the column is aggregated away: the row for the whole range.
  const head = `SELECT if(grouping(bucket) = 1, NULL, bucket) AS bucket_ms`;
  if (query.breakdown === undefined) {
    const sql = `${head}, NULL AS key, 0 AS other, ${valueSql[measure]} AS value, ${rankSql[measure]} AS rank
      FROM (${base}) GROUP BY GROUPING SETS ((bucket), ()) ORDER BY bucket_ms`;
    return { sql, params: p.values, jsonFields: p.jsonFields };
  }
  // An average ranks by its events: a count state beside the value's.
  const rankState = measure === 'avg' ? 'countState()' : stateSql[measure];
  const rankMerge = measure === 'avg' ? mergeSql.count : mergeSql[measure];
  const other = query.keys
    ? `key NOT IN ${p.bind(query.keys, 'Array(Nullable(String))')}`
    : `dense_rank() OVER (ORDER BY key_rank DESC, key ASC) > ${p.bind(query.limit, 'UInt64')}`;
  const sql = `${head}, if(other, NULL, key_or_null) AS key, other,
      ${mergeSql[measure]('v')} AS value, ${rankMerge('r')} AS rank
    FROM (
      SELECT bucket, v, r, other, if(other, NULL, key) AS key_or_null FROM (
        SELECT bucket, key, v, r, ${other} AS other FROM (
          SELECT *, ${rankMerge('r', ' OVER (PARTITION BY key)')} AS key_rank FROM (
            SELECT bucket, key, ${stateSql[measure]} AS v, ${rankState} AS r
            FROM (${base}) GROUP BY bucket, key))))
    GROUP BY GROUPING SETS ((bucket, other, key_or_null), (other, key_or_null))
    ORDER BY bucket_ms, other, key
    SETTINGS transform_null_in = 1`;
  return { sql, params: p.values, jsonFields: p.jsonFields };
}

/**
 * Trends on ClickHouse.
 *
 * @example
 * const trends = createTrendsQuery(ch);
 * await trends.rows({ scope: { project: 'dev', fromMs, toMs, types: ['song.play'] }, interval: 'day', measure: 'users', limit: 10 });
 */
export function createTrendsQuery(
  ch: ClickHouse,
  columns?: PropColumns,
  onJsonRead?: JsonReadListener,
) {
  return {
    async rows(query: TrendQuery): Promise<TrendRow[]> {
      const tailAfter = readsDays(query) ? await actorDaysTail(ch) : undefined;
      const { sql, params, jsonFields } = trendSql(query, tailAfter, columns);
      const read = () =>
        ch.query<{
          bucket_ms: string | number | null;
          key: string | null;
          other: number | boolean;
          value: number | null;
          rank: number | string;
        }>(sql, params);
      const rows = await reportJsonReads(read, jsonFields, onJsonRead);
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
