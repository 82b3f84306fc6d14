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
import { maxIdLength } from '../../notify/inbox-marks.js';
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
  /** Hands a `push.click` event to the project's stream; resolves once stored. */
  track: (project: string, event: PushClickEvent) => Promise<unknown>;
}

/** What a click on a web push notification becomes, in protocol v1 shape. */
export interface PushClickEvent {
  id: string;
  type: 'push.click';
  ts: number;
  userId: string;
  props: { notificationId: string; action?: string };
}

/**
 * Web push subscriptions over HTTP: `POST /v1/users/:id/push-subscriptions` with the
 * browser's `PushSubscription` JSON (201 `{id}`; the same endpoint again refreshes it; one
 * the outbound URL policy refuses, e.g. on a private address, is 400 `BAD_SUBSCRIPTION`),
 * `DELETE` of the same path with `{endpoint}` (204, or 404 `NOT_FOUND`), both for the admin
 * key or the user's own token (a backline user token or a JWT); and `GET /v1/push/vapid-public-key` (no key: the page needs
 * it before any user signs in) for `pushManager.subscribe({applicationServerKey})`.
 * `POST /v1/users/:id/push-clicks` with `{notificationId, action?}` (the client library's
 * `reportPushClick`, from the service worker's `notificationclick`) becomes a `push.click`
 * event (204; 400 `BAD_FRAME` for a missing or overlong id); its id is derived from the
 * notification's, so a repeated report is stored once.
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

  route('post', '/v1/users/:id/push-clicks', 'self-or-admin', async (call) => {
    const { notificationId, action } = await jsonMap(call.body);
    const text = (value: unknown, max: number) =>
      typeof value === 'string' && value.length > 0 && value.length <= max;
    if (!text(notificationId, maxIdLength) || (action !== undefined && !text(action, 64)))
      throw new BacklineError(
        'BAD_FRAME',
        '`notificationId` (and `action`, if any) must be short strings',
      );
    const id = notificationId as string;
    await deps.track(call.project, {
      id: `push-click-${id}`,
      type: 'push.click',
      ts: Date.now(),
      userId: call.userId,
      props: { notificationId: id, ...(action ? { action: action as string } : {}) },
    });
    call.reply.send(204, 'application/json', '');
  });

  // No key: the page needs it before any user signs in.
  createOpenRoutes(app, deps)('get', '/v1/push/vapid-public-key', (reply) =>
    reply.json(200, { publicKey: vapid.publicKey }),
  );
}
