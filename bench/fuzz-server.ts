/**
 * The server the fuzz scenario attacks: the bench project with a stream of each access level
 * and a rule (so the pipeline, rules and notifications see whatever gets through), user JWTs
 * signed with a secret, and a second project to reach across to. Also what the runner asks of
 * it around the run: its route table, user tokens, and the valid events read back.
 */
import { randomBytes } from 'node:crypto';
import type { FuzzCredentials } from './fuzz-credentials.js';
import type { Route } from './fuzz-http.js';
import type { StreamNames } from './fuzz-lanes.js';
import { benchProjectId, type ServerProcess, type ServerSettings } from './server-process.js';

export const otherProject = 'fuzz-other';

const stream = (name: string, access: string, types: string[]) => ({
  name,
  access,
  source: { types },
  groupBy: ['props.g'],
  window: { kind: 'tumbling', sizeMs: 10_000 },
  aggregates: [
    { name: 'n', fn: 'count' },
    { name: 'users', fn: 'uniq', field: 'userId' },
    { name: 'ms', fn: 'quantiles', field: 'props.ms', q: [0.5, 0.95] },
    { name: 'top', fn: 'topK', field: 'props.path', k: 5 },
  ],
  emit: { mode: 'early', everyMs: 1000 },
});

export const fuzzStreams: StreamNames = {
  private: ['fuzz_private'],
  users: ['fuzz_users'],
  public: ['fuzz_public', 'fuzz_live'],
  other: ['fuzz_other_private', 'fuzz_other_public'],
  stable: ['fuzz_live'],
};

/** Every event of both types with `props.notify` notifies its user in-app, its props rendered. */
const notifyRule = {
  name: 'fuzz_notify',
  trigger: {
    kind: 'event',
    types: ['fuzz.valid', 'fuzz.hostile'],
    where: [{ field: 'props.notify', op: 'exists' }],
  },
  audience: { kind: 'user' },
  notification: {
    category: 'fuzz',
    title: '{{props.notify}}',
    body: '{{type}} {{props.path}}',
    channels: ['in_app'],
  },
};

/** The settings, and the secrets the workers need (a random JWT secret and the other key). */
export function fuzzSettings(): {
  settings: ServerSettings;
  jwt: FuzzCredentials['jwt'];
  otherKey: string;
} {
  const jwt = {
    secret: randomBytes(32).toString('base64url'),
    issuer: 'https://fuzz.invalid/',
    audience: 'fuzz',
  };
  const otherKey = `other_${randomBytes(24).toString('base64url')}`;
  const types = ['fuzz.valid', 'fuzz.hostile'];
  const settings: ServerSettings = {
    // The fuzz inputs must reach the handlers, not stop at the request budgets (1000/s per key,
    // 20/s per user by default); the event limits stay as they are.
    limits: {
      keyRequestsPerSecond: 1_000_000,
      keyBurstRequests: 1_000_000,
      userRequestsPerSecond: 1_000_000,
      userBurstRequests: 1_000_000,
    },
    project: {
      streams: [
        stream('fuzz_private', 'private', types),
        stream('fuzz_users', 'users', types),
        stream('fuzz_public', 'public', types),
        stream('fuzz_live', 'public', types), // no fuzz input names it: the live probes' own
      ],
      rules: [notifyRule],
      auth: { jwt: { secret: jwt.secret, issuer: jwt.issuer, audience: jwt.audience } },
    },
    otherProjects: [
      {
        id: otherProject,
        keys: [{ key: otherKey, scopes: ['read'] }],
        streams: [
          stream('fuzz_other_private', 'private', types),
          stream('fuzz_other_public', 'public', types),
        ],
      },
    ],
  };
  return { settings, jwt, otherKey };
}

/**
 * The route table the server logs at debug level on start (src/transport/server.ts), waited
 * for: the log line may come after the one announcing the port.
 */
export async function routeTableFrom(lines: string[], timeoutMs = 10_000): Promise<Route[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const routes = findRoutes(lines);
    if (routes) return routes;
    if (Date.now() > until) throw new Error('the server logged no route table (LOG_LEVEL=debug)');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function findRoutes(lines: string[]): Route[] | undefined {
  for (const line of lines) {
    if (!line.includes('"routes"')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; routes?: Route[] };
      if (entry.msg === 'routes' && entry.routes)
        return entry.routes.map(({ method, pattern }) => ({ method, pattern }));
    } catch {
      // another line that happens to name routes
    }
  }
  return undefined;
}

const api = (server: ServerProcess, path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${server.port}${path}`, {
    signal: AbortSignal.timeout(60_000),
    ...init,
    headers: {
      authorization: `Bearer ${server.key}`,
      'content-type': 'application/json',
      ...init.headers,
    },
  });

/** A backline user token per user, issued by the server (`POST /v1/users/:id/token`). */
export async function issueTokens(server: ServerProcess, users: string[]): Promise<string[]> {
  return Promise.all(
    users.map(async (user) => {
      const res = await api(server, `/v1/users/${encodeURIComponent(user)}/token`, {
        method: 'POST',
        body: '{"ttlMs":86400000}',
      });
      if (!res.ok) throw new Error(`token for ${user}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    }),
  );
}

/** How often each event id of `userId` is stored, from the export route (every stored event). */
export async function storedIds(
  server: ServerProcess,
  userId: string,
): Promise<Map<string, number>> {
  // Hundreds of thousands of events after a full run: read as it streams, with time for it.
  const path = `/v1/users/${encodeURIComponent(userId)}/export`;
  const res = await api(server, path, { signal: AbortSignal.timeout(20 * 60_000) });
  if (!res.ok || !res.body)
    throw new Error(`export of ${userId}: ${res.status} ${await res.text()}`);
  const counts = new Map<string, number>();
  const count = (line: string) => {
    if (!line) return;
    const entry = JSON.parse(line) as { kind: string; item?: { id?: string } };
    if (entry.kind === 'event' && entry.item?.id)
      counts.set(entry.item.id, (counts.get(entry.item.id) ?? 0) + 1);
  };
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of res.body) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
    rest = lines.pop()!;
    lines.forEach(count);
  }
  count(rest + decoder.decode());
  return counts;
}

/** Stored events of `type` in the project, from `GET /v1/events/stats` over the last day. */
export async function storedOfType(server: ServerProcess, type: string): Promise<number> {
  const from = Date.now() - 24 * 3600_000;
  const res = await api(server, `/v1/events/stats?from=${from}&to=${Date.now() + 3600_000}`);
  if (!res.ok) throw new Error(`stats: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { counts: Record<string, number> }).counts[type] ?? 0;
}

/** Answers of plain reads after the run, searched for the property a prototype pollution plants. */
export async function pollutionSeen(server: ServerProcess, canary: string): Promise<string[]> {
  const paths = [
    '/v1/streams',
    '/v1/rules',
    '/v1/users/fuzz-fresh-user/preferences',
    '/v1/keys',
    `/v1/streams/fuzz_public`,
  ];
  const seen: string[] = [];
  for (const path of paths)
    if ((await (await api(server, path)).text()).includes(canary)) seen.push(path);
  return seen;
}

export { benchProjectId };
