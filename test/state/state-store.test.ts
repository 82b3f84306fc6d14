import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis } from '../../src/cluster/redis-connection.js';
import { openLmdbStateStore } from '../../src/state/lmdb-state-store.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import { createRedisStateStore } from '../../src/state/redis-state-store.js';
import type { StateStore, StateWrite } from '../../src/state/state-store.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

/** Opens a store over `space`: two stores opened with the same space share their data. */
type Open = (space: string) => Promise<StateStore>;

let redisServer: RedisServer;
beforeAll(async () => {
  redisServer = await startRedisServer();
});
afterAll(() => redisServer.stop());

const memorySpaces = new Map<string, StateStore>();
const lmdbFolders = new Map<string, string>();
const lmdbFolder = (space: string) =>
  lmdbFolders.get(space) ??
  lmdbFolders.set(space, mkdtempSync(join(tmpdir(), 'backline-state-'))).get(space)!;

/** One contract for every StateStore (Hono's shared-suite pattern). */
const implementations: Array<[string, Open]> = [
  [
    'memory',
    async (space) =>
      memorySpaces.get(space) ?? memorySpaces.set(space, createMemoryStateStore()).get(space)!,
  ],
  ['lmdb', async (space) => openLmdbStateStore(lmdbFolder(space))],
  [
    'redis',
    async (space) => {
      // A key prefix per space: tests share one redis-server without seeing each other.
      const redis = await openRedis(redisServer.url, { keyPrefix: `t-${space}:` });
      return { ...createRedisStateStore(redis), close: async () => void (await redis.quit()) };
    },
  ],
];

/** A write each store refuses, to fail a batch: what it cannot copy, encode or key. */
const refusedWrite: Record<string, StateWrite> = {
  memory: { op: 'put', key: 'b/bad', value: () => 1 },
  lmdb: { op: 'put', key: `b/${'x'.repeat(3000)}`, value: 1 },
  redis: { op: 'put', key: 'b/bad', value: 2n ** 70n },
};

describe.each(implementations)('StateStore: %s', (name, openIn) => {
  const open = () => openIn(randomUUID());

  it('applies a batch in order, each putIfAbsent seeing the writes before it', async () => {
    const state = await open();
    await state.put('b/taken', 'old');
    const results = await state.batch([
      { op: 'putIfAbsent', key: 'b/taken', value: 'new' },
      { op: 'put', key: 'b/1', value: { n: 1 } },
      { op: 'putIfAbsent', key: 'b/1', value: { n: 2 } },
      { op: 'putIfAbsent', key: 'b/2', value: 2 },
      { op: 'del', key: 'b/taken' },
      { op: 'putIfAbsent', key: 'b/taken', value: 'again' },
    ]);
    expect(results).toEqual([false, true, false, true, true, true]);
    expect(await state.list('b/')).toEqual([
      ['b/1', { n: 1 }],
      ['b/2', 2],
      ['b/taken', 'again'],
    ]);
    expect(await state.batch([])).toEqual([]);
    await state.close();
  });

  it('applies none of a batch when one of its writes fails', async () => {
    const state = await open();
    await state.put('b/kept', 1);
    const batch = state.batch([
      { op: 'put', key: 'b/first', value: 1 },
      { op: 'del', key: 'b/kept' },
      refusedWrite[name]!,
      { op: 'putIfAbsent', key: 'b/last', value: 1 },
    ]);
    await expect(batch).rejects.toThrow();
    expect(await state.list('b/')).toEqual([['b/kept', 1]]);
    await state.close();
  });

  it('gets, puts and deletes', async () => {
    const state = await open();
    expect(await state.get('a/1')).toBeUndefined();
    await state.put('a/1', { n: 1, list: ['x'] });
    expect(await state.get('a/1')).toEqual({ n: 1, list: ['x'] });
    await state.del('a/1');
    expect(await state.get('a/1')).toBeUndefined();
    expect(await state.list('a/')).toEqual([]);
    await state.close();
  });

  it('sets a key only once with putIfAbsent', async () => {
    const state = await open();
    expect(await state.putIfAbsent('d/k', 1)).toBe(true);
    expect(await state.putIfAbsent('d/k', 2)).toBe(false);
    expect(await state.get('d/k')).toBe(1);
    expect(await state.list('d/')).toEqual([['d/k', 1]]);
    await state.close();
  });

  it('lists a prefix in key order, reversed, paged and bounded', async () => {
    const state = await open();
    for (const key of ['p/3', 'p/1', 'p/2', 'q/1', 'p0']) await state.put(key, key);
    const keys = async (options?: Parameters<StateStore['list']>[1]) =>
      (await state.list('p/', options)).map(([key]) => key);
    expect(await keys()).toEqual(['p/1', 'p/2', 'p/3']);
    expect(await keys({ reverse: true })).toEqual(['p/3', 'p/2', 'p/1']);
    expect(await keys({ limit: 2 })).toEqual(['p/1', 'p/2']);
    expect(await keys({ after: 'p/1' })).toEqual(['p/2', 'p/3']);
    expect(await keys({ reverse: true, after: 'p/3', limit: 1 })).toEqual(['p/2']);
    expect(await keys({ before: 'p/3' })).toEqual(['p/1', 'p/2']);
    expect(await keys({ reverse: true, before: 'p/3' })).toEqual(['p/2', 'p/1']);
    await state.close();
  });

  it('orders keys that extend one another, with bounds that are not keys', async () => {
    const state = await open();
    for (const key of ['k/10', 'k/1/x', 'k/1', 'k/2', 'k', 'k0']) await state.put(key, key);
    const keys = async (options?: Parameters<StateStore['list']>[1]) =>
      (await state.list('k/', options)).map(([key]) => key);
    expect(await keys()).toEqual(['k/1', 'k/1/x', 'k/10', 'k/2']);
    expect(await keys({ after: 'k/1/' })).toEqual(['k/1/x', 'k/10', 'k/2']);
    expect(await keys({ after: 'a' })).toEqual(['k/1', 'k/1/x', 'k/10', 'k/2']);
    expect(await keys({ before: 'z' })).toEqual(['k/1', 'k/1/x', 'k/10', 'k/2']);
    expect(await keys({ reverse: true, after: 'k/10', before: 'k/2' })).toEqual(['k/1/x', 'k/1']);
    expect(await keys({ after: 'k/2' })).toEqual([]);
    await state.close();
  });

  it('returns copies: changing a value read does not change the store', async () => {
    const state = await open();
    await state.put('c', { n: 1 });
    const value = (await state.get<{ n: number }>('c'))!;
    value.n = 2;
    expect(await state.get('c')).toEqual({ n: 1 });
    await state.close();
  });

  it('updates from the current value; undefined deletes', async () => {
    const state = await open();
    const add = (by: number) => (n: number | undefined) => (n ?? 0) + by;
    expect(await state.update('u/n', add(2))).toBe(2);
    expect(await state.update('u/n', add(3))).toBe(5);
    expect(await state.list('u/')).toEqual([['u/n', 5]]);
    const seen: Array<number | undefined> = [];
    expect(await state.update<number>('u/n', (n) => (seen.push(n), undefined))).toBeUndefined();
    expect(seen.at(-1)).toBe(5);
    expect(await state.get('u/n')).toBeUndefined();
    expect(await state.list('u/')).toEqual([]);
    expect(await state.update('u/none', () => undefined)).toBeUndefined();
    expect(await state.list('u/')).toEqual([]);
    await state.close();
  });

  it('leaves the value alone when the update function throws', async () => {
    const state = await open();
    await state.put('t', { n: 1 });
    const failure = new Error('refused');
    await expect(
      state.update<{ n: number }>('t', () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await state.get('t')).toEqual({ n: 1 });
    await state.close();
  });

  it('applies 50 concurrent updates from two stores over the same data exactly once each', async () => {
    const space = randomUUID();
    const [first, second] = [await openIn(space), await openIn(space)];
    const increments = Array.from({ length: 50 }, (_, i) =>
      (i % 2 === 0 ? first : second).update<number>('count', (n) => (n ?? 0) + 1),
    );
    const results = await Promise.all(increments);
    expect(await first.get('count')).toBe(50);
    expect(await second.get('count')).toBe(50);
    // Each update saw a different value: none was lost, none applied twice.
    expect(new Set(results).size).toBe(50);
    await first.close();
    await second.close();
  });
});

it('keeps LMDB state across reopening the folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'backline-state-'));
  const first = openLmdbStateStore(dir);
  await first.put('keep/1', { ok: true });
  await first.close();
  const second = openLmdbStateStore(dir);
  expect(await second.get('keep/1')).toEqual({ ok: true });
  await second.close();
});
