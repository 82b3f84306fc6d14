import type { DecisionRow, Outcome } from '../model/decision.js';
import type { Metrics } from '../ops/metrics.js';
import type { BatchWriter } from '../storage/batch-writer.js';
import type { ChannelCount, DecisionQuery } from '../storage/decision-store.js';
import type { ChannelName, Notification } from './notification.js';

/** What the decision log reads back from storage (storage/decision-store.ts). */
export interface DecisionStore {
  countByChannel(project: string, sinceMs: number): Promise<ChannelCount[]>;
  query(
    project: string,
    userId: string,
    filter?: DecisionQuery,
  ): Promise<Array<Omit<DecisionRow, 'project' | 'user_id'>>>;
}

/** What a decision is about: a notification, or a workflow run (its id in `id`). */
export type DecisionSubject = Pick<
  Notification,
  'project' | 'userId' | 'id' | 'rule' | 'category' | 'dedupKey'
>;

/**
 * The decision log: every routing and delivery outcome with its reason, written in batches
 * to ClickHouse and counted in `backline_notify_decisions_total{channel, outcome}`.
 */
export function createDecisionLog(
  deps: { writer: BatchWriter<DecisionRow>; store: DecisionStore; metrics: Metrics },
  now = Date.now,
) {
  const { writer, store, metrics } = deps;
  return {
    record(
      notification: DecisionSubject,
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
    countByChannel: (project: string, sinceMs: number) => store.countByChannel(project, sinceMs),
    /** Written decisions must be durable before an answer is trusted: used by tests and shutdown. */
    durable: () => writer.durable(),
    query: (project: string, userId: string, filter?: DecisionQuery) =>
      store.query(project, userId, filter),
  };
}

export type DecisionLog = ReturnType<typeof createDecisionLog>;
