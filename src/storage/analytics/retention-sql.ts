import type { ClickHouse } from '../clickhouse.js';
import { bucketSql } from './interval-sql.js';
import { cohortPersonsSql, type CohortRule } from './cohort-sql.js';
import { actorDaysTail, allTime } from '../actor-days.js';
import { dayMs, dayMsSql, personActorsSql } from './person-days-sql.js';
import { createSqlParams, msParam, type SqlParams } from './sql-params.js';

export const intervalMs = { day: 86_400_000, week: 7 * 86_400_000 } as const;

export interface RetentionQuery {
  project: string;
  /** Cohorts of persons whose first cohort event falls in [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  interval: keyof typeof intervalMs;
  /** Periods after the first (the table has periods 0…periods). */
  periods: number;
  /** The cohort event: absent, a person's first event of any type (first seen). */
  cohortType?: string;
  /** What counts as returning: absent, any event. */
  returnType?: string;
  /** Only the persons of this (saved) cohort. */
  cohort?: CohortRule;
}

export interface RetentionRow {
  /** Cohort start (epoch ms): the day or Monday of its persons' first cohort event. */
  bucket: number;
  size: number;
  /** Persons returning in period 0…periods. */
  counts: number[];
}

/**
 * A retention table from the persons' active days (personActorsSql): per person, the first
 * cohort event ever (history before `from` counts, so a person first seen earlier is in no
 * cohort; the all-time rows keep it past the raw events' retention) and the days with a
 * return event from that day on; per cohort, how many returned in each period. Period k of a
 * cohort starting at S is [S + k·interval, S + (k+1)·interval). Reading days instead of events
 * is exact: cohorts and periods are whole days.
 */
export function retentionSql(
  query: RetentionQuery,
  tailAfter: number | null,
): {
  sql: string;
  params: Record<string, unknown>;
} {
  const p = createSqlParams();
  const step = intervalMs[query.interval];
  const personsIn = query.cohort ? cohortPersonsSql(p, query.project, query.cohort) : undefined;
  // Days before the first cohort's day cannot be returns of anyone in the table.
  const days = { fromMs: startOfDay(query.fromMs), toMs: query.toMs + (query.periods + 1) * step };
  const typed = (type: string | undefined) => (type ? { types: [type] } : {});
  const actors = personActorsSql(
    p,
    {
      project: query.project,
      reads: [
        { ...typed(query.cohortType), days: 'ever' },
        { ...typed(query.returnType), days },
      ],
      tailAfter,
      ...(personsIn ? { personsIn } : {}),
    },
    [
      `minIf(first_ts, ${isRows(p, query.cohortType, true)}) AS first_cohort`,
      `countIf(${isRows(p, query.cohortType, true)}) AS cohort_rows`,
      // One row per actor, type and day: the days come unique (a tail's repeats are harmless).
      `groupArrayIf(${dayMsSql('day')}, ${isRows(p, query.returnType, false)}) AS return_days`,
    ],
  );
  const stepParam = p.bind(step, 'Int64');
  const periods = p.bind(query.periods, 'UInt32');
  const sql = `SELECT bucket, count() AS size,
      sumForEach(arrayMap(k -> toUInt64(has(returned, k)), range(0, ${periods} + 1))) AS counts
    FROM (
      SELECT bucket,
        arrayMap(d -> intDiv(d - bucket, ${stepParam}), arrayFilter(d -> d >= first_day, days)) AS returned
      FROM (
        SELECT person, minIf(first_cohort, cohort_rows > 0) AS first,
          ${bucketSql(query.interval, 'first')} AS bucket, ${bucketSql('day', 'first')} AS first_day,
          arrayDistinct(arrayFlatten(groupArray(return_days))) AS days
        FROM (${actors})
        GROUP BY person
        HAVING sum(cohort_rows) > 0
          AND first >= ${msParam(p, query.fromMs)} AND first < ${msParam(p, query.toMs)}))
    GROUP BY bucket ORDER BY bucket`;
  return { sql, params: p.values };
}

const startOfDay = (ms: number) => Math.floor(ms / dayMs) * dayMs;

/** Whether a row of `actor_days` is a cohort one (all time) or a return one (a day). */
function isRows(p: SqlParams, type: string | undefined, ever: boolean): string {
  const day = ever ? `day = ${allTime}` : `day > ${allTime}`;
  return `(${day} AND type = ${p.bind(type ?? '', 'String')})`;
}

/**
 * Retention tables on ClickHouse.
 *
 * @example
 * const retention = createRetentionQuery(ch);
 * await retention.rows({ project: 'dev', fromMs, toMs, interval: 'week', periods: 8 });
 */
export function createRetentionQuery(ch: ClickHouse) {
  return {
    async rows(query: RetentionQuery): Promise<RetentionRow[]> {
      const { sql, params } = retentionSql(query, await actorDaysTail(ch));
      const rows = await ch.query<{
        bucket: string | number;
        size: string | number;
        counts: Array<string | number>;
      }>(sql, params);
      return rows.map((row) => ({
        bucket: Number(row.bucket),
        size: Number(row.size),
        counts: row.counts.map(Number),
      }));
    },
  };
}

export type RetentionQueryRunner = ReturnType<typeof createRetentionQuery>;
