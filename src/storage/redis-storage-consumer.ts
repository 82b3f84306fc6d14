import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { backoffMs } from '../lib/backoff.js';
import type { Service } from '../ops/lifecycle.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { defaultBatchOptions } from './batch-writer.js';
import type { EventStore } from './event-store.js';
import { createEntryWriter, decodeBatch, type DecodedBatch } from './redis-entry-writer.js';
import { createLogGroup, type GroupEntry, type LogGroup } from './redis-log-group.js';

export const defaultStorageConsumerOptions = {
  partitions: 16, // logs log:0…log:15; the event log's number
  group: 'storage', // the consumer group on every log
  readCount: 100, // entries per XREADGROUP; an entry is one frame (up to limits.maxEventsPerFrame rows)
  blockMs: 1000, // longest a read waits for new entries (and stop() for a read); under commandTimeoutMs
  maxBatchRows: defaultBatchOptions.maxBatchRows, // a batch is inserted once it has this many rows…
  flushIntervalMs: defaultBatchOptions.flushIntervalMs, // …or this long after its first entry was read
  insertTimeoutMs: defaultBatchOptions.insertTimeoutMs, // a slower insert failed: retried via recovery
  retryBaseMs: defaultBatchOptions.retryBaseMs, // first retry delay of a failed insert; doubles, jittered
  retryMaxMs: 10_000, // retry delay cap; with insertTimeoutMs, well under claimIdleMs
  claimIdleMs: 60_000, // entries pending this long with a consumer are claimed: it is taken as dead
  claimEveryMs: 5000, // how often XAUTOCLAIM looks for such entries
  claimCount: 100, // entries per XAUTOCLAIM call
  trimEveryMs: 5000, // how often the logs are trimmed and the lag sampled
};

export type StorageConsumerOptions = typeof defaultStorageConsumerOptions & {
  /** This node's consumer name; stable across restarts, so its pending entries come back to it. */
  consumer: string;
};

export interface StorageConsumerDeps {
  store: Pick<EventStore, 'insert' | 'storedIds'>;
  metrics: Metrics;
  log: Logger;
  /**
   * The id from which a partition's log must be kept besides what the storage group needs:
   * the partition owner's next entry to process (`nextId(cursor:<p>)`). Undefined: no need.
   */
  retainFrom?: (partition: number) => Promise<string | undefined> | string | undefined;
  /** Counts errors of the consumer's own reading connection by `reason`. */
  connectionErrors?: { inc(labels: { reason: string }): void };
}

/**
 * Stores the event log in ClickHouse: one consumer of the `storage` group on every `log:<p>`.
 * Reads new entries (XREADGROUP), batches their rows by count and time, inserts with a dedup
 * token of the entry ids, then XACKs. Its own pending entries at start (and after a Redis
 * error, which may have hidden a read's reply) and entries claimed from consumers idle past
 * `claimIdleMs` (XAUTOCLAIM) take the recovery path: only rows ClickHouse does not hold are
 * inserted. Trims each log (XTRIM MINID) below what the group and `retainFrom` still need.
 * One loop does all of it, so at most one batch is in flight: a claim never races this
 * consumer's own insert.
 *
 * @example
 * const consumer = createRedisStorageConsumer(redis, { store, metrics, log }, { consumer: nodeId });
 * await consumer.start(); // … await consumer.stop();
 */
export function createRedisStorageConsumer(
  redis: Redis,
  deps: StorageConsumerDeps,
  options: Partial<typeof defaultStorageConsumerOptions> & { consumer: string },
): Service {
  const opts: StorageConsumerOptions = { ...defaultStorageConsumerOptions, ...options };
  const { metrics, log } = deps;
  // Connected by start(), so a consumer built and never started holds no connection.
  const reader = redis.duplicate({ lazyConnect: true });
  reader.on('error', (err: NodeJS.ErrnoException) =>
    deps.connectionErrors?.inc({ reason: err.code ?? 'other' }),
  );
  const group = createLogGroup(redis, reader, opts);
  const stopping = new AbortController();
  const write = createEntryWriter({ ...deps, group, signal: stopping.signal }, opts);
  const maintenance = createMaintenance(group, write, opts, deps);
  let running: Promise<void> | undefined;
  let readLost = false;

  /** New entries until the batch is full or its time is up; a read error ends it early. */
  async function fill(): Promise<DecodedBatch> {
    const batch: DecodedBatch = { items: [], dropped: [] };
    let rows = 0;
    let deadline = Infinity;
    while (!stopping.signal.aborted && rows < opts.maxBatchRows) {
      const empty = batch.items.length + batch.dropped.length === 0;
      const waitMs = empty ? opts.blockMs : Math.ceil(deadline - performance.now());
      if (waitMs <= 0) break;
      let entries: GroupEntry[];
      try {
        entries = await group.readNew(opts.readCount, waitMs);
      } catch (err) {
        if (empty) throw err;
        readLost = true; // store what was read, then look for entries whose reply was lost
        break;
      }
      if (entries.length === 0 && empty) break;
      if (empty) deadline = performance.now() + opts.flushIntervalMs;
      const before = batch.items.length;
      decodeBatch(entries, deps, batch);
      for (const item of batch.items.slice(before)) rows += item.decoded.rows.length;
    }
    return batch;
  }

  async function run(): Promise<void> {
    let failures = 0;
    let recoverOwn = true;
    while (!stopping.signal.aborted) {
      try {
        if (recoverOwn || readLost) await maintenance.recoverOwn(stopping.signal);
        recoverOwn = readLost = false;
        await maintenance.whenDue();
        const batch = await fill();
        if (batch.items.length + batch.dropped.length > 0) await write(batch, 'live');
        failures = 0;
      } catch (err) {
        // A read whose reply was lost left entries pending here: recover them first.
        recoverOwn = true;
        metrics.consumerFailures.inc({ reason: 'redis_error' });
        const delay = backoffMs(++failures, opts.retryBaseMs, opts.retryMaxMs);
        log.warn({ err, retryInMs: delay }, 'storage consumer: Redis request failed');
        await sleep(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
  }

  return {
    name: 'redis-storage-consumer',
    async start() {
      await reader.connect();
      await waitReady(reader);
      await group.ensure();
      running = run();
    },
    async stop() {
      stopping.abort();
      await running;
      if (reader.status === 'wait') return reader.disconnect();
      await reader.quit().catch(() => reader.disconnect());
    },
  };
}

function waitReady(connection: Redis): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => connection.once('ready', () => resolve()));
}

/** Recovery of own pending entries, claims from dead consumers, trims and lag: the slow path. */
function createMaintenance(
  group: LogGroup,
  write: ReturnType<typeof createEntryWriter>,
  opts: StorageConsumerOptions,
  deps: StorageConsumerDeps,
) {
  let nextClaim = 0;
  let nextTrim = 0;
  const partitions = Array.from({ length: opts.partitions }, (_, p) => p);

  async function claimIdle(): Promise<void> {
    for (const p of partitions) {
      let cursor = '0-0';
      // Bounded rounds per pass, so a long backlog of claims does not starve new entries.
      for (let round = 0; round < 10; round++) {
        const { next, entries, deleted } = await group.claim(
          p,
          opts.claimIdleMs,
          cursor,
          opts.claimCount,
        );
        if (deleted.length > 0) await group.ack(deleted.map((id) => ({ partition: p, id })));
        if (entries.length > 0) {
          deps.metrics.consumerClaims.inc(entries.length);
          await write(decodeBatch(entries, deps), 'claimed');
        }
        cursor = next;
        if (cursor === '0-0') break;
      }
      await group.forgetIdleConsumers(p, opts.claimIdleMs);
    }
  }

  async function trimAll(): Promise<void> {
    let pending = 0;
    let lag = 0;
    for (const p of partitions) {
      const retainFrom = await deps.retainFrom?.(p);
      const result = await group.trim(p, retainFrom);
      deps.metrics.consumerTrimmed.inc(result.trimmed);
      pending += result.pending;
      lag += Math.max(0, result.lag);
    }
    deps.metrics.consumerPending.set(pending);
    deps.metrics.consumerLag.set(lag);
  }

  return {
    /** This consumer's own pending entries, oldest first, through the recovery path. */
    async recoverOwn(signal: AbortSignal): Promise<void> {
      const after = partitions.map(() => '0');
      while (!signal.aborted) {
        const entries = await group.readOwnPending(after, opts.readCount);
        if (entries.length === 0) return;
        for (const entry of entries) after[entry.partition] = entry.id;
        await write(decodeBatch(entries, deps), 'start');
      }
    },
    async whenDue(): Promise<void> {
      const now = performance.now();
      if (now >= nextClaim) {
        await claimIdle();
        nextClaim = performance.now() + opts.claimEveryMs;
      }
      if (now >= nextTrim) {
        await trimAll();
        nextTrim = performance.now() + opts.trimEveryMs;
      }
    },
  };
}
