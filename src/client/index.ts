/**
 * The backline client library, for browsers and Node 20:
 * `import { createClient } from 'backline/client'`. Events go out with `track`, metric streams
 * come in with `subscribe`, a user's in-app notifications with `inbox` (inbox.ts), and
 * `registerWebPush` registers a service worker's push subscription for a user (web-push.ts)
 * and `reportPushClick` reports a click on one of its notifications (push-click.ts).
 */
export { createClient } from './client.js';
export { socketUrl } from './socket-url.js';
export { registerWebPush, WebPushError } from './web-push.js';
export { reportPushClick } from './push-click.js';
export type { PushClickOptions } from './push-click.js';
export type { Client, ClientOptions, ClientStats, Identity } from './client.js';
export type { BackoffOptions } from './backoff.js';
export type { BatchOptions } from './batcher.js';
export type { Inbox, InboxOptions } from './inbox.js';
export type { SubscribeOptions, Subscription, WindowHandler } from './live.js';
export type { KeyValueStorage } from './offline-queue.js';
export type {
  ClientEvent,
  InboxCounts,
  InboxNotification,
  IngestAck,
  LiveWindow,
  MarkedAs,
  PropValue,
  Props,
  ServerError,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
export type {
  FetchLike,
  PushManagerLike,
  PushRegistrationLike,
  PushSubscriptionJSONLike,
  PushSubscriptionLike,
  WebPush,
  WebPushOptions,
} from './web-push.js';
