import type { ClickHouse } from '../clickhouse.js';
import { bucketSql } from './interval-sql.js';
import { cohortPersonsSql, type CohortRule } from './cohort-sql.js';
import { personDaysSql } from './person-days-sql.js';
import { personEventsSql } from './person-sql.js';
import { createSqlParams, msParam } from './sql-params.js';

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
 * A retention table in one pass over the project's events: per person, the first cohort event
 * ever (history before `from` counts, so a person first seen earlier is in no cohort) and the
 * days with a return event from that day on; per cohort, how many returned in each period.
 * Period k of a cohort starting at S is [S + k·interval, S + (k+1)·interval).
 */
export function retentionSql(query: RetentionQuery): {
  sql: string;
  params: Record<string, unknown>;
} {
  const p = createSqlParams();
  const step = intervalMs[query.interval];
  const isCohort = query.cohortType ? `e.type = ${p.bind(query.cohortType, 'String')}` : '1';
  const isReturn = query.returnType ? `e.type = ${p.bind(query.returnType, 'String')}` : '1';
  const types =
    query.cohortType && query.returnType ? [query.cohortType, query.returnType] : undefined;
  const toMs = query.toMs + (query.periods + 1) * step;
  // First seen and any return need only each person's days and first times: person_days.
  const events =
    query.cohortType || query.returnType || query.cohort
      ? personEventsSql(
          p,
          {
            project: query.project,
            toMs,
            ...(types ? { types } : {}),
            ...(query.cohort
              ? { personsIn: cohortPersonsSql(p, query.project, query.cohort) }
              : {}),
          },
          [
            'e.ts AS ts',
            `${bucketSql('day')} AS day`,
            `(${isCohort}) AS is_cohort`,
            // Days before the first cohort's day cannot be returns of anyone in the table.
            `(${isReturn} AND e.ts >= toStartOfDay(${msParam(p, query.fromMs)})) AS is_return`,
          ],
        )
      : `SELECT person, first_ts AS ts, day_ms AS day, 1 AS is_cohort,
          day_ms >= ${bucketSql('day', msParam(p, query.fromMs))} AS is_return
        FROM (${personDaysSql(p, { project: query.project, toDayMs: toMs })})`;
  const stepParam = p.bind(step, 'Int64');
  const periods = p.bind(query.periods, 'UInt32');
  const sql = `SELECT bucket, count() AS size,
      sumForEach(arrayMap(k -> toUInt64(has(returned, k)), range(0, ${periods} + 1))) AS counts
    FROM (
      SELECT bucket,
        arrayMap(d -> intDiv(d - bucket, ${stepParam}), arrayFilter(d -> d >= first_day, days)) AS returned
      FROM (
        SELECT person, minIf(ts, is_cohort) AS first,
          ${bucketSql(query.interval, 'first')} AS bucket, ${bucketSql('day', 'first')} AS first_day,
          groupUniqArrayIf(day, is_return) AS days
        FROM (${events})
        GROUP BY person
        HAVING countIf(is_cohort) > 0
          AND first >= ${msParam(p, query.fromMs)} AND first < ${msParam(p, query.toMs)}))
    GROUP BY bucket ORDER BY bucket`;
  return { sql, params: p.values };
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
      const { sql, params } = retentionSql(query);
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
