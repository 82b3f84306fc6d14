import { identityMapSql } from './person-sql.js';
import type { SqlParams } from './sql-params.js';

/** One row per id and UTC day with an event (clickhouse/008_person_days.sql). */
export const personDaysTable = 'person_days';

/** Which person-days a query reads: UTC days as epoch ms of their midnight, [fromDay, toDay]. */
export interface PersonDaysScope {
  project: string;
  fromDayMs?: number;
  /** Inclusive: the day holding the query's end. */
  toDayMs?: number;
}

const dayOf = (p: SqlParams, ms: number) =>
  `toDate(toDateTime(${p.bind(Math.floor(ms / 1000), 'Int64')}, 'UTC'), 'UTC')`;

/**
 * The persons' active days from `person_days` (clickhouse/008_person_days.sql), one row per
 * person and UTC day with an event: `person`, `identified`, `first_ts` (their first event that
 * day) and `day_ms` (the day's midnight, as `bucketSql('day')` gives it). Persons are
 * assigned as `personEventsSql` assigns events (person-sql.ts): an id's rows are its user's,
 * and only anonymous rows probe the identity map. What retention (first seen, any return)
 * and stickiness read instead of every event: 594k rows for the bench's 10M events.
 *
 * @example
 * const p = createSqlParams();
 * const sql = `SELECT uniqExact(person) FROM (${personDaysSql(p, { project: 'dev', fromDayMs })})`;
 */
export function personDaysSql(p: SqlParams, scope: PersonDaysScope): string {
  const project = p.bind(scope.project, 'String');
  const where = [`pd.project = ${project}`];
  if (scope.fromDayMs !== undefined) where.push(`pd.day >= ${dayOf(p, scope.fromDayMs)}`);
  if (scope.toDayMs !== undefined) where.push(`pd.day <= ${dayOf(p, scope.toDayMs)}`);
  const rows = where.join(' AND ');
  const dayMs = `toInt64(toUnixTimestamp(toDateTime(pd.day, 'UTC'))) * 1000 AS day_ms`;
  return `SELECT pd.user_id AS person, toUInt8(1) AS identified, pd.first_ts AS first_ts, ${dayMs}
    FROM ${personDaysTable} AS pd WHERE ${rows} AND pd.user_id != ''
    UNION ALL
    SELECT if(i.merged_user != '', i.merged_user, pd.anonymous_id) AS person,
      toUInt8(i.merged_user != '') AS identified, pd.first_ts AS first_ts, ${dayMs}
    FROM (SELECT * FROM ${personDaysTable} AS pd WHERE ${rows} AND pd.user_id = '') AS pd
    LEFT ANY JOIN (${identityMapSql(project)}) AS i ON i.anonymous_id = pd.anonymous_id`;
}
