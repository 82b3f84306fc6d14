import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRule, startCluster, type TestCluster } from '../helpers/cluster.js';
import { userToken } from '../helpers/cluster-load.js';
import { collectUntil } from '../helpers/live-client.js';
import { connect, type Message, type SocketClient } from '../helpers/socket-client.js';

const key = 'cluster_inbox_key_0123456789';
const config = {
  projects: [
    {
      id: 'inbox',
      keys: [{ key, scopes: ['ingest', 'read', 'admin'] }],
      rules: [alertRule],
    },
  ],
  cluster: { leaseTtlMs: 2000 },
};
const nodes = [1, 2, 3];

let cluster: TestCluster;
const sockets: SocketClient[] = [];
beforeAll(async () => {
  cluster = await startCluster({ config, key });
}, 180_000);
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await cluster?.stop();
}, 60_000);

/** A `/v1/user` socket of `ana` on node `n` (resuming after `after`), its first counts read. */
async function userSocket(token: string, n: number, after?: string) {
  const query = after === undefined ? '' : `&after=${after}`;
  const socket = await connect(`${cluster.node(n).wsUrl}/v1/user?token=${token}${query}`);
  sockets.push(socket);
  return socket;
}
const notification = (m: Message) => m.n as { id: string; data: { event: string }; read?: boolean };

/** Reads `socket` until `count` notifications and then counts came (a resume's answer). */
async function notifications(socket: SocketClient, count: number) {
  const seen: Array<ReturnType<typeof notification>> = [];
  for (;;) {
    const message = await socket.nextMessage(60_000);
    if (message.t === 'notification') seen.push(notification(message));
    else if (message.t === 'counts' && seen.length >= count) return { seen, counts: message };
  }
}

describe('in-app notifications across three nodes', () => {
  it('reaches the user’s sockets on every node once, marks on one node reach the others, resume works on any node', async () => {
    const token = await userToken(cluster, key, 'ana');
    const live = await Promise.all(nodes.map((n) => userSocket(token, n)));
    for (const socket of live)
      expect(await socket.nextMessage(30_000)).toMatchObject({ t: 'counts', total: 0 });

    // One alert through each node's HTTP ingest, one after another.
    for (const n of nodes) {
      const res = await fetch(`${cluster.node(n).url}/v1/events?key=${key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          events: [{ id: `a${n}`, type: 'alert', ts: Date.now(), userId: 'ana' }],
        }),
      });
      expect(res.status).toBe(200);
    }
    const got = await Promise.all(live.map((socket) => liveNotifications(socket, 3)));
    const ids = got[0]!.map((n) => n.id);
    expect(got[0]!.map((n) => n.data.event).sort()).toEqual(['a1', 'a2', 'a3']);
    for (const each of got) expect(each.map((n) => n.id)).toEqual(ids); // once each, same order
    for (const socket of live) await socket.expectNoMessage(500); // and nothing more

    live[1]!.send({ t: 'read', ids: [ids[0]] });
    for (const socket of live) {
      const { found } = await collectUntil(
        socket,
        [(m) => m.t === 'marked', (m) => m.t === 'counts' && m.unread === 2],
        30_000,
        'the mark and the counts after it',
      );
      expect(found[0]).toMatchObject({ as: 'read', ids: [ids[0]] });
    }

    // Resume after the first on each node, on a new socket and on an open one.
    for (const n of nodes) {
      const { seen, counts } = await notifications(await userSocket(token, n, ids[0]), 2);
      expect(seen.map((item) => item.id)).toEqual(ids.slice(1));
      expect(counts).toMatchObject({ unread: 2, total: 3 });
    }
    live[2]!.send({ t: 'resume', after: '0' });
    const { seen } = await notifications(live[2]!, 3);
    expect(seen.map((item) => [item.id, item.read])).toEqual([
      [ids[0], true],
      [ids[1], false],
      [ids[2], false],
    ]);
  }, 180_000);
});

/** The next `count` live notifications of `socket`, nothing else in between but counts. */
async function liveNotifications(socket: SocketClient, count: number) {
  const items: Array<ReturnType<typeof notification>> = [];
  while (items.length < count) {
    const message = await socket.nextMessage(60_000);
    if (message.t === 'notification') items.push(notification(message));
    else expect(message.t).toBe('counts');
  }
  return items;
}
