import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteTable } from '../../src/transport/route-table.js';
import { eventually } from '../helpers/eventually.js';
import {
  attackers,
  ofOtherProject,
  routeCases,
  socketCases,
  victim,
  type Attacker,
} from '../helpers/isolation-cases.js';
import { makeKey, signWith, startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { startPushService, type PushService } from '../helpers/push-service.js';
import { createWebhookSigner } from '../helpers/sendgrid-server.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { connect, type Message } from '../helpers/socket-client.js';

/**
 * Isolation: every route and every socket message the server registers (read from its own
 * route table, which it logs at debug level on start) is called with the credentials of
 * another project (its admin key holding every scope, its users' JWTs and tokens, one of
 * them with the victim's user id) and of another user of the victim's project (JWT and
 * token), and with none. Each answer is 401, 403 or 404, or, where the route acts in the
 * caller's own project or user, holds none of the victim's data; afterwards the victim's
 * data is exactly as before. A route or message without a case here fails the suite.
 */
const victimAdmin = 'iso_victim_admin_0123456789';
const intruderAdmin = 'iso_intruder_admin_0123456789';
const intruder = { project: 'intruder', issuer: 'https://idp.intruder.test/' };
const intruderSecret = 'intruder-hs256-secret-'.padEnd(48, 'z');
const victimIssuer = 'https://idp.victim.test/';
const otherUser = 'other-user-of-victim';
let jwks: JwksServer;
let push: PushService;
let server: ServerProcess;
let table: RouteTable;
const credentials = {} as Record<Attacker, string | undefined>;
const ids = { notification: '', key: '', endpoint: '' };
let secrets: string[] = [];

const stream = (name: string, access: string, aggregate: string) => ({
  name,
  access,
  source: { types: ['vote'] },
  window: { kind: 'tumbling', sizeMs: 600_000 },
  aggregates: [{ name: aggregate, fn: 'count' }],
  outOfOrderMs: 1000,
  emit: { mode: 'early', everyMs: 50 },
});

async function api(method: string, path: string, bearer?: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, text: await res.text() };
}
const json = async (method: string, path: string, bearer?: string, body?: unknown) =>
  JSON.parse((await api(method, path, bearer, body)).text) as Record<string, unknown>;

async function startVictimServer() {
  const victimKey = await makeKey('victim-1', 'RS256');
  jwks.serve([victimKey]);
  server = await startServer({
    env: { LOG_LEVEL: 'debug' },
    config: {
      push: { allowInsecureLoopback: true },
      email: { sendgrid: { webhookPublicKey: createWebhookSigner().publicKey } },
      projects: [
        {
          id: victim.project,
          keys: [{ key: victimAdmin, scopes: ['ingest', 'admin'] }],
          auth: { jwt: { jwksUrl: jwks.url, issuer: victimIssuer, allowInsecureLoopback: true } },
          streams: [
            stream(victim.privateStream, 'private', victim.aggregate),
            stream(victim.usersStream, 'users', 'n'),
          ],
          rules: [
            {
              name: victim.rule,
              trigger: { kind: 'event', types: ['user.signup'] },
              audience: { kind: 'user' },
              notification: {
                category: victim.category,
                title: `${victim.title} {{props.name}}`,
                body: '',
                channels: ['in_app'],
              },
            },
          ],
        },
        {
          id: intruder.project,
          keys: [{ key: intruderAdmin, scopes: ['ingest', 'read', 'admin', 'users:read'] }],
          auth: { jwt: { secret: intruderSecret, issuer: intruder.issuer } },
        },
      ],
    },
  });
  const signUser = (sub: string) => signWith(victimKey, { iss: victimIssuer, sub });
  return { signUser };
}

/** The victim's data: a notification, preferences, a push subscription, a template, a key, windows. */
async function seedVictim() {
  const events = [
    { id: 's1', type: 'user.signup', ts: Date.now(), userId: victim.user, props: { name: 'V' } },
    { id: 'v1', type: 'vote', ts: Date.now(), userId: victim.user },
  ];
  expect(await json('POST', '/v1/events', victimAdmin, { events })).toMatchObject({ accepted: 2 });
  const inbox = `/v1/users/${victim.user}/inbox`;
  await eventually(
    async () => ((await json('GET', inbox, victimAdmin)).items as unknown[]).length === 1,
    10_000,
    'the victim’s notification',
  );
  ids.notification = (
    (await json('GET', inbox, victimAdmin)).items as Array<{ id: string }>
  )[0]!.id;
  const prefs = { categories: { [victim.category]: { email: false } } };
  await api('PUT', `/v1/users/${victim.user}/preferences`, victimAdmin, prefs);
  const vapid = (await json('GET', '/v1/push/vapid-public-key')).publicKey as string;
  const { subscription } = push.subscribe({ applicationServerKey: vapid });
  ids.endpoint = subscription.endpoint;
  const sub = await api(
    'POST',
    `/v1/users/${victim.user}/push-subscriptions`,
    victimAdmin,
    subscription,
  );
  expect(sub.status).toBe(201);
  const template = { subject: victim.templateSubject, html: '<p>x</p>', text: 'x' };
  await api('PUT', `/v1/templates/${victim.template}?locale=en`, victimAdmin, template);
  const made = await json('POST', '/v1/keys', victimAdmin, {
    name: victim.keyName,
    scopes: ['read'],
  });
  ids.key = made.id as string;
  return made.key as string;
}

/** Everything of the victim's a caller could change, read with the victim's admin key. */
async function victimState(): Promise<string> {
  const user = `/v1/users/${victim.user}`;
  const reads = await Promise.all(
    [
      '/v1/streams',
      '/v1/rules',
      '/v1/templates',
      `/v1/templates/${victim.template}`,
      '/v1/keys',
      '/v1/events/stats',
      `${user}/inbox?archived=true`,
      `${user}/preferences`,
      `${user}/decisions`,
      `/v1/streams/${victim.privateStream}/windows`,
    ].map(async (path) => {
      const { status, text } = await api('GET', path, victimAdmin);
      const body = JSON.parse(text) as Record<string, unknown>;
      // Ranges default to now; open windows are emitted again and again (`rev` grows).
      delete body.from;
      delete body.to;
      if (Array.isArray(body.windows))
        body.windows = body.windows.map((w: { values: unknown }) => w.values);
      return [path, status, body];
    }),
  );
  return JSON.stringify(reads);
}

/** What each attacker sent so far: its own words may come back to it (echoed paths, its own names). */
const sentBy = Object.fromEntries(attackers.map((who) => [who, ''])) as Record<Attacker, string>;

/** Any of the victim's data in `text`, but what the caller sent itself or the route `exposes`. */
function leaked(who: Attacker, text: string, sent: string, exposes: readonly string[] = []) {
  sentBy[who] += ` ${sent}`;
  // The victim project's users may read its `users` stream: not so another project.
  const theirs = ofOtherProject(who) || who === 'none' ? [] : [victim.usersStream];
  return secrets.filter(
    (secret) =>
      ![...theirs, ...exposes].includes(secret) &&
      !sentBy[who].includes(secret) &&
      text.includes(secret),
  );
}

beforeAll(async () => {
  [jwks, push] = await Promise.all([startJwksServer(), startPushService()]);
  const { signUser } = await startVictimServer();
  const madeKey = await seedVictim();
  const line = server
    .output()
    .split('\n')
    .map((text) => {
      try {
        return JSON.parse(text) as { msg?: string } & RouteTable;
      } catch {
        return undefined;
      }
    })
    .find((entry) => entry?.msg === 'routes');
  table = { routes: line!.routes, sockets: line!.sockets };

  const issue = async (admin: string, userId: string) =>
    (await json('POST', `/v1/users/${userId}/token`, admin, {})).token as string;
  credentials.none = undefined;
  credentials.otherProjectKey = intruderAdmin;
  credentials.otherProjectJwt = await new SignJWT({ sub: victim.user })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(intruder.issuer)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(intruderSecret));
  credentials.otherProjectToken = await issue(intruderAdmin, victim.user);
  credentials.otherUserJwt = await signUser(otherUser);
  credentials.otherUserToken = await issue(victimAdmin, otherUser);
  secrets = [
    ...Object.values(victim).filter((value) => value !== victim.project),
    ...[ids.notification, ids.key, ids.endpoint, victimAdmin, madeKey],
  ];
  // The seeded decisions and windows land in batches: wait until the state holds still.
  let last = '';
  await eventually(
    async () => {
      const now = await victimState();
      const still = now === last;
      last = now;
      return still;
    },
    10_000,
    'the victim’s state to settle',
    500,
  );
});
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
  await Promise.all([jwks?.close(), push?.close()]);
});

describe('isolation between projects and between users', () => {
  it('has a case for every route and socket message the server registers, and no other', () => {
    const routes = routeCases(ids);
    const sockets = socketCases(ids);
    const registered = table.routes.map((r) => `${r.method} ${r.pattern}`);
    const messages = table.sockets.flatMap((s) => s.messages.map((m) => `${s.endpoint} ${m}`));
    expect(registered.length).toBeGreaterThan(30);
    expect(registered.filter((route) => !(route in routes))).toEqual([]);
    expect(Object.keys(routes).filter((route) => !registered.includes(route))).toEqual([]);
    expect(messages.filter((message) => !(message in sockets))).toEqual([]);
    expect(Object.keys(sockets).filter((message) => !messages.includes(message))).toEqual([]);
  });

  it('refuses every route to other projects and other users, or answers with their own data only', async () => {
    const before = await victimState();
    const cases = routeCases(ids);
    const wrong: string[] = [];
    for (const { method, pattern } of table.routes) {
      const route = `${method} ${pattern}`;
      const { path, body, own, exposes } = cases[route]!;
      for (const who of attackers) {
        const verb = method === 'ANY' ? 'GET' : method;
        const answer = await api(verb, path, credentials[who], body);
        const sent = `${path} ${JSON.stringify(body ?? '')}`;
        const refused = [401, 403, 404].includes(answer.status);
        if (!refused && !own.includes(who))
          wrong.push(`${route} as ${who}: ${answer.status} ${answer.text.slice(0, 120)}`);
        const found = leaked(who, answer.text, sent, exposes);
        if (found.length > 0) wrong.push(`${route} as ${who} leaked ${found.join(', ')}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(await victimState()).toBe(before);
    // The victim's push subscription is still there: only its user or admin remove it.
    const endpoint = { endpoint: ids.endpoint };
    const path = `/v1/users/${victim.user}/push-subscriptions`;
    expect((await api('DELETE', path, victimAdmin, endpoint)).status).toBe(204);
  });

  it('opens no socket to the victim’s data, and sends none over one that opens', async () => {
    const before = await victimState();
    const cases = socketCases(ids);
    const wrong: string[] = [];
    for (const { endpoint, messages } of table.sockets) {
      for (const message of messages) {
        const frames = cases[`${endpoint} ${message}`]!;
        for (const who of attackers) {
          const credential = credentials[who];
          const query =
            who === 'none' && endpoint === '/v1/live' ? `?project=${victim.project}` : '';
          const headers: Record<string, string> = credential
            ? { authorization: `Bearer ${credential}` }
            : {};
          let socket;
          try {
            socket = await connect(`${server.wsUrl}${endpoint}${query}`, headers);
          } catch (err) {
            const status = Number(/upgrade refused: (\d+)/.exec(String(err))?.[1]);
            if (![401, 403, 404].includes(status))
              wrong.push(`${endpoint} as ${who}: ${String(err)}`);
            continue;
          }
          for (const frame of frames) socket.send(frame);
          await new Promise((resolve) => setTimeout(resolve, 300));
          const received: Message[] = [];
          for (;;) {
            const next = await socket.nextMessage(1).catch(() => undefined);
            if (!next) break;
            received.push(next);
          }
          socket.close();
          const found = leaked(who, JSON.stringify(received), JSON.stringify(frames));
          if (found.length > 0)
            wrong.push(`${endpoint} ${message} as ${who} leaked ${found.join(', ')}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(await victimState()).toBe(before);
  });
});
