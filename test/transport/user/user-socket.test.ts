import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLmdbStateStore } from '../../../src/state/lmdb-state-store.js';
import { createMemoryStateStore } from '../../../src/state/memory-state-store.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { connect, type Message, type SocketClient } from '../../helpers/socket-client.js';
import { keys, startUserApp, upgradeRefusal, type UserApp } from '../../helpers/user-app.js';

/** A memory store whose listings can be held back, to land a live push inside a resume. */
function gatedStore() {
  const inner = createMemoryStateStore();
  let gate: Promise<void> | undefined;
  let open = () => {};
  const store: StateStore = {
    ...inner,
    async list(prefix, options) {
      const result = await inner.list(prefix, options);
      if (gate) await gate;
      return result as never;
    },
  };
  return {
    store,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open();
    },
  };
}

const gated = gatedStore();
let server: UserApp;
const clients: SocketClient[] = [];

beforeAll(async () => {
  server = await startUserApp({ state: gated.store });
});
afterAll(() => {
  for (const client of clients) client.close();
  server.close();
});

async function open(userId: string, query = ''): Promise<SocketClient> {
  const client = await connect(`${server.wsUrl}/v1/user?token=${server.tokenFor(userId)}${query}`);
  clients.push(client);
  return client;
}

const ids = (messages: Message[]) => messages.map((m) => (m.n as { id: string }).id);

async function take(client: SocketClient, count: number): Promise<Message[]> {
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) messages.push(await client.nextMessage());
  return messages;
}

describe('GET /v1/user', () => {
  it('refuses an upgrade without a token, with a bad one or an expired one (401)', async () => {
    const url = `${server.wsUrl}/v1/user`;
    expect(await upgradeRefusal(url)).toMatchObject({
      status: 401,
      body: { code: 'UNAUTHORIZED' },
    });
    const expired = server.tokens.issue('p1', 'u1', 1).token;
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const token of ['nonsense', expired, `${server.tokenFor('u1')}x`]) {
      expect(await upgradeRefusal(`${url}?token=${token}`)).toMatchObject({
        status: 401,
        body: { code: 'BAD_TOKEN' },
      });
    }
    await expect(connect(url)).rejects.toThrow(/401/);
  });

  it('takes the token as a Bearer header too, and sends the counts on open', async () => {
    await server.notify('bearer');
    const client = await connect(`${server.wsUrl}/v1/user`, {
      authorization: `Bearer ${server.tokenFor('bearer')}`,
    });
    clients.push(client);
    expect(await client.nextMessage()).toEqual({ t: 'counts', unread: 1, unseen: 1, total: 1 });
  });

  it('marks read over one socket and updates the counts on every socket of the user', async () => {
    const { notification: first } = await server.notify('reader');
    await server.notify('reader');
    const [tab1, tab2] = [await open('reader'), await open('reader')];
    const stranger = await open('stranger');
    for (const client of [tab1, tab2, stranger])
      expect((await client.nextMessage()).t).toBe('counts');

    tab1.send({ t: 'read', ids: [first.id, 'no-such-id'] });

    for (const tab of [tab1, tab2]) {
      expect(await tab.nextMessage()).toEqual({ t: 'marked', as: 'read', ids: [first.id] });
      expect(await tab.nextMessage()).toEqual({ t: 'counts', unread: 1, unseen: 1, total: 2 });
    }
    await stranger.expectNoMessage(100);
    tab2.send({
      t: 'seen',
      ids: [first.id, (await server.inbox.since('p1', 'reader', first.id))[0]!.id],
    });
    expect((await tab1.nextMessage()).as).toBe('seen');
    expect(await tab1.nextMessage()).toEqual({ t: 'counts', unread: 1, unseen: 0, total: 2 });
    tab1.send({ t: 'archive', ids: [first.id] });
    expect((await tab2.nextMessage()).as).toBe('seen');
    expect(await tab2.nextMessage()).toEqual({ t: 'counts', unread: 1, unseen: 0, total: 2 });
    expect(await tab2.nextMessage()).toEqual({ t: 'marked', as: 'archived', ids: [first.id] });
    expect(await tab2.nextMessage()).toEqual({ t: 'counts', unread: 1, unseen: 0, total: 1 });
  });

  it('sends exactly the missed notifications on reconnect with ?after=, then counts', async () => {
    const first = await open('returning');
    await first.nextMessage();
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push((await server.notify('returning')).notification);
    const seen = await take(first, 3);
    expect(ids(seen)).toEqual(sent.map((n) => n.id));
    first.close();
    await first.closed;

    const missed = [];
    for (let i = 0; i < 2; i++) missed.push((await server.notify('returning')).notification);
    const again = await open('returning', `&after=${ids(seen).at(-1)}`);
    const messages = await take(again, 3);
    expect(ids(messages.slice(0, 2))).toEqual(missed.map((n) => n.id));
    expect(messages[0]).toMatchObject({
      t: 'notification',
      n: { title: missed[0]!.title, data: missed[0]!.data, read: false, seen: false },
    });
    expect(messages[2]).toEqual({ t: 'counts', unread: 5, unseen: 5, total: 5 });
    await again.expectNoMessage(100);

    // And on demand: a resume frame from the first of the missed ones.
    again.send({ t: 'resume', after: missed[0]!.id });
    expect(ids([await again.nextMessage()])).toEqual([missed[1]!.id]);
    expect((await again.nextMessage()).t).toBe('counts');
  });

  it('sends a notification that lands during a resume once, after the missed ones', async () => {
    const { notification: last } = await server.notify('racer');
    const { notification: missed } = await server.notify('racer');
    gated.hold();
    const client = await open('racer', `&after=${last.id}`);
    // The resume is reading the inbox; this notification arrives live meanwhile.
    const { notification: live, result } = await server.notify('racer');
    expect(result.status).toBe('delivered');
    gated.release();

    const messages = await take(client, 3);
    expect(ids(messages.slice(0, 2))).toEqual([missed.id, live.id]);
    expect(messages[2]).toEqual({ t: 'counts', unread: 3, unseen: 3, total: 3 });
    await client.expectNoMessage(150);
  });

  it('answers a frame over 64 KiB with FRAME_TOO_LARGE on an open socket, and counts it', async () => {
    const client = await open('verbose');
    expect(await client.nextMessage()).toMatchObject({ t: 'counts' });
    client.send({
      t: 'read',
      ids: Array.from({ length: 500 }, (_, i) => `n${i}`.padEnd(200, 'x')),
    });
    expect(await client.nextMessage()).toMatchObject({ t: 'error', code: 'FRAME_TOO_LARGE' });
    client.send({ t: 'resume' });
    expect(await client.nextMessage()).toMatchObject({ t: 'counts' });
    const errors = await server.metrics.frameErrors.get();
    expect(errors.values).toContainEqual(
      expect.objectContaining({ labels: { transport: 'user', code: 'FRAME_TOO_LARGE' }, value: 1 }),
    );
  });

  it('answers bad frames with error codes and closes after too many in a row', async () => {
    const client = await open('clumsy');
    await client.nextMessage();
    client.sendRaw('{"t":"read"}', false);
    expect(await client.nextMessage()).toMatchObject({ t: 'error', code: 'TEXT_FRAME' });
    client.send({ t: 'shout' });
    expect(await client.nextMessage()).toMatchObject({ t: 'error', code: 'UNKNOWN_TYPE' });
    client.send({ t: 'read', ids: 'n1' });
    expect(await client.nextMessage()).toMatchObject({ t: 'error', code: 'BAD_FRAME' });
    client.send({ t: 'resume', after: 42 });
    expect(await client.nextMessage()).toMatchObject({ t: 'error', code: 'BAD_FRAME' });
    client.sendRaw(Buffer.from([0xc1]));
    expect(await client.nextMessage()).toMatchObject({ t: 'error', code: 'BAD_MSGPACK' });
    const packr = new Packr();
    for (let i = 5; i < server.limits.badFramesBeforeClose; i++) client.send(packr.pack([1]));
    expect((await client.closed).code).toBe(1008);
  });
});

describe('GET /v1/user on the LMDB state store', () => {
  it('resumes after an id and pages the inbox as on the memory store', async () => {
    const state = openLmdbStateStore(mkdtempSync(join(tmpdir(), 'backline-user-lmdb-')));
    const lmdb = await startUserApp({ state });
    try {
      const sent = [];
      for (let i = 0; i < 5; i++) sent.push((await lmdb.notify('fan')).notification.id);
      const client = await connect(
        `${lmdb.wsUrl}/v1/user?token=${lmdb.tokenFor('fan')}&after=${sent[2]}`,
      );
      const messages = await take(client, 3);
      expect(ids(messages.slice(0, 2))).toEqual(sent.slice(3));
      expect(messages[2]).toEqual({ t: 'counts', unread: 5, unseen: 5, total: 5 });
      client.close();

      const res = await fetch(
        `${lmdb.url}/v1/users/fan/inbox?key=${keys.usersRead}&limit=2&before=${sent[3]}`,
      );
      const page = (await res.json()) as { items: Array<{ id: string }>; next: string };
      expect(page.items.map((item) => item.id)).toEqual([sent[2], sent[1]]);
      expect(page.next).toBe(sent[1]);
    } finally {
      lmdb.close();
      await state.close();
    }
  });
});
