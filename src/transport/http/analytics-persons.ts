import type { TemplatedApp } from 'uWebSockets.js';
import type { PersonProfiles } from '../../analytics/person-profile.js';
import { createRoutes, type RouteDeps } from './route.js';

/**
 * `GET /v1/analytics/persons/:id?limit&before` (users:read): one person of the key's project,
 * for the dashboard's profile page: the anonymous ids merged into them, their events per type
 * and their timeline newest first (README: Persons and identities).
 */
export function registerHttpPersons(
  app: TemplatedApp,
  deps: RouteDeps & { persons: PersonProfiles },
): void {
  const { persons } = deps;
  const route = createRoutes(app, deps);
  // A person's events name them and what they did: user data, as inboxes are.
  route(
    'get',
    '/v1/analytics/persons/:id',
    'users:read',
    async ({ reply, principal, name, info }) => {
      reply.json(200, await persons.profile(principal.projectId, name, info.query));
    },
  );
}
