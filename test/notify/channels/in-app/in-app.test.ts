import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../../../src/cluster/memory-bus.js';
import { createMemoryPresence } from '../../../../src/cluster/memory-presence.js';
import { createInAppChannel } from '../../../../src/notify/channels/in-app/in-app.js';
import { wireNotification } from '../../../../src/notify/notification.js';
import { connect, type SocketClient } from '../../../helpers/socket-client.js';
import {
  makeNotification,
  project,
  startUserApp,
  type UserApp,
} from '../../../helpers/user-app.js';

let server: UserApp;
const clients: SocketClient[] = [];

beforeAll(async () => {
  server = await startUserApp();
});
afterAll(() => {
  for (const client of clients) client.close();
  server.close();
});

/** A user socket, past the counts it gets on open. */
async function openSocket(userId: string): Promise<SocketClient> {
  const client = await connect(`${server.wsUrl}/v1/user?token=${server.tokenFor(userId)}`);
  clients.push(client);
  expect((await client.nextMessage()).t).toBe('counts');
  return client;
}

describe('createInAppChannel over the bus, the user hub and presence', () => {
  it('pushes the notification to every socket of the user and to no one else', async () => {
    const [a, b, other] = [
      await openSocket('fan1'),
      await openSocket('fan1'),
      await openSocket('fan2'),
    ];
    expect(await server.inApp.reachable(project, 'fan1')).toBe(true);

    const { notification, result } = await server.notify('fan1', { data: { showId: 7 } });

    expect(result).toEqual({ status: 'delivered', detail: 'online' });
    const expected = {
      t: 'notification',
      n: {
        id: notification.id,
        category: 'shows',
        title: notification.title,
        body: notification.body,
        data: { showId: 7 },
        ts: notification.ts,
      },
    };
    expect(await a.nextMessage()).toEqual(expected);
    expect(await b.nextMessage()).toEqual(expected);
    await other.expectNoMessage(150);
  });

  it('reports an offline user as failed with reason offline, and not reachable', async () => {
    expect(await server.inApp.reachable(project, 'nobody')).toBe(false);
    const { result } = await server.notify('nobody');
    expect(result).toEqual({ status: 'failed', reason: 'offline' });
  });

  it('stops reaching a user once their last socket closes', async () => {
    const client = await openSocket('leaving');
    expect(await server.inApp.reachable(project, 'leaving')).toBe(true);
    client.close();
    await client.closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await server.inApp.reachable(project, 'leaving')).toBe(false);
    expect((await server.notify('leaving')).result.status).toBe('failed');
  });

  it('is delivered only when the user is online, and publishes the message only then', async () => {
    const bus = createMemoryBus();
    const presence = createMemoryPresence();
    const published: unknown[] = [];
    bus.subscribe('user', (message) => published.push(message));
    const inApp = createInAppChannel({ bus, presence });
    const notification = makeNotification('u9', 1);

    expect(await inApp.send(notification)).toEqual({ status: 'failed', reason: 'offline' });
    expect(published).toEqual([]);

    await presence.join(project, 'u9', 'socket-1');
    expect(await inApp.reachable(project, 'u9')).toBe(true);
    expect(await inApp.send(notification)).toEqual({ status: 'delivered', detail: 'online' });
    expect(published).toEqual([
      {
        project,
        userId: 'u9',
        message: { t: 'notification', n: wireNotification(notification) },
      },
    ]);
  });
});
