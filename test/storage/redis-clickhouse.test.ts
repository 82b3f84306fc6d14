import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import { createMetrics, type Metrics } from '../../src/ops/metrics.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import type { ClickHouse } from '../../src/storage/clickhouse.js';
import { migrate } from '../../src/storage/migrate.js';
import {
  createRemoteClickHouse,
  RemoteClickHouseError,
  serveClickHouse,
} from '../../src/storage/redis-clickhouse.js';
import { rpcPackr, rpcQueue } from '../../src/storage/redis-clickhouse-rpc.js';
import { eventually } from '../helpers/eventually.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { clickHouseContract } from './clickhouse.contract.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server.stop());

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function connect(prefix: string, url = server.url): Promise<Redis> {
  return openRedis(url, { keyPrefix: prefix, reconnectBaseMs: 10, reconnectMaxMs: 100 });
}

const quit = (redis: Redis) => redis.quit().catch(() => redis.disconnect());
const newChdb = () => openChdb(mkdtempSync(join(tmpdir(), 'backline-rpc-')));
const counts = async (counter: Metrics['rpcRequests']) =>
  Object.fromEntries(
    (await counter.get()).values.map((v) => [`${v.labels.op}:${v.labels.outcome}`, v.value]),
  );

// The whole ClickHouse contract, run from a node without chdb through an owner that has it.
clickHouseContract(
  'remote over Redis',
  async () => {
    const prefix = `c-${randomUUID()}:`;
    const [ownerRedis, nodeRedis] = await Promise.all([connect(prefix), connect(prefix)]);
    const chdb = newChdb();
    const rpc = serveClickHouse(ownerRedis, chdb);
    await rpc.start();
    const remote = createRemoteClickHouse(nodeRedis, { node: 'node-b' });
    return {
      ...remote,
      async close() {
        await remote.close();
        await rpc.stop();
        await chdb.close();
        await Promise.all([quit(ownerRedis), quit(nodeRedis)]);
      },
    };
  },
  { streams: false },
);

describe('remote ClickHouse over Redis', () => {
  let chdb: ClickHouse;
  beforeAll(async () => {
    chdb = newChdb();
    await migrate(chdb);
  });
  afterAll(() => chdb.close());

  async function openNode(prefix: string, node: string, timeoutMs = 10_000, url?: string) {
    const redis = await connect(prefix, url);
    const metrics = createMetrics(new Registry());
    const remote = createRemoteClickHouse(redis, { node, timeoutMs }, { metrics });
    cleanups.push(async () => {
      await remote.close();
      await quit(redis);
    });
    return { redis, metrics, remote };
  }

  async function openOwner(prefix: string, options = {}, url?: string) {
    const redis = await connect(prefix, url);
    const metrics = createMetrics(new Registry());
    const rpc = serveClickHouse(redis, chdb, options, { metrics });
    await rpc.start();
    cleanups.push(async () => {
      await rpc.stop();
      await quit(redis);
    });
    return { redis, metrics };
  }

  it('answers each node on its own channel, queries and inserts alike', async () => {
    const prefix = `t-${randomUUID()}:`;
    await openOwner(prefix);
    const [a, b] = await Promise.all([openNode(prefix, 'a'), openNode(prefix, 'b')]);
    const asks = Array.from({ length: 20 }, (_, n) => {
      const node = n % 2 === 0 ? a : b;
      return node.remote.query<{ n: number }>('SELECT {n:UInt32} AS n', { n });
    });
    expect((await Promise.all(asks)).map((rows) => rows[0]!.n)).toEqual(
      Array.from({ length: 20 }, (_, n) => n),
    );
    const table = `rpc_${randomUUID().replaceAll('-', '')}`;
    await a.remote.exec(
      `CREATE TABLE ${table} (k String, v UInt32) ENGINE = MergeTree ORDER BY k SETTINGS non_replicated_deduplication_window = 100`,
    );
    await b.remote.insert(
      table,
      [
        { k: 'x', v: 1 },
        { k: 'y', v: 2 },
      ],
      { dedupToken: 't1' },
    );
    await b.remote.insert(
      table,
      [
        { k: 'x', v: 1 },
        { k: 'y', v: 2 },
      ],
      { dedupToken: 't1' },
    );
    expect(await chdb.query(`SELECT k, v FROM ${table} ORDER BY k`)).toEqual([
      { k: 'x', v: 1 },
      { k: 'y', v: 2 },
    ]);
    expect(await counts(a.metrics.rpcRequests)).toEqual({ 'query:ok': 10, 'exec:ok': 1 });
  });

  it('rejects with the owner’s error when ClickHouse refuses the request', async () => {
    const prefix = `t-${randomUUID()}:`;
    const owner = await openOwner(prefix);
    const { remote, metrics } = await openNode(prefix, 'a');
    const failure = remote.query('SELECT * FROM no_such_table');
    await expect(failure).rejects.toBeInstanceOf(RemoteClickHouseError);
    await expect(failure).rejects.toMatchObject({ reason: 'error' });
    await expect(failure).rejects.toThrow(/no_such_table/);
    expect(await counts(metrics.rpcRequests)).toEqual({ 'query:error': 1 });
    expect(await counts(owner.metrics.rpcServed)).toEqual({ 'query:error': 1 });
  });

  it('rejects at the deadline when no owner serves, and the owner skips the stale request', async () => {
    const prefix = `t-${randomUUID()}:`;
    const { remote, metrics, redis } = await openNode(prefix, 'a', 300);
    await expect(remote.query('SELECT 1 AS one')).rejects.toMatchObject({
      name: 'RemoteClickHouseError',
      reason: 'timeout',
    });
    expect(await counts(metrics.rpcRequests)).toEqual({ 'query:timeout': 1 });
    expect(await redis.llen(rpcQueue)).toBe(1);

    // An owner starting later does not run what nobody waits for any more.
    const owner = await openOwner(prefix);
    await eventually(async () => (await redis.llen(rpcQueue)) === 0, 10_000, 'the queue drained');
    await eventually(
      async () => (await counts(owner.metrics.rpcServed))['query:expired'] === 1,
      10_000,
      'the request skipped as expired',
    );
    expect(await remote.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('refuses a malformed request and a result over maxReplyBytes, and keeps serving', async () => {
    const prefix = `t-${randomUUID()}:`;
    const owner = await openOwner(prefix, { maxReplyBytes: 1000 });
    const { remote, redis } = await openNode(prefix, 'a');
    await redis.lpush(rpcQueue, rpcPackr.pack({ id: 'x', op: 'drop everything' }));
    await redis.lpush(rpcQueue, Buffer.from([0xc1]));
    await expect(remote.query('SELECT number FROM system.numbers LIMIT 1000')).rejects.toThrow(
      /over the RPC limit of 1000/,
    );
    expect(await remote.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
    expect(await counts(owner.metrics.rpcServed)).toEqual({
      'unknown:bad_request': 2,
      'query:error': 1,
      'query:ok': 1,
    });
  });

  it('rejects at once as unavailable while Redis is down', async () => {
    const own = await startRedisServer();
    cleanups.push(() => own.stop());
    const { remote, redis, metrics } = await openNode('t:', 'a', 10_000, own.url);
    await own.kill();
    await eventually(() => redis.status !== 'ready', 10_000, 'the client to see Redis gone');
    await expect(remote.insert('events', [{ id: 'a' }])).rejects.toMatchObject({
      reason: 'unavailable',
    });
    expect(await counts(metrics.rpcRequests)).toEqual({ 'insert:unavailable': 1 });
  });
});
