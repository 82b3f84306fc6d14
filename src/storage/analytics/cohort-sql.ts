import type { ClickHouse } from '../clickhouse.js';
import type { FieldCondition } from '../field-sql.js';
import { allConditionsSql } from './field-sql.js';
import { personEventsSql, type EventScope } from './person-sql.js';
import { createSqlParams, msParam, type SqlParams } from './sql-params.js';

/** Which events a cohort condition reads; times are absolute here (epoch ms, [from, to)). */
interface ConditionEvents {
  /** Event types that count; absent: every type. */
  types?: readonly string[];
  where: readonly FieldCondition[];
  fromMs?: number;
  toMs?: number;
}

/**
 * A saved cohort's rule with its times resolved: persons who did something at least `min`
 * (and at most `max`) times in a span, or whose first event (of some types) fell in a span.
 * `max: 0` is "did not". Persons are everyone with any stored event of the project.
 */
export type CohortCondition =
  | ({ kind: 'performed'; min: number; max?: number } & ConditionEvents)
  | ({ kind: 'first_seen' } & ConditionEvents);

export interface CohortRule {
  match: 'all' | 'any';
  conditions: readonly CohortCondition[];
}

function matchSql(p: SqlParams, events: ConditionEvents, withTime: boolean): string {
  const parts = [allConditionsSql(p, events.where)];
  if (events.types) parts.push(`e.type IN ${p.bind(events.types, 'Array(String)')}`);
  if (withTime && events.fromMs !== undefined) parts.push(`e.ts >= ${msParam(p, events.fromMs)}`);
  if (withTime && events.toMs !== undefined) parts.push(`e.ts < ${msParam(p, events.toMs)}`);
  return parts.join(' AND ');
}

/** The HAVING test of condition `i` over the per-event flag `m<i>`. */
function havingSql(p: SqlParams, condition: CohortCondition, i: number): string {
  if (condition.kind === 'performed') {
    const count = `countIf(m${i})`;
    const max =
      condition.max === undefined ? '' : ` AND ${count} <= ${p.bind(condition.max, 'UInt64')}`;
    return `(${count} >= ${p.bind(condition.min, 'UInt64')}${max})`;
  }
  const first = `minIf(ts, m${i})`;
  const bounds = [`countIf(m${i}) > 0`];
  if (condition.fromMs !== undefined) bounds.push(`${first} >= ${msParam(p, condition.fromMs)}`);
  if (condition.toMs !== undefined) bounds.push(`${first} < ${msParam(p, condition.toMs)}`);
  return `(${bounds.join(' AND ')})`;
}

/**
 * The persons of a cohort, as a subquery with one `person` column: usable as an EventScope's
 * `personsIn`, or wrapped to page through members. `identifiedOnly` keeps known users (the
 * ones a notification can reach).
 */
export function cohortPersonsSql(
  p: SqlParams,
  project: string,
  rule: CohortRule,
  identifiedOnly = false,
): string {
  const flags = rule.conditions.map(
    (c, i) => `(${matchSql(p, c, c.kind === 'performed')}) AS m${i}`,
  );
  const tests = rule.conditions.map((c, i) => havingSql(p, c, i));
  const having = tests.join(rule.match === 'all' ? ' AND ' : ' OR ');
  const events = personEventsSql(p, { project }, ['e.ts AS ts', ...flags]);
  return `SELECT person FROM (${events}) GROUP BY person
    HAVING (${having})${identifiedOnly ? ' AND max(identified) = 1' : ''}`;
}

/** What the analytics queries take: a scope whose persons may be limited to a cohort. */
export type AnalyticsScope = Omit<EventScope, 'personsIn'> & { cohort?: CohortRule };

/** The scope with its cohort as the persons subquery. */
export function withCohort<S extends AnalyticsScope>(p: SqlParams, scope: S): EventScope {
  const { cohort, ...rest } = scope;
  return cohort ? { ...rest, personsIn: cohortPersonsSql(p, scope.project, cohort) } : rest;
}

export interface MembersPage {
  /** Persons after this one in byte order: pages follow one another without OFFSET. */
  after: string;
  limit: number;
  identifiedOnly?: boolean;
}

/**
 * Cohort members on ClickHouse, a page at a time.
 *
 * @example
 * const cohorts = createCohortQuery(ch);
 * await cohorts.members('dev', rule, { after: '', limit: 1000 }); // ['u1', 'u7']
 */
export function createCohortQuery(ch: ClickHouse) {
  return {
    async members(project: string, rule: CohortRule, page: MembersPage): Promise<string[]> {
      const p = createSqlParams();
      const persons = cohortPersonsSql(p, project, rule, page.identifiedOnly);
      const rows = await ch.query<{ person: string }>(
        `SELECT person FROM (${persons}) WHERE person > ${p.bind(page.after, 'String')}
         ORDER BY person LIMIT ${p.bind(page.limit, 'UInt64')}`,
        p.values,
      );
      return rows.map((row) => row.person);
    },
  };
}

export type CohortQuery = ReturnType<typeof createCohortQuery>;
