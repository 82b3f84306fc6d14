import type { ClickHouse } from '../clickhouse.js';
import { withCohort, type AnalyticsScope } from './cohort-sql.js';
import { bucketSql } from './interval-sql.js';
import { personDaysSql } from './person-days-sql.js';
import { personEventsSql } from './person-sql.js';
import { createSqlParams } from './sql-params.js';

const dayMs = 86_400_000;

export interface StickinessQuery {
  /** `fromMs` and `toMs` are UTC midnights: the days reported, [fromMs, toMs). */
  scope: AnalyticsScope & { fromMs: number; toMs: number };
  /** Days in the monthly window ending on (and including) each day. */
  monthDays: number;
}

export interface StickinessRow {
  day: number;
  /** Persons active that UTC day. */
  dau: number;
  /** Persons active in the `monthDays` days ending on that day. */
  mau: number;
}

/**
 * Daily and monthly active persons for each day of a range, in one pass: each person's active
 * days (from `monthDays − 1` days before the range), each active day covering itself and the
 * `monthDays − 1` days after it; a day's MAU is the persons covering it, its DAU those active
 * on it. Days nobody covers are absent (the caller fills them with zeros).
 *
 * @example
 * const stickiness = createStickinessQuery(ch);
 * await stickiness.rows({ scope: { project: 'dev', fromMs, toMs }, monthDays: 30 });
 */
export function createStickinessQuery(ch: ClickHouse) {
  return {
    async rows(query: StickinessQuery): Promise<StickinessRow[]> {
      const p = createSqlParams();
      const { fromMs, toMs } = query.scope;
      const span = { fromMs: fromMs - (query.monthDays - 1) * dayMs, toMs };
      const { scope } = query;
      // Whole days of any event need only each person's days: person_days.
      const plain =
        !scope.types &&
        !scope.where?.length &&
        !scope.cohort &&
        fromMs % dayMs === 0 &&
        toMs % dayMs === 0;
      const events = plain
        ? `SELECT person, day_ms AS day FROM (${personDaysSql(p, {
            project: scope.project,
            fromDayMs: span.fromMs,
            toDayMs: toMs - dayMs,
          })})`
        : personEventsSql(p, withCohort(p, { ...scope, ...span }), [`${bucketSql('day')} AS day`]);
      const cover = `arrayMap(k -> a + k * ${dayMs}, range(${p.bind(query.monthDays, 'UInt32')}))`;
      const rows = await ch.query<{
        day: string | number;
        dau: string | number;
        mau: string | number;
      }>(
        `SELECT covered AS day, countIf(has(days, covered)) AS dau, count() AS mau
         FROM (SELECT person, groupUniqArray(day) AS days FROM (${events}) GROUP BY person)
         ARRAY JOIN arrayDistinct(arrayFlatten(arrayMap(a -> ${cover}, days))) AS covered
         WHERE covered >= ${p.bind(fromMs, 'Int64')} AND covered < ${p.bind(toMs, 'Int64')}
         GROUP BY covered ORDER BY covered`,
        p.values,
      );
      return rows.map((row) => ({
        day: Number(row.day),
        dau: Number(row.dau),
        mau: Number(row.mau),
      }));
    },
  };
}

export type StickinessQueryRunner = ReturnType<typeof createStickinessQuery>;
