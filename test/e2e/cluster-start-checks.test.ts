import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { removeDir, runServerUntilExit, tempDir } from '../helpers/server-process.js';

const dirs: string[] = [];
const freshDir = () => {
  const dir = tempDir('backline-cluster-start-');
  dirs.push(dir);
  return dir;
};
let redis: RedisServer;
let everysec: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
  everysec = await startRedisServer({ args: ['--appendfsync', 'everysec'] });
});
afterAll(async () => {
  await Promise.all([redis?.stop(), everysec?.stop()]);
  dirs.forEach(removeDir);
});

/** Starts a cluster node expected to refuse: exit code 1 and its one line on stderr. */
async function refusal(env: Record<string, string>) {
  const { code, stderr } = await runServerUntilExit({ dataDir: freshDir(), env });
  return { code, lines: stderr.trimEnd().split('\n') };
}

describe('a cluster node refuses settings that cannot work, with one line', () => {
  it('without CLICKHOUSE_URL and without a storage role', async () => {
    expect(await refusal({ REDIS_URL: redis.url })).toEqual({
      code: 1,
      lines: [
        expect.stringMatching(
          /^backline cannot start: cluster mode without CLICKHOUSE_URL needs BACKLINE_STORAGE_ROLE .*owner on exactly one node.*remote on the others$/,
        ),
      ],
    });
  });

  it('with another partition count than the cluster in Redis', async () => {
    const client = new Redis(redis.port, '127.0.0.1');
    await client.set('bl:cluster:partitions', '8'); // what the cluster's first node stored
    client.disconnect();
    const env = { REDIS_URL: redis.url, BACKLINE_STORAGE_ROLE: 'remote' };
    expect(await refusal(env)).toEqual({
      code: 1,
      lines: [
        expect.stringMatching(
          /^backline cannot start: cluster\.partitions \(BACKLINE_CLUSTER_PARTITIONS\) is 16, but the cluster in Redis uses 8: every node must use the same number$/,
        ),
      ],
    });
  });

  it('on a Redis that does not fsync every write', async () => {
    const { code, lines } = await refusal({
      REDIS_URL: everysec.url,
      BACKLINE_STORAGE_ROLE: 'remote',
    });
    expect(code).toBe(1);
    expect(lines).toEqual([
      expect.stringMatching(
        /^backline cannot start: Redis runs with appendonly yes and appendfsync everysec/,
      ),
    ]);
  });
});
