import type { TemplatedApp } from 'uWebSockets.js';
import type { Trending } from '../../analytics/trending-service.js';
import { createRoutes, type RouteDeps } from './route.js';

/**
 * `GET /v1/trending?entity=props.artistId&types&period&halfLife&limit` (read): the key's
 * project's values of the field ranked by their time-decayed score, with the change against
 * the previous period (README: Trending).
 */
export function registerHttpTrending(
  app: TemplatedApp,
  deps: RouteDeps & { trending: Trending },
): void {
  const { trending } = deps;
  const route = createRoutes(app, deps);
  route('get', '/v1/trending', 'read', async ({ reply, principal, info }) => {
    reply.json(200, await trending.top(principal.projectId, info.query));
  });
}
