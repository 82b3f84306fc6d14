/**
 * Web push registration (README "Web push"): the parts of the Push API the helper uses,
 * declared structurally so that this file type-checks without the DOM library and a real
 * `ServiceWorkerRegistration` is accepted as it is.
 */

import { serverList, startIndex } from './server-list.js';

/** What `PushSubscription.toJSON()` gives: the body of `POST /v1/users/:id/push-subscriptions`. */
export interface PushSubscriptionJSONLike {
  endpoint?: string;
  expirationTime?: number | null;
  keys?: Record<string, string>;
}

/** The part of a browser's `PushSubscription` the helper uses. */
export interface PushSubscriptionLike {
  readonly endpoint: string;
  /** The options it was made with; `applicationServerKey` tells which VAPID key may push to it. */
  readonly options?: { readonly applicationServerKey: ArrayBuffer | null };
  toJSON(): PushSubscriptionJSONLike;
  unsubscribe(): Promise<boolean>;
}

/** The part of a browser's `PushManager` the helper uses. */
export interface PushManagerLike {
  getSubscription(): Promise<PushSubscriptionLike | null>;
  subscribe(options: {
    userVisibleOnly: boolean;
    applicationServerKey: Uint8Array<ArrayBuffer>;
  }): Promise<PushSubscriptionLike>;
}

/** A service worker's `ServiceWorkerRegistration`, as far as push goes. */
export interface PushRegistrationLike {
  readonly pushManager: PushManagerLike;
}

/** The part of `fetch` the helper uses. */
export type FetchLike = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

export interface WebPushOptions {
  /**
   * The server, `http(s)://`; in a page or a service worker it defaults to its origin. A list
   * names the nodes of a cluster: requests start on one at random and go to the next node
   * when one cannot be reached (not when it answers with an error).
   */
  url?: string | readonly string[];
  /**
   * A user token from `POST /v1/users/:id/token` (which only an admin key may call: an app's
   * backend does, never the browser).
   */
  token: string;
  /** The user the token is for. */
  userId: string;
  /** The service worker's registration: `await navigator.serviceWorker.ready`, or `self.registration`. */
  registration: PushRegistrationLike;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
}

/** A registered push subscription. */
export interface WebPush {
  /** The browser's subscription, as stored by the server. */
  subscription: PushSubscriptionLike;
  /**
   * Removes the subscription at the server (`DELETE /v1/users/:id/push-subscriptions`), then
   * in the browser. Rejects when the server refuses (404 `NOT_FOUND` once it is gone), after
   * the browser's subscription is removed all the same.
   */
  unsubscribe(): Promise<void>;
}

/** A refusal of the server: `code` and `message` from its `{code, msg}` body. */
export class WebPushError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'WebPushError';
    this.status = status;
    this.code = code;
  }
}

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
  const send: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const servers = serverList(options.url);
  let at = startIndex(servers.length);
  const subscriptionsPath = `/v1/users/${encodeURIComponent(options.userId)}/push-subscriptions`;

  // Stays on the node that answered; a fetch that fails (no answer at all) tries the next.
  const request = async (path: string, init?: Parameters<FetchLike>[1]) => {
    for (let tried = 1; ; tried++) {
      let res: Awaited<ReturnType<FetchLike>>;
      try {
        res = await send(new URL(path, servers[at]).toString(), init);
      } catch (err) {
        if (tried >= servers.length) throw err;
        at = (at + 1) % servers.length;
        continue;
      }
      const text = await res.text();
      if (!res.ok) throw refusal(res.status, text);
      return text;
    }
  };
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

function refusal(status: number, text: string): WebPushError {
  try {
    const { code, msg } = JSON.parse(text) as { code?: unknown; msg?: unknown };
    if (typeof code === 'string')
      return new WebPushError(status, code, typeof msg === 'string' ? msg : code);
  } catch {
    // Not the server's JSON (a proxy's page): the status says it all.
  }
  return new WebPushError(status, 'HTTP_ERROR', `HTTP ${status}`);
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
