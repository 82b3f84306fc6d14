/**
 * The backline client library, for browsers and Node 20:
 * `import { createClient } from 'backline/client'`.
 *
 * Extension point, not built yet: **in-app notifications** (the user's socket with its user
 * token, the inbox and its read state) belong in a `notifications.ts` beside `live.ts`, with
 * its own reconnecting `Connection`, exposed as `client.notifications` from `createClient`.
 * **Web push** (register a service worker's `PushSubscription`) waits for
 * `POST /v1/users/:id/push-subscriptions` on the server.
 */
export { createClient, socketUrl } from './client.js';
export type { Client, ClientOptions, ClientStats, Identity } from './client.js';
export type { BackoffOptions } from './backoff.js';
export type { BatchOptions } from './batcher.js';
export type { SubscribeOptions, Subscription, WindowHandler } from './live.js';
export type { KeyValueStorage } from './offline-queue.js';
export type {
  ClientEvent,
  IngestAck,
  LiveWindow,
  PropValue,
  Props,
  ServerError,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
