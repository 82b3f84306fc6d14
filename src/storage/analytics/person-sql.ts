import type { FieldCondition } from '../field-sql.js';
import { allConditionsSql } from './field-sql.js';
import { msParam, type SqlParams } from './sql-params.js';

/**
 * Persons: the unit every analytics query counts. An event's person is its `user_id`; an
 * anonymous event's is the user its `anonymous_id` merged into (the `identities` table, see
 * clickhouse/005_identities.sql), else the anonymous id itself. So a visitor's history before
 * signup counts as the user's once any event carries both ids, retroactively, and nothing is
 * recomputed per query but the lookup.
 *
 * The lookup is a hash join of the events against the project's identity map, built per query
 * (one row per merged anonymous id). Measured on 2M events, 12k anonymous ids, 10k users, the
 * join cost 1.3–1.6× a query on `user_id` alone; a dictionary (`dictGetOrDefault`) was close
 * (1.2–1.4×) but answers from a copy refreshed on a timer, so a fresh merge would be missing
 * for up to its lifetime, and a ClickHouse server needs credentials in its source; the `Join`
 * engine with `joinGet` was no faster than the join. The join is always current.
 */

/** The project's identity map: `anonymous_id` → `merged_user` (the first merge wins). */
export function identityMapSql(project: string): string {
  return `SELECT anonymous_id, argMinMerge(user_id) AS merged_user FROM identities
    WHERE project = ${project} GROUP BY anonymous_id`;
}

/** The person of `e` (events) joined with `i` (identity map): user, merged user or anonymous id. */
export const personSql = `if(e.user_id != '', e.user_id, if(i.merged_user != '', i.merged_user, e.anonymous_id))`;

/** Which events a query reads. Times are event time, [fromMs, toMs). */
export interface EventScope {
  project: string;
  fromMs?: number;
  toMs?: number;
  /** Event types that count; absent: every type. */
  types?: readonly string[];
  where?: readonly FieldCondition[];
  /** Only persons this subquery (one `person` column) selects: a cohort. */
  personsIn?: string;
}

/** The WHERE of `events AS e` for a scope (persons aside). */
export function scopeWhereSql(p: SqlParams, scope: EventScope, project: string): string {
  const where = [`e.project = ${project}`];
  if (scope.fromMs !== undefined) where.push(`e.ts >= ${msParam(p, scope.fromMs)}`);
  if (scope.toMs !== undefined) where.push(`e.ts < ${msParam(p, scope.toMs)}`);
  if (scope.types) where.push(`e.type IN ${p.bind(scope.types, 'Array(String)')}`);
  if (scope.where?.length) where.push(allConditionsSql(p, scope.where));
  return where.join(' AND ');
}

/**
 * A subquery of the scope's events with their person: `select` (expressions over `e`, each
 * with its alias) plus `person` and `identified`. Events with no person (neither id) are left
 * out. Other helpers build on this: wrap it and aggregate by `person`.
 *
 * Events carrying a `user_id` are their user's without a lookup; only the anonymous ones
 * probe the identity map, so the join sees the share of events sent before login (in the
 * analytics bench's 10M events, about a fifth), not every event in scope.
 *
 * @example
 * const p = createSqlParams();
 * const sql = `SELECT uniqExact(person) AS users FROM (${personEventsSql(p, { project: 'dev', types: ['song.play'] }, [])})`;
 */
export function personEventsSql(
  p: SqlParams,
  scope: EventScope,
  select: readonly string[],
): string {
  const project = p.bind(scope.project, 'String');
  const where = scopeWhereSql(p, scope, project);
  const head = select.length ? `${select.join(', ')}, ` : '';
  const persons = scope.personsIn ? `person IN (${scope.personsIn})` : '1';
  // `*` leaves out materialized columns (materialized-props.ts), which `select` may read.
  const materialized = [...(p.columns?.values() ?? [])].map((column) => `, ${column}`).join('');
  // The anonymous events are filtered in a subquery, so the join probes only those in scope.
  return `SELECT * FROM (
      SELECT ${head}e.user_id AS person, toUInt8(1) AS identified
      FROM events AS e WHERE ${where} AND e.user_id != ''
      UNION ALL
      SELECT ${head}if(i.merged_user != '', i.merged_user, e.anonymous_id) AS person,
        toUInt8(i.merged_user != '') AS identified
      FROM (SELECT *${materialized} FROM events AS e WHERE ${where} AND e.user_id = '' AND e.anonymous_id != '') AS e
      LEFT ANY JOIN (${identityMapSql(project)}) AS i ON i.anonymous_id = e.anonymous_id)
    WHERE ${persons}`;
}

/**
 * The scope's events without persons (counts and sums need no identity lookup), unless the
 * scope names a cohort, which is a set of persons.
 */
export function scopedEventsSql(
  p: SqlParams,
  scope: EventScope,
  select: readonly string[],
): string {
  if (scope.personsIn) return personEventsSql(p, scope, select);
  const project = p.bind(scope.project, 'String');
  return `SELECT ${select.join(', ')} FROM events AS e WHERE ${scopeWhereSql(p, scope, project)}`;
}
