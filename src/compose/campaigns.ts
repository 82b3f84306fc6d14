import { createCampaignReports } from '../campaigns/campaign-report.js';
import { createCampaignRunner } from '../campaigns/campaign-runner.js';
import { createCampaigns } from '../campaigns/campaigns.js';
import { createSendTimes, type SendHours } from '../campaigns/send-times.js';
import type { VariantReports } from '../analytics/variant-report.js';
import type { PreferenceStore } from '../notify/preferences.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { createAudience, type ChurnAudience, type CohortAudience } from '../rules/audience.js';
import type { Route } from '../rules/fire.js';
import { createFollowGraph } from '../rules/follow-graph.js';
import type { CampaignQuery } from '../storage/analytics/campaign-sql.js';
import type { Stored } from './storage.js';

/**
 * Campaigns: stored in the state store, run in steps on the persistent timers (so on a
 * cluster the timers' lease holder runs them), routed like rules' notifications, reported
 * from the decision log and the events.
 */
export function composeCampaigns(deps: {
  stored: Stored;
  route: Route;
  preferences: Pick<PreferenceStore, 'get'>;
  cohorts?: CohortAudience;
  churn?: ChurnAudience;
  hours?: SendHours;
  counts: CampaignQuery;
  variants: Pick<VariantReports, 'compare'>;
  metrics: Metrics;
  log: Logger;
}) {
  const { stored, preferences } = deps;
  const audience = createAudience({
    follows: createFollowGraph(stored.state),
    segments: stored.segments,
    ...(deps.cohorts ? { cohorts: deps.cohorts } : {}),
    ...(deps.churn ? { churn: deps.churn } : {}),
  });
  const zones = {
    timeZoneOf: async (project: string, userId: string) =>
      (await preferences.get(project, userId)).timeZone,
  };
  const times = createSendTimes({ zones, ...(deps.hours ? { hours: deps.hours } : {}) });
  const runner = createCampaignRunner({
    ...{ state: stored.state, timers: stored.timers, audience, times, route: deps.route },
    ...{ metrics: deps.metrics, log: deps.log },
  });
  const campaigns = createCampaigns({
    state: stored.state,
    runner,
    times,
    bestHours: deps.hours !== undefined,
  });
  const reports = createCampaignReports({ counts: deps.counts, variants: deps.variants });
  return { campaigns, reports };
}

export type ComposedCampaigns = ReturnType<typeof composeCampaigns>;
