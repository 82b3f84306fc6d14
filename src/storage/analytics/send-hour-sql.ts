import type { ClickHouse } from '../clickhouse.js';
import { identityMapSql } from './person-sql.js';
import { createSqlParams, msParam, type SqlParams } from './sql-params.js';

const dayMs = 86_400_000;

/** How activity turns into an hour (src/config/analytics-schema.ts: `analytics.sendTime`). */
export interface SendHourModel {
  lookbackDays: number;
  openWeight: number;
  openTypes: readonly string[];
  ignoredTypes: readonly string[];
  neighbourWeight: number;
  minActiveDays: number;
}

export interface SendHourScope {
  project: string;
  /** Activity in [nowMs − lookbackDays, nowMs) counts. */
  nowMs: number;
  model: SendHourModel;
}

/** The WHERE of `events AS e` in scope: the project, the lookback, no ignored type. */
function activityWhere(p: SqlParams, scope: SendHourScope, project: string): string {
  const from = msParam(p, scope.nowMs - scope.model.lookbackDays * dayMs);
  const ignored = p.bind(scope.model.ignoredTypes, 'Array(String)');
  return `e.project = ${project} AND e.ts >= ${from} AND e.ts < ${msParam(p, scope.nowMs)}
    AND e.type NOT IN ${ignored}`;
}

/**
 * The lookback's events of these users with their `person`: their own, and the anonymous
 * events of ids merged into them (clickhouse/005_identities.sql), as every analytics query
 * counts persons. Only the ids merged into these users are joined, so the join's table is
 * small; an anonymous event probes it. The map has one row per anonymous id, so an ALL join
 * keeps every event (ClickHouse's `ANY INNER` would keep one per anonymous id).
 */
function usersEventsSql(p: SqlParams, scope: SendHourScope, userIds: readonly string[]): string {
  const project = p.bind(scope.project, 'String');
  const where = activityWhere(p, scope, project);
  const ids = p.bind(userIds, 'Array(String)');
  return `SELECT e.user_id AS person, e.ts AS ts, e.type AS type
      FROM events AS e WHERE ${where} AND e.user_id IN ${ids}
    UNION ALL
    SELECT i.merged_user AS person, e.ts AS ts, e.type AS type
      FROM (SELECT ts, type, anonymous_id FROM events AS e
        WHERE ${where} AND e.user_id = '' AND e.anonymous_id != '') AS e
      INNER JOIN (SELECT * FROM (${identityMapSql(project)}) WHERE merged_user IN ${ids}) AS i
        ON i.anonymous_id = e.anonymous_id`;
}

/**
 * Per user with at least `minActiveDays` distinct UTC days of activity (and a weight above 0):
 * the UTC hour (0–23)
 * of the highest score, the lowest such hour on a tie. An hour's weight is its opens (and
 * clicks: `openTypes`) times `openWeight` plus its other events; its score, the weight plus
 * `neighbourWeight` times the sum of the two adjacent hours' weights (23 and 0 adjacent), so
 * a user active 19:00–21:59 is best at 20. Weights come from integer counts in one expression,
 * so a plain loop reproduces every score bit for bit.
 */
export function sendHoursSql(
  p: SqlParams,
  scope: SendHourScope,
  userIds: readonly string[],
): string {
  const { model } = scope;
  const opens = p.bind(model.openTypes, 'Array(String)');
  const openWeight = p.bind(model.openWeight, 'Float64');
  const neighbour = p.bind(model.neighbourWeight, 'Float64');
  return `SELECT person AS user_id, toUInt8(indexOf(scores, arrayMax(scores)) - 1) AS hour, active_days
    FROM (
      SELECT person, uniqExactMerge(days) AS active_days,
        sumForEach(arrayMap(h -> if(h = hour, weight, 0), range(24))) AS hourly,
        arrayMap(h -> hourly[h + 1] + ${neighbour} * (hourly[(h + 23) % 24 + 1] + hourly[(h + 1) % 24 + 1]),
          range(24)) AS scores
      FROM (
        SELECT person, toHour(ts) AS hour, uniqExactState(toDate(ts)) AS days,
          countIf(type IN ${opens}) * ${openWeight} + countIf(type NOT IN ${opens}) AS weight
        FROM (${usersEventsSql(p, scope, userIds)}) GROUP BY person, hour)
      GROUP BY person
      HAVING active_days >= ${p.bind(model.minActiveDays, 'UInt32')} AND arrayMax(scores) > 0)`;
}

/** The project's lookback events per UTC hour: opens (`openTypes`) and all. */
export function projectHoursSql(p: SqlParams, scope: SendHourScope): string {
  const project = p.bind(scope.project, 'String');
  const opens = p.bind(scope.model.openTypes, 'Array(String)');
  return `SELECT toHour(e.ts) AS hour, countIf(e.type IN ${opens}) AS opens, count() AS events
    FROM events AS e WHERE ${activityWhere(p, scope, project)} GROUP BY hour`;
}

/**
 * The hour (0–23) of the highest smoothed score in `hourly` (24 weights): the weight plus
 * `neighbourWeight` times both adjacent hours' (23 and 0 adjacent), the lowest hour on a tie;
 * null when every weight is 0.
 */
function peakHour(hourly: readonly number[], neighbourWeight: number): number | null {
  let best: number | null = null;
  let bestScore = 0;
  for (let h = 0; h < 24; h++) {
    const around = (hourly[(h + 23) % 24] ?? 0) + (hourly[(h + 1) % 24] ?? 0);
    const score = (hourly[h] ?? 0) + neighbourWeight * around;
    if (score > bestScore) [best, bestScore] = [h, score];
  }
  return best;
}

/**
 * Send hours on ClickHouse: each user's own hour where there is evidence, and the project's.
 *
 * @example
 * const query = createSendHourQuery(ch);
 * const own = await query.users({ project: 'dev', nowMs: Date.now(), model }, ['u1', 'u2']);
 */
export function createSendHourQuery(ch: ClickHouse) {
  return {
    /** The users (of these ids) with enough evidence, and their hour; the others are absent. */
    async users(scope: SendHourScope, userIds: readonly string[]): Promise<Map<string, number>> {
      const p = createSqlParams();
      const rows = await ch.query<{ user_id: string; hour: number | string }>(
        sendHoursSql(p, scope, userIds),
        p.values,
      );
      return new Map(rows.map((row) => [String(row.user_id), Number(row.hour)]));
    },

    /** The project's hour by opens, or by all activity when it has no opens; null: none. */
    async project(scope: SendHourScope): Promise<number | null> {
      const p = createSqlParams();
      const rows = await ch.query<Record<'hour' | 'opens' | 'events', number | string>>(
        projectHoursSql(p, scope),
        p.values,
      );
      const opens = Array.from({ length: 24 }, () => 0);
      const events = Array.from({ length: 24 }, () => 0);
      for (const row of rows) {
        opens[Number(row.hour)] = Number(row.opens);
        events[Number(row.hour)] = Number(row.events);
      }
      const anyOpen = opens.some((n) => n > 0);
      return peakHour(anyOpen ? opens : events, scope.model.neighbourWeight);
    },
  };
}

export type SendHourQueryRunner = ReturnType<typeof createSendHourQuery>;
