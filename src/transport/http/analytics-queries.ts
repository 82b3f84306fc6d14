import type { TemplatedApp } from 'uWebSockets.js';
import type { Analytics } from '../../analytics/analytics-service.js';
import { createRoutes, type RouteDeps } from './route.js';
import { parseTimeRange } from './time-range.js';

const day = 24 * 3600_000;

/**
 * Product analytics over the key's project's events (read): `GET /v1/analytics/trends`,
 * `/v1/analytics/funnels` (default the last 7 days) and `/v1/analytics/retention` (cohorts
 * first seen in the last 28 days by default). Parameters are in the README's Analytics
 * section; a bad one is 400 BAD_QUERY naming it, an unknown cohort 404 UNKNOWN_COHORT.
 */
export function registerHttpAnalytics(
  app: TemplatedApp,
  deps: RouteDeps & { analytics: Analytics },
): void {
  const { analytics } = deps;
  const route = createRoutes(app, deps);
  const apis = [
    ['trends', analytics.trends, 7 * day],
    ['funnels', analytics.funnels, 7 * day],
    ['retention', analytics.retention, 28 * day],
  ] as const;
  for (const [name, run, spanMs] of apis) {
    route('get', `/v1/analytics/${name}`, 'read', async ({ reply, principal, info }) => {
      const range = parseTimeRange(info.query, { spanMs });
      reply.json(200, await run(principal.projectId, info.query, range));
    });
  }
}
