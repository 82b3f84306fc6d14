import { textSql } from './field-sql.js';
import { personEventsSql, scopedEventsSql } from './person-sql.js';
import type { SqlParams } from './sql-params.js';

/** Whole UTC days [fromMs, toMs) of a project's events. */
export interface DaysScope {
  project: string;
  fromMs: number;
  toMs: number;
}

/** Per UTC day (`YYYY-MM-DD`): distinct persons with an event, as series `dau`. */
export function dailyActiveSql(p: SqlParams, scope: DaysScope): string {
  const events = personEventsSql(p, scope, ['e.ts AS ts']);
  return `SELECT 'dau' AS series, toString(toDate(ts)) AS day, uniqExact(person) AS value
    FROM (${events}) GROUP BY day`;
}

/**
 * Per show (the value of `field` on events of `types`) and UTC day: events, as series
 * `show:<value>`, for the `top` shows with the most events in the scope.
 */
export function showDailySql(
  p: SqlParams,
  scope: DaysScope & { types: readonly string[]; field: string; top: number },
): string {
  const select = [`${textSql(p, scope.field)} AS show`, 'e.ts AS ts'];
  const events = scopedEventsSql(p, { ...scope, types: scope.types }, select);
  const top = Math.max(1, Math.trunc(scope.top)); // LIMIT takes a literal
  return `SELECT concat('show:', show) AS series, toString(toDate(ts)) AS day, count() AS value
    FROM (${events}) AS s
    WHERE show IN (SELECT show FROM (${events}) WHERE show IS NOT NULL
      GROUP BY show ORDER BY count() DESC, show LIMIT ${top})
    GROUP BY series, day`;
}
