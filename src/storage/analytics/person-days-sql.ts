import { actorDaysTable, actorRowsSql, allTime } from '../actor-days.js';
import { blocksAfter } from '../event-blocks.js';
import { identityMapSql } from './person-sql.js';
import { msParam, type SqlParams } from './sql-params.js';

export const dayMs = 86_400_000;

/** Which days of whose activity a query reads (clickhouse/009_actor_days.sql). */
export interface DayScope {
  project: string;
  /** Event types that count; absent: any type. */
  types?: readonly string[];
  /** Whole UTC days, [fromMs, toMs) at midnights; `ever`: the rows of all time (first events). */
  days: { fromMs: number; toMs: number } | 'ever';
  /** Only persons this subquery (one `person` column) selects: a cohort. */
  personsIn?: string;
  /** The last `events` block `actor_days` holds (actorDaysUpto): later ones are read from `events`. */
  upto: number;
}

/**
 * Persons' active days, as a subquery of `select` (expressions over `day`, a Date, and
 * `first_ts`, the day's or all time's first event) plus `person`: one row per actor, type and
 * day, so a person appears once per id they used and per type; aggregate by `person`. The
 * same persons as personEventsSql's: an anonymous actor is the user it merged into.
 *
 * @example
 * const sql = `SELECT uniqExact(person) FROM (${personDaysSql(p, { project: 'dev', days: 'ever', upto }, [])})`;
 */
export function personDaysSql(p: SqlParams, scope: DayScope, select: readonly string[]): string {
  const project = p.bind(scope.project, 'String');
  const filter = [
    scope.types ? `type IN ${p.bind(scope.types, 'Array(String)')}` : `type = ''`,
    scope.days === 'ever'
      ? `day = ${allTime}`
      : `day > ${allTime} AND day >= toDate(${msParam(p, scope.days.fromMs)}, 'UTC') AND day < toDate(${msParam(p, scope.days.toMs)}, 'UTC')`,
  ].join(' AND ');
  const tail = actorRowsSql(`e.project = ${project} AND ${blocksAfter(scope.upto)}`);
  const actors = `SELECT type, day, identified, actor, first_ts
      FROM ${actorDaysTable} WHERE project = ${project} AND ${filter}
    UNION ALL
    SELECT type, day, identified, actor, first_ts FROM (${tail}) WHERE ${filter}`;
  const head = select.length ? `${select.join(', ')}, ` : '';
  const persons = scope.personsIn ? `person IN (${scope.personsIn})` : '1';
  return `SELECT * FROM (
      SELECT ${head}if(a.identified = 1 OR i.merged_user = '', a.actor, i.merged_user) AS person
      FROM (${actors}) AS a
      LEFT ANY JOIN (${identityMapSql(project)}) AS i ON i.anonymous_id = a.actor)
    WHERE ${persons}`;
}

/** The whole UTC days inside [fromMs, toMs): from the first midnight at or after `fromMs`. */
export function wholeDays(fromMs: number, toMs: number): { fromMs: number; toMs: number } {
  return { fromMs: Math.ceil(fromMs / dayMs) * dayMs, toMs: Math.floor(toMs / dayMs) * dayMs };
}
