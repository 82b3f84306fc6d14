/** Web push registration (README "Web push"). */

import { createServerRequest } from './server-request.js';
import type { WebPush, WebPushOptions } from './web-push-types.js';

export { WebPushError } from './web-push-types.js';
export type * from './web-push-types.js';

/**
 * Registers the browser's web push subscription for a user: reads the server's VAPID key
 * (`GET /v1/push/vapid-public-key`), subscribes with it (`userVisibleOnly: true`; an existing
 * subscription made with the same key is reused, one made with another key is replaced) and
 * sends `subscription.toJSON()` to `POST /v1/users/:id/push-subscriptions` with the user's
 * token. Calling it again (every page load, say) is harmless: the server refreshes a known
 * endpoint. Rejects with a `WebPushError` when the server refuses, and with the browser's
 * error when it does (permission denied: `NotAllowedError`).
 *
 * @example
 * // In a page, once the user has agreed to notifications:
 * import { registerWebPush } from 'backline/client';
 * const registration = await navigator.serviceWorker.register('/sw.js');
 * await navigator.serviceWorker.ready;
 * const push = await registerWebPush({ url: 'https://backline.example', token, userId: 'fan-42', registration });
 * // … on sign-out:
 * await push.unsubscribe();
 *
 * // In sw.js: the payload is the in-app JSON {id, category, title, body, data, ts}.
 * self.addEventListener('push', (event) => {
 *   const n = event.data.json();
 *   event.waitUntil(self.registration.showNotification(n.title, { body: n.body, data: n.data }));
 * });
 */
export async function registerWebPush(options: WebPushOptions): Promise<WebPush> {
  const { registration, token } = options;
  const request = createServerRequest(options.url, options.fetch);
  const subscriptionsPath = `/v1/users/${encodeURIComponent(options.userId)}/push-subscriptions`;
  const userRequest = (method: string, body: unknown) =>
    request(subscriptionsPath, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const keyText = await request('/v1/push/vapid-public-key');
  const { publicKey } = JSON.parse(keyText) as { publicKey: string };
  const applicationServerKey = fromBase64Url(publicKey);

  const { pushManager } = registration;
  let subscription = await pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options?.applicationServerKey, applicationServerKey)) {
    // A browser refuses a second key for the same registration: the old one must go first.
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await pushManager.subscribe({ userVisibleOnly: true, applicationServerKey });
  const json = subscription.toJSON();
  await userRequest('POST', json);

  const endpoint = json.endpoint ?? subscription.endpoint;
  const registered = subscription;
  return {
    subscription: registered,
    async unsubscribe() {
      try {
        await userRequest('DELETE', { endpoint });
      } finally {
        await registered.unsubscribe();
      }
    },
  };
}

/** base64url (padded or not) to bytes, without Node's Buffer. */
function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function sameKey(key: ArrayBuffer | null | undefined, expected: Uint8Array): boolean {
  if (!key || key.byteLength !== expected.length) return false;
  const bytes = new Uint8Array(key);
  return bytes.every((byte, i) => byte === expected[i]);
}
