import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script and its SHA1, so it runs by hash (EVALSHA) once Redis has seen it. */
export interface Script {
  lua: string;
  sha: string;
}

/**
 * A script runs atomically: what makes a check-and-write one step across nodes. ioredis
 * prefixes KEYS only, so a script that builds key names is handed the full prefix in ARGV.
 *
 * @example
 * const incrScript = script(`return redis.call('INCRBY', KEYS[1], ARGV[1])`);
 * await runScript(redis, incrScript, ['counter'], [5]);
 */
export const script = (lua: string): Script => ({
  lua,
  sha: createHash('sha1').update(lua).digest('hex'),
});

type Arg = string | Buffer | number;

/** Runs a script by its hash, loading it when Redis does not know it (first use, restart). */
export async function runScript(
  redis: Redis,
  { lua, sha }: Script,
  keys: string[],
  args: Arg[],
): Promise<unknown> {
  try {
    return await redis.callBuffer('EVALSHA', sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.callBuffer('EVAL', lua, keys.length, ...keys, ...args);
  }
}
