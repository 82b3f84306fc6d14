import type { TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import {
  OutboundUrlRefused,
  type OutboundUrlGuard,
} from '../../notify/channels/web-push/outbound-url.js';
import {
  parsePushSubscription,
  type PushSubscriptions,
} from '../../notify/channels/web-push/push-subscriptions.js';
import type { VapidKeys } from '../../notify/channels/web-push/vapid.js';
import type { UserCheck } from '../identity.js';
import { userAccess } from '../user/user-access.js';
import { jsonMap } from './json-body.js';
import { createOpenRoutes, createRoutes, type RouteDeps } from './route.js';

export interface HttpPushDeps extends RouteDeps {
  /** The user's own token (backline's or a JWT) may manage its subscriptions. */
  users: UserCheck;
  subscriptions: Pick<PushSubscriptions, 'add' | 'remove'>;
  vapid: Pick<VapidKeys, 'publicKey'>;
  /** The outbound URL policy every endpoint must pass, DNS included, before it is stored. */
  endpoints: Pick<OutboundUrlGuard, 'check'>;
}

/**
 * Web push subscriptions over HTTP: `POST /v1/users/:id/push-subscriptions` with the
 * browser's `PushSubscription` JSON (201 `{id}`; the same endpoint again refreshes it; one
 * the outbound URL policy refuses, e.g. on a private address, is 400 `BAD_SUBSCRIPTION`),
 * `DELETE` of the same path with `{endpoint}` (204, or 404 `NOT_FOUND`), both for the admin
 * key or the user's own token (a backline user token or a JWT); and `GET /v1/push/vapid-public-key` (no key: the page needs
 * it before any user signs in) for `pushManager.subscribe({applicationServerKey})`.
 */
export function registerHttpPush(app: TemplatedApp, deps: HttpPushDeps): void {
  const { subscriptions, vapid, metrics } = deps;
  const pattern = '/v1/users/:id/push-subscriptions';
  const route = createRoutes(app, deps, { access: userAccess(deps) });

  route('post', pattern, 'self-or-admin', async ({ reply, project, userId, body }) => {
    const subscription = parsePushSubscription(await jsonMap(body));
    try {
      await deps.endpoints.check(subscription.endpoint);
    } catch (err) {
      if (!(err instanceof OutboundUrlRefused)) throw err;
      metrics.pushEndpointsRefused.inc({ stage: 'subscribe', reason: err.reason });
      throw new BacklineError('BAD_SUBSCRIPTION', `endpoint: ${err.message}`, { cause: err });
    }
    const stored = await subscriptions.add(project, userId, subscription);
    reply.json(201, { id: stored.id });
  });

  route('del', pattern, 'self-or-admin', async ({ reply, project, userId, body }) => {
    const { endpoint } = await jsonMap(body);
    if (typeof endpoint !== 'string' || endpoint === '')
      throw new BacklineError('BAD_SUBSCRIPTION', 'endpoint: required');
    if (!(await subscriptions.remove(project, userId, endpoint)))
      throw new BacklineError('NOT_FOUND', 'no such push subscription for this user');
    reply.send(204, 'application/json', '');
  });

  // No key: the page needs it before any user signs in.
  createOpenRoutes(app, deps)('get', '/v1/push/vapid-public-key', (reply) =>
    reply.json(200, { publicKey: vapid.publicKey }),
  );
}
