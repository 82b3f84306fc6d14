import type { ClickHouse } from '../clickhouse.js';
import type { FieldCondition } from '../field-sql.js';
import { allConditionsSql, textSql } from './field-sql.js';
import { withCohort, type AnalyticsScope } from './cohort-sql.js';
import { personEventsSql } from './person-sql.js';
import { createSqlParams, type SqlParams } from './sql-params.js';

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
 * The chain behind each level, as `windowFunnel` finds it: over the person's step events in
 * (time, step) order, a step-1 event starts a chain (`acc[1] = [t]`); an event of step k
 * extends the chain of level k-1 when it is within the window of that chain's start. Each
 * level keeps its latest chain, so `acc[level]` holds the step times of the chain that
 * reached the person's level.
 */
function chainsSql(window: string, steps: number): string {
  const extend = `arrayConcat(arraySlice(acc, 1, x.2 - 1), [arrayPushBack(acc[x.2 - 1], x.1)], arraySlice(acc, x.2 + 1))`;
  const fits = `length(acc[x.2 - 1]) > 0 AND x.1 <= acc[x.2 - 1][1] + ${window}`;
  const step = `if(x.2 = 1, arrayConcat([[x.1]], arraySlice(acc, 2)), if(${fits}, ${extend}, acc))`;
  return `arrayFold((acc, x) -> ${step}, arraySort(groupArrayArray(pairs)),
    arrayWithConstant(${steps}, CAST([], 'Array(UInt64)')))`;
}

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
  const conds = query.steps.map((_, i) => `c${i + 1}`).join(', ');
  // Only events of some step count, and the chains (a fold over the person's step events)
  // only for persons past step 1: the medians read no other (short-circuit `if`).
  return `SELECT person, windowFunnel(${window})(t, ${conds}) AS level,
      if(level >= 2, ${chainsSql(window, n)}, []) AS chains,
      argMinIf(tuple(key_value), t, c1).1 AS key
    FROM (SELECT *, arrayMap(k -> (t, k), arrayFilter(k -> k > 0, [${stepNumbers}])) AS pairs
      FROM (${events}) WHERE ${query.steps.map((_, i) => `c${i + 1}`).join(' OR ')})
    GROUP BY person`;
}

/** Persons per step and the median time between steps, per breakdown value. */
export function funnelSql(query: FunnelQuery): { sql: string; params: Record<string, unknown> } {
  const p = createSqlParams();
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
          SELECT person, level, chains[level] AS chain, key, count() OVER (PARTITION BY key) AS persons
          FROM (${persons}) WHERE level >= 1)))
    GROUP BY other, breakdown ORDER BY other, min(rank)`;
  return { sql, params: p.values };
}

/**
 * Funnels on ClickHouse: per person, `windowFunnel` for the step reached and the chain's
 * step times for the medians.
 *
 * @example
 * const funnels = createFunnelQuery(ch);
 * await funnels.rows({ scope: { project: 'dev', fromMs, toMs }, steps, windowMs: 3600_000, limit: 10 });
 */
export function createFunnelQuery(ch: ClickHouse) {
  return {
    async rows(query: FunnelQuery): Promise<FunnelRow[]> {
      const { sql, params } = funnelSql(query);
      const rows = await ch.query<{
        breakdown: string | null;
        other: number | boolean;
        counts: Array<string | number>;
        medians: Array<number | null>;
      }>(sql, params);
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
