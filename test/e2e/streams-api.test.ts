import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeClient,
  collectUntil,
  eventAt,
  isWindow,
  openProducer,
  windowAhead,
  windowOf,
  type LiveWindow,
  type Producer,
} from '../helpers/live-client.js';
import { eventually } from '../helpers/eventually.js';
import { connect, type Message, type SocketClient } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const adminKey = 'api_admin_key_0123456789';
const readKey = 'api_read_key_0123456789';
const ingestKey = 'api_ingest_key_0123456789';
const sizeMs = 1000;
const fast = { outOfOrderMs: 200, idleTickMs: 200 };
const configured = [
  {
    name: 'cfg_counts',
    window: { kind: 'tumbling', sizeMs },
    aggregates: [{ name: 'n', fn: 'count' }],
    ...fast,
  },
  {
    name: 'cfg_doomed',
    source: { types: ['sale'] },
    window: { kind: 'tumbling', sizeMs: 60_000 },
    aggregates: [{ name: 'n', fn: 'count' }],
  },
];
const config = {
  projects: [
    {
      id: 'shop',
      keys: [
        { key: adminKey, scopes: ['admin', 'read'] },
        { key: readKey, scopes: ['read'] },
        { key: ingestKey, scopes: ['ingest'] },
      ],
      streams: configured,
    },
  ],
};
// allowedLatenessMs 0: a window leaves memory when it closes, so history of closed windows
// can only come from the ClickHouse table.
const salesBody = {
  source: { types: ['sale'] },
  groupBy: ['props.g'],
  window: { kind: 'tumbling', sizeMs },
  aggregates: [
    { name: 'n', fn: 'count' },
    { name: 'amount', fn: 'sum', field: 'props.amount' },
  ],
  allowedLatenessMs: 0,
  emit: { mode: 'final' },
  ...fast,
};

let server: ServerProcess;
let producer: Producer;
let salesStart = 0;
let lastStart = -Infinity;
const freshWindow = () => (lastStart = windowAhead(sizeMs, 1000, lastStart));

const sale = (ts: number, g: string, amount: number) => eventAt('sale', ts, { g, amount });

async function api(
  method: string,
  path: string,
  key: string | undefined,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const names = async (): Promise<string[]> => {
  const { status, body } = await api('GET', '/v1/streams', readKey);
  expect(status).toBe(200);
  return (body.streams as Array<{ name: string }>).map((s) => s.name).sort();
};

const history = async (query: string, init: RequestInit = {}) => {
  const res = await fetch(`${server.url}/v1/streams/sales/windows?${query}`, init);
  expect(res.status).toBe(200);
  return (await res.json()) as { stream: string; from: number; to: number; windows: LiveWindow[] };
};

async function subscribe(client: SocketClient, id: string, stream: string): Promise<Message> {
  client.send({ t: 'sub', id, stream });
  return client.nextMessage();
}

async function start(): Promise<void> {
  server = await startServer(server ? { config, dataDir: server.dataDir } : { config });
  producer = await openProducer(server.wsUrl, ingestKey);
}

beforeAll(start);

afterAll(async () => {
  producer?.close();
  await server?.stop();
  removeDir(server.dataDir);
});

describe('streams API', () => {
  it('lists the configured streams to a read key, with defaults filled in', async () => {
    expect(await names()).toEqual(['cfg_counts', 'cfg_doomed']);
    const one = await api('GET', '/v1/streams/cfg_doomed', readKey);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      name: 'cfg_doomed',
      window: { kind: 'tumbling', sizeMs: 60_000 },
      outOfOrderMs: 5000,
      emit: { mode: 'final' },
    });
    const viaQuery = await fetch(`${server.url}/v1/streams?key=${readKey}`);
    expect(viaQuery.status).toBe(200);
    expect(await api('GET', '/v1/streams/nope', readKey)).toMatchObject({
      status: 404,
      body: { code: 'UNKNOWN_STREAM' },
    });
    expect((await api('GET', '/v1/streams', undefined)).status).toBe(401);
    expect((await api('GET', '/v1/streams', 'unknown_key_0123456789')).status).toBe(401);
  });

  it('defines a stream with PUT that dashboards subscribe to and that computes', async () => {
    const put = await api('PUT', '/v1/streams/sales', adminKey, salesBody);
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      ...salesBody,
      name: 'sales',
      source: { types: ['sale'], where: [] },
      access: 'private',
    });
    expect(await names()).toEqual(['cfg_counts', 'cfg_doomed', 'sales']);
    expect((await api('GET', '/v1/streams/sales', readKey)).body).toEqual(put.body);

    const dash = await connect(`${server.wsUrl}/v1/live?key=${readKey}`);
    try {
      expect(await subscribe(dash, 'd', 'sales')).toEqual({ t: 'snapshot', id: 'd', windows: [] });
      salesStart = freshWindow();
      await producer.send([
        sale(salesStart, 'eu', 10),
        sale(salesStart + 10, 'eu', 5.5),
        sale(salesStart + 20, 'us', 7),
      ]);
      const { found } = await collectUntil(
        dash,
        [isWindow('d', { key: 'eu', final: true }), isWindow('d', { key: 'us', final: true })],
        5000,
        'the final windows of the new stream',
      );
      expect(found.map(windowOf)).toEqual([
        expect.objectContaining({ start: salesStart, values: { n: 2, amount: 15.5 } }),
        expect.objectContaining({ start: salesStart, values: { n: 1, amount: 7 } }),
      ]);
    } finally {
      await closeClient(dash);
    }
  });

  it('refuses an invalid definition with 400 BAD_STREAM and keeps the old one', async () => {
    const bad: Array<[string, unknown]> = [
      ['no aggregates', { window: { kind: 'tumbling', sizeMs } }],
      ['no window', { aggregates: [{ name: 'n', fn: 'count' }] }],
      ['tiny window', { ...salesBody, window: { kind: 'tumbling', sizeMs: 1 } }],
      ['unknown fn', { ...salesBody, aggregates: [{ name: 'x', fn: 'median', field: 'ts' }] }],
      ['bad field', { ...salesBody, groupBy: ['country'] }],
      [
        'duplicate names',
        {
          ...salesBody,
          aggregates: [
            { name: 'n', fn: 'count' },
            { name: 'n', fn: 'max', field: 'ts' },
          ],
        },
      ],
      ['hop > size', { ...salesBody, window: { kind: 'hopping', sizeMs: 100, slideMs: 200 } }],
      ['not a map', [1, 2]],
    ];
    for (const [what, body] of bad) {
      expect(await api('PUT', '/v1/streams/sales', adminKey, body), what).toMatchObject({
        status: 400,
        body: { code: 'BAD_STREAM' },
      });
    }
    expect(await api('PUT', '/v1/streams/Bad%20Name', adminKey, salesBody)).toMatchObject({
      status: 400,
      body: { code: 'BAD_STREAM' },
    });
    expect(await api('PUT', '/v1/streams/sales', adminKey, '{"window":')).toMatchObject({
      status: 400,
      body: { code: 'BAD_JSON' },
    });
    expect(await names()).toEqual(['cfg_counts', 'cfg_doomed', 'sales']);
    expect((await api('GET', '/v1/streams/sales', readKey)).body).toMatchObject(salesBody);
  });

  it('refuses PUT and DELETE without the admin scope', async () => {
    for (const key of [readKey, ingestKey]) {
      expect(await api('PUT', '/v1/streams/sneaky', key, salesBody)).toMatchObject({
        status: 403,
        body: { code: 'FORBIDDEN' },
      });
      expect(await api('DELETE', '/v1/streams/cfg_doomed', key)).toMatchObject({
        status: 403,
        body: { code: 'FORBIDDEN' },
      });
    }
    expect((await api('DELETE', '/v1/streams/cfg_doomed', undefined)).status).toBe(401);
    expect(await names()).toEqual(['cfg_counts', 'cfg_doomed', 'sales']);
  });

  it('deletes a stream: 204, then 404 and UNKNOWN_STREAM for dashboards', async () => {
    const dash = await connect(`${server.wsUrl}/v1/live?key=${readKey}`);
    try {
      expect(await subscribe(dash, 'before', 'cfg_doomed')).toMatchObject({ t: 'snapshot' });
      const del = await fetch(`${server.url}/v1/streams/cfg_doomed`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${adminKey}` },
      });
      expect(del.status).toBe(204);
      expect(await api('GET', '/v1/streams/cfg_doomed', readKey)).toMatchObject({
        status: 404,
        body: { code: 'UNKNOWN_STREAM' },
      });
      expect(await api('DELETE', '/v1/streams/cfg_doomed', adminKey)).toMatchObject({
        status: 404,
        body: { code: 'UNKNOWN_STREAM' },
      });
      expect(await subscribe(dash, 'after', 'cfg_doomed')).toMatchObject({
        t: 'error',
        code: 'UNKNOWN_STREAM',
        id: 'after',
      });
      expect(await names()).toEqual(['cfg_counts', 'sales']);
    } finally {
      await closeClient(dash);
    }
  });

  it('answers history from the window table, joined with the open windows', async () => {
    const range = `from=${salesStart - 1}&to=${salesStart + 60_000}`;
    // The window table is written about once a second.
    let stored: LiveWindow[] = [];
    await eventually(
      async () => (stored = (await history(`${range}&key=${readKey}`)).windows).length === 2,
      5000,
      'the closed windows in history',
    );
    expect(stored).toEqual([
      {
        stream: 'sales',
        start: salesStart,
        end: salesStart + sizeMs,
        key: 'eu',
        values: { n: 2, amount: 15.5 },
        final: true,
        rev: 1,
      },
      {
        stream: 'sales',
        start: salesStart,
        end: salesStart + sizeMs,
        key: 'us',
        values: { n: 1, amount: 7 },
        final: true,
        rev: 1,
      },
    ]);

    const openStart = freshWindow();
    await producer.send([sale(openStart, 'eu', 1), sale(openStart, 'asia', 2)]);
    const all = await history(`${range}&key=${readKey}`);
    expect(all).toMatchObject({ stream: 'sales', from: salesStart - 1, to: salesStart + 60_000 });
    expect(all.windows.map((w) => [w.start, w.key, w.final, w.values])).toEqual([
      [salesStart, 'eu', true, { n: 2, amount: 15.5 }],
      [salesStart, 'us', true, { n: 1, amount: 7 }],
      [openStart, 'asia', false, { n: 1, amount: 2 }],
      [openStart, 'eu', false, { n: 1, amount: 1 }],
    ]);

    const bearer = { headers: { authorization: `Bearer ${readKey}` } };
    const viaKey = await history(`${range}&key=eu`, bearer);
    const viaGroupKey = await history(`${range}&key=${readKey}&groupKey=eu`);
    for (const { windows } of [viaKey, viaGroupKey]) {
      expect(windows.map((w) => [w.start, w.key, w.final])).toEqual([
        [salesStart, 'eu', true],
        [openStart, 'eu', false],
      ]);
    }
    const narrow = await history(`from=${openStart}&to=${openStart + sizeMs}&groupKey=us`, bearer);
    expect(narrow.windows).toEqual([]);
  });

  it('keeps API changes across a restart on the same data folder', async () => {
    // The last change before the restart: PUT on a configured name replaces that stream.
    const replaced = await api('PUT', '/v1/streams/cfg_counts', adminKey, {
      ...configured[0],
      aggregates: [{ name: 'events', fn: 'count' }],
    });
    expect(replaced).toMatchObject({ status: 200, body: { aggregates: [{ name: 'events' }] } });
    expect(existsSync(join(server.dataDir, 'streams.json'))).toBe(true);
    producer.close();
    expect(await server.stop()).toBe(0);
    await start();

    expect(await names()).toEqual(['cfg_counts', 'sales']);
    expect((await api('GET', '/v1/streams/sales', readKey)).body).toMatchObject(salesBody);
    expect((await api('GET', '/v1/streams/cfg_doomed', readKey)).status).toBe(404);
    expect((await api('GET', '/v1/streams/cfg_counts', readKey)).body).toMatchObject({
      aggregates: [{ name: 'events', fn: 'count' }],
    });
    const { windows } = await history(`from=${salesStart}&to=${salesStart + 1}&key=${readKey}`);
    expect(windows.map((w) => [w.key, w.final, w.values])).toEqual([
      ['eu', true, { n: 2, amount: 15.5 }],
      ['us', true, { n: 1, amount: 7 }],
    ]);

    const dash = await connect(`${server.wsUrl}/v1/live?key=${readKey}`);
    try {
      expect(await subscribe(dash, 'again', 'sales')).toMatchObject({ t: 'snapshot' });
      expect(await subscribe(dash, 'gone', 'cfg_doomed')).toMatchObject({
        t: 'error',
        code: 'UNKNOWN_STREAM',
      });
      const at = freshWindow();
      await producer.send([sale(at, 'eu', 3), sale(at, 'eu', 4)]);
      const { found } = await collectUntil(
        dash,
        [isWindow('again', { start: at, key: 'eu', final: true })],
        5000,
        'a final window after the restart',
      );
      expect(windowOf(found[0]!).values).toEqual({ n: 2, amount: 7 });
    } finally {
      await closeClient(dash);
    }
  });
});
