import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyStore, type KeyStoreDeps } from '../../src/auth/key-store.js';
import { keyIdOf } from '../../src/auth/key-registry.js';
import type { Bus } from '../../src/cluster/bus.js';
import { createMemoryBus } from '../../src/cluster/memory-bus.js';
import { createRedisBus } from '../../src/cluster/redis-bus.js';
import { openRedis } from '../../src/cluster/redis-connection.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { openLmdbStateStore } from '../../src/state/lmdb-state-store.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import { createRedisStateStore } from '../../src/state/redis-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { eventually } from '../helpers/eventually.js';
import { startRedisServer } from '../helpers/redis-server.js';

const configuredKey = 'shop-configured-admin-key-0123456789';
const projects = [
  { id: 'shop', keys: [{ key: configuredKey, scopes: ['admin' as const], name: 'ops' }] },
  { id: 'blog', keys: [{ key: 'blog-configured-key-0123456789', scopes: ['read' as const] }] },
];
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function openStore(
  state: StateStore,
  bus: Bus,
  extra: Partial<KeyStoreDeps> = {},
  reloadEveryMs = 60_000,
) {
  const metrics = createMetrics(new Registry());
  const log = pino({ level: 'silent' });
  const store = createKeyStore({ projects, state, bus, metrics, log, ...extra }, { reloadEveryMs });
  cleanups.push(() => store.stop());
  return { store, metrics };
}

describe('API keys made through the key store', () => {
  it('authenticates a made key with its scopes, lists it without the secret, revokes it at once', async () => {
    const { store } = openStore(createMemoryStateStore(), createMemoryBus());
    await store.start();
    const made = await store.create('shop', { name: 'ci', scopes: ['ingest', 'read'] });
    expect(made.key).toMatch(/^bl_[A-Za-z0-9_-]{43}$/);
    expect(store.authenticate(made.key)).toEqual({
      projectId: 'shop',
      keyId: made.id,
      scopes: new Set(['ingest', 'read']),
    });
    const listed = await store.list('shop');
    expect(listed).toEqual([
      {
        id: keyIdOf(configuredKey),
        name: 'ops',
        scopes: ['admin'],
        source: 'config',
        createdAt: null,
        expiresAt: null,
      },
      {
        id: made.id,
        name: 'ci',
        scopes: ['ingest', 'read'],
        source: 'api',
        createdAt: made.createdAt,
        expiresAt: null,
      },
    ]);
    expect(JSON.stringify(listed)).not.toContain(made.key);
    expect(await store.list('blog')).toHaveLength(1);

    expect(await store.revoke('blog', made.id)).toBe(false); // another project's key
    expect(store.authenticate(made.key)?.projectId).toBe('shop');
    expect(await store.revoke('shop', made.id)).toBe(true);
    expect(store.authenticate(made.key)).toBeUndefined();
    expect(await store.revoke('shop', made.id)).toBe(false);
  });

  it('keeps only a hash: the key is nowhere in the state, nor in the LMDB files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backline-keys-'));
    const state = openLmdbStateStore(dir);
    cleanups.push(() => state.close());
    const { store } = openStore(state, createMemoryBus());
    await store.start();
    const { key, id } = await store.create('shop', { name: 'secret', scopes: ['read'] });
    const stored = await state.list('keys/');
    expect(stored.map(([name]) => name)).toEqual([`keys/shop/${id}`]);
    expect(JSON.stringify(stored)).not.toContain(key);
    expect(JSON.stringify(stored)).not.toContain(key.slice(3));
    await state.close();
    const files = readdirSync(dir)
      .map((name) => join(dir, name))
      .filter((file) => statSync(file).isFile())
      .map((file) => readFileSync(file));
    // The record is there, found by its id: the search would find the key if it were.
    expect(files.some((bytes) => bytes.includes(Buffer.from(id)))).toBe(true);
    expect(files.some((bytes) => bytes.includes(Buffer.from(key.slice(3))))).toBe(false);
  });

  it('refuses an expired key, and bad requests with BAD_KEY_SPEC naming the field', async () => {
    let now = 1_800_000_000_000;
    const { store } = openStore(createMemoryStateStore(), createMemoryBus(), { now: () => now });
    await store.start();
    const { key } = await store.create('shop', {
      name: 'temp',
      scopes: ['read'],
      expiresAt: now + 1000,
    });
    expect(store.authenticate(key)).toBeDefined();
    now += 1000;
    expect(store.authenticate(key)).toBeUndefined();
    const bad: Array<[unknown, string]> = [
      [{ scopes: ['read'] }, 'name'],
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ name: 'x', scopes: ['read', 'read'] }, 'scopes'],
      [{ name: 'x', scopes: ['root'] }, 'scopes'],
      [{ name: 'x', scopes: ['read'], expiresAt: now - 1 }, 'expiresAt'],
      [{ name: 'x', scopes: ['read'], expiresIn: 5 }, '(body)'],
    ];
    for (const [raw, field] of bad) {
      const refused = store.create('shop', raw);
      await expect(refused).rejects.toMatchObject({ code: 'BAD_KEY_SPEC' });
      await expect(refused).rejects.toThrow(field);
    }
  });

  it('revokes a configured key through a tombstone, which survives a restart', async () => {
    const state = createMemoryStateStore();
    const first = openStore(state, createMemoryBus()).store;
    await first.start();
    expect(first.authenticate(configuredKey)?.projectId).toBe('shop');
    expect(await first.revoke('blog', keyIdOf(configuredKey))).toBe(false);
    expect(await first.revoke('shop', keyIdOf(configuredKey))).toBe(true);
    expect(first.authenticate(configuredKey)).toBeUndefined();
    expect((await first.list('shop')).map((k) => k.source)).toEqual([]);

    const second = openStore(state, createMemoryBus()).store;
    await second.start();
    expect(second.authenticate(configuredKey)).toBeUndefined();
    expect(second.authenticate('blog-configured-key-0123456789')?.projectId).toBe('blog');
  });

  it('bounds the keys of a project', async () => {
    const state = createMemoryStateStore();
    const metrics = createMetrics(new Registry());
    const log = pino({ level: 'silent' });
    const store = createKeyStore(
      { projects, state, bus: createMemoryBus(), metrics, log },
      { maxKeysPerProject: 2 },
    );
    cleanups.push(() => store.stop());
    await store.start();
    await store.create('shop', { name: 'a', scopes: ['read'] });
    await store.create('shop', { name: 'b', scopes: ['read'] });
    await expect(store.create('shop', { name: 'c', scopes: ['read'] })).rejects.toMatchObject({
      code: 'BAD_KEY_SPEC',
    });
    await store.create('blog', { name: 'c', scopes: ['read'] });
  });

  it('picks up a change whose bus message was lost at the next reload', async () => {
    const state = createMemoryStateStore();
    const quiet: Bus = {
      publish: () => undefined,
      subscribe: () => () => undefined,
      close: async () => undefined,
    };
    const writer = openStore(state, quiet).store;
    const reader = openStore(state, quiet, {}, 50).store;
    await writer.start();
    await reader.start();
    const { key, id } = await writer.create('shop', { name: 'lost', scopes: ['read'] });
    await eventually(
      () => reader.authenticate(key) !== undefined,
      5000,
      'the reload to find the key',
    );
    await writer.revoke('shop', id);
    await eventually(
      () => reader.authenticate(key) === undefined,
      5000,
      'the reload to drop the key',
    );
  });
});

describe('API keys across two nodes on one Redis (state and bus)', () => {
  it('serves a key made on one node on the other, and a revocation holds on both at once', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const node = async () => {
      const client = await openRedis(redis.url, { keyPrefix: 'bl:' });
      const busClient = await openRedis(redis.url, { keyPrefix: 'bl:' });
      const bus = createRedisBus(busClient);
      cleanups.push(async () => {
        await bus.close();
        await client.quit();
        await busClient.quit();
      });
      const { store } = openStore(createRedisStateStore(client), bus);
      await store.start();
      return store;
    };
    const [a, b] = [await node(), await node()];
    const { key, id } = await a.create('shop', { name: 'shared', scopes: ['ingest'] });
    await eventually(() => b.authenticate(key) !== undefined, 5000, 'node b to know the key');
    expect(b.authenticate(key)).toMatchObject({ projectId: 'shop', keyId: id });
    expect((await b.list('shop')).map((k) => k.id)).toContain(id);

    expect(await b.revoke('shop', id)).toBe(true);
    expect(b.authenticate(key)).toBeUndefined();
    await eventually(() => a.authenticate(key) === undefined, 5000, 'node a to refuse the key');
    expect(await b.revoke('shop', keyIdOf(configuredKey))).toBe(true);
    await eventually(() => a.authenticate(configuredKey) === undefined, 5000, 'the tombstone on a');
  });
});
