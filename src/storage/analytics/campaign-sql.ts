import type { ClickHouse } from '../clickhouse.js';

/** Event types a campaign's report counts, each by the notification its props name. */
export const campaignEventTypes = [
  ...['email.processed', 'email.delivered', 'email.open', 'email.click', 'email.bounce'],
  ...['email.dropped', 'email.spamreport', 'email.unsubscribe', 'email.group_unsubscribe'],
  ...['push.click', 'notification.seen', 'notification.read', 'notification.open'],
  'notification.click',
] as const;

const providerSkewMs = 3_600_000;

export interface CampaignCounts {
  /** Distinct notifications per channel ('' is the inbox alone) and decision outcome. */
  decisions: Array<{ channel: string; outcome: string; notifications: number }>;
  /** Distinct notifications per event type (`campaignEventTypes`). */
  events: Array<{ type: string; notifications: number }>;
}

/**
 * What happened to the notifications of one scope (a campaign's `campaign:<id>`, or a rule):
 * the router's and the channels' decisions, and the events providers, service workers and
 * inbox marks reported about them (props `notificationId`), each counted once per
 * notification however often it repeats (five opens are one opened notification).
 *
 * @example
 * await createCampaignQuery(ch).counts('dev', 'campaign:0001764…', Date.now() - 86_400_000);
 */
export function createCampaignQuery(ch: ClickHouse) {
  return {
    async counts(project: string, scope: string, sinceMs: number): Promise<CampaignCounts> {
      // Providers stamp events in whole seconds by their own clocks: an event may read as a
      // little older than the decision it follows. The bound only prunes partitions.
      const params = {
        ...{ project, scope, since: sinceMs, types: [...campaignEventTypes] },
        eventsSince: sinceMs - providerSkewMs,
      };
      const [decisions, events] = await Promise.all([
        ch.query<{ channel: string; outcome: string; n: string | number }>(
          `SELECT channel, outcome, uniqExact(notification_id) AS n
           FROM notification_decisions
           WHERE project = {project:String} AND rule = {scope:String}
             AND ts >= fromUnixTimestamp64Milli({since:Int64})
           GROUP BY channel, outcome`,
          params,
        ),
        ch.query<{ type: string; n: string | number }>(
          `SELECT type, uniqExact(JSONExtractString(props, 'notificationId')) AS n
           FROM events
           WHERE project = {project:String} AND type IN {types:Array(String)}
             AND ts >= fromUnixTimestamp64Milli({eventsSince:Int64})
             AND JSONExtractString(props, 'notificationId') IN (
               SELECT notification_id FROM notification_decisions
               WHERE project = {project:String} AND rule = {scope:String}
                 AND ts >= fromUnixTimestamp64Milli({since:Int64}))
           GROUP BY type`,
          params,
        ),
      ]);
      return {
        decisions: decisions.map((r) => ({
          channel: r.channel,
          outcome: r.outcome,
          notifications: Number(r.n),
        })),
        events: events.map((r) => ({ type: r.type, notifications: Number(r.n) })),
      };
    },
  };
}

export type CampaignQuery = ReturnType<typeof createCampaignQuery>;
