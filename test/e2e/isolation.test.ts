import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteTable } from '../../src/transport/route-table.js';
import {
  attackers,
  ofOtherProject,
  routeCases,
  socketCases,
  victim,
  type Attacker,
} from '../helpers/isolation-cases.js';
import {
  attackerCredentials,
  caller,
  loggedRouteTable,
  seedVictim,
  settled,
  startIsolationServer,
  victimAdmin,
  victimState,
} from '../helpers/isolation-server.js';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { startPushService, type PushService } from '../helpers/push-service.js';
import { removeDir, type ServerProcess } from '../helpers/server-process.js';
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
let jwks: JwksServer;
let push: PushService;
let server: ServerProcess;
let table: RouteTable;
let credentials: Record<Attacker, string | undefined>;
let ids = { notification: '', key: '', endpoint: '', campaign: '' };
let secrets: string[] = [];
const call = caller(() => server);
const { api } = call;

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
  const started = await startIsolationServer(jwks);
  server = started.server;
  const seeded = await seedVictim(call, push);
  ids = seeded.ids;
  table = loggedRouteTable(server.output());
  credentials = await attackerCredentials(call, started.signUser);
  secrets = [
    ...Object.values(victim).filter((value) => value !== victim.project),
    ...[ids.notification, ids.key, ids.endpoint, ids.campaign, victimAdmin, seeded.madeKey],
  ];
  await settled(call);
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
    const before = await victimState(call);
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
    expect(await victimState(call)).toBe(before);
    // The victim's push subscription is still there: only its user or admin remove it.
    const endpoint = { endpoint: ids.endpoint };
    const path = `/v1/users/${victim.user}/push-subscriptions`;
    expect((await api('DELETE', path, victimAdmin, endpoint)).status).toBe(204);
  });

  it('opens no socket to the victim’s data, and sends none over one that opens', async () => {
    const before = await victimState(call);
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
    expect(await victimState(call)).toBe(before);
  });
});
