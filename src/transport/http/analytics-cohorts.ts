import type { TemplatedApp } from 'uWebSockets.js';
import type { Analytics } from '../../analytics/analytics-service.js';
import type { CohortCatalog } from '../../analytics/cohort-catalog.js';
import { BacklineError } from '../../errors.js';
import { jsonBody } from './json-body.js';
import { createRoutes, type RouteDeps } from './route.js';

/**
 * Saved cohorts over HTTP: `GET /v1/cohorts` and `GET /v1/cohorts/:name` (read), `GET
 * /v1/cohorts/:name/members?after&limit&identified` (users:read), `PUT /v1/cohorts/:name`
 * (admin: define or replace; 400 BAD_COHORT names the bad part) and `DELETE
 * /v1/cohorts/:name` (admin: 204, or 404 UNKNOWN_COHORT).
 */
export function registerHttpCohorts(
  app: TemplatedApp,
  deps: RouteDeps & { cohorts: CohortCatalog; analytics: Analytics },
): void {
  const { cohorts, analytics } = deps;
  const route = createRoutes(app, deps);

  route('get', '/v1/cohorts', 'read', ({ reply, principal }) => {
    reply.json(200, { cohorts: cohorts.list(principal.projectId) });
  });

  route('get', '/v1/cohorts/:name', 'read', async ({ reply, principal, name }) => {
    const spec = await cohorts.get(principal.projectId, name);
    if (!spec) throw new BacklineError('UNKNOWN_COHORT');
    reply.json(200, spec);
  });

  // Members are user ids: user data, as inboxes are, so `users:read` (admin implies it).
  route(
    'get',
    '/v1/cohorts/:name/members',
    'users:read',
    async ({ reply, principal, name, info }) => {
      reply.json(200, await analytics.cohortMembers(principal.projectId, name, info.query));
    },
  );

  // Admin writes are audited with the definition before and after.
  route('put', '/v1/cohorts/:name', 'admin', async ({ reply, principal, name, body, audit }) => {
    audit.before = await cohorts.get(principal.projectId, name);
    audit.after = await cohorts.define(principal.projectId, name, await jsonBody(body));
    reply.json(200, audit.after);
  });

  route('del', '/v1/cohorts/:name', 'admin', async ({ reply, principal, name, audit }) => {
    audit.before = await cohorts.get(principal.projectId, name);
    if (!(await cohorts.remove(principal.projectId, name)))
      throw new BacklineError('UNKNOWN_COHORT');
    reply.send(204, 'application/json', '');
  });
}
