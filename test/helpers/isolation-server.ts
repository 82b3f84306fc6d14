import { SignJWT } from 'jose';
import { expect } from 'vitest';
import type { RouteTable } from '../../src/transport/route-table.js';
import { eventually } from './eventually.js';
import { victim, type Attacker } from './isolation-cases.js';
import { makeKey, signWith, type JwksServer } from './jwks-server.js';
import type { PushService } from './push-service.js';
import { createWebhookSigner } from './sendgrid-server.js';
import { startServer, type ServerProcess } from './server-process.js';

/**
 * The isolation suite's real server: the victim project (JWTs from a loopback JWKS, a private
 * and a users stream, an in-app rule) and the intruder project (an admin key with every scope,
 * HS256 JWTs), logging its route table at debug level; and the victim's data seeded into it.
 */
export const victimAdmin = 'iso_victim_admin_0123456789';
export const intruderAdmin = 'iso_intruder_admin_0123456789';
const intruder = { project: 'intruder', issuer: 'https://idp.intruder.test/' };
const intruderSecret = 'intruder-hs256-secret-'.padEnd(48, 'z');
const victimIssuer = 'https://idp.victim.test/';
const otherUser = 'other-user-of-victim';

const stream = (name: string, access: string, aggregate: string) => ({
  name,
  access,
  source: { types: ['vote'] },
  window: { kind: 'tumbling', sizeMs: 600_000 },
  aggregates: [{ name: aggregate, fn: 'count' }],
  outOfOrderMs: 1000,
  emit: { mode: 'early', everyMs: 50 },
});

const victimProject = (jwksUrl: string) => ({
  id: victim.project,
  keys: [{ key: victimAdmin, scopes: ['ingest', 'admin'] }],
  auth: { jwt: { jwksUrl, issuer: victimIssuer, allowInsecureLoopback: true } },
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
        ...{ category: victim.category, title: `${victim.title} {{props.name}}` },
        ...{ body: '', channels: ['in_app'] },
      },
    },
  ],
});

/** JSON calls to the server, answered as status and text. */
export const caller = (server: () => ServerProcess) => {
  const api = async (method: string, path: string, bearer?: string, body?: unknown) => {
    const res = await fetch(`${server().url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, text: await res.text() };
  };
  const json = async (method: string, path: string, bearer?: string, body?: unknown) =>
    JSON.parse((await api(method, path, bearer, body)).text) as Record<string, unknown>;
  return { api, json };
};
export type Caller = ReturnType<typeof caller>;

export async function startIsolationServer(jwks: JwksServer) {
  const victimKey = await makeKey('victim-1', 'RS256');
  jwks.serve([victimKey]);
  const server = await startServer({
    env: { LOG_LEVEL: 'debug' },
    config: {
      push: { allowInsecureLoopback: true },
      email: {
        sendgrid: { webhookPublicKey: createWebhookSigner().publicKey },
        unsubscribe: { baseUrl: 'https://mail.example.test' },
      },
      projects: [
        victimProject(jwks.url),
        {
          id: intruder.project,
          keys: [{ key: intruderAdmin, scopes: ['ingest', 'read', 'admin', 'users:read'] }],
          auth: { jwt: { secret: intruderSecret, issuer: intruder.issuer } },
        },
      ],
    },
  });
  const signUser = (sub: string) => signWith(victimKey, { iss: victimIssuer, sub });
  return { server, signUser };
}

/** The route table the server logged at start (`routes`, at debug level). */
export function loggedRouteTable(output: string): RouteTable {
  const line = output
    .split('\n')
    .map((text) => {
      try {
        return JSON.parse(text) as { msg?: string } & RouteTable;
      } catch {
        return undefined;
      }
    })
    .find((entry) => entry?.msg === 'routes');
  return { routes: line!.routes, sockets: line!.sockets };
}

/** The victim's data: a notification, preferences, a push subscription, a template, a key, windows. */
export async function seedVictim({ api, json }: Caller, push: PushService) {
  const events = [
    { id: 's1', type: 'user.signup', ts: Date.now(), userId: victim.user, props: { name: 'V' } },
    { id: 'v1', type: 'vote', ts: Date.now(), userId: victim.user },
    {
      id: 'v2',
      type: 'vote',
      ts: Date.now(),
      anonymousId: victim.visitor,
      props: { by: victim.visitor },
    },
  ];
  expect(await json('POST', '/v1/events', victimAdmin, { events })).toMatchObject({ accepted: 3 });
  const inbox = `/v1/users/${victim.user}/inbox`;
  const items = async () => (await json('GET', inbox, victimAdmin)).items as Array<{ id: string }>;
  await eventually(async () => (await items()).length === 1, 10_000, 'the victim’s notification');
  const prefs = { categories: { [victim.category]: { email: false } } };
  await api('PUT', `/v1/users/${victim.user}/preferences`, victimAdmin, prefs);
  const vapid = (await json('GET', '/v1/push/vapid-public-key')).publicKey as string;
  const { subscription } = push.subscribe({ applicationServerKey: vapid });
  const subscriptions = `/v1/users/${victim.user}/push-subscriptions`;
  expect((await api('POST', subscriptions, victimAdmin, subscription)).status).toBe(201);
  const template = { subject: victim.templateSubject, html: '<p>x</p>', text: 'x' };
  await api('PUT', `/v1/templates/${victim.template}?locale=en`, victimAdmin, template);
  const made = await json('POST', '/v1/keys', victimAdmin, {
    name: victim.keyName,
    scopes: ['read'],
  });
  const cohort = { conditions: [{ kind: 'performed', types: ['vote'] }] };
  expect((await api('PUT', `/v1/cohorts/${victim.cohort}`, victimAdmin, cohort)).status).toBe(200);
  await seedJob({ api, json });
  // Due tomorrow: it stays `scheduled`, so the victim's state holds still through the suite.
  const campaign = await json('POST', '/v1/campaigns', victimAdmin, {
    name: victim.campaign,
    audience: { kind: 'list', users: [victim.user] },
    notification: { category: victim.category, title: victim.title, body: 'x' },
    sendAt: Date.now() + 86_400_000,
  });
  const ids = {
    notification: (await items())[0]!.id,
    key: made.id as string,
    endpoint: subscription.endpoint,
    campaign: campaign.id as string,
  };
  return { ids, madeKey: made.key as string };
}

/** Everything of the victim's a caller could change, read with the victim's admin key. */
export async function victimState({ api }: Caller): Promise<string> {
  const user = `/v1/users/${victim.user}`;
  const paths = [
    ...['/v1/streams', '/v1/rules', '/v1/templates', `/v1/templates/${victim.template}`],
    ...['/v1/keys', '/v1/events/stats', `${user}/inbox?archived=true`, `${user}/preferences`],
    ...[`${user}/decisions`, `/v1/streams/${victim.privateStream}/windows`],
    ...['/v1/cohorts', `/v1/cohorts/${victim.cohort}/members`, '/v1/jobs', '/v1/campaigns'],
  ];
  const reads = await Promise.all(
    paths.map(async (path) => {
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

/** Waits until the victim's state holds still: seeded decisions and windows land in batches. */
export async function settled(call: Caller): Promise<void> {
  let last = '';
  await eventually(
    async () => {
      const now = await victimState(call);
      const still = now === last;
      last = now;
      return still;
    },
    10_000,
    'the victim’s state to settle',
    500,
  );
}

/** Every attacker's credential. */
export async function attackerCredentials(
  { json }: Caller,
  signUser: (sub: string) => Promise<string>,
): Promise<Record<Attacker, string | undefined>> {
  const issue = async (admin: string, userId: string) =>
    (await json('POST', `/v1/users/${userId}/token`, admin, {})).token as string;
  return {
    none: undefined,
    otherProjectKey: intruderAdmin,
    // A user of the other project whose id is the victim's.
    otherProjectJwt: await new SignJWT({ sub: victim.user })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(intruder.issuer)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(intruderSecret)),
    otherProjectToken: await issue(intruderAdmin, victim.user),
    otherUserJwt: await signUser(otherUser),
    otherUserToken: await issue(victimAdmin, otherUser),
  };
}

/** The victim's warehouse job, run once: its rows name the victim's persons. */
async function seedJob({ api, json }: Caller) {
  const job = `/v1/jobs/${victim.job}`;
  const spec = { kind: 'daily_users', days: 2, description: victim.jobNote };
  expect((await api('PUT', job, victimAdmin, spec)).status).toBe(200);
  expect((await api('POST', `${job}/run`, victimAdmin)).status).toBe(202);
  const ran = async () =>
    Boolean(((await json('GET', job, victimAdmin)).status as { lastSuccess: unknown }).lastSuccess);
  await eventually(ran, 20_000, 'the victim’s job to run');
}
