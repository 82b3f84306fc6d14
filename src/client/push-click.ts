import { createServerRequest } from './server-request.js';
import type { FetchLike } from './web-push-types.js';

export interface PushClickOptions {
  /** The server, as for `registerWebPush`; in a service worker it defaults to its origin. */
  url?: string | readonly string[];
  /** The user's token, as the service worker keeps it from `registerWebPush`. */
  token: string;
  userId: string;
  /** The clicked notification's `id` (every push payload carries it). */
  notificationId: string;
  /** The action button clicked (`event.action`), if any. */
  action?: string;
  fetch?: FetchLike;
}

/**
 * Reports a click on a web push notification, from the service worker's `notificationclick`:
 * `POST /v1/users/:id/push-clicks`, which the server stores as a `push.click` event (campaign
 * reports and rule A/B tests count it). Rejects with a `WebPushError` when refused.
 *
 * @example
 * // In sw.js:
 * self.addEventListener('notificationclick', (event) => {
 *   const id = event.notification.data.notificationId; // set from the payload's `id` at `push`
 *   event.waitUntil(reportPushClick({ token, userId, notificationId: id, action: event.action }));
 * });
 */
export async function reportPushClick(options: PushClickOptions): Promise<void> {
  const request = createServerRequest(options.url, options.fetch);
  const { notificationId, action } = options;
  await request(`/v1/users/${encodeURIComponent(options.userId)}/push-clicks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ notificationId, ...(action ? { action } : {}) }),
  });
}
