import type { TemplatedApp } from 'uWebSockets.js';
import type { SendHours } from '../../analytics/send-hours.js';
import type { UserCheck } from '../identity.js';
import { userAccess } from '../user/user-access.js';
import { createRoutes, type RouteDeps } from './route.js';

/**
 * `GET /v1/users/:id/send-hour?at` (`users:read` key or the user's own token): the UTC hour
 * campaigns with `sendAt: "best"` send to the user at, whether it was learned from their own
 * activity or is the project's, and the next such instant (README: Send time). It says when
 * a person is usually active: user data, as their inbox is.
 */
export function registerHttpSendHour(
  app: TemplatedApp,
  deps: RouteDeps & { sendHours: SendHours; users: UserCheck },
): void {
  const user = createRoutes(app, deps, { access: userAccess(deps), msgpack: true });
  user('get', '/v1/users/:id/send-hour', 'self-or-users-read', async (request) => {
    const { reply, info, project, userId } = request;
    const answer = await deps.sendHours.userHour(project, userId, info.query);
    reply.json(200, answer, info.wantsMsgpack);
  });
}
