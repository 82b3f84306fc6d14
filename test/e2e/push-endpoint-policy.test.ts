import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

/**
 * Issue #16: a user's own token must not make the server call this machine or its network.
 * The real server with the default settings, and a real HTTP listener on loopback standing in
 * for an internal admin endpoint.
 */
const key = 'push_policy_key_0123456789ab';
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
            title: 'Ping {{props.n}}',
            body: '',
            channels: ['web_push'],
          },
        },
      ],
    },
  ],
};

let server: ServerProcess;
let internal: Server;
let port = 0;
const requests: string[] = [];
let connections = 0;

beforeAll(async () => {
  internal = createServer((req: IncomingMessage, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(201).end();
  });
  internal.on('connection', () => connections++);
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  port = (internal.address() as { port: number }).port;
  server = await startServer({ config });
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  await new Promise((resolve) => internal.close(resolve));
});

async function call(method: string, path: string, bearer: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A browser's subscription JSON at `endpoint`, with valid keys. */
function subscriptionAt(endpoint: string) {
  const keys = createECDH('prime256v1');
  keys.generateKeys();
  return {
    endpoint,
    expirationTime: null,
    keys: {
      p256dh: keys.getPublicKey().toString('base64url'),
      auth: randomBytes(16).toString('base64url'),
    },
  };
}

describe('push endpoints on internal addresses', () => {
  it('are refused with 400 BAD_SUBSCRIPTION, counted, and a notification calls none of them', async () => {
    const token = (await call('POST', '/v1/users/u/token', key)).json.token as string;
    const endpoints = [
      `http://127.0.0.1:${port}/internal/admin?cmd=drop`,
      `http://localhost:${port}/internal/admin?cmd=drop`,
      `https://127.0.0.1:${port}/internal/admin?cmd=drop`,
      `https://[::1]:${port}/push/x`,
      `https://[::ffff:127.0.0.1]:${port}/push/x`,
      `https://localhost:${port}/push/x`, // a name that resolves to loopback
      'https://10.0.0.1/push/x',
      'https://169.254.169.254/latest/meta-data/',
    ];
    for (const endpoint of endpoints) {
      const res = await call(
        'POST',
        '/v1/users/u/push-subscriptions',
        token,
        subscriptionAt(endpoint),
      );
      expect({ endpoint, ...res }).toEqual({
        endpoint,
        status: 400,
        json: { code: 'BAD_SUBSCRIPTION', msg: expect.stringMatching(/^endpoint: /) },
      });
    }

    const ping = { id: randomUUID(), type: 'ping', ts: Date.now(), userId: 'u', props: { n: 1 } };
    expect((await call('POST', '/v1/events', key, { events: [ping] })).status).toBe(200);
    let decisions: Array<{ channel: string; outcome: string; reason: string }> = [];
    await eventually(
      async () => {
        const inbox = await call('GET', '/v1/users/u/inbox', key);
        const item = (inbox.json.items as Array<{ id: string }>)[0];
        if (!item) return false;
        const found = await call('GET', `/v1/users/u/decisions?notification=${item.id}`, key);
        decisions = found.json.decisions as typeof decisions;
        return decisions.length > 0;
      },
      10_000,
      'the decision on the ping',
    );
    // No subscription was stored, so the router had no push channel to try.
    expect(decisions).toEqual([
      expect.objectContaining({
        channel: '',
        outcome: 'sent',
        reason: expect.stringMatching(/^inbox_only/),
      }),
    ]);
    expect(requests).toEqual([]);
    expect(connections).toBe(0);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const refused = (reason: string) =>
      Number(
        new RegExp(
          `^backline_push_endpoints_refused_total\\{stage="subscribe",reason="${reason}"\\} (\\d+)$`,
          'm',
        ).exec(metrics)?.[1] ?? 0,
      );
    expect([
      refused('scheme'),
      refused('loopback'),
      refused('private'),
      refused('link_local'),
    ]).toEqual([2, 4, 1, 1]);
  });
});
