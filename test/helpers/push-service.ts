import { createECDH, randomBytes, randomUUID, type ECDH } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { createOutboundUrlGuard } from '../../src/notify/channels/web-push/outbound-url.js';
import { checkHeaders, checkVapid, decryptPushMessage, Refusal } from './push-message-checks.js';

/**
 * The outbound URL policy with `allowInsecureLoopback` on, as the double listens on loopback
 * over http: (the default policy refuses both).
 */
export const doubleEndpoints = createOutboundUrlGuard({}, { allowInsecureLoopback: true });

/** What a browser's `PushSubscription.toJSON()` gives. */
export interface BrowserSubscription {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

export interface ScriptedAnswer {
  status: number;
  /** Sent as `Retry-After` (seconds or an HTTP-date). */
  retryAfter?: string;
}

/** A push message that passed every check, with what the double answered. */
export interface ReceivedPush {
  subscriptionId: string;
  at: number;
  status: number;
  headers: IncomingHttpHeaders;
  /** The decrypted payload, as the browser's service worker would get it. */
  plaintext: string;
  claims: { aud: string; exp: number; sub: string };
}

export interface RefusedPush {
  subscriptionId: string | undefined;
  at: number;
  status: number;
  reason: string;
}

interface Browser {
  keys: ECDH;
  authSecret: Buffer;
  applicationServerKey: string | undefined;
  answers: ScriptedAnswer[];
  gone: boolean;
}

/**
 * A push service and the browsers subscribed to it, on a real HTTP server on loopback,
 * checking what real push services check: VAPID (RFC 8292: an ES256 JWT signed by the `k`
 * key, `aud` the endpoint's origin, `exp` in the future and within 24 h, `sub` a mailto: or
 * https: URL), the key a subscription was made with (403 otherwise), RFC 8030 headers (`TTL`
 * required, `Urgency` and `Topic` valid), at most 4096 bytes (413), and an aes128gcm body
 * (RFC 8291) that decrypts with the browser's keys. Anything else: 400. Each subscription
 * answers from its script, then 201.
 *
 * @example
 * const service = await startPushService();
 * const { id, subscription } = service.subscribe({ applicationServerKey: vapid.publicKey });
 * service.answer(id, { status: 429, retryAfter: '1' });
 * // … send …; service.received[0].plaintext
 */
export async function startPushService() {
  const browsers = new Map<string, Browser>();
  const received: ReceivedPush[] = [];
  const refused: RefusedPush[] = [];

  /** Checks one request as a push service would, then answers from the script. */
  function accept(id: string | undefined, req: IncomingMessage, body: Buffer, at: number) {
    const browser = id === undefined ? undefined : browsers.get(id);
    if (!browser || req.method !== 'POST') throw new Refusal(404, 'no such subscription');
    if (browser.gone) throw new Refusal(410, 'the subscription has expired or unsubscribed');
    const claims = checkVapid(req.headers.authorization, origin, browser.applicationServerKey);
    checkHeaders(req.headers, body);
    const plaintext = decryptPushMessage(body, browser.keys, browser.authSecret).toString();
    const answer = browser.answers.shift() ?? { status: 201 };
    const { headers } = req;
    received.push({ subscriptionId: id!, at, status: answer.status, headers, plaintext, claims });
    return answer;
  }

  const server = createServer((req, res) => {
    const at = Date.now();
    const id = /^\/push\/([\w-]+)$/.exec(req.url ?? '')?.[1];
    buffer(req)
      .then((body) => {
        const answer = accept(id, req, body, at);
        const headers: Record<string, string> = {};
        if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter;
        if (answer.status === 201) headers.location = `/message/${randomUUID()}`;
        res.writeHead(answer.status, headers).end();
      })
      .catch((err: unknown) => {
        const status = err instanceof Refusal ? err.status : 400;
        refused.push({ subscriptionId: id, at, status, reason: (err as Error).message });
        res.writeHead(status, { 'content-type': 'text/plain' }).end((err as Error).message);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    /** Every push message that passed the checks, in arrival order. */
    received,
    /** Every request refused before a scripted answer, with the reason. */
    refused,

    /** A browser subscribing; with `applicationServerKey`, only that VAPID key may push. */
    subscribe(options: { applicationServerKey?: string } = {}) {
      const id = randomUUID();
      const keys = createECDH('prime256v1');
      keys.generateKeys();
      const authSecret = randomBytes(16);
      const { applicationServerKey } = options;
      browsers.set(id, { keys, authSecret, applicationServerKey, answers: [], gone: false });
      const subscription: BrowserSubscription = {
        endpoint: `${origin}/push/${id}`,
        expirationTime: null,
        keys: {
          p256dh: keys.getPublicKey().toString('base64url'),
          auth: authSecret.toString('base64url'),
        },
      };
      return { id, subscription };
    },
    /** The next answers to pushes for `id`, in order; 201 after them. */
    answer(id: string, ...answers: ScriptedAnswer[]) {
      browsers.get(id)!.answers.push(...answers);
    },
    /** The browser unsubscribed: every later push is answered 410 Gone. */
    unsubscribe(id: string) {
      browsers.get(id)!.gone = true;
    },
    receivedFor: (id: string) => received.filter((r) => r.subscriptionId === id),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type PushService = Awaited<ReturnType<typeof startPushService>>;
