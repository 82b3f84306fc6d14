import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type Client, type KeyValueStorage } from '../../src/client/index.js';
import { createOfflineQueue } from '../../src/client/offline-queue.js';
import type { ClientEvent } from '../../src/client/types.js';
import { freePort } from '../helpers/free-port.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { stats, withTimeout } from '../helpers/socket-client.js';

/** `localStorage`'s interface over a Map, as a browser without quota troubles has it. */
class MemoryStorage implements KeyValueStorage {
  readonly items = new Map<string, string>();
  getItem = (key: string) => this.items.get(key) ?? null;
  setItem = (key: string, value: string) => void this.items.set(key, value);
  removeItem = (key: string) => void this.items.delete(key);
}

const event = (id: string): ClientEvent => ({ id, type: 't', ts: 1 });
const queueOf = (maxEvents: number, storage?: KeyValueStorage) =>
  createOfflineQueue({ maxEvents, storage, storageKey: 'q', persistDelayMs: 10 });

describe('offline queue', () => {
  it('drops the oldest events past its bound and counts them', () => {
    const queue = queueOf(3);
    for (const id of ['a', 'b', 'c', 'd', 'e']) queue.push(event(id));
    expect(queue.size).toBe(3);
    expect(queue.dropped).toBe(2);
    expect(queue.take(10, () => false).map((q) => q.event.id)).toEqual(['c', 'd', 'e']);
  });

  it('takes oldest first, skipping events in flight, and removes acknowledged ones in any order', () => {
    const queue = queueOf(10);
    for (const id of ['a', 'b', 'c', 'd']) queue.push(event(id));
    expect(queue.take(2, (id) => id === 'a').map((q) => q.event.id)).toEqual(['b', 'c']);
    queue.remove(['c', 'a']);
    expect(queue.take(10, () => false).map((q) => q.event.id)).toEqual(['b', 'd']);
    expect(queue.oldest()).toBe(1);
    expect(queue.newest()).toBe(3);
  });

  it('survives in storage: a new queue on the same storage starts with the events', () => {
    const storage = new MemoryStorage();
    const first = queueOf(10, storage);
    for (const id of ['a', 'b', 'c']) first.push(event(id));
    first.remove(['b']);
    first.persist();
    const second = queueOf(10, storage);
    expect(second.take(10, () => false).map((q) => q.event.id)).toEqual(['a', 'c']);
    second.remove(['a', 'c']);
    second.persist();
    expect(storage.items.has('q')).toBe(false);
  });

  it('keeps working in memory when storage refuses writes, and counts the failures', () => {
    const full = new MemoryStorage();
    full.setItem = () => {
      throw new Error('QuotaExceededError');
    };
    const queue = queueOf(10, full);
    queue.push(event('a'));
    queue.persist();
    expect(queue.persistFailures).toBe(1);
    expect(queue.size).toBe(1);
  });

  it('ignores a corrupt stored queue', () => {
    const storage = new MemoryStorage();
    storage.setItem('q', '{not json');
    expect(queueOf(10, storage).size).toBe(0);
    storage.setItem('q', JSON.stringify([{ id: 'a', type: 't', ts: 1 }, { id: 3 }]));
    expect(queueOf(10, storage).size).toBe(1);
  });
});

describe('offline queue, with a server that comes later', () => {
  let server: ServerProcess | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    if (server) {
      await server.stop();
      removeDir(server.dataDir);
    }
    server = undefined;
  });
  const offlineClient = (port: number, key: string, options: object) => {
    const client = createClient({
      url: `http://127.0.0.1:${port}`,
      key,
      WebSocket,
      backoff: { baseMs: 50, maxMs: 200 },
      ...options,
    });
    clients.push(client);
    return client;
  };

  it('tracked offline past the bound: the newest events are stored once the server is up', async () => {
    const port = await freePort();
    const key = `offline_${Date.now()}_0123456789`;
    const client = offlineClient(port, key, { maxQueuedEvents: 50, storage: null });
    for (let i = 0; i < 30; i++) client.track('old', { i });
    for (let i = 0; i < 50; i++) client.track('new', { i });
    expect(client.stats()).toMatchObject({ tracked: 80, queued: 50, dropped: 30, accepted: 0 });

    server = await startServer({ port, key });
    await withTimeout(client.flush(), 20_000, 'flush');
    const stored = await stats(server.url, key);
    expect(stored.total).toBe(50);
    expect(stored.counts).toEqual({ new: 50 });
  });

  it('a page reloaded while offline sends what the previous page queued', async () => {
    const port = await freePort();
    const key = `reload_${Date.now()}_0123456789`;
    const storage = new MemoryStorage();
    const before = offlineClient(port, key, { storage });
    for (let i = 0; i < 20; i++) before.track('queued.before.reload', { i });
    before.close(); // the page goes away; its queue is written to storage
    expect(storage.items.size).toBe(1);
    // Another project's client on the same page never picks up this queue.
    expect(offlineClient(port, `other_${key}`, { storage }).stats().queued).toBe(0);

    server = await startServer({ port, key });
    const after = offlineClient(port, key, { storage });
    expect(after.stats().queued).toBe(20);
    await withTimeout(after.flush(), 20_000, 'flush');
    expect((await stats(server.url, key)).counts).toEqual({ 'queued.before.reload': 20 });
    after.close();
    expect(storage.items.size).toBe(0);
  });
});
