import { SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeKey,
  signWith,
  startJwksServer,
  type JwksServer,
  type ProviderKey,
} from '../helpers/jwks-server.js';
import { startPushService, type PushService } from '../helpers/push-service.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { connect, type SocketClient } from '../helpers/socket-client.js';

/** User JWTs over the real server, against a real loopback JWKS server. */
const adminKey = 'jwt_admin_key_0123456789';
const fansIssuer = 'https://idp.fans.test/';
const shop = { secret: 'shop-hs256-secret-'.padEnd(48, 'x'), issuer: 'https://shop.test/auth/v1' };
let jwks: JwksServer;
let k1: ProviderKey;
let server: ServerProcess;
let push: PushService;

const stream = (name: string, access: string) => ({
  name,
  access,
  source: { types: ['vote'] },
  window: { kind: 'tumbling', sizeMs: 600_000 },
  aggregates: [{ name: 'votes', fn: 'count' }],
  outOfOrderMs: 1000,
  emit: { mode: 'early', everyMs: 50 },
});

beforeAll(async () => {
  [jwks, push] = await Promise.all([startJwksServer(), startPushService()]);
  k1 = await makeKey('k1', 'ES256');
  jwks.serve([k1]);
  const jwt = (jwksUrl: string, issuer: string) => ({
    jwt: { jwksUrl, issuer, audience: 'backline', allowInsecureLoopback: true },
  });
  server = await startServer({
    config: {
      push: { allowInsecureLoopback: true },
      projects: [
        {
          id: 'fans',
          keys: [{ key: adminKey, scopes: ['ingest', 'admin'] }],
          auth: jwt(jwks.url, fansIssuer),
          streams: [stream('votes', 'users'), stream('ops', 'private')],
          rules: [
            {
              name: 'welcome',
              trigger: { kind: 'event', types: ['user.signup'] },
              audience: { kind: 'user' },
              notification: {
                category: 'welcome',
                title: 'Hi {{props.name}}',
                body: '',
                channels: ['in_app'],
              },
            },
          ],
        },
        {
          id: 'shop',
          keys: [{ key: 'jwt_shop_key_0123456789', scopes: ['read'] }],
          auth: { jwt: shop },
        },
      ],
    },
  });
});
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
  await Promise.all([jwks?.close(), push?.close()]);
});

const fanToken = (sub: string, claims: JWTPayload = {}) =>
  signWith(k1, { iss: fansIssuer, aud: 'backline', sub, ...claims });

const shopToken = (sub: string) =>
  new SignJWT({ iss: shop.issuer, sub, exp: Math.floor(Date.now() / 1000) + 600 })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(shop.secret));

async function api(method: string, path: string, bearer?: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

let seq = 0;
async function ingest(events: Array<Record<string, unknown>>) {
  seq += 1;
  const batch = events.map((event, i) => ({ id: `jwt-${seq}-${i}`, ts: Date.now(), ...event }));
  const res = await api('POST', '/v1/events', adminKey, { events: batch });
  expect(res.json).toMatchObject({ accepted: events.length });
}

async function next(socket: SocketClient, t: string) {
  for (;;) {
    const message = await socket.nextMessage();
    if (message.t === t) return message;
  }
}

describe('user JWTs on the user socket and the user routes', () => {
  it('opens /v1/user with a JWT as Bearer or ?token=, delivers and marks the user’s notifications', async () => {
    const token = await fanToken('ada');
    const socket = await connect(`${server.wsUrl}/v1/user`, { authorization: `Bearer ${token}` });
    expect(await socket.nextMessage()).toEqual({ t: 'counts', unread: 0, unseen: 0, total: 0 });
    await ingest([{ type: 'user.signup', userId: 'ada', props: { name: 'Ada' } }]);
    const live = await next(socket, 'notification');
    expect(live).toMatchObject({ n: { title: 'Hi Ada', category: 'welcome' } });
    const id = (live.n as { id: string }).id;

    const second = await connect(`${server.wsUrl}/v1/user?token=${token}`);
    expect(await second.nextMessage()).toMatchObject({ t: 'counts', unread: 1 });
    second.send({ t: 'read', ids: [id] });
    expect(await next(second, 'marked')).toEqual({ t: 'marked', as: 'read', ids: [id] });
    expect(await next(socket, 'marked')).toEqual({ t: 'marked', as: 'read', ids: [id] });
    socket.close();
    second.close();

    const inbox = await api('GET', '/v1/users/ada/inbox', token);
    expect(inbox.status).toBe(200);
    expect(inbox.json).toMatchObject({
      items: [{ id, read: true }],
      counts: { unread: 0, total: 1 },
    });
    const archived = await api('POST', '/v1/users/ada/inbox/archive', token, { ids: [id] });
    expect(archived.json).toEqual({ ids: [id], counts: { total: 0, unread: 0, unseen: 0 } });
  });

  it('reads and writes the user’s own preferences and decisions, and nobody else’s', async () => {
    const token = await fanToken('bea');
    const prefs = { categories: { welcome: { email: false } }, digest: 'daily' };
    const put = await api('PUT', '/v1/users/bea/preferences', token, prefs);
    expect(put).toMatchObject({ status: 200, json: prefs });
    expect((await api('GET', '/v1/users/bea/preferences', token)).json).toMatchObject(prefs);
    expect((await api('GET', '/v1/users/bea/decisions', token)).status).toBe(200);

    for (const [method, path] of [
      ['GET', '/v1/users/ada/inbox'],
      ['GET', '/v1/users/ada/preferences'],
      ['PUT', '/v1/users/ada/preferences'],
      ['GET', '/v1/users/ada/decisions'],
      ['POST', '/v1/users/ada/inbox/read'],
      ['POST', '/v1/users/bea/token'],
    ] as const) {
      const res = await api(method, path, token, method === 'GET' ? undefined : { ids: ['x'] });
      expect([method, path, res.status, res.json.code]).toEqual([method, path, 403, 'FORBIDDEN']);
    }
  });

  it('takes push subscriptions from the user’s JWT, for the user alone', async () => {
    const { publicKey } = (await api('GET', '/v1/push/vapid-public-key')).json as {
      publicKey: string;
    };
    const { subscription } = push.subscribe({ applicationServerKey: publicKey });
    const token = await fanToken('cy');
    const created = await api('POST', '/v1/users/cy/push-subscriptions', token, subscription);
    expect(created.status).toBe(201);
    const other = await api('POST', '/v1/users/ada/push-subscriptions', token, subscription);
    expect(other.status).toBe(403);
    const removed = await api('DELETE', '/v1/users/cy/push-subscriptions', token, {
      endpoint: subscription.endpoint,
    });
    expect(removed.status).toBe(204);
  });

  it('keeps backline user tokens working beside JWTs', async () => {
    const issued = await api('POST', '/v1/users/dee/token', adminKey, {});
    const legacy = issued.json.token as string;
    const socket = await connect(`${server.wsUrl}/v1/user?token=${legacy}`);
    expect((await socket.nextMessage()).t).toBe('counts');
    socket.close();
    expect((await api('GET', '/v1/users/dee/inbox', legacy)).status).toBe(200);
    expect((await api('GET', '/v1/users/ada/inbox', legacy)).status).toBe(403);
  });

  it('verifies each project’s JWTs with its own settings: an HS256 secret for shop', async () => {
    const token = await shopToken('eve');
    const socket = await connect(`${server.wsUrl}/v1/user?token=${token}`);
    expect((await socket.nextMessage()).t).toBe('counts');
    socket.close();
    expect((await api('GET', '/v1/users/eve/preferences', token)).status).toBe(200);
  });
});

describe('user JWTs on /v1/live', () => {
  it('subscribes a signed-in user to streams open to users, not to private ones', async () => {
    const live = await connect(`${server.wsUrl}/v1/live?token=${await fanToken('fay')}`);
    live.send({ t: 'sub', id: 'v', stream: 'votes' });
    expect(await live.nextMessage()).toMatchObject({ t: 'snapshot', id: 'v' });
    live.send({ t: 'sub', id: 'o', stream: 'ops' });
    expect(await live.nextMessage()).toMatchObject({ t: 'error', code: 'FORBIDDEN', id: 'o' });
    await ingest([{ type: 'vote', userId: 'fay' }]);
    expect(await next(live, 'window')).toMatchObject({ id: 'v', w: { stream: 'votes' } });
    live.close();
  });
});
