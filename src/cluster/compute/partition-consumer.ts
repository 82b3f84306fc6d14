import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { backoffMs } from '../../lib/backoff.js';
import { toStreamEvent, type StreamEvent } from '../../model/event.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import { decodeEntry, logKey, readLog, type RawEntry } from '../log-entry.js';
import type { CursorCommitter } from './cursor-committer.js';
import { compareIds } from './partition-cursor.js';

export const defaultConsumerOptions = {
  readCount: 100, // entries per XREAD; an entry is one frame
  blockMs: 1000, // longest a read waits for new entries (and a lost lease for the read); under commandTimeoutMs
  retryBaseMs: 100, // first pause after a failed read; doubles, jittered
  retryMaxMs: 5000, // pause cap
  lagEveryMs: 5000, // how often the lag behind the newest entry is sampled
};

export type ConsumerOptions = typeof defaultConsumerOptions;

export interface PartitionConsumerDeps {
  /** A connection of its own: XREAD BLOCK holds it. */
  reader: Redis;
  feed(project: string, events: StreamEvent[]): void;
  /** The rules; the returned promise (if any) settles when their work for these events is done. */
  onEvents(project: string, events: StreamEvent[]): void | Promise<unknown>;
  committer: CursorCommitter;
  metrics: Metrics;
  log: Logger;
}

/**
 * Consumes one partition's log from `from` (exclusive) until `signal` aborts: each entry's new
 * rows go to the streams (`feed`), unless the takeover rebuild already replayed them (ids up
 * to `fedUpTo`), and always to the rules, since the cursor says which entries the rules have
 * done. Read failures are retried with capped backoff.
 */
export async function consumePartition(
  deps: PartitionConsumerDeps,
  partition: number,
  positions: { from: string; fedUpTo: string },
  opts: ConsumerOptions,
  signal: AbortSignal,
): Promise<void> {
  const { metrics, log } = deps;
  let after = positions.from;
  let failures = 0;
  let nextLag = 0;
  while (!signal.aborted) {
    let entries: RawEntry[];
    try {
      // Before the first entry there is no entry time to measure from.
      if (after !== '0-0' && performance.now() >= nextLag) {
        await sampleLag(deps, partition, after);
        nextLag = performance.now() + opts.lagEveryMs;
      }
      entries = await readLog(deps.reader, partition, after, {
        count: opts.readCount,
        blockMs: opts.blockMs,
      });
      failures = 0;
    } catch (err) {
      if (signal.aborted) break;
      metrics.computeFailures.inc({ reason: 'redis_error' });
      log.warn({ err, partition }, 'partition owner: log read failed');
      const delay = backoffMs(++failures, opts.retryBaseMs, opts.retryMaxMs);
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      continue;
    }
    // Entries read after the lease was lost are the next owner's.
    if (signal.aborted || entries.length === 0) continue;
    const work = entries.map((entry) => handle(deps, entry, positions.fedUpTo));
    after = entries[entries.length - 1]!.id;
    deps.committer.after(after, Promise.allSettled(work));
  }
}

function handle(deps: PartitionConsumerDeps, raw: RawEntry, fedUpTo: string): unknown {
  let project: string;
  let events: StreamEvent[];
  try {
    const entry = decodeEntry(raw.id, raw.fields ?? []);
    project = entry.project;
    events = entry.rows.map((row, i) => toStreamEvent(row, entry.props[i] ?? {}));
  } catch (err) {
    deps.metrics.computeFailures.inc({ reason: 'bad_entry' });
    deps.log.warn({ err, entry: raw.id }, 'partition owner: log entry does not decode; skipped');
    return undefined;
  }
  const fed = compareIds(raw.id, fedUpTo) > 0;
  if (fed) deps.feed(project, events);
  deps.metrics.computeEntries.inc({ path: fed ? 'fed' : 'rules_only' });
  return deps.onEvents(project, events);
}

/** Seconds of entry time between the last entry consumed and the newest in the log. */
async function sampleLag(deps: PartitionConsumerDeps, partition: number, after: string) {
  const newest = await deps.reader.xrevrangeBuffer(logKey(partition), '+', '-', 'COUNT', 1);
  const id = newest[0]?.[0].toString();
  const ms = (value: string) => Number(value.split('-')[0]);
  const lagMs = id === undefined || compareIds(after, id) >= 0 ? 0 : ms(id) - ms(after);
  deps.metrics.computeLag.set({ partition: String(partition) }, Math.max(0, lagMs) / 1000);
}
