import type { DecisionRow, Outcome } from '../model/decision.js';
import type { ClickHouse } from './clickhouse.js';

export const decisionsTable = 'notification_decisions';

/** How many decisions of one channel had one outcome (`''` channel: before one was picked). */
export interface ChannelCount {
  channel: string;
  outcome: Outcome;
  count: number;
}

export interface DecisionQuery {
  notification?: string;
  rule?: string;
  dedupKey?: string;
  category?: string;
  limit?: number;
}

/**
 * Reads of the decision log in ClickHouse (rows are written by a batch writer into
 * `notification_decisions`).
 *
 * @example
 * const store = createDecisionStore(ch);
 * await store.query('dev', 'u42', { rule: 'welcome' }); // newest first
 */
export function createDecisionStore(ch: ClickHouse) {
  return {
    /** A project's decisions since `sinceMs` per channel and outcome (the dashboard's overview). */
    async countByChannel(project: string, sinceMs: number): Promise<ChannelCount[]> {
      const rows = await ch.query<{ channel: string; outcome: Outcome; count: string | number }>(
        `SELECT channel, outcome, count() AS count FROM notification_decisions
         WHERE project = {project:String} AND ts >= fromUnixTimestamp64Milli({since:Int64})
         GROUP BY channel, outcome ORDER BY channel, outcome`,
        { project, since: sinceMs },
      );
      return rows.map((row) => ({ ...row, count: Number(row.count) }));
    },
    /** A user's decisions, newest first, at most `limit` (200 by default, 1000 at most). */
    async query(
      project: string,
      userId: string,
      filter: DecisionQuery = {},
    ): Promise<Array<Omit<DecisionRow, 'project' | 'user_id'>>> {
      const clauses = ['project = {project:String}', 'user_id = {user:String}'];
      const params: Record<string, unknown> = {
        project,
        user: userId,
        limit: Math.min(filter.limit ?? 200, 1000),
      };
      for (const [field, column] of [
        ['notification', 'notification_id'],
        ['rule', 'rule'],
        ['dedupKey', 'dedup_key'],
        ['category', 'category'],
      ] as const) {
        if (filter[field] === undefined) continue;
        clauses.push(`${column} = {${field}:String}`);
        params[field] = filter[field];
      }
      const rows = await ch.query<Record<string, unknown>>(
        `SELECT notification_id, rule, category, dedup_key, channel, outcome, reason, attempt, toString(toUnixTimestamp64Milli(ts)) AS ts_ms
         FROM notification_decisions WHERE ${clauses.join(' AND ')} ORDER BY ts DESC, notification_id LIMIT {limit:UInt32}`,
        params,
      );
      return rows.map((row) => ({
        notification_id: row.notification_id as string,
        rule: row.rule as string,
        category: row.category as string,
        dedup_key: row.dedup_key as string,
        channel: row.channel as string,
        outcome: row.outcome as Outcome,
        reason: row.reason as string,
        attempt: Number(row.attempt),
        ts: Number(row.ts_ms),
      }));
    },
  };
}
