import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { pino } from 'pino';
import type { WebSocket, us_listen_socket } from 'uWebSockets.js';
import { createKeyRegistry } from '../../src/auth/key-registry.js';
import { createUserAuthenticator } from '../../src/auth/user-authenticator.js';
import { createUserTokens } from '../../src/auth/user-token.js';
import { subscribeTo } from '../../src/cluster/bus-channels.js';
import type { Bus } from '../../src/cluster/bus.js';
import { createMemoryBus } from '../../src/cluster/memory-bus.js';
import { createMemoryPresence } from '../../src/cluster/memory-presence.js';
import { configSchema } from '../../src/compose/config.js';
import { createInAppChannel } from '../../src/notify/channels/in-app/in-app.js';
import type { DecisionLog } from '../../src/notify/decision-log.js';
import { createInbox } from '../../src/notify/inbox.js';
import type { Notification } from '../../src/notify/notification.js';
import { createPreferences } from '../../src/notify/preferences.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { registerHttpUsers } from '../../src/transport/http/users.js';
import { createSocketWriter, type SocketState } from '../../src/transport/socket-writer.js';
import { createUserHub } from '../../src/transport/user/user-hub.js';
import { registerUserSocket } from '../../src/transport/user/user-socket.js';
import { loadUws } from '../../src/transport/uws.js';
import { memoryRateLimits } from './rate-limits.js';

export const project = 'p1';
export const keys = {
  admin: 'admin-key-0123456789abcdef',
  read: 'read-key-0123456789abcdef',
  ingest: 'ingest-key-0123456789abcdef',
  usersRead: 'users-read-key-0123456789abcdef',
};

/** Project `p1` with one key of each scope (`keys`), default limits. */
export const userAppConfig = () =>
  configSchema.parse({
    projects: [
      {
        id: project,
        keys: [
          { key: keys.admin, scopes: ['admin'] },
          { key: keys.read, scopes: ['read'] },
          { key: keys.ingest, scopes: ['ingest'] },
          { key: keys.usersRead, scopes: ['users:read'] },
        ],
      },
    ],
  });

export interface AppOptions {
  state?: StateStore;
  /** The bus between the user hub and the in-app channel; default the in-process one. */
  bus?: Bus;
  decisions?: Pick<DecisionLog, 'query'>;
}

/**
 * The user socket and user routes on a real uWS app in this process, over the real inbox,
 * preferences, user hub and in-app channel, listening on a free loopback port.
 */
export async function startUserApp(options: AppOptions = {}) {
  const { uws } = loadUws(false);
  const app = uws.App();
  const metrics = createMetrics();
  const log = pino({ level: 'silent' });
  const writer = createSocketWriter({ app, metrics });
  const hub = createUserHub(writer);
  // As compose/transport.ts wires them: the user hub hears the bus; sockets join presence.
  const bus = options.bus ?? createMemoryBus();
  const presence = createMemoryPresence();
  subscribeTo(bus, 'user', ({ project, userId, message }) => hub.push(project, userId, message));
  const state = options.state ?? createMemoryStateStore();
  const inbox = createInbox(state);
  const preferences = createPreferences(state);
  const tokens = createUserTokens(randomBytes(32));
  const config = userAppConfig();
  const auth = createKeyRegistry(config.projects);
  const users = createUserAuthenticator({
    projects: config.projects.map((p) => ({ id: p.id, jwt: p.auth.jwt })),
    legacyTokens: tokens,
    metrics,
  });
  const { limits } = config;
  const decisions = options.decisions ?? { query: async () => [] };
  const sockets = new Set<WebSocket<SocketState>>();
  const rateLimits = memoryRateLimits(limits);
  registerUserSocket(
    app,
    { users, hub, bus, presence, inbox, metrics, writer, limits, log, rateLimits },
    sockets,
  );
  registerHttpUsers(app, {
    auth,
    users,
    tokens,
    hub,
    bus,
    inbox,
    preferences,
    decisions,
    metrics,
    log,
    rateLimits,
  });

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (socket) =>
      socket ? resolve(socket) : reject(new Error('cannot listen')),
    ),
  );
  const port = uws.us_socket_local_port(listenSocket as never);
  const inApp = createInAppChannel({ bus, presence });
  let seq = 0;

  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    app,
    hub,
    bus,
    presence,
    inbox,
    tokens,
    inApp,
    metrics,
    limits,
    sockets,
    tokenFor: (userId: string, ttlMs = 3600_000) => tokens.issue(project, userId, ttlMs).token,
    /** What the router does for an in-app notification: keep it in the inbox, then push it. */
    async notify(userId: string, fields: Partial<Notification> = {}) {
      seq += 1;
      const notification = makeNotification(userId, seq, fields);
      await inbox.append(notification);
      return { notification, result: await inApp.send(notification) };
    },
    close() {
      uws.us_listen_socket_close(listenSocket);
      for (const ws of [...sockets]) writer.close(ws, 1001, 'test over', 'shutdown');
    },
  };
}

export type UserApp = Awaited<ReturnType<typeof startUserApp>>;

/** A notification whose id sorts by `seq`, as the router's time-ordered ids do. */
export function makeNotification(
  userId: string,
  seq: number,
  fields: Partial<Notification> = {},
): Notification {
  return {
    id: `n${String(seq).padStart(8, '0')}`,
    ts: 1_800_000_000_000 + seq,
    project,
    userId,
    rule: 'show-announced',
    category: 'shows',
    title: `Show ${seq}`,
    body: `A new show (${seq})`,
    data: { showId: seq },
    priority: 'normal',
    dedupKey: undefined,
    channels: ['in_app'],
    template: undefined,
    variables: {},
    ...fields,
  };
}

/** The status and body of a refused WebSocket upgrade. */
export function upgradeRefusal(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url.replace(/^ws/, 'http'), {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error('the upgrade was accepted'));
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}
