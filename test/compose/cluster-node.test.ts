import { describe, expect, it } from 'vitest';
import { defaultClusterRedisUrl, withClusterFlag } from '../../src/compose/cluster-node.js';
import { configSchema } from '../../src/compose/config.js';

describe('withClusterFlag', () => {
  const single = configSchema.parse({});

  it('keeps a single node single without REDIS_URL or --cluster', () => {
    expect(withClusterFlag(single, ['node', 'src/main.ts']).redisUrl).toBeUndefined();
  });

  it('joins the Redis on this machine with --cluster alone', () => {
    expect(withClusterFlag(single, ['node', 'src/main.ts', '--cluster']).redisUrl).toBe(
      defaultClusterRedisUrl,
    );
  });

  it('lets REDIS_URL win over the default of --cluster', () => {
    const configured = configSchema.parse({ redisUrl: 'redis://10.0.0.5:6380' });
    expect(withClusterFlag(configured, ['--cluster']).redisUrl).toBe('redis://10.0.0.5:6380');
  });
});
