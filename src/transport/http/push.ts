import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Authenticator } from '../../auth/key-registry.js';
import type { UserTokens } from '../../auth/user-token.js';
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
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import { createReply, readBody, readRequest, type Reply } from './reply.js';
import { takeRequest, type RateLimiters } from '../rate-limits.js';
import { authorizeUserRoute, parseJsonBody, parseUserId } from '../user/user-access.js';

export interface HttpPushDeps {
  auth: Authenticator;
  tokens: Pick<UserTokens, 'verify'>;
  subscriptions: Pick<PushSubscriptions, 'add' | 'remove'>;
  vapid: Pick<VapidKeys, 'publicKey'>;
  /** The outbound URL policy every endpoint must pass, DNS included, before it is stored. */
  endpoints: Pick<OutboundUrlGuard, 'check'>;
  metrics: Metrics;
  log: Logger;
  rateLimits: RateLimiters;
}

/**
 * Web push subscriptions over HTTP: `POST /v1/users/:id/push-subscriptions` with the
 * browser's `PushSubscription` JSON (201 `{id}`; the same endpoint again refreshes it; one
 * the outbound URL policy refuses, e.g. on a private address, is 400 `BAD_SUBSCRIPTION`),
 * `DELETE` of the same path with `{endpoint}` (204, or 404 `NOT_FOUND`), both for the admin
 * key or the user's own token; and `GET /v1/push/vapid-public-key` (no key: the page needs
 * it before any user signs in) for `pushManager.subscribe({applicationServerKey})`.
 */
export function registerHttpPush(app: TemplatedApp, deps: HttpPushDeps): void {
  const { subscriptions, vapid, metrics, log } = deps;
  const pattern = '/v1/users/:id/push-subscriptions';

  const route = (
    method: 'post' | 'del',
    handle: (reply: Reply, project: string, userId: string, body: unknown) => Promise<void>,
  ) => {
    app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
      const info = readRequest(req);
      const rawId = req.getParameter(0) ?? '';
      const reply = createReply(res, log, (status) =>
        metrics.httpRequests.inc({ route: pattern, status }),
      );
      // uWS hands the body only to an onData attached before the handler returns.
      const body = readBody(res, 64 * 1024);
      try {
        const userId = parseUserId(rawId);
        const { project, caller } = authorizeUserRoute(deps, info, 'self-or-admin', userId);
        Promise.all([body, takeRequest(deps, 'http', caller)])
          .then(([bytes]) => handle(reply, project, userId, parseJsonBody(bytes)))
          .catch((err: unknown) => reply.error(err));
      } catch (err) {
        reply.error(err);
      }
    });
  };

  route('post', async (reply, project, userId, body) => {
    const subscription = parsePushSubscription(body);
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

  route('del', async (reply, project, userId, body) => {
    const { endpoint } = body as { endpoint?: unknown };
    if (typeof endpoint !== 'string' || endpoint === '')
      throw new BacklineError('BAD_SUBSCRIPTION', 'endpoint: required');
    if (!(await subscriptions.remove(project, userId, endpoint)))
      throw new BacklineError('NOT_FOUND', 'no such push subscription for this user');
    reply.send(204, 'application/json', '');
  });

  app.get('/v1/push/vapid-public-key', (res: HttpResponse) => {
    const reply = createReply(res, log, (status) =>
      metrics.httpRequests.inc({ route: '/v1/push/vapid-public-key', status }),
    );
    reply.json(200, { publicKey: vapid.publicKey });
  });
}
