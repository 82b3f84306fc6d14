import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type Client } from '../../src/client/index.js';
import { FakeSocket } from '../helpers/fake-websocket.js';

/**
 * What a move to another server keeps, at the client's `WebSocket` seam: the sockets of one
 * client start on the same server (picked at random), and after that server goes away the
 * unacknowledged events go again with the same ids, subscriptions are made again and the
 * inbox resumes after the last id seen, all on the next server of the list.
 */
const urls = ['http://a:1', 'http://b:1', 'http://c:1'];
let client: Client | undefined;

const open = (path: string) => FakeSocket.made.filter((s) => s.path === path && !s.endedAt);
const only = (path: string) => {
  const sockets = open(path);
  expect(sockets).toHaveLength(1);
  return sockets[0]!;
};
const eventIds = (socket: FakeSocket) =>
  socket.sent
    .filter((m) => m.t === 'events')
    .flatMap((m) => (m.events as Array<{ id: string }>).map((e) => e.id));

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.made = [];
});
afterEach(() => {
  client?.close();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('client moving to another server', () => {
  it('starts every socket on the randomly picked server', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.7); // ⌊0.7 × 3⌋ = 2
    client = createClient({ url: urls, key: 'k', WebSocket: FakeSocket, storage: null });
    client.subscribe('s', () => undefined);
    client.track('a');
    client.inbox({ token: 't', userId: 'u' });
    expect(FakeSocket.made.map((s) => `${s.host}${s.path}`)).toEqual([
      'c/v1/live',
      'c/v1/ingest',
      'c/v1/user',
    ]);
    expect(client.server).toBeUndefined(); // nothing is open yet
  });

  it('resends unacknowledged events with their ids, resubscribes and resumes the inbox on the next server', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.4); // starts on b
    const windows: number[] = [];
    const notifications: string[] = [];
    client = createClient({ url: urls, key: 'k', WebSocket: FakeSocket, storage: null });
    client.subscribe('votes', 'show-7', (w) => windows.push(w.start), { last: 5 });
    only('/v1/live').accept();
    const inbox = client.inbox({
      token: 't',
      userId: 'u',
      onNotification: (n) => notifications.push(n.id),
    });
    only('/v1/user').accept();
    const tracked = [client.track('a'), client.track('b'), client.track('c')];
    only('/v1/ingest').accept();
    const flushed = client.flush();
    const onB = only('/v1/ingest');
    expect(client.server).toBe('http://b:1');

    // b goes away before acknowledging anything.
    expect(eventIds(onB)).toEqual(tracked);
    only('/v1/live').receive({ t: 'window', id: 's1', w: { start: 1000, key: 'show-7' } });
    only('/v1/user').receive({ t: 'notification', n: { id: '0001-x', title: 'hi' } });

    for (const path of ['/v1/ingest', '/v1/live', '/v1/user']) only(path).end();
    expect(client.server).toBeUndefined();
    vi.advanceTimersByTime(1000);

    const ingest = only('/v1/ingest');
    const live = only('/v1/live');
    const user = only('/v1/user');
    expect([ingest.host, live.host, user.host]).toEqual(['c', 'c', 'c']);
    expect(new URL(user.url).searchParams.get('after')).toBe('0001-x');
    for (const socket of [ingest, live, user]) socket.accept();
    expect(client.server).toBe('http://c:1');
    expect(inbox.server).toBe('http://c:1');
    expect(live.sent).toEqual([{ t: 'sub', id: 's1', stream: 'votes', key: 'show-7', last: 5 }]);
    live.receive({ t: 'snapshot', id: 's1', windows: [{ start: 1000, key: 'show-7' }] });

    vi.advanceTimersByTime(1000); // the batcher's delay
    expect(eventIds(ingest)).toEqual(tracked);
    const frame = ingest.sent.find((m) => m.t === 'events')!;
    ingest.receive({ t: 'ack', seq: frame.seq, accepted: 3, duplicates: 0, rejected: [] });
    await flushed;
    expect(client.stats()).toMatchObject({ accepted: 3, queued: 0, reconnects: 2 });
    expect(windows).toEqual([1000, 1000]);
    expect(notifications).toEqual(['0001-x']);
  });

  it('keeps the storage slot of one URL when given as a list of one', () => {
    const saved = new Map<string, string>();
    const storage = {
      getItem: (k: string) => saved.get(k) ?? null,
      setItem: (k: string, v: string) => void saved.set(k, v),
      removeItem: (k: string) => void saved.delete(k),
    };
    const one = createClient({ url: 'http://a:1', key: 'k', WebSocket: FakeSocket, storage });
    one.track('a');
    one.close();
    const slots = [...saved.keys()];
    const list = createClient({ url: ['http://a:1'], key: 'k', WebSocket: FakeSocket, storage });
    expect(list.stats().queued).toBe(1);
    list.close();
    expect([...saved.keys()]).toEqual(slots);
  });
});
