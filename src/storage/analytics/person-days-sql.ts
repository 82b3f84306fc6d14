import { actorDaysTable, actorRowsSql, allTime } from '../actor-days.js';
import { blocksAfter } from '../event-blocks.js';
import { identityMapSql } from './person-sql.js';
import { msParam, type SqlParams } from './sql-params.js';

export const dayMs = 86_400_000;

/** Rows of `actor_days` a query reads: some types (absent: any type) on some days. */
export interface DayRows {
  types?: readonly string[];
  /** Whole UTC days, [fromMs, toMs) at midnights; `ever`: the rows of all time (first events). */
  days: { fromMs: number; toMs: number } | 'ever';
}

/** Whose activity a query reads (clickhouse/009_actor_days.sql). */
export interface DayScope {
  project: string;
  /** The rows read: any of these. */
  reads: readonly DayRows[];
  /** Only persons this subquery (one `person` column) selects: a cohort. */
  personsIn?: string;
  /**
   * The last `events` block `actor_days` holds when there are later ones, read from `events`;
   * null when it holds them all (actorDaysTail).
   */
  tailAfter: number | null;
}

/** The condition on `type` and `day` of one kind of row, every caller value bound. */
export function dayRowsSql(p: SqlParams, rows: DayRows): string {
  const type = rows.types ? `type IN ${p.bind(rows.types, 'Array(String)')}` : `type = ''`;
  if (rows.days === 'ever') return `(${type} AND day = ${allTime})`;
  const from = `toDate(${msParam(p, rows.days.fromMs)}, 'UTC')`;
  const to = `toDate(${msParam(p, rows.days.toMs)}, 'UTC')`;
  return `(${type} AND day > ${allTime} AND day >= ${from} AND day < ${to})`;
}

/** The rows of `actor_days` in scope, with those of the blocks it does not hold yet. */
function actorRows(p: SqlParams, project: string, scope: DayScope): string {
  const filter = `(${scope.reads.map((rows) => dayRowsSql(p, rows)).join(' OR ')})`;
  const stored = `SELECT type, day, identified, actor, first_ts FROM ${actorDaysTable}
    WHERE project = ${project} AND ${filter}`;
  if (scope.tailAfter === null) return stored;
  const tail = actorRowsSql(`e.project = ${project} AND ${blocksAfter(scope.tailAfter)}`);
  return `${stored} UNION ALL SELECT type, day, identified, actor, first_ts FROM (${tail}) WHERE ${filter}`;
}

/** `rows` (with `identified` and `actor`) and each one's `person`, in the scope's cohort. */
function withPersons(project: string, rows: string, personsIn: string | undefined): string {
  return `SELECT * FROM (
      SELECT a.*, if(a.identified = 0 AND i.merged_user != '', i.merged_user, a.actor) AS person
      FROM (${rows}) AS a
      LEFT ANY JOIN (${identityMapSql(project)}) AS i ON i.anonymous_id = a.actor)
    WHERE ${personsIn ? `person IN (${personsIn})` : '1'}`;
}

/**
 * Persons' active days, one row per actor, type and day: `select` (expressions over `type`,
 * `day`, a Date, and `first_ts`, the day's or all time's first event, each with its alias)
 * with the row's `person`. A person appears once per id they used, type and day; aggregate
 * by `person`. The same persons as personEventsSql's: an anonymous actor is the user it
 * merged into.
 *
 * @example
 * const sql = `SELECT uniqExact(person) FROM (${personDaysSql(p, { project: 'dev', reads: [{ days: 'ever' }], tailAfter }, [])})`;
 */
export function personDaysSql(p: SqlParams, scope: DayScope, select: readonly string[]): string {
  const project = p.bind(scope.project, 'String');
  const head = select.length ? `${select.join(', ')}, ` : '';
  const rows = `SELECT ${head}identified, actor FROM (${actorRows(p, project, scope)})`;
  return withPersons(project, rows, scope.personsIn);
}

/**
 * Persons' activity aggregated per actor first: `aggregates` (aggregate expressions over the
 * same columns as personDaysSql's, each with its alias) per actor, with the actor's `person`.
 * A person appears once per id they used; the caller merges their rows by `person`. Fewer
 * rows to resolve and to group by person when each actor has many (retention's days).
 *
 * @example
 * const sql = `SELECT count(DISTINCT person) FROM (${personActorsSql(p, { project: 'dev', reads: [{ days: 'ever' }], tailAfter }, ['min(first_ts) AS first'])})`;
 */
export function personActorsSql(
  p: SqlParams,
  scope: DayScope,
  aggregates: readonly string[],
): string {
  const project = p.bind(scope.project, 'String');
  const actors = `SELECT identified, actor, ${aggregates.join(', ')}
    FROM (${actorRows(p, project, scope)}) GROUP BY identified, actor`;
  return withPersons(project, actors, scope.personsIn);
}

/** The whole UTC days inside [fromMs, toMs): from the first midnight at or after `fromMs`. */
export function wholeDays(fromMs: number, toMs: number): { fromMs: number; toMs: number } {
  return { fromMs: Math.ceil(fromMs / dayMs) * dayMs, toMs: Math.floor(toMs / dayMs) * dayMs };
}

/** A Date column's day as epoch ms (Int64). */
export const dayMsSql = (day: string) =>
  `toInt64(toUnixTimestamp(toDateTime(${day}, 'UTC'))) * 1000`;
