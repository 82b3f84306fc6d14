import type { TemplatedApp } from 'uWebSockets.js';
import type { Engagement } from '../../analytics/engagement-service.js';
import { createRoutes, type RouteDeps } from './route.js';
import { parseTimeRange } from './time-range.js';

/**
 * Engagement over the key's project: `GET /v1/analytics/engagement` (read: the scores'
 * distribution), `GET /v1/analytics/engagement/users` (users:read: persons and their scores,
 * highest first, or one `person`'s) and `GET /v1/analytics/stickiness` (read: DAU/MAU per
 * day, default the last 30 days). Parameters are in the README's Engagement section.
 */
export function registerHttpEngagement(
  app: TemplatedApp,
  deps: RouteDeps & { engagement: Engagement },
): void {
  const { engagement } = deps;
  const route = createRoutes(app, deps);

  route('get', '/v1/analytics/engagement', 'read', async ({ reply, principal, info }) => {
    reply.json(200, await engagement.distribution(principal.projectId, info.query));
  });

  // Person ids with their scores: user data, as inboxes are.
  route(
    'get',
    '/v1/analytics/engagement/users',
    'users:read',
    async ({ reply, principal, info }) => {
      reply.json(200, await engagement.users(principal.projectId, info.query));
    },
  );

  route('get', '/v1/analytics/stickiness', 'read', async ({ reply, principal, info }) => {
    const range = parseTimeRange(info.query, { spanMs: 30 * 24 * 3600_000 });
    reply.json(200, await engagement.stickiness(principal.projectId, info.query, range));
  });
}
