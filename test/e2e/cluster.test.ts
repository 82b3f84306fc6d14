import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/cluster/event-log.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { collectUntil, isWindow, windowOf, type LiveWindow } from '../helpers/live-client.js';
import { connect, stats, type Message, type SocketClient } from '../helpers/socket-client.js';

const key = 'cluster_smoke_key_0123456789';
const limitedKey = 'cluster_limited_key_0123456789';
const project = 'shop';
const config = {
  projects: [
    {
      id: project,
      keys: [
        { key, scopes: ['ingest', 'read', 'admin'] },
        { key: limitedKey, scopes: ['ingest'] },
      ],
      streams: [
        {
          name: 'views',
          source: { types: ['page.view'] },
          window: { kind: 'tumbling', sizeMs: 4000 },
          aggregates: [
            { name: 'n', fn: 'count' },
            { name: 'total', fn: 'sum', field: 'props.n' },
          ],
          outOfOrderMs: 500,
          idleTickMs: 200,
          emit: { mode: 'early', everyMs: 100 },
        },
        {
          name: 'orders',
          source: { types: ['order.placed'] },
          window: { kind: 'tumbling', sizeMs: 10_000 },
          aggregates: [
            { name: 'n', fn: 'count' },
            { name: 'amount', fn: 'sum', field: 'props.amount' },
          ],
          outOfOrderMs: 500,
          emit: { mode: 'early', everyMs: 100 },
        },
      ],
      rules: [
        {
          name: 'welcome',
          trigger: { kind: 'event', types: ['user.signup'] },
          audience: { kind: 'user' },
          notification: {
            category: 'welcome',
            title: 'Welcome {{props.name}}',
            body: '',
            channels: ['in_app'],
          },
        },
      ],
    },
  ],
  // Every key's events share one budget across the nodes: 1,000, refilled at 1 a second.
  limits: { keyEventsPerSecond: 1, keyBurstEvents: 1000 },
  // A killed node's partitions move within about this long. One partition: its fair share
  // over any number of nodes is at most one, so the node started first keeps it until it dies.
  cluster: { leaseTtlMs: 2000, partitions: 1 },
};
const partition = `partition:${partitionOf(project, 1)}`;

let cluster: TestCluster;
const sockets: SocketClient[] = [];
beforeAll(async () => {
  // Node 2 (remote) starts first and takes the partition, so killing it later leaves node 1,
  // the only embedded ClickHouse, running.
  cluster = await startCluster({ config, key, order: [2, 1, 3], haproxy: true });
}, 180_000);
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await cluster?.stop();
}, 60_000);

const open = async (url: string) => {
  const socket = await connect(url);
  sockets.push(socket);
  return socket;
};
const ingestOn = (n: number) => open(`${cluster.node(n).wsUrl}/v1/ingest?key=${key}`);

async function send(client: SocketClient, seq: number, events: object[]): Promise<Message> {
  client.send({ t: 'events', seq, events });
  const ack = await client.nextMessage(30_000);
  expect(ack).toMatchObject({ t: 'ack', seq });
  return ack;
}

/** A dashboard on node `n` subscribed to `stream`, its snapshot read. */
async function dashboardOn(n: number, stream: string): Promise<SocketClient> {
  const live = await open(`${cluster.node(n).wsUrl}/v1/live?key=${key}`);
  live.send({ t: 'sub', id: stream, stream });
  expect(await live.nextMessage(30_000)).toMatchObject({ t: 'snapshot', id: stream });
  return live;
}

/** Window results read until a final of the window at `start` with `n` events came. */
async function finalWith(live: SocketClient, id: string, start: number, n: number) {
  const { messages } = await collectUntil(
    live,
    [(m) => isWindow(id, { final: true, start })(m) && windowOf(m).values.n === n],
    60_000,
    `the final of ${id}@${start} with n=${n}`,
  );
  return messages.filter(isWindow(id, { start })).map(windowOf);
}

const lastFinal = (windows: LiveWindow[]) =>
  windows.filter((w) => w.final).reduce((a, b) => (b.rev > a.rev ? b : a));

const token = async (userId: string) => {
  const res = await fetch(`${cluster.node(1).url}/v1/users/${userId}/token?key=${key}`, {
    method: 'POST',
  });
  return ((await res.json()) as { token: string }).token;
};

describe('cluster mode: three nodes on one Redis', () => {
  it('stores and counts ids sent to two nodes once; a dashboard on a third sees what the first sees', async () => {
    const [onA, onC] = [await dashboardOn(1, 'views'), await dashboardOn(3, 'views')];
    const ts = Date.now();
    const start = ts - (ts % 4000);
    const events = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => ({
        id: `view-${from + i}`,
        type: 'page.view',
        ts,
        props: { n: from + i },
      }));
    const a = await ingestOn(1);
    const b = await ingestOn(2);
    expect(await send(a, 1, events(0, 10))).toMatchObject({ accepted: 10, duplicates: 0 });
    expect(await send(b, 1, events(0, 15))).toMatchObject({ accepted: 5, duplicates: 10 });

    const seenOnA = await finalWith(onA, 'views', start, 15);
    const seenOnC = await finalWith(onC, 'views', start, 15);
    expect(seenOnC.some((w) => !w.final)).toBe(true); // early updates crossed the bus too
    expect(lastFinal(seenOnC)).toEqual(lastFinal(seenOnA));
    expect(lastFinal(seenOnC).values).toEqual({ n: 15, total: 105 });

    // Stored once, whichever node (or the proxy, round robin) answers.
    for (const url of [1, 2, 3].map((n) => cluster.node(n).url))
      await eventually(async () => (await stats(url, key)).counts['page.view'] === 15, 30_000, url);
    for (let i = 0; i < 3; i++)
      expect((await stats(cluster.proxy!.url, key)).counts['page.view']).toBe(15);
  });

  it('delivers an in-app notification fired by an event on node 1 to the user on node 2, and a mark from node 2 to node 3', async () => {
    const userToken = await token('ana');
    const onB = await open(`${cluster.node(2).wsUrl}/v1/user?token=${userToken}`);
    const onC = await open(`${cluster.node(3).wsUrl}/v1/user?token=${userToken}`);
    expect(await onB.nextMessage()).toMatchObject({ t: 'counts' });
    expect(await onC.nextMessage()).toMatchObject({ t: 'counts' });

    const a = await ingestOn(1);
    const signup = { id: 'signup-ana', type: 'user.signup', ts: Date.now(), userId: 'ana' };
    await send(a, 1, [{ ...signup, props: { name: 'Ana' } }]);
    const notified = await onB.nextMessage(30_000);
    expect(notified).toMatchObject({ t: 'notification', n: { title: 'Welcome Ana' } });
    const id = (notified.n as { id: string }).id;
    expect(await onC.nextMessage(30_000)).toMatchObject({ t: 'notification', n: { id } });

    onB.send({ t: 'read', ids: [id] });
    const marked = await collectUntil(onC, [(m) => m.t === 'marked'], 30_000, 'the mark');
    expect(marked.found[0]).toMatchObject({ t: 'marked', as: 'read', ids: [id] });
  });

  it('holds a key’s event budget across the nodes', async () => {
    const post = (n: number, count: number, prefix: string) =>
      fetch(`${cluster.node(n).url}/v1/events?key=${limitedKey}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          events: Array.from({ length: count }, (_, i) => ({
            id: `${prefix}-${i}`,
            type: 'api.call',
            ts: Date.now(),
          })),
        }),
      });
    expect((await post(1, 400, 'rl-a')).status).toBe(200);
    expect((await post(2, 400, 'rl-b')).status).toBe(200);
    const refused = await post(3, 400, 'rl-c');
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: expect.any(Number),
    });
  });

  it('runs a stream defined through one node’s API on every node', async () => {
    const spec = {
      source: { types: ['cart.add'] },
      window: { kind: 'tumbling', sizeMs: 60_000 },
      aggregates: [{ name: 'n', fn: 'count' }],
      emit: { mode: 'early', everyMs: 100 },
    };
    const put = await fetch(`${cluster.node(3).url}/v1/streams/carts?key=${key}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    });
    expect(put.status).toBe(200);
    for (const n of [1, 2])
      await eventually(
        async () => (await fetch(`${cluster.node(n).url}/v1/streams/carts?key=${key}`)).ok,
        30_000,
        `the stream on node ${n}`,
      );
    const dashboard = await dashboardOn(1, 'carts');
    const b = await ingestOn(2);
    await send(b, 1, [{ id: 'cart-1', type: 'cart.add', ts: Date.now() }]);
    await collectUntil(
      dashboard,
      [(m) => m.t === 'window' && m.id === 'carts' && windowOf(m).values.n === 1],
      60_000,
      'a window of the new stream',
    );
  });

  it('kill -9 of the node running the streams: the others keep serving, its partitions move, the final counts every event', async () => {
    expect(await cluster.holderOf(partition)).toBe(2);
    const dashboard = await dashboardOn(3, 'orders');
    // A window 20–30 s ahead: it closes only when an event passes its end, after the kill.
    const start = Math.ceil(Date.now() / 10_000) * 10_000 + 20_000;
    const order = (i: number) => ({
      id: `order-${i}`,
      type: 'order.placed',
      ts: start + i,
      props: { amount: i },
    });
    const a = await ingestOn(1);
    await send(a, 1, [0, 1, 2, 3, 4].map(order));
    await collectUntil(
      dashboard,
      [(m) => isWindow('orders', { start })(m) && windowOf(m).values.n === 5],
      60_000,
      'the early update before the kill',
    );

    await cluster.kill(2);
    const c = await ingestOn(3);
    expect(await send(c, 1, [5, 6, 7].map(order))).toMatchObject({ accepted: 3 });
    expect(await send(a, 2, [8, 9].map(order))).toMatchObject({ accepted: 2 });
    await eventually(
      async () => [1, 3].includes((await cluster.holderOf(partition))!),
      30_000,
      'the partition to move',
    );

    // An event past the window's end moves the new owner's watermark: the final comes.
    await send(c, 2, [
      { id: 'order-late', type: 'order.placed', ts: start + 11_000, props: { amount: 0 } },
    ]);
    const windows = await finalWith(dashboard, 'orders', start, 10);
    expect(lastFinal(windows).values).toEqual({ n: 10, amount: 45 });
    const revs = windows.map((w) => w.rev);
    expect(revs).toEqual([...revs].sort((x, y) => x - y)); // revs never went back
    // HAProxy's checks take the dead node out; the live ones answer through it.
    await eventually(
      async () => (await fetch(`${cluster.proxy!.url}/readyz`)).status === 200,
      30_000,
      'a ready node through the proxy',
    );
  });

  it('a node stopped with SIGTERM exits 0 and hands its partition over', async () => {
    const holder = (await cluster.holderOf(partition))!;
    const survivor = holder === 1 ? 3 : 1;
    expect(await cluster.node(holder).stop()).toBe(0);
    await eventually(
      async () => (await cluster.holderOf(partition)) === survivor,
      30_000,
      'the handover',
    );
    const client = await ingestOn(survivor);
    const ack = await send(client, 1, [{ id: 'after-stop', type: 'page.view', ts: Date.now() }]);
    expect(ack).toMatchObject({ accepted: 1 });
  });
});
