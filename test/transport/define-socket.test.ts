import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { pino } from 'pino';
import type { WebSocket } from 'uWebSockets.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/compose/config.js';
import { BacklineError } from '../../src/errors.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { defineSocket } from '../../src/transport/define-socket.js';
import { createFrameErrors, type FrameErrorState } from '../../src/transport/socket-errors.js';
import { createSocketWriter, type SocketState } from '../../src/transport/socket-writer.js';
import { routeTable } from '../../src/transport/route-table.js';
import { loadUws } from '../../src/transport/uws.js';
import { listenOnLoopback } from '../helpers/loopback-app.js';
import { connect, type SocketClient } from '../helpers/socket-client.js';
import { upgradeRefusal } from '../helpers/user-app.js';

type State = FrameErrorState & { name: string };

const { uws } = loadUws(false);
const metrics = createMetrics();
const log = pino({ level: 'silent' });
const { limits } = configSchema.parse({});
const app = uws.App();
const writer = createSocketWriter({ app, metrics });
const sockets = new Set<WebSocket<SocketState>>();
const handled: string[] = [];
let admission: Promise<void> = Promise.resolve();
/** Answers of the asynchronous authenticate, by name: the test settles them. */
const pendingUpgrades = new Map<string, (ok: boolean) => void>();
let server: Awaited<ReturnType<typeof listenOnLoopback>>;
let url: string;

/** A socket defined the way the three real ones are, on a real uWS app. */
beforeAll(async () => {
  const frameError = createFrameErrors({ writer, metrics, limits, log }, 'test');
  defineSocket<State>(app, { metrics, log }, sockets, {
    endpoint: '/v1/test',
    transport: 'test',
    maxFrameBytes: 1024,
    maxBackpressure: 64 * 1024,
    authenticate(req) {
      const name = req.getQuery('name') ?? '';
      if (name === 'crash') throw new Error('a bug in authenticate');
      if (!name) throw new BacklineError('UNAUTHORIZED', 'a name is required');
      if (!name.startsWith('later-')) return { closed: false, badFrames: 0, name };
      // Read before the first await, as uWS frees `req` when `upgrade` returns.
      return new Promise((resolve, reject) =>
        pendingUpgrades.set(name, (ok) =>
          ok
            ? resolve({ closed: false, badFrames: 0, name })
            : reject(new BacklineError('BAD_TOKEN', 'refused later')),
        ),
      );
    },
    handlers: {
      hello(ws, msg) {
        handled.push(String(msg.id));
        writer.send(ws, { t: 'hello', id: msg.id, name: ws.getUserData().name });
      },
      bad() {
        throw new BacklineError('BAD_FRAME', 'always bad');
      },
    },
    frameError,
    echo: (msg) => (msg.id === undefined ? {} : { id: msg.id }),
    admit: () => admission,
  });
  server = await listenOnLoopback(uws, app);
  url = `${server.wsOrigin}/v1/test`;
});

afterAll(() => {
  server.close();
  for (const ws of [...sockets]) writer.close(ws, 1001, 'test over', 'shutdown');
});

const open = (name: string): Promise<SocketClient> => connect(`${url}?name=${name}`);
const gauge = async () =>
  (await metrics.connections.get()).values.find((v) => v.labels.endpoint === '/v1/test')?.value;

describe('defineSocket', () => {
  it('refuses an upgrade with the error authenticate throws, and a bug in it as INTERNAL', async () => {
    expect(await upgradeRefusal(url)).toEqual({
      status: 401,
      body: { code: 'UNAUTHORIZED', msg: 'a name is required' },
    });
    expect((await upgradeRefusal(`${url}?name=crash`)).body.code).toBe('INTERNAL');
    const refused = (await metrics.upgradesRefused.get()).values.map((v) => v.labels.code);
    expect(refused).toEqual(expect.arrayContaining(['UNAUTHORIZED', 'INTERNAL']));
  });

  it('upgrades once an asynchronous authenticate resolves, or refuses with its error', async () => {
    const opening = open('later-ada');
    await expect.poll(() => pendingUpgrades.has('later-ada')).toBe(true);
    pendingUpgrades.get('later-ada')!(true);
    const client = await opening;
    client.send({ t: 'hello', id: 'l' });
    expect(await client.nextMessage()).toEqual({ t: 'hello', id: 'l', name: 'later-ada' });
    client.close();

    const refusal = upgradeRefusal(`${url}?name=later-bob`);
    await expect.poll(() => pendingUpgrades.has('later-bob')).toBe(true);
    pendingUpgrades.get('later-bob')!(false);
    expect(await refusal).toEqual({
      status: 401,
      body: { code: 'BAD_TOKEN', msg: 'refused later' },
    });
  });

  it('opens no socket for a client that left while authenticate was pending', async () => {
    const openedCount = async () =>
      (await metrics.connectionsOpened.get()).values.find((v) => v.labels.endpoint === '/v1/test')
        ?.value ?? 0;
    const before = await openedCount();
    const req = request(`${server.origin}/v1/test?name=later-eve`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
      },
    });
    req.on('error', () => undefined);
    req.end();
    await expect.poll(() => pendingUpgrades.has('later-eve')).toBe(true);
    req.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    pendingUpgrades.get('later-eve')!(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await openedCount()).toBe(before);
    expect(sockets.size).toBe(0);
  });

  it('records its endpoint and message types in the route table', () => {
    expect(routeTable(app).sockets).toEqual([{ endpoint: '/v1/test', messages: ['hello', 'bad'] }]);
  });

  it('dispatches each frame to the handler of its type, with the state authenticate made', async () => {
    const client = await open('ada');
    expect(await gauge()).toBe(1);
    client.send({ t: 'hello', id: 1 });
    expect(await client.nextMessage()).toEqual({ t: 'hello', id: 1, name: 'ada' });
    client.close();
    await client.closed;
    await expect.poll(gauge).toBe(0);
    expect(sockets.size).toBe(0);
  });

  it('answers a type without a handler UNKNOWN_TYPE, inherited names included, echoing the id', async () => {
    const client = await open('bob');
    for (const t of ['nope', 'constructor', 'toString']) {
      client.send({ t, id: t });
      expect(await client.nextMessage()).toMatchObject({ t: 'error', code: 'UNKNOWN_TYPE', id: t });
    }
    client.close();
  });

  it('closes the socket with 1008 after a run of bad frames', async () => {
    const client = await open('eve');
    for (let i = 0; i < limits.badFramesBeforeClose; i++) client.send({ t: 'bad', id: i });
    for (let i = 0; i < limits.badFramesBeforeClose; i++)
      expect(await client.nextMessage()).toMatchObject({ code: 'BAD_FRAME', id: i });
    expect((await client.closed).code).toBe(1008);
  });

  it('runs no handler for a frame admitted after its socket closed', async () => {
    let admit = () => {};
    admission = new Promise((resolve) => (admit = resolve));
    const client = await open('late');
    client.send({ t: 'hello', id: 'late' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.close();
    await client.closed;
    await expect.poll(gauge).toBe(0);
    admit();
    await new Promise((resolve) => setTimeout(resolve, 50));
    admission = Promise.resolve();
    expect(handled).not.toContain('late');
  });
});
