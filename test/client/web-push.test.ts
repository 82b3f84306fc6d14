import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createClient,
  registerWebPush,
  WebPushError,
  type Client,
  type FetchLike,
  type PushRegistrationLike,
  type PushSubscriptionLike,
} from '../../src/client/index.js';
import { eventually } from '../helpers/eventually.js';
import { freePort } from '../helpers/free-port.js';
import { startPushService, type PushService } from '../helpers/push-service.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

/**
 * `registerWebPush` against the real server, with the push-service double standing in for
 * the browser's push service: the registration's `pushManager` makes its subscriptions there,
 * with real keys, so what the server pushes is checked (VAPID, encryption) and decrypted.
 */
const key = 'web_push_dev_key_0123456789';
const config = {
  projects: [
    {
      id: 'dev',
      keys: [{ key, scopes: ['ingest', 'read', 'admin'] }],
      rules: [
        {
          name: 'ping',
          trigger: { kind: 'event', types: ['ping'] },
          audience: { kind: 'user' },
          notification: {
            category: 't',
            title: 'Hello {{props.n}}',
            body: 'b',
            channels: ['web_push'],
          },
        },
      ],
    },
  ],
};

interface Decision {
  notification_id: string;
  channel: string;
  outcome: string;
  reason: string;
}

/** A service worker's registration whose push manager subscribes at the double. */
function fakeRegistration(service: PushService) {
  let current: (PushSubscriptionLike & { id: string }) | null = null;
  const calls = { subscribe: 0, unsubscribe: 0 };
  const registration: PushRegistrationLike = {
    pushManager: {
      getSubscription: () => Promise.resolve(current),
      subscribe: (options) => {
        calls.subscribe++;
        expect(options.userVisibleOnly).toBe(true);
        const made = service.subscribe({
          applicationServerKey: Buffer.from(options.applicationServerKey).toString('base64url'),
        });
        const keyBytes = options.applicationServerKey.slice().buffer;
        const subscription = {
          id: made.id,
          endpoint: made.subscription.endpoint,
          options: { applicationServerKey: keyBytes },
          toJSON: () => structuredClone(made.subscription),
          unsubscribe: (): Promise<boolean> => {
            calls.unsubscribe++;
            const was = current === subscription;
            if (was) current = null;
            service.unsubscribe(made.id); // later pushes to it: 410 Gone
            return Promise.resolve(was);
          },
        };
        current = subscription;
        return Promise.resolve(subscription);
      },
    },
  };
  return { registration, calls, current: () => current };
}

describe('registerWebPush against the real server and the push-service double', () => {
  let server: ServerProcess;
  let service: PushService;
  let client: Client;

  beforeAll(async () => {
    service = await startPushService();
    // The double listens on loopback over http:, which only this setting lets through.
    server = await startServer({ config, env: { BACKLINE_PUSH_ALLOW_INSECURE_LOOPBACK: '1' } });
    client = createClient({
      url: server.url,
      key,
      WebSocket,
      storage: null,
      batch: { maxDelayMs: 10 },
      backoff: { baseMs: 50, maxMs: 500 },
    });
  });
  afterAll(async () => {
    client?.close();
    await server?.stop();
    if (server) removeDir(server.dataDir);
    await service?.close();
  });

  async function userToken(userId: string): Promise<string> {
    const res = await fetch(`${server.url}/v1/users/${userId}/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  }

  async function get<T>(path: string): Promise<T> {
    const res = await fetch(`${server.url}${path}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  }

  async function ping(userId: string, n: number) {
    client.track('ping', { n }, { userId });
    await client.flush();
  }

  it('subscribes with the VAPID key, gets a ping as a push, and unsubscribe stops them', async () => {
    const fan = fakeRegistration(service);
    const push = await registerWebPush({
      url: server.url,
      token: await userToken('ana'),
      userId: 'ana',
      registration: fan.registration,
    });
    const id = fan.current()!.id;
    expect(fan.calls.subscribe).toBe(1);
    expect(push.subscription.endpoint).toBe(`${service.origin}/push/${id}`);

    await ping('ana', 1);
    await eventually(() => service.receivedFor(id).length === 1, 10_000, 'the push');
    const [received] = service.receivedFor(id);
    expect(JSON.parse(received!.plaintext)).toMatchObject({ category: 't', title: 'Hello 1' });
    expect(received!.claims.aud).toBe(service.origin);

    await push.unsubscribe();
    expect(fan.calls.unsubscribe).toBe(1);
    expect(fan.current()).toBeNull();

    // The router finds no channel for the second ping (the server no longer knows the
    // endpoint), so it tries no push: a try would show in `refused`, as the double answers
    // 410 for an unsubscribed browser.
    await ping('ana', 2);
    let second: Decision[] = [];
    await eventually(
      async () => {
        const inbox = await get<{ items: Array<{ id: string; title: string }> }>(
          '/v1/users/ana/inbox',
        );
        const item = inbox.items.find((i) => i.title === 'Hello 2');
        if (!item) return false;
        second = (
          await get<{ decisions: Decision[] }>(`/v1/users/ana/decisions?notification=${item.id}`)
        ).decisions;
        return second.length > 0;
      },
      10_000,
      'the decision on the second ping',
    );
    expect(second).toEqual([
      expect.objectContaining({
        channel: '',
        outcome: 'sent',
        reason: expect.stringMatching(/^inbox_only/),
      }),
    ]);
    expect(service.receivedFor(id)).toHaveLength(1);
    expect(service.refused.filter((r) => r.subscriptionId === id)).toEqual([]);

    // Gone at the server: a second DELETE is 404.
    const again = await push.unsubscribe().catch((err: unknown) => err);
    expect(again).toBeInstanceOf(WebPushError);
    expect(again).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('reuses a subscription made with the same key instead of subscribing again', async () => {
    const fan = fakeRegistration(service);
    const token = await userToken('bo');
    const options = { url: server.url, token, userId: 'bo', registration: fan.registration };
    const first = await registerWebPush(options);
    const second = await registerWebPush(options);
    expect(fan.calls.subscribe).toBe(1);
    expect(second.subscription).toBe(first.subscription);

    await ping('bo', 3);
    const id = fan.current()!.id;
    await eventually(() => service.receivedFor(id).length === 1, 10_000, 'the push');
    expect(JSON.parse(service.receivedFor(id)[0]!.plaintext)).toMatchObject({ title: 'Hello 3' });
    await second.unsubscribe();
  });

  it('replaces a subscription made with another key', async () => {
    const fan = fakeRegistration(service);
    const other = new Uint8Array(new ArrayBuffer(65)).fill(7);
    const old = await fan.registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: other,
    });
    const push = await registerWebPush({
      url: server.url,
      token: await userToken('eve'),
      userId: 'eve',
      registration: fan.registration,
    });
    expect(fan.calls).toEqual({ subscribe: 2, unsubscribe: 1 });
    expect(push.subscription).not.toBe(old);
    expect(push.subscription).toBe(fan.current());
    await push.unsubscribe();
  });

  /** The global fetch, noting each request's origin and method. */
  function recordedFetch() {
    const calls: string[] = [];
    const fetch: FetchLike = (url, init) => {
      calls.push(`${init?.method ?? 'GET'} ${new URL(url).origin}`);
      return globalThis.fetch(url, init);
    };
    return { fetch, calls };
  }

  it('given a list, moves past a node that cannot be reached and stays on the one that answered', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`; // nothing listens: refused at once
    const fan = fakeRegistration(service);
    const { fetch, calls } = recordedFetch();
    vi.spyOn(Math, 'random').mockReturnValue(0); // start on the first of the list
    try {
      const push = await registerWebPush({
        url: [dead, server.url],
        token: await userToken('flo'),
        userId: 'flo',
        registration: fan.registration,
        fetch,
      });
      await push.unsubscribe();
    } finally {
      vi.restoreAllMocks();
    }
    expect(calls).toEqual([
      `GET ${dead}`,
      `GET ${server.url}`,
      `POST ${server.url}`,
      `DELETE ${server.url}`,
    ]);
  });

  it('given a list, takes a refusal as the answer rather than asking another node', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { fetch, calls } = recordedFetch();
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const err = await registerWebPush({
      url: [server.url, dead],
      token: await userToken('gus'),
      userId: 'hal',
      registration: fakeRegistration(service).registration,
      fetch,
    })
      .catch((e: unknown) => e)
      .finally(() => vi.restoreAllMocks());
    expect(err).toMatchObject({ name: 'WebPushError', status: 403, code: 'FORBIDDEN' });
    expect(calls).toEqual([`GET ${server.url}`, `POST ${server.url}`]);
  });

  it('refuses with the server code when the token is not the user’s', async () => {
    const fan = fakeRegistration(service);
    const err = await registerWebPush({
      url: server.url,
      token: await userToken('cy'),
      userId: 'dee',
      registration: fan.registration,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'WebPushError', status: 403, code: 'FORBIDDEN' });
  });
});
