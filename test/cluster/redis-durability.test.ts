import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openRedis } from '../../src/cluster/redis-connection.js';
import {
  checkDurability,
  RedisDurabilityError,
  type RedisDurability,
} from '../../src/cluster/redis-durability.js';
import { startRedisServer } from '../helpers/redis-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A client of a fresh redis-server started with `args` after the helper's durable defaults. */
async function redisWith(args: string[]) {
  const server = await startRedisServer({ args });
  cleanups.push(() => server.stop());
  const redis = await openRedis(server.url);
  cleanups.push(() => redis.quit());
  return redis;
}

function capturedLog() {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) };
}

async function refusal(redis: Awaited<ReturnType<typeof redisWith>>, mode: RedisDurability) {
  const err = await checkDurability(redis, { mode }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RedisDurabilityError);
  return (err as RedisDurabilityError).reason;
}

describe('checkDurability', () => {
  it('accepts a Redis that fsyncs every write to its AOF', async () => {
    const redis = await redisWith([]);
    expect(await checkDurability(redis, { mode: 'check' })).toEqual({
      appendonly: 'yes',
      appendfsync: 'always',
      verified: true,
      durable: true,
    });
  });

  it.each([[['--appendfsync', 'everysec']], [['--appendonly', 'no']]])(
    'refuses a Redis started with %j unless told it is unsafe',
    async (args) => {
      const redis = await redisWith(args);
      expect(await refusal(redis, 'check')).toBe('not-durable');
      // The operator's word does not outweigh what Redis says.
      expect(await refusal(redis, 'assume-always')).toBe('not-durable');
      const { log, warnings } = capturedLog();
      expect(await checkDurability(redis, { mode: 'unsafe', log })).toMatchObject({
        verified: true,
        durable: false,
      });
      expect(warnings()).toEqual([expect.stringMatching(/appendfsync always/)]);
    },
  );

  it('needs the operator to vouch for a Redis whose CONFIG is disabled (managed Redis)', async () => {
    const redis = await redisWith(['--rename-command', 'CONFIG', '']);
    expect(await refusal(redis, 'check')).toBe('unverifiable');
    const report = await checkDurability(redis, { mode: 'assume-always' });
    expect(report).toMatchObject({ verified: false, durable: false });
    const { log, warnings } = capturedLog();
    await checkDurability(redis, { mode: 'unsafe', log });
    expect(warnings()).toEqual([expect.stringMatching(/cannot be checked/)]);
  });
});
