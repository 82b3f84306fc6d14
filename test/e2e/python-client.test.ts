import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

// Debian's interpreter: the one with python3-msgpack and python3-websockets (a `python3` on
// PATH may be a pyenv without them).
const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('./python-client/client.py', import.meta.url));
const key = 'python_client_key_0123456789ab';
const user = 'py-user';
const order = '9223372036854775813'; // 2^63 + 5, sent as a uint64 props value

const config = {
  projects: [
    {
      id: 'py',
      keys: [{ key, scopes: ['ingest', 'read', 'admin'] }],
      streams: [
        {
          name: 'py_orders',
          source: { types: ['py.click'] },
          groupBy: ['props.order'],
          window: { kind: 'tumbling', sizeMs: 600_000 },
          aggregates: [
            { name: 'clicks', fn: 'count' },
            { name: 'bytes', fn: 'sum', field: 'props.bytes' },
          ],
          outOfOrderMs: 1000,
          emit: { mode: 'early', everyMs: 50 },
        },
      ],
      rules: [
        {
          name: 'py-welcome',
          trigger: { kind: 'event', types: ['py.signup'] },
          audience: { kind: 'user' },
          notification: { category: 'welcome', title: 'Welcome', body: '', channels: ['in_app'] },
        },
      ],
    },
  ],
};

function runClient(env: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(python, [script], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`the Python client crashed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
}

let server: ServerProcess;
let seen: Record<string, unknown>;

beforeAll(async () => {
  if (spawnSync(python, ['-c', 'import msgpack, websockets']).status !== 0) {
    throw new Error(
      `${python} cannot import msgpack and websockets: install the Debian packages python3-msgpack and python3-websockets`,
    );
  }
  server = await startServer({ config, key });
  const issued = await fetch(`${server.url}/v1/users/${user}/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
  });
  const { token } = (await issued.json()) as { token: string };
  seen = await runClient({
    BACKLINE_WS: server.wsUrl,
    BACKLINE_HTTP: server.url,
    BACKLINE_KEY: key,
    BACKLINE_USER: user,
    BACKLINE_USER_TOKEN: token,
  });
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

describe('a Python client (websockets + msgpack: uint64 integers, timestamp extension)', () => {
  it('gets every answer it waits for', () => {
    expect(seen.failed).toBeUndefined();
  });

  it('ingest socket: every event is accepted, a resent frame counts duplicates', () => {
    expect(seen.ack).toEqual({ t: 'ack', seq: 1, accepted: 5, duplicates: 0, rejected: [] });
    expect(seen.resentAck).toMatchObject({ seq: 5_000_000_001, accepted: 0, duplicates: 5 });
    expect(seen.signupAck).toMatchObject({ seq: 5_000_000_002, accepted: 1, rejected: [] });
  });

  it('a seq or a subscription id past 2^53 is refused, not rounded', () => {
    expect(seen.hugeSeq).toMatchObject({ t: 'error', code: 'BAD_FRAME' });
    expect(seen.hugeSubId).toMatchObject({ t: 'error', code: 'BAD_FRAME', id: 2 ** 64 - 1 });
  });

  it('live socket: a uint64 subscription id, and a window keyed by the exact 64-bit props value', () => {
    expect(seen.snapshot).toMatchObject({ t: 'snapshot', id: 2 ** 40 + 7 });
    expect(seen.window).toMatchObject({
      t: 'window',
      id: 2 ** 40 + 7,
      w: { stream: 'py_orders', key: order, values: { clicks: 3, bytes: 3 * 2 ** 40 } },
    });
  });

  it('user socket: counts, the rule’s notification, and a read mark', () => {
    expect(seen.userCounts).toMatchObject({ t: 'counts', unread: 0 });
    const n = (seen.notification as { n: { id: string; title: string } }).n;
    expect(n.title).toBe('Welcome');
    expect(seen.marked).toEqual({ t: 'marked', as: 'read', ids: [n.id] });
    expect(seen.countsAfterRead).toMatchObject({ t: 'counts', unread: 0, total: 1 });
  });

  it('HTTP msgpack body: uint64 seq and ts', () => {
    expect(seen.http).toEqual({ seq: 2 ** 40, accepted: 1, duplicates: 0, rejected: [] });
  });

  it('stores every event at its time, timestamp-extension ones included', async () => {
    const now = seen.now as number;
    const query = `from=${now - 3600_000}&to=${now + 3600_000}&key=${key}`;
    const stats = (await (await fetch(`${server.url}/v1/events/stats?${query}`)).json()) as {
      counts: Record<string, number>;
    };
    // The client's read mark of its notification is an event too (README: Campaigns).
    expect(stats.counts).toEqual({
      ...{ 'py.click': 3, 'py.stamp': 2, 'py.http': 1, 'py.signup': 1 },
      'notification.read': 1,
    });
  });
});
