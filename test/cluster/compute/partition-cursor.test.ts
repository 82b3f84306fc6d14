import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  commitCursor,
  compareIds,
  partitionLease,
  readCursor,
  retainFrom,
} from '../../../src/cluster/compute/partition-cursor.js';
import { createCursorCommitter } from '../../../src/cluster/compute/cursor-committer.js';
import { openRedis, type Redis } from '../../../src/cluster/redis-connection.js';
import { leaseKey } from '../../../src/cluster/redis-lease.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  redis = await openRedis(server.url, { keyPrefix: `t-${randomUUID()}:` });
});
afterAll(async () => {
  await redis.quit();
  await server.stop();
});

it('moves the cursor only forward, and only under the lease of the node writing it', async () => {
  await redis.set(leaseKey(partitionLease(2)), 'node-a');
  expect(await commitCursor(redis, 2, 'node-b', '5-0')).toBe(false);
  expect(await readCursor(redis, 2)).toBeUndefined();
  expect(await commitCursor(redis, 2, 'node-a', '5-0')).toBe(true);
  expect(await commitCursor(redis, 2, 'node-a', '4-9')).toBe(true);
  expect(await readCursor(redis, 2)).toBe('5-0');
  expect(await commitCursor(redis, 2, 'node-a', '10-0')).toBe(true);
  expect(await readCursor(redis, 2)).toBe('10-0');
  // The lease moved on (the old holder paused past its TTL): its writes change nothing.
  await redis.set(leaseKey(partitionLease(2)), 'node-b');
  expect(await commitCursor(redis, 2, 'node-a', '11-0')).toBe(false);
  expect(await readCursor(redis, 2)).toBe('10-0');
});

it('keeps the whole log for trimming until an owner committed a cursor, then what follows it', async () => {
  expect(await retainFrom(redis, 3)).toBe('0-1');
  await redis.set(leaseKey(partitionLease(3)), 'node-a');
  await commitCursor(redis, 3, 'node-a', '1700000000000-4');
  expect(await retainFrom(redis, 3)).toBe('1700000000000-5');
});

it('commits on close the work still running when the partition is handed over', async () => {
  await redis.set(leaseKey(partitionLease(5)), 'node-a');
  const failures: string[] = [];
  const committer = createCursorCommitter(
    { redis, nodeId: 'node-a', partition: 5, onFailure: (reason) => failures.push(reason) },
    60_000, // no timed write: only close() writes
  );
  committer.after('7-0', Promise.resolve());
  committer.after('9-0', new Promise((resolve) => setTimeout(resolve, 200))); // rule work
  await committer.close();
  expect(await readCursor(redis, 5)).toBe('9-0');
  expect(failures).toEqual([]);
});

it('orders entry ids by time, then sequence, as numbers', () => {
  expect(compareIds('9-0', '10-0')).toBeLessThan(0);
  expect(compareIds('10-2', '10-10')).toBeLessThan(0);
  expect(compareIds('10-0', '10-0')).toBe(0);
  expect(compareIds('11-0', '10-99')).toBeGreaterThan(0);
});
