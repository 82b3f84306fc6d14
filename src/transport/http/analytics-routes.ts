import type { TemplatedApp } from 'uWebSockets.js';
import type { Analytics } from '../../analytics/analytics-service.js';
import type { CohortCatalog } from '../../analytics/cohort-catalog.js';
import type { Engagement } from '../../analytics/engagement-service.js';
import type { PersonProfiles } from '../../analytics/person-profile.js';
import type { SendHours } from '../../analytics/send-hours.js';
import type { Trending } from '../../analytics/trending-service.js';
import type { WarehouseJobs } from '../../analytics/warehouse-jobs.js';
import type { Predictions } from '../../predictions/predictions-service.js';
import type { EventExport } from '../../storage/analytics/event-export.js';
import type { UserCheck } from '../identity.js';
import { registerHttpCohorts } from './analytics-cohorts.js';
import { registerHttpEngagement } from './analytics-engagement.js';
import { registerHttpExport } from './analytics-export.js';
import { registerHttpJobs } from './analytics-jobs.js';
import { registerHttpPersons } from './analytics-persons.js';
import { registerHttpAnalytics } from './analytics-queries.js';
import { registerHttpSendHour } from './analytics-send-hour.js';
import { registerHttpTrending } from './analytics-trending.js';
import { registerHttpPredictions } from './predictions.js';
import type { RouteDeps } from './route.js';

/** Everything the product analytics routes answer from. */
export interface AnalyticsApis {
  analytics: Analytics;
  cohorts: CohortCatalog;
  exports: EventExport;
  engagement: Engagement;
  trending: Trending;
  jobs: WarehouseJobs;
  persons: PersonProfiles;
  predictions: Predictions;
  sendHours: SendHours;
}

/**
 * The product analytics routes: queries, cohorts, engagement, exports, trending, jobs, persons,
 * predictions, send hours.
 */
export function registerHttpAnalyticsApis(
  app: TemplatedApp,
  deps: RouteDeps & { apis: AnalyticsApis; users: UserCheck },
): void {
  const { apis, ...common } = deps;
  registerHttpAnalytics(app, { ...common, analytics: apis.analytics });
  registerHttpCohorts(app, { ...common, cohorts: apis.cohorts, analytics: apis.analytics });
  registerHttpEngagement(app, { ...common, engagement: apis.engagement });
  registerHttpExport(app, { ...common, exports: apis.exports, jobs: apis.jobs });
  registerHttpJobs(app, { ...common, jobs: apis.jobs });
  registerHttpTrending(app, { ...common, trending: apis.trending });
  registerHttpPersons(app, { ...common, persons: apis.persons });
  registerHttpPredictions(app, { ...common, predictions: apis.predictions });
  registerHttpSendHour(app, { ...common, sendHours: apis.sendHours });
}
