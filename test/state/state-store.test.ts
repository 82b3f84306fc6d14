import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openLmdbStateStore } from '../../src/state/lmdb-state-store.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';

/** One contract for every StateStore (Hono's shared-suite pattern). */
const implementations: Array<[string, () => StateStore]> = [
  ['memory', createMemoryStateStore],
  ['lmdb', () => openLmdbStateStore(mkdtempSync(join(tmpdir(), 'backline-state-')))],
];

describe.each(implementations)('StateStore: %s', (_name, open) => {
  it('gets, puts and deletes', async () => {
    const state = open();
    expect(await state.get('a/1')).toBeUndefined();
    await state.put('a/1', { n: 1, list: ['x'] });
    expect(await state.get('a/1')).toEqual({ n: 1, list: ['x'] });
    await state.del('a/1');
    expect(await state.get('a/1')).toBeUndefined();
    await state.close();
  });

  it('sets a key only once with putIfAbsent', async () => {
    const state = open();
    expect(await state.putIfAbsent('d/k', 1)).toBe(true);
    expect(await state.putIfAbsent('d/k', 2)).toBe(false);
    expect(await state.get('d/k')).toBe(1);
    await state.close();
  });

  it('lists a prefix in key order, reversed, paged and bounded', async () => {
    const state = open();
    for (const key of ['p/3', 'p/1', 'p/2', 'q/1', 'p0']) await state.put(key, key);
    const keys = async (options?: Parameters<StateStore['list']>[1]) =>
      (await state.list('p/', options)).map(([key]) => key);
    expect(await keys()).toEqual(['p/1', 'p/2', 'p/3']);
    expect(await keys({ reverse: true })).toEqual(['p/3', 'p/2', 'p/1']);
    expect(await keys({ limit: 2 })).toEqual(['p/1', 'p/2']);
    expect(await keys({ after: 'p/1' })).toEqual(['p/2', 'p/3']);
    expect(await keys({ reverse: true, after: 'p/3', limit: 1 })).toEqual(['p/2']);
    expect(await keys({ before: 'p/3' })).toEqual(['p/1', 'p/2']);
    await state.close();
  });

  it('returns copies: changing a value read does not change the store', async () => {
    const state = open();
    await state.put('c', { n: 1 });
    const value = (await state.get<{ n: number }>('c'))!;
    value.n = 2;
    expect(await state.get('c')).toEqual({ n: 1 });
    await state.close();
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
