import type { BatchWriter } from '../storage/batch-writer.js';
import type { ClickHouse } from '../storage/clickhouse.js';
import type { Metrics } from '../ops/metrics.js';
import type { ChannelName, Notification } from './notification.js';

/** What happened to a notification for a user, and why. */
export type Outcome =
  | 'sent'
  | 'delivered'
  | 'deferred'
  | 'digested'
  | 'suppressed'
  | 'retrying'
  | 'failed'
  | 'dead_letter';

export interface DecisionRow {
  project: string;
  user_id: string;
  notification_id: string;
  rule: string;
  category: string;
  dedup_key: string;
  channel: string;
  outcome: Outcome;
  reason: string;
  attempt: number;
  ts: number;
}

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
 * The decision log: every routing and delivery outcome with its reason, written in batches
 * to ClickHouse and counted in `backline_notify_decisions_total{channel, outcome}`.
 */
export function createDecisionLog(
  deps: { writer: BatchWriter<DecisionRow>; ch: ClickHouse; metrics: Metrics },
  now = Date.now,
) {
  const { writer, ch, metrics } = deps;
  return {
    record(
      notification: Notification,
      outcome: Outcome,
      reason: string,
      channel: ChannelName | '' = '',
      attempt = 0,
    ): void {
      metrics.notifyDecisions.inc({ channel: channel || 'none', outcome });
      writer.enqueue([
        {
          project: notification.project,
          user_id: notification.userId,
          notification_id: notification.id,
          rule: notification.rule,
          category: notification.category,
          dedup_key: notification.dedupKey ?? '',
          channel,
          outcome,
          reason,
          attempt,
          ts: now(),
        },
      ]);
    },
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
    /** Written decisions must be durable before an answer is trusted: used by tests and shutdown. */
    durable: () => writer.durable(),
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

export type DecisionLog = ReturnType<typeof createDecisionLog>;
