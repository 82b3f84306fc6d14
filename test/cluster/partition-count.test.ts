import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPartitionCount } from '../../src/cluster/partition-count.js';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import { StartError } from '../../src/ops/start-error.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
const clients: Redis[] = [];
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await server.stop();
});

const connect = async (prefix: string) => {
  const redis = await openRedis(server.url, { keyPrefix: prefix });
  clients.push(redis);
  return redis;
};

describe('checkPartitionCount', () => {
  it('keeps the first node’s count and lets nodes with the same count start', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [a, b] = [await connect(prefix), await connect(prefix)];
    await checkPartitionCount(a, 8);
    await checkPartitionCount(b, 8);
    await checkPartitionCount(a, 8); // a restart
    expect(await a.get('cluster:partitions')).toBe('8');
  });

  it('refuses a node with another count, naming both', async () => {
    const prefix = `t-${randomUUID()}:`;
    await checkPartitionCount(await connect(prefix), 16);
    const refused = checkPartitionCount(await connect(prefix), 4);
    await expect(refused).rejects.toBeInstanceOf(StartError);
    await expect(refused).rejects.toThrow(/is 4, but the cluster in Redis uses 16/);
  });

  it('keeps deployments on other key prefixes apart', async () => {
    await checkPartitionCount(await connect(`t-${randomUUID()}:`), 16);
    await expect(checkPartitionCount(await connect(`t-${randomUUID()}:`), 4)).resolves.toBe(
      undefined,
    );
  });
});
