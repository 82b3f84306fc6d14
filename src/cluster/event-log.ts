import { ReplyError, type Redis } from 'ioredis';
import { BacklineError } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { EventRow } from '../model/event.js';
import { encodeRows, logKey } from './log-entry.js';
import { appendScript } from './log-scripts.js';
import { runScript } from './redis-script.js';

export const defaultEventLogOptions = {
  partitions: 16, // streams log:0…log:15; every node must use the same number
  dedupWindowMs: 3600_000, // an id is a duplicate for at least this long (at most twice); 0: only within a frame
  maxLogEntries: 1_000_000, // entries over all partitions above which appends get BACKPRESSURE
  maxMemoryRatio: 0.9, // Redis used_memory / maxmemory above which appends get BACKPRESSURE
  sampleEveryMs: 1000, // how often `pressure()` samples XLEN and memory (not on every call)
  retryAfterMs: 1000, // the retry hint of BACKPRESSURE while Redis is down or the log is long
};

export type EventLogOptions = typeof defaultEventLogOptions;

export interface EventLogDeps {
  metrics?: Metrics;
  log?: Logger;
}

export interface EventLog {
  /**
   * Appends one frame's rows of one project. Resolves once the entry is in Redis (fsynced
   * with appendfsync always) with the indices of the rows that were duplicates of ids already
   * appended, by any node, within the de-dup window (they are not stored again). Rejects
   * BACKPRESSURE (with `retryAfterMs`) while Redis is down, also when the connection drops
   * with the append in flight or the reply does not come in time, STORAGE_FAILED when Redis
   * answered with an error; in both cases after sending, the entry may or may not be there:
   * a resend is answered with duplicates.
   */
  append(
    project: string,
    rows: readonly EventRow[],
    props: readonly object[],
  ): Promise<{ duplicates: number[] }>;
  /** When producers should wait: a retry delay in ms, else undefined. Never blocks. */
  pressure(): number | undefined;
}

/**
 * 32-bit FNV-1a of the UTF-8 bytes: a stable hash every node (and every version) computes the
 * same, unlike a language's built-in hash.
 */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

/** The log partition of a project: fnv1a(project) mod partitions. */
export const partitionOf = (project: string, partitions: number) => fnv1a(project) % partitions;

/**
 * The event log in Redis Streams: `log:<p>` per partition, appended by ONE Lua script per
 * frame that checks and records the ids in `dedup:<project>:<generation>` and adds the entry,
 * so an id sent to two nodes at once is stored and counted once. See log-entry.ts for the
 * entry's fields and log-scripts.ts for the script.
 *
 * @example
 * const eventLog = createRedisEventLog(redis, { partitions: 16 }, { metrics });
 * const retryAfterMs = eventLog.pressure(); // BACKPRESSURE when set
 * const { duplicates } = await eventLog.append('dev', rows, props); // then ack
 */
export function createRedisEventLog(
  redis: Redis,
  options: Partial<EventLogOptions> = {},
  deps: EventLogDeps = {},
): EventLog {
  const opts = { ...defaultEventLogOptions, ...options };
  const dedupPrefix = (project: string) => `${redis.options.keyPrefix ?? ''}dedup:${project}:`;
  const sampler = createLogSampler(redis, opts, deps);
  const appends = deps.metrics?.logAppends;
  const unavailable = (cause?: unknown) => {
    appends?.inc({ outcome: 'unavailable' });
    return new BacklineError('BACKPRESSURE', 'Redis is unavailable', {
      retryAfterMs: opts.retryAfterMs,
      ...(cause === undefined ? {} : { cause }),
    });
  };

  return {
    async append(project, rows, props) {
      if (rows.length === 0) return { duplicates: [] };
      if (redis.status !== 'ready') throw unavailable();
      const key = logKey(partitionOf(project, opts.partitions));
      const args = [dedupPrefix(project), opts.dedupWindowMs, project, encodeRows(rows, props)];
      let reply: [Buffer | null, number[]];
      try {
        const ids = rows.map((row) => row.id);
        reply = (await runScript(redis, appendScript, [key], [...args, ...ids])) as typeof reply;
      } catch (err) {
        // Only an error reply means the script failed. Anything else is Redis unavailable
        // (the connection dropped with the append in flight or just before it: a crash is
        // noticed only then; or no reply in time), the same answer as above. Whether the
        // entry landed is unknown; a resend is answered with duplicates if it did.
        if (!(err instanceof ReplyError)) throw unavailable(err);
        appends?.inc({ outcome: 'failed' });
        deps.log?.warn({ err, project }, 'event log append failed');
        throw new BacklineError('STORAGE_FAILED', 'event log append failed', { cause: err });
      }
      appends?.inc({ outcome: reply[0] ? 'appended' : 'duplicate' });
      return { duplicates: reply[1] };
    },
    pressure: () => sampler.pressure(),
  };
}

/** Samples the log's length and Redis's memory now and then; answers from the last sample. */
function createLogSampler(redis: Redis, opts: EventLogOptions, deps: EventLogDeps) {
  let entries = 0;
  let memoryRatio = 0;
  let sampledAt = -Infinity;
  let sampling = false;

  async function sample(): Promise<void> {
    const pipeline = redis.pipeline();
    for (let p = 0; p < opts.partitions; p++) pipeline.xlen(logKey(p));
    pipeline.info('memory');
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([err]) => err);
    if (failed) throw failed[0];
    const lengths = replies.slice(0, opts.partitions).map(([, length]) => Number(length));
    entries = lengths.reduce((sum, length) => sum + length, 0);
    memoryRatio = usedMemoryRatio(String(replies[opts.partitions]![1]));
    deps.metrics?.logEntries.set(entries);
  }

  return {
    pressure(): number | undefined {
      if (redis.status !== 'ready') return opts.retryAfterMs;
      const now = performance.now();
      if (!sampling && now - sampledAt >= opts.sampleEveryMs) {
        sampling = true;
        sampledAt = now;
        sample()
          .catch((err: unknown) => deps.log?.debug({ err }, 'event log sample failed'))
          .finally(() => (sampling = false));
      }
      if (entries > opts.maxLogEntries || memoryRatio > opts.maxMemoryRatio)
        return opts.retryAfterMs;
      return undefined;
    },
  };
}

/** used_memory / maxmemory from INFO memory; 0 when Redis has no maxmemory. */
function usedMemoryRatio(info: string): number {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  const max = field('maxmemory');
  return max > 0 ? field('used_memory') / max : 0;
}
