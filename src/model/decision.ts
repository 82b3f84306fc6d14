/** What happened to a notification for a user, and why. */
export type Outcome =
  | 'sent'
  | 'delivered'
  | 'deferred'
  | 'digested'
  | 'suppressed'
  | 'retrying'
  | 'failed'
  | 'dead_letter'
  /** A step of a rule's workflow (src/rules/workflows/), one row per step taken. */
  | 'workflow';

/** One routing or delivery decision as stored in `notification_decisions` (ts in epoch ms). */
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
