import type { ClickHouse } from '../clickhouse.js';
import type { FieldCondition } from '../field-sql.js';
import { allConditionsSql, textSql } from './field-sql.js';
import { withCohort, type AnalyticsScope } from './cohort-sql.js';
import { personEventsSql } from './person-sql.js';
import type { PropColumns } from './materialized-props.js';
import {
  createSqlParams,
  reportJsonReads,
  type JsonReadListener,
  type SqlParams,
} from './sql-params.js';

export interface FunnelStep {
  type: string;
  where: readonly FieldCondition[];
}

export interface FunnelQuery {
  /** The range every step's event must fall in; `types` is set from the steps. */
  scope: Omit<AnalyticsScope, 'types'> & { fromMs: number; toMs: number };
  steps: readonly FunnelStep[];
  /** Each later step within this long of the chain's first step (ms). */
  windowMs: number;
  /** A field: the value on the person's first step-1 event; top `limit` values, the rest as other. */
  breakdown?: string;
  limit: number;
}

export interface FunnelRow {
  key: string | null;
  other: boolean;
  /** Persons reaching each step. */
  counts: number[];
  /** Per step after the first: the median ms from the previous step (null: nobody reached it). */
  medianMs: Array<number | null>;
}

/**
 * The step each person reached and the chain behind it, as ClickHouse's `windowFunnel` finds
 * them: over the person's step events `ev` in (time, step) order, a step-1 event starts a
 * chain; an event of step k extends the chain of level k-1 when it is within the window of
 * that chain's start. Each level keeps its latest chain, so the chain of the person's level
 * holds the step times that reached it; the level is the highest with a chain (a chain of
 * level k is made from one of level k-1, so they nest).
 *
 * No fold: per level k and chain position q, `c<k>_<q>` is the array of that time as it stands
 * after each event, carried forward by `arrayFill` from the events that set it (a step-k
 * event that fits the chain of level k-1 as it stood then). A step-k event leaves level k-1
 * as it was, so reading level k-1's arrays at the event's own position reads its state
 * before the event. A few vectorised array passes replace a lambda run once per event and
 * `windowFunnel` itself: the funnel bench's query (30 days, ~1M step events) took ~790 ms
 * with `arrayFold` beside `windowFunnel`, ~350–500 ms this way on the same machine. The last
 * element of each array is the final state; the chains come out flat, level k's k times at
 * offset k(k-1)/2, 0 for none.
 */
function chainsSql(
  window: string,
  steps: number,
): { select: string[]; chains: string; level: string } {
  // A leading 0 event that every fill keeps: a level no event has set reads 0.
  const select = [
    'arrayPushFront(arrayMap(x -> x.1, ev), 0) AS ev_t',
    'arrayPushFront(arrayMap(x -> x.2, ev), 0) AS ev_k',
    'arrayEnumerate(ev_t) AS ev_i',
    'arrayFill((v, k, i) -> i = 1 OR k = 1, ev_t, ev_k, ev_i) AS c1_1',
  ];
  const last: string[] = ['c1_1[-1]'];
  for (let level = 2; level <= steps; level++) {
    const start = `c${level - 1}_1`;
    select.push(
      `arrayMap((t, k, s) -> k = ${level} AND s > 0 AND t <= s + ${window}, ev_t, ev_k, ${start}) AS f${level}`,
    );
    for (let q = 1; q <= level; q++) {
      const value = q < level ? `c${level - 1}_${q}` : 'ev_t';
      select.push(
        `arrayFill((v, f, i) -> i = 1 OR f, ${value}, f${level}, ev_i) AS c${level}_${q}`,
      );
      last.push(`c${level}_${q}[-1]`);
    }
  }
  const starts = Array.from({ length: steps }, (_, k) => `(c${k + 1}_1[-1] > 0)`);
  return { select, chains: `[${last.join(', ')}]`, level: `toUInt8(${starts.join(' + ')})` };
}

/** Level `level`'s chain out of the flat array `chains`. */
const chainOf = (chains: string, level: string) =>
  `arraySlice(${chains}, intDiv(${level} * (${level} - 1), 2) + 1, ${level})`;

function perPersonSql(p: SqlParams, query: FunnelQuery): string {
  const n = query.steps.length;
  const flags = query.steps.map(
    (step, i) =>
      `(e.type = ${p.bind(step.type, 'String')} AND ${allConditionsSql(p, step.where)}) AS c${i + 1}`,
  );
  const stepNumbers = query.steps.map((_, i) => `c${i + 1} * ${i + 1}`).join(', ');
  const key = query.breakdown === undefined ? 'NULL' : textSql(p, query.breakdown);
  const types = [...new Set(query.steps.map((step) => step.type))];
  const events = personEventsSql(p, { ...withCohort(p, query.scope), types }, [
    'toUInt64(toUnixTimestamp64Milli(e.ts)) AS t',
    ...flags,
    `${key} AS key_value`,
  ]);
  const window = p.bind(query.windowMs, 'UInt64');
  const chains = chainsSql(window, n);
  // Only events of some step count.
  return `SELECT person, ${chains.level} AS level, key, ${chains.select.join(', ')}, ${chains.chains} AS chains
    FROM (
      SELECT person,
        arraySort(groupArrayArray(pairs)) AS ev, argMinIf(tuple(key_value), t, c1).1 AS key
      FROM (SELECT *, arrayMap(k -> (t, k), arrayFilter(k -> k > 0, [${stepNumbers}])) AS pairs
        FROM (${events}) WHERE ${query.steps.map((_, i) => `c${i + 1}`).join(' OR ')})
      GROUP BY person)`;
}

/** Persons per step and the median time between steps, per breakdown value. */
export function funnelSql(
  query: FunnelQuery,
  columns?: PropColumns,
): { sql: string; params: Record<string, unknown>; jsonFields?: ReadonlySet<string> } {
  const p = createSqlParams({}, columns);
  const persons = perPersonSql(p, query);
  const limit = p.bind(query.limit, 'UInt64');
  const counts = query.steps.map((_, i) => `countIf(level >= ${i + 1})`);
  const medians = query.steps
    .slice(1)
    .map(
      (_, i) =>
        `quantileExactInclusiveIf(0.5)(toFloat64(chain[${i + 2}]) - toFloat64(chain[${i + 1}]), level >= ${i + 2})`,
    );
  const sql = `SELECT if(other, NULL, key) AS breakdown, other,
      [${counts.join(', ')}] AS counts, [${medians.join(', ')}] AS medians
    FROM (
      SELECT *, rank > ${limit} AS other FROM (
        SELECT *, dense_rank() OVER (ORDER BY persons DESC, key ASC) AS rank FROM (
          SELECT person, level, ${chainOf('chains', 'level')} AS chain, key, count() OVER (PARTITION BY key) AS persons
          FROM (${persons}) WHERE level >= 1)))
    GROUP BY other, breakdown ORDER BY other, min(rank)`;
  return { sql, params: p.values, jsonFields: p.jsonFields };
}

/**
 * Funnels on ClickHouse: per person, the step reached and the chain's step times for the
 * medians, as `windowFunnel` would find them (chainsSql).
 *
 * @example
 * const funnels = createFunnelQuery(ch);
 * await funnels.rows({ scope: { project: 'dev', fromMs, toMs }, steps, windowMs: 3600_000, limit: 10 });
 */
export function createFunnelQuery(
  ch: ClickHouse,
  columns?: PropColumns,
  onJsonRead?: JsonReadListener,
) {
  return {
    async rows(query: FunnelQuery): Promise<FunnelRow[]> {
      const { sql, params, jsonFields } = funnelSql(query, columns);
      const read = () =>
        ch.query<{
          breakdown: string | null;
          other: number | boolean;
          counts: Array<string | number>;
          medians: Array<number | null>;
        }>(sql, params);
      const rows = await reportJsonReads(read, jsonFields, onJsonRead);
      return rows.map((row) => ({
        key: row.breakdown,
        other: Boolean(row.other),
        counts: row.counts.map(Number),
        medianMs: row.medians.map((m) => (m === null || !Number.isFinite(m) ? null : Number(m))),
      }));
    },
  };
}

export type FunnelQueryRunner = ReturnType<typeof createFunnelQuery>;
