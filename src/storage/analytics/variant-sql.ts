import type { ClickHouse } from '../clickhouse.js';

/** What the email providers said of one template variant's notifications of a rule. */
export interface VariantCounts {
  template: string;
  /** Distinct notifications with each event: processed (sent), delivered, opened, clicked. */
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
}

/**
 * Per template, distinct notifications of `rule` (its email decisions) that the providers'
 * events (`email.processed|delivered|open|click`, props `notificationId` and `template`, from
 * SendGrid's and SES's webhooks) say were sent, delivered, opened and clicked. Distinct, so
 * a message opened five times counts once.
 *
 * @example
 * await createVariantQuery(ch).counts('dev', 'welcome', ['welcome_a', 'welcome_b']);
 */
export function createVariantQuery(ch: ClickHouse) {
  return {
    async counts(
      project: string,
      rule: string,
      templates: readonly string[],
    ): Promise<VariantCounts[]> {
      const rows = await ch.query<Record<string, string | number>>(
        `SELECT template, uniqExactIf(n, type = 'email.processed') AS sent,
           uniqExactIf(n, type = 'email.delivered') AS delivered,
           uniqExactIf(n, type = 'email.open') AS opened,
           uniqExactIf(n, type = 'email.click') AS clicked
         FROM (
           SELECT type, JSONExtractString(props, 'notificationId') AS n,
             JSONExtractString(props, 'template') AS template
           FROM events
           WHERE project = {project:String}
             AND type IN ('email.processed', 'email.delivered', 'email.open', 'email.click'))
         WHERE template IN {templates:Array(String)}
           AND n IN (SELECT notification_id FROM notification_decisions
             WHERE project = {project:String} AND rule = {rule:String} AND channel = 'email')
         GROUP BY template`,
        { project, rule, templates },
      );
      return rows.map((row) => ({
        template: String(row.template),
        sent: Number(row.sent),
        delivered: Number(row.delivered),
        opened: Number(row.opened),
        clicked: Number(row.clicked),
      }));
    },
  };
}

export type VariantQuery = ReturnType<typeof createVariantQuery>;
