import type { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import { backoffMs } from '../lib/backoff.js';
import { keyRange } from './redis-key-range.js';
import {
  batchScript,
  compareAndSetScript,
  delScript,
  listScript,
  putIfAbsentScript,
  putScript,
  runScript,
} from './redis-scripts.js';
import type { ListOptions, StateStore, StateWrite } from './state-store.js';

export const defaultRedisStateOptions = {
  maxUpdateAttempts: 200, // compare-and-set rounds lost to other writers before `update` gives up
  updateRetryMaxMs: 50, // cap of the jittered pause between lost rounds
};

const valueKey = (key: string) => `state:${key}`;
/** Not under `state:`, so no state key can name it. */
const index = 'state-index';
const packr = new Packr({ useRecords: false });

/**
 * StateStore on Redis, shared by every node of a cluster. Values are MessagePack (plain maps)
 * under `state:<key>`; one sorted set with all scores 0 orders the keys bytewise, so `list`
 * is one ZRANGEBYLEX. Writes are Lua scripts that change the value and the index together.
 * Durable once a promise resolves when Redis runs `appendfsync always` (checkDurability).
 * The client is the caller's: `close` leaves it open.
 *
 * @example
 * const state = createRedisStateStore(openRedis(config.redisUrl));
 * await state.update<number>('cap/dev/u1/*\/0', (n = 0) => n + 1);
 */
export function createRedisStateStore(
  redis: Redis,
  options: Partial<typeof defaultRedisStateOptions> = {},
): StateStore {
  const opts = { ...defaultRedisStateOptions, ...options };
  const valuePrefix = `${redis.options.keyPrefix ?? ''}state:`;
  const write = (key: string, value: unknown) =>
    runScript(redis, putScript, [valueKey(key), index], [packr.pack(value), key]);
  const decode = <T>(bytes: Buffer | null): T | undefined =>
    bytes === null ? undefined : (packr.unpack(bytes) as T);

  /** One compare-and-set round: true when nobody wrote `key` since `read`. */
  async function swap(key: string, read: Buffer | null, next: Buffer | undefined) {
    const args = [key, read ? '1' : '0', read ?? '', next ? '1' : '0', next ?? ''];
    return (await runScript(redis, compareAndSetScript, [valueKey(key), index], args)) === 1;
  }

  return {
    get: async <T>(key: string) => decode<T>(await redis.getBuffer(valueKey(key))),
    async put(key, value) {
      await write(key, value);
    },
    async putIfAbsent(key, value) {
      const args = [packr.pack(value), key];
      return (await runScript(redis, putIfAbsentScript, [valueKey(key), index], args)) === 1;
    },
    async del(key) {
      await runScript(redis, delScript, [valueKey(key), index], [key]);
    },
    async update<T>(key: string, fn: (current: T | undefined) => T | undefined) {
      for (let attempt = 1; ; attempt++) {
        const read = await redis.getBuffer(valueKey(key));
        const next = fn(decode<T>(read));
        const bytes = next === undefined ? undefined : packr.pack(next);
        if (bytes === undefined ? read === null : read?.equals(bytes)) return next;
        if (await swap(key, read, bytes)) return next;
        if (attempt >= opts.maxUpdateAttempts)
          throw new Error(`state update of ${key} lost ${attempt} rounds to other writers`);
        await new Promise((resolve) =>
          setTimeout(resolve, backoffMs(attempt, 1, opts.updateRetryMaxMs)),
        );
      }
    },
    async batch(writes: readonly StateWrite[]) {
      if (writes.length === 0) return [];
      // One script: one round trip and, under `appendfsync always`, one fsync for all.
      const keys = [index, ...writes.map((w) => valueKey(w.key))];
      const args = writes.flatMap((w) => [w.op, w.key, w.op === 'del' ? '' : packr.pack(w.value)]);
      const results = (await runScript(redis, batchScript, keys, args)) as number[];
      return results.map((n) => n === 1);
    },
    async list<T>(prefix: string, options: ListOptions = {}) {
      const [first, second] = keyRange(prefix, options);
      const limit = options.limit ?? -1;
      const args = [options.reverse ? '1' : '0', first, second, limit, valuePrefix];
      const flat = (await runScript(redis, listScript, [index], args)) as Array<Buffer | null>;
      const out: Array<[string, T]> = [];
      for (let i = 0; i < flat.length; i += 2) {
        const value = flat[i + 1];
        if (value) out.push([flat[i]!.toString(), packr.unpack(value) as T]);
      }
      return out;
    },
    async close() {},
  };
}
