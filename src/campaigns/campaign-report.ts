import type { VariantReport } from '../analytics/variant-report.js';
import type { CampaignCounts, CampaignQuery } from '../storage/analytics/campaign-sql.js';
import type { CampaignRecord } from './campaign-record.js';
import { campaignScope } from './campaign-record.js';

const measures = [
  ...['sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained', 'unsubscribed'],
  'failed',
] as const;
type Measure = (typeof measures)[number];
export type ChannelReport = Record<Measure, number>;

/** Where each measure of a channel comes from: decisions (`d:<outcome>`) or events (`e:<type>`). */
const sources: Record<'in_app' | 'web_push' | 'email', Partial<Record<Measure, string[]>>> = {
  in_app: {
    sent: ['d:sent'],
    delivered: ['d:delivered'],
    opened: ['e:notification.read'],
    clicked: ['e:notification.click'],
    failed: ['d:failed', 'd:dead_letter'],
  },
  web_push: {
    sent: ['d:sent'],
    delivered: ['d:delivered'],
    opened: ['e:push.click'],
    clicked: ['e:push.click'],
    failed: ['d:failed', 'd:dead_letter'],
  },
  // A provider's acceptance is a `delivered` decision; delivery is the provider's own event.
  email: {
    sent: ['d:delivered'],
    delivered: ['e:email.delivered'],
    opened: ['e:email.open'],
    clicked: ['e:email.click'],
    bounced: ['e:email.bounce'],
    complained: ['e:email.spamreport'],
    unsubscribed: ['e:email.unsubscribe', 'e:email.group_unsubscribe'],
    failed: ['d:failed', 'd:dead_letter', 'e:email.dropped'],
  },
};

export interface CampaignReport extends Omit<CampaignRecord, 'plannedPages'>, ChannelReport {
  /** Planned and not yet routed (or given up). */
  queued: number;
  /** Routed to nobody's channel: kept in the inbox only (no channel reached the user then). */
  inboxOnly: number;
  /** Left out by the router: preferences, caps, an earlier copy. */
  suppressed: number;
  channels: Record<keyof typeof sources, ChannelReport>;
  /** The template A/B test, when the campaign has variants. */
  variants?: Omit<VariantReport, 'rule'>;
}

/**
 * A campaign's report: the record's tallies, then per channel what the decision log and the
 * reported events say (distinct notifications), and their totals. Read afresh on each call,
 * so it follows delivery events, inbox reads and push clicks as they arrive.
 *
 * @example
 * const report = await createCampaignReports({ counts, variants }).report(record);
 */
export function createCampaignReports(deps: {
  counts: Pick<CampaignQuery, 'counts'>;
  variants: {
    compare(
      project: string,
      scope: string,
      variants: ReadonlyArray<{ template: string; weight: number }>,
    ): Promise<Omit<VariantReport, 'rule'>>;
  };
}) {
  return {
    async report(record: CampaignRecord): Promise<CampaignReport> {
      const { project, id, spec } = record;
      const scope = campaignScope(id);
      const since = record.createdAt;
      const declared = spec.notification.variants;
      const [counts, variants] = await Promise.all([
        deps.counts.counts(project, scope, since),
        declared ? deps.variants.compare(project, scope, declared) : undefined,
      ]);
      const channels = {
        in_app: channelReport(counts, 'in_app'),
        web_push: channelReport(counts, 'web_push'),
        email: channelReport(counts, 'email'),
      };
      const total = Object.fromEntries(
        measures.map((m) => [m, Object.values(channels).reduce((n, c) => n + c[m], 0)]),
      ) as ChannelReport;
      const { plannedPages: _planned, ...shown } = record;
      return {
        ...shown,
        ...total,
        queued: record.targeted - record.routed - record.failed,
        inboxOnly: decided(counts, '', 'sent'),
        suppressed: decided(counts, '', 'suppressed'),
        channels,
        ...(variants ? { variants } : {}),
      };
    },
  };
}

function decided(counts: CampaignCounts, channel: string, outcome: string): number {
  return counts.decisions
    .filter((d) => d.channel === channel && d.outcome === outcome)
    .reduce((n, d) => n + d.notifications, 0);
}

function channelReport(counts: CampaignCounts, channel: keyof typeof sources): ChannelReport {
  const count = (source: string) =>
    source.startsWith('d:')
      ? decided(counts, channel, source.slice(2))
      : (counts.events.find((e) => e.type === source.slice(2))?.notifications ?? 0);
  return Object.fromEntries(
    measures.map((m) => [m, (sources[channel][m] ?? []).reduce((n, s) => n + count(s), 0)]),
  ) as ChannelReport;
}

export type CampaignReports = ReturnType<typeof createCampaignReports>;
