import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishOn } from '../../../src/cluster/bus-channels.js';
import { createRedisBus } from '../../../src/cluster/redis-bus.js';
import { openRedis, type Redis } from '../../../src/cluster/redis-connection.js';
import { createInbox } from '../../../src/notify/inbox.js';
import { wireNotification } from '../../../src/notify/notification.js';
import { createRedisStateStore } from '../../../src/state/redis-state-store.js';
import { sortableTime } from '../../../src/state/state-store.js';
import { eventually } from '../../helpers/eventually.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { connect, type SocketClient } from '../../helpers/socket-client.js';
import { makeNotification, project, startUserApp, type UserApp } from '../../helpers/user-app.js';

let server: RedisServer;
const connections: Redis[] = [];
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const redis of connections) redis.disconnect();
  await server.stop();
});

/** A connection as a node holds one: short reconnect pauses, so the test does not wait long. */
async function open(keyPrefix = 't:'): Promise<Redis> {
  const redis = await openRedis(server.url, {
    keyPrefix,
    reconnectBaseMs: 10,
    reconnectMaxMs: 100,
  });
  connections.push(redis);
  return redis;
}

const catchUpFailures = async () =>
  (await app.metrics.userCatchUpFailures.get()).values.reduce((sum, v) => sum + v.value, 0);

const clientsConnected = async (admin: Redis) =>
  Number(/^connected_clients:(\d+)/m.exec(await admin.info('clients'))![1]);

let app: UserApp;

describe('user sockets after their node missed bus messages', () => {
  let state: Redis;
  let admin: Redis;
  let socket: SocketClient;

  beforeAll(async () => {
    admin = await open('');
    // The node of the socket: its state (inbox) on one connection, its bus on another, as a
    // cluster node's main connection and bus subscriber reconnect each on their own.
    state = await open();
    const bus = createRedisBus(await open());
    cleanups.push(() => bus.close());
    app = await startUserApp({ state: createRedisStateStore(state), bus });
    cleanups.push(() => app.close());
    await bus.subscribed!();
    socket = await connect(`${app.wsUrl}/v1/user?token=${app.tokenFor('u1')}`);
    cleanups.push(() => socket.close());
    expect(await socket.nextMessage()).toMatchObject({ t: 'counts', total: 0 });
  });

  it('get what was published meanwhile once the inbox can be read, even if it could not be when the bus came back', async () => {
    // Another node, which routes a notification while this node's subscriber is away.
    const other = await open();
    const otherBus = createRedisBus(other);
    cleanups.push(() => otherBus.close());
    const inbox = createInbox(createRedisStateStore(other));

    // Only this node's subscriber goes, and no connection may come back until Redis lets it.
    await admin.call('CONFIG', 'SET', 'maxclients', String((await clientsConnected(admin)) - 1));
    const resubscribed = new Promise<number>((resolve) => app.bus.onResubscribed!(resolve));
    let missed;
    try {
      expect(Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBe(1);
      // A router's id: its time, then random hex.
      missed = makeNotification('u1', 1, { id: `${sortableTime(Date.now())}-00c0ffee00` });
      await inbox.append(missed);
      const message = { t: 'notification', n: wireNotification(missed) };
      publishOn(otherBus, 'user', { project, userId: 'u1', message });
      // The node's own state connection is down when its subscriber is back.
      state.disconnect();
    } finally {
      await admin.call('CONFIG', 'SET', 'maxclients', '10000');
    }
    await resubscribed;
    await eventually(async () => (await catchUpFailures()) > 0, 10_000, 'a failed catch-up');
    await state.connect();

    expect(await socket.nextMessage(30_000)).toMatchObject({
      t: 'notification',
      n: { id: missed.id },
    });
    expect(await socket.nextMessage()).toMatchObject({ t: 'counts', total: 1, unread: 1 });
    await socket.expectNoMessage(300);
  });
});
