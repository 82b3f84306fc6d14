import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis } from '../../src/cluster/redis-connection.js';
import { withGroupCommit } from '../../src/state/group-commit.js';
import { openLmdbStateStore } from '../../src/state/lmdb-state-store.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import { createRedisStateStore } from '../../src/state/redis-state-store.js';
import type { StateStore, StateWrite } from '../../src/state/state-store.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let redisServer: RedisServer;
beforeAll(async () => {
  redisServer = await startRedisServer();
});
afterAll(() => redisServer.stop());

const implementations: Array<[string, () => Promise<StateStore>, refused: StateWrite]> = [
  ['memory', async () => createMemoryStateStore(), { op: 'put', key: 'g/bad', value: () => 1 }],
  [
    'lmdb',
    async () => openLmdbStateStore(mkdtempSync(join(tmpdir(), 'backline-group-'))),
    { op: 'put', key: `g/${'x'.repeat(3000)}`, value: 1 },
  ],
  [
    'redis',
    async () => {
      const redis = await openRedis(redisServer.url, { keyPrefix: `g-${randomUUID()}:` });
      return { ...createRedisStateStore(redis), close: async () => void (await redis.quit()) };
    },
    { op: 'put', key: 'g/bad', value: 2n ** 70n },
  ],
];

/** The real store, with every transaction's writes noted as the group commit hands them over. */
async function observed(open: () => Promise<StateStore>) {
  const store = await open();
  const transactions: StateWrite[][] = [];
  const inner: StateStore = {
    ...store,
    batch(writes) {
      transactions.push([...writes]);
      return store.batch(writes);
    },
  };
  return { store, transactions, grouped: withGroupCommit(inner) };
}

describe.each(implementations)('group commit on %s', (_name, open, refused) => {
  it('commits concurrent callers together, each resolving once its own write is readable', async () => {
    const { store, transactions, grouped } = await observed(open);
    const unseen: string[] = [];
    const check = (key: string) => async () => {
      if ((await store.get(key)) === undefined) unseen.push(key);
    };
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 ? grouped.put(`g/${i}`, { i }) : grouped.putIfAbsent(`g/${i}`, i)).then(
          check(`g/${i}`),
        ),
      ),
    );
    expect(unseen).toEqual([]);
    expect(transactions).toHaveLength(1);
    expect(await store.list('g/')).toHaveLength(50);
    await grouped.close();
  });

  it('applies writes in call order and answers each caller its own result', async () => {
    const { store, grouped } = await observed(open);
    const resolved: string[] = [];
    const noted = <T>(name: string, promise: Promise<T>) =>
      promise.then((value) => (resolved.push(name), value));
    const results = await Promise.all([
      noted('put 1', grouped.put('g/k', 1)),
      noted('claim', grouped.putIfAbsent('g/k', 2)),
      noted('del', grouped.del('g/k')),
      noted('claim again', grouped.putIfAbsent('g/k', 3)),
    ]);
    expect(results).toEqual([undefined, false, undefined, true]);
    expect(resolved).toEqual(['put 1', 'claim', 'del', 'claim again']);
    expect(await store.get('g/k')).toBe(3);
    await grouped.close();
  });

  it('gathers the writes made while a transaction commits into the next one', async () => {
    const { transactions, grouped } = await observed(open);
    const first = grouped.put('g/first', 1);
    while (transactions.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const later = Array.from({ length: 10 }, (_, i) => grouped.put(`g/later-${i}`, i));
    await Promise.all([first, ...later]);
    expect(transactions.map((t) => t.length)).toEqual([1, 10]);
    await grouped.close();
  });

  it('rejects every caller of a failed transaction and keeps none of its writes', async () => {
    const { store, grouped } = await observed(open);
    await store.put('g/kept', 'old');
    const outcomes = await Promise.allSettled([
      grouped.put('g/a', 1),
      grouped.putIfAbsent('g/b', 1),
      grouped.del('g/kept'),
      grouped.put(refused.key, (refused as { value: unknown }).value),
      grouped.put('g/kept', 'new'),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill('rejected'));
    expect(await store.list('g/')).toEqual([['g/kept', 'old']]);
    // The next transaction is not held back by the failed one.
    expect(await grouped.putIfAbsent('g/a', 2)).toBe(true);
    expect(await store.get('g/a')).toBe(2);
    await grouped.close();
  });

  it('commits the writes still waiting when closed', async () => {
    const { grouped } = await observed(open);
    const writes = [grouped.put('g/1', 1), grouped.put('g/2', 2)];
    await grouped.close();
    await expect(Promise.all(writes)).resolves.toEqual([undefined, undefined]);
  });
});
