import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClient,
  type Client,
  type InboxCounts,
  type InboxNotification,
  type KeyValueStorage,
  type MarkedAs,
} from '../../src/client/index.js';
import type { Connection, ConnectionHandlers } from '../../src/client/connection.js';
import { createInbox } from '../../src/client/inbox.js';
import { eventually } from '../helpers/eventually.js';
import { freePort } from '../helpers/free-port.js';
import { removeDir, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

const key = 'inbox_admin_key_0123456789';
const config = {
  projects: [
    {
      id: 'fans',
      keys: [{ key, scopes: ['ingest', 'read', 'admin'] }],
      rules: [
        {
          name: 'ping',
          trigger: { kind: 'event', types: ['ping'] },
          audience: { kind: 'user' },
          notification: {
            category: 'ping',
            title: 'Ping {{props.n}}',
            body: '',
            channels: ['in_app'],
          },
        },
      ],
    },
  ],
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function userToken(server: ServerProcess, userId: string): Promise<string> {
  const res = await fetch(`${server.url}/v1/users/${userId}/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

interface InboxPage {
  items: Array<{ id: string; title: string }>;
  counts: InboxCounts;
  next?: string | null;
}

/** The user's whole inbox, page after page (a slow machine fires more than one page). */
async function inboxOf(server: ServerProcess, userId: string): Promise<InboxPage> {
  const url = `${server.url}/v1/users/${userId}/inbox?limit=500&key=${key}`;
  const first = (await (await fetch(url)).json()) as InboxPage;
  const items = [...first.items];
  for (let next = first.next; next;) {
    const page = (await (await fetch(`${url}&before=${next}`)).json()) as InboxPage;
    items.push(...page.items);
    next = page.next;
  }
  return { items, counts: first.counts };
}

/** A user's side: what `onNotification`, `onCounts` and `onMarked` were called with. */
function recorder() {
  const got: InboxNotification[] = [];
  const marks: Array<[MarkedAs, string[]]> = [];
  let counts: InboxCounts | undefined;
  return {
    got,
    marks,
    get counts() {
      return counts;
    },
    handlers: {
      onNotification: (n: InboxNotification) => got.push(n),
      onCounts: (c: InboxCounts) => (counts = c),
      onMarked: (as: MarkedAs, ids: string[]) => marks.push([as, ids]),
    },
  };
}

function memoryStorage(): KeyValueStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

const clientFor = (server: ServerProcess, storage: KeyValueStorage | null = null): Client =>
  createClient({
    url: server.url,
    key,
    WebSocket,
    storage,
    batch: { maxDelayMs: 20 },
    backoff: { baseMs: 50, maxMs: 500 },
  });

describe('client inbox against the real server', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ config });
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  it('gets the notification a tracked event fires, and markRead brings the unread count down', async () => {
    const client = clientFor(server);
    const fan = recorder();
    const inbox = client.inbox({
      token: await userToken(server, 'ana'),
      userId: 'ana',
      ...fan.handlers,
    });
    try {
      await eventually(() => fan.counts !== undefined, 10_000, 'the first counts');
      expect(fan.counts).toEqual({ unread: 0, unseen: 0, total: 0 });

      client.track('ping', { n: 1 }, { userId: 'ana' });
      await client.flush();
      await eventually(() => fan.got.length === 1, 10_000, 'the notification');
      expect(fan.got[0]).toMatchObject({
        category: 'ping',
        title: 'Ping 1',
        read: false,
        live: true,
      });
      expect(fan.counts).toEqual({ unread: 1, unseen: 1, total: 1 });
      expect(inbox.lastId).toBe(fan.got[0]!.id);

      inbox.markRead([fan.got[0]!.id]);
      await eventually(() => fan.counts?.unread === 0, 10_000, 'counts after markRead');
      expect(fan.counts).toEqual({ unread: 0, unseen: 0, total: 1 });
      expect(fan.marks).toEqual([['read', [fan.got[0]!.id]]]);
      expect((await inboxOf(server, 'ana')).counts).toEqual(fan.counts);

      inbox.archive([fan.got[0]!.id]);
      await eventually(() => fan.counts?.total === 0, 10_000, 'counts after archive');
    } finally {
      client.close();
    }
  });

  it('resumes after the last id it kept in storage: a new page gets only what it missed', async () => {
    const storage = memoryStorage();
    const token = await userToken(server, 'bo');
    const first = clientFor(server, storage);
    const before = recorder();
    first.inbox({ token, userId: 'bo', ...before.handlers });
    await eventually(() => before.counts !== undefined, 10_000, 'the first counts');
    first.track('ping', { n: 1 }, { userId: 'bo' });
    await eventually(() => before.got.length === 1, 10_000, 'the first notification');
    first.close(); // the page is closed

    const sender = clientFor(server);
    for (const n of [2, 3]) sender.track('ping', { n }, { userId: 'bo' });
    await sender.flush();
    await eventually(async () => (await inboxOf(server, 'bo')).items.length === 3, 10_000, 'inbox');
    sender.close();

    const second = clientFor(server, storage); // the page is opened again
    const after = recorder();
    second.inbox({ token, userId: 'bo', ...after.handlers });
    try {
      await eventually(() => after.counts?.total === 3, 10_000, 'the counts after the resume');
      expect(after.got.map((n) => n.title).sort()).toEqual(['Ping 2', 'Ping 3']);
      expect(after.got.every((n) => !n.live && !n.read)).toBe(true);
      expect(after.counts).toEqual({ unread: 3, unseen: 3, total: 3 });
      expect([...storage.map.values()]).toContain(after.got.at(-1)!.id);
    } finally {
      second.close();
    }
  });
});

describe('client inbox across a server crash', () => {
  it('gets every notification exactly once through kill -9 and a restart', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    let server = await startServer({ dataDir, config, key, port });
    const sender = clientFor(server);
    // The inbox's sockets go to a closed port while `away`, so it misses what is fired
    // meanwhile for certain (not by racing the sender): that must come with the resume.
    const deadPort = await freePort();
    let away = false;
    class GatedWebSocket extends WebSocket {
      constructor(url: string) {
        super(away ? url.replace(`:${port}/`, `:${deadPort}/`) : url);
      }
    }
    const receiver = createClient({
      url: server.url,
      key,
      WebSocket: GatedWebSocket,
      storage: null,
      backoff: { baseMs: 100, maxMs: 500 },
    });
    const fan = recorder();
    // The token secret lives in the data folder: the token outlives the restart.
    const token = await userToken(server, 'cy');
    const inbox = receiver.inbox({ token, userId: 'cy', ...fan.handlers });
    let n = 0;
    const ticker = setInterval(() => sender.track('ping', { n: ++n }, { userId: 'cy' }), 40);
    try {
      await eventually(() => fan.got.length >= 10, 10_000, '10 notifications');
      away = true;
      await server.kill();
      await sleep(200);
      expect(inbox.connected).toBe(false);
      const live = () => fan.got.filter((x) => x.live).length;
      const liveBeforeRestart = live();

      server = await startServer({ dataDir, config, key, port });
      const missed = fan.got.length + 3;
      await eventually(
        async () => (await inboxOf(server, 'cy')).items.length >= missed,
        20_000,
        'notifications fired while the inbox was away',
      );
      away = false;
      // Fired while the inbox was away (resumed), then live again on the new socket.
      await eventually(
        () => live() > liveBeforeRestart + 10,
        20_000,
        'live ones after the restart',
      );
      clearInterval(ticker);
      await sender.flush();
      // Rules fire after the ack: the last tracked events may still be turning into
      // notifications, so the stored inbox must stop growing before the two are compared.
      let storedBefore = -1;
      await eventually(
        async () => {
          const now = (await inboxOf(server, 'cy')).items.length;
          const still = now === storedBefore;
          storedBefore = now;
          return still;
        },
        20_000,
        'the inbox to stop growing',
        500,
      );

      const settled = async () => {
        const stored = await inboxOf(server, 'cy');
        return stored.items.length === fan.got.length && fan.counts?.total === stored.counts.total;
      };
      // On a timeout the comparisons below say what differs.
      await eventually(settled, 20_000, 'the client to have every stored notification').catch(
        () => undefined,
      );
      const stored = await inboxOf(server, 'cy');
      const ids = fan.got.map((x) => x.id);
      const resumed = fan.got.filter((x) => !x.live).length;
      console.log('inbox across a crash:', {
        tracked: n,
        received: ids.length,
        resumed,
        reconnects: inbox.connection.reconnects,
      });
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(new Set(stored.items.map((item) => item.id)));
      expect(resumed).toBeGreaterThan(0);
      expect(fan.counts).toEqual(stored.counts);
      expect(inbox.connection.reconnects).toBe(1);
    } finally {
      clearInterval(ticker);
      sender.close();
      receiver.close();
      await server.stop();
      removeDir(dataDir);
    }
  });
});

/** A `Connection` the test opens, drops and speaks for, recording what the inbox sends. */
function fakeSocket() {
  const sent: object[] = [];
  let handlers: ConnectionHandlers | undefined;
  let query: () => Record<string, string> = () => ({});
  let isOpen = false;
  const connection: Connection = {
    get isOpen() {
      return isOpen;
    },
    server: 'http://127.0.0.1:1',
    reconnects: 0,
    send: (message) => isOpen && sent.push(message) > 0,
    encode: () => new Uint8Array(),
    sendBytes: () => isOpen,
    close: () => void (isOpen = false),
  };
  return {
    sent,
    connect(q: () => Record<string, string>, h: ConnectionHandlers) {
      query = q;
      handlers = h;
      return connection;
    },
    /** The query the next attempt would open with. */
    query: () => query(),
    open() {
      isOpen = true;
      handlers!.open();
    },
    drop() {
      isOpen = false;
      handlers!.close({ code: 1006, reason: '' });
    },
    receive: (message: Record<string, unknown>) => handlers!.message(message),
  };
}

const wire = (id: string, state?: { read: boolean; seen: boolean }) => ({
  t: 'notification',
  n: { id, category: 'c', title: id, body: '', data: {}, ts: 1, ...state },
});

describe('createInbox', () => {
  it('keeps the greatest id seen (an older one may still come live), drops repeats, and resumes after it', () => {
    const socket = fakeSocket();
    const storage = memoryStorage();
    const fan = recorder();
    const inbox = createInbox(
      { connect: socket.connect, storage, storageKey: 'slot' },
      { token: 't', after: 'n1', ...fan.handlers },
    );
    expect(socket.query()).toEqual({ token: 't', after: 'n1' });
    socket.open();
    socket.receive({ t: 'counts', unread: 0, unseen: 0, total: 0 });
    for (const id of ['n3', 'n2', 'n3']) socket.receive(wire(id));
    expect(fan.got.map((n) => n.id)).toEqual(['n3', 'n2']);
    expect(fan.counts).toEqual({ unread: 2, unseen: 2, total: 2 });
    expect(inbox.lastId).toBe('n3');
    expect(storage.map.get('slot')).toBe('n3');
    socket.drop();
    expect(socket.query()).toEqual({ token: 't', after: 'n3' });

    // A later page starts from the stored id when it is later than the one it is given.
    const next = fakeSocket();
    createInbox(
      { connect: next.connect, storage, storageKey: 'slot' },
      { token: 't', after: 'n2' },
    );
    expect(next.query()).toEqual({ token: 't', after: 'n3' });
  });

  it('asks for the next page after a resume of 500, and not after a shorter one', () => {
    const socket = fakeSocket();
    createInbox({ connect: socket.connect, storage: undefined, storageKey: '' }, { token: 't' });
    socket.open();
    const id = (i: number) => `n${String(i).padStart(4, '0')}`;
    for (let i = 1; i <= 500; i++) socket.receive(wire(id(i), { read: false, seen: false }));
    socket.receive({ t: 'counts', unread: 700, unseen: 700, total: 700 });
    expect(socket.sent).toEqual([{ t: 'resume', after: id(500) }]);
    for (let i = 501; i <= 700; i++) socket.receive(wire(id(i), { read: false, seen: false }));
    socket.receive({ t: 'counts', unread: 700, unseen: 700, total: 700 });
    expect(socket.sent).toHaveLength(1);
  });

  it('sends marks made while disconnected once the socket is back, 500 ids a frame', () => {
    const socket = fakeSocket();
    const inbox = createInbox(
      { connect: socket.connect, storage: undefined, storageKey: '' },
      { token: 't' },
    );
    const ids = Array.from({ length: 1200 }, (_, i) => `n${i}`);
    inbox.markRead([...ids, 'n0']);
    inbox.archive(['n7']);
    expect(socket.sent).toEqual([]);
    socket.open();
    expect(socket.sent.map((m) => (m as { ids: string[] }).ids.length)).toEqual([500, 500, 200, 1]);
    expect(socket.sent.map((m) => (m as { t: string }).t)).toEqual([
      'read',
      'read',
      'read',
      'archive',
    ]);
    inbox.markSeen(['n1']);
    expect(socket.sent.at(-1)).toEqual({ t: 'seen', ids: ['n1'] });
  });
});
