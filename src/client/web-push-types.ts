/**
 * Web push (README "Web push"): the parts of the Push API the helper uses,
 * declared structurally so that this file type-checks without the DOM library and a real
 * `ServiceWorkerRegistration` is accepted as it is.
 */

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
