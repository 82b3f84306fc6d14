import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { backoffMs } from '../../lib/backoff.js';
import type { StreamEvent } from '../../model/event.js';
import type { WindowResult } from '../../model/window-result.js';
import type { Service } from '../../ops/lifecycle.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import { partitionOf } from '../event-log.js';
import type { Leases } from '../leases.js';
import { createCursorCommitter, type CursorCommitter } from './cursor-committer.js';
import { consumePartition, defaultConsumerOptions } from './partition-consumer.js';
import { partitionLease, readCursor, retainFrom } from './partition-cursor.js';
import {
  defaultTakeoverOptions,
  gatherTakeoverEvents,
  type StoredEvents,
  type StreamReach,
} from './takeover-events.js';

export const defaultPartitionOwnerOptions = {
  partitions: 16, // the event log's number; every node must use the same
  commitEveryMs: 100, // the cursor is written at most this often
  ...defaultConsumerOptions,
  ...defaultTakeoverOptions,
};

export type PartitionOwnerOptions = typeof defaultPartitionOwnerOptions;

/** What a previous owner last published of a window (`SeenRev` of the pipeline service). */
export type SeenRev = (key: string, start: number) => { rev: number; final: boolean } | undefined;

/** What the owner needs of the pipeline service (`createPipelineService`). */
export interface ComputePipeline {
  feed(project: string, events: StreamEvent[]): void;
  rebuild(project: string, events: ReadonlyMap<string, readonly StreamEvent[]>): WindowResult[];
  adoptRevs(
    project: string,
    stream: string,
    seen: SeenRev,
    replayed: readonly WindowResult[],
  ): WindowResult[];
  emit(project: string, results: readonly WindowResult[]): void;
  dropProject(project: string): void;
}

export interface PartitionOwnerDeps {
  redis: Redis;
  /** A new connection for one partition's blocking reads; default `redis.duplicate()`. */
  openReader?: () => Redis;
  leases: Leases;
  /** Whether to try for a free partition now (the balancer's fair share); default always. */
  compete?(partition: number): boolean;
  /** The node id the leases were opened with: the cursor is written only under its lease. */
  nodeId: string;
  /** The projects this node runs; a partition's are those `partitionOf` maps to it. */
  projects(): readonly string[];
  pipeline: ComputePipeline;
  /** The project's streams (`pipeline.streams(project).map((s) => streamReach(s))`). */
  streams(project: string): readonly StreamReach[];
  /** The rules; a returned promise settles once the rule work for these events is done. */
  onEvents(project: string, events: StreamEvent[]): void | Promise<unknown>;
  store: StoredEvents;
  /** What this node's bus-fed window cache last saw of a window. */
  seen(project: string, stream: string, key: string, start: number): ReturnType<SeenRev>;
  metrics: Metrics;
  log: Logger;
}

interface Owned {
  abort: AbortController;
  reader: Redis;
  committer: CursorCommitter;
  running: Promise<void>;
}

/**
 * Runs the streams and event rules of the partitions whose lease (`partition:<p>`) this node
 * wins. On acquiring: rebuilds the open windows of the partition's projects muted (stored
 * events plus the retained log), adopts the revs this node's window cache saw, emits the
 * finals the cache never saw, then consumes `log:<p>` from `cursor:<p>`. On losing: stops
 * consuming and drops the projects' open windows (the next owner rebuilds them).
 *
 * @example
 * const owner = createPartitionOwner({ redis, leases, nodeId, projects, pipeline,
 *   onEvents: rules.onEvents, store: stored.events, seen, metrics, log });
 * createRedisStorageConsumer(redis, { …, retainFrom: owner.retainFrom }, …);
 */
export function createPartitionOwner(
  deps: PartitionOwnerDeps,
  options: Partial<PartitionOwnerOptions> = {},
) {
  const opts: PartitionOwnerOptions = { ...defaultPartitionOwnerOptions, ...options };
  const { redis, metrics, log } = deps;
  const owned = new Map<number, Owned>();
  let stopped = false;
  const projectsOf = (partition: number) =>
    deps.projects().filter((project) => partitionOf(project, opts.partitions) === partition);

  /** Takeover, then consumption, until aborted; failures are retried with backoff. */
  async function run(partition: number, own: Owned): Promise<void> {
    const { signal } = own.abort;
    for (let failures = 0; !signal.aborted;) {
      try {
        if (own.reader.status === 'wait') await own.reader.connect();
        const fedUpTo = await takeOver(partition, signal);
        if (fedUpTo === undefined) return;
        const from = (await readCursor(redis, partition)) ?? '0-0';
        const { reader, committer } = own;
        const consumer = { ...deps, feed: deps.pipeline.feed, reader, committer };
        return await consumePartition(consumer, partition, { from, fedUpTo }, opts, signal);
      } catch (err) {
        metrics.computeFailures.inc({ reason: 'rebuild_failed' });
        log.warn({ err, partition }, 'partition takeover failed; retrying');
        const delay = backoffMs(++failures, opts.retryBaseMs, opts.retryMaxMs);
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** Rebuilds the partition's open windows; resolves to the last entry it fed. */
  async function takeOver(partition: number, signal: AbortSignal): Promise<string | undefined> {
    const projects = projectsOf(partition);
    const onBadEntry = (entry: string, err: unknown) => {
      metrics.computeFailures.inc({ reason: 'bad_entry' });
      log.warn({ err, entry }, 'partition owner: log entry does not decode; skipped');
    };
    const gathered = await gatherTakeoverEvents(
      { redis, store: deps.store, streams: deps.streams, onBadEntry },
      partition,
      projects,
      opts,
    );
    if (signal.aborted) return undefined;
    // Rebuild, rev adoption and owed finals are one synchronous step per project: no idle
    // tick or early emission lands between them.
    for (const [project, streams] of gathered.byProject) rebuildProject(project, streams);
    metrics.takeovers.inc();
    metrics.takeoverEvents.inc({ source: 'stored' }, gathered.counts.stored);
    metrics.takeoverEvents.inc({ source: 'log' }, gathered.counts.log);
    log.info({ partition, projects, ...gathered.counts }, 'partition taken over');
    return gathered.upTo;
  }

  function rebuildProject(project: string, streams: ReadonlyMap<string, StreamEvent[]>): void {
    const { pipeline } = deps;
    const replayed = pipeline.rebuild(project, streams);
    const closed = new Set(
      replayed.filter((r) => r.final).map((r) => `${r.stream}/${r.key}/${r.start}`),
    );
    let emitted = 0;
    for (const spec of deps.streams(project)) {
      const seen: SeenRev = (key, start) => deps.seen(project, spec.name, key, start);
      const owed = pipeline.adoptRevs(project, spec.name, seen, replayed);
      if (owed.length > 0) pipeline.emit(project, owed);
      emitted += owed.length;
    }
    metrics.takeoverFinals.inc({ outcome: 'emitted' }, emitted);
    metrics.takeoverFinals.inc({ outcome: 'seen' }, closed.size - emitted);
  }

  function acquired(partition: number): void {
    if (stopped || owned.has(partition)) return;
    const reader = deps.openReader?.() ?? redis.duplicate({ lazyConnect: true });
    reader.on('error', (err: NodeJS.ErrnoException) =>
      metrics.redisConnectionErrors.inc({ reason: err.code ?? 'other' }),
    );
    const onFailure = (reason: 'cursor_refused' | 'redis_error', err?: unknown) => {
      metrics.computeFailures.inc({ reason });
      log.warn({ err, partition, reason }, 'partition cursor not written');
    };
    const own: Owned = {
      abort: new AbortController(),
      reader,
      committer: createCursorCommitter(
        { redis, nodeId: deps.nodeId, partition, onFailure },
        opts.commitEveryMs,
      ),
      running: Promise.resolve(),
    };
    owned.set(partition, own);
    metrics.partitionsOwned.set(owned.size);
    own.running = run(partition, own);
  }

  async function lost(partition: number): Promise<void> {
    const own = owned.get(partition);
    if (!own) return;
    owned.delete(partition);
    metrics.partitionsOwned.set(owned.size);
    own.abort.abort();
    own.reader.disconnect(); // a read blocked in XREAD ends now, not after blockMs
    await own.running;
    await own.committer.close();
    for (const project of projectsOf(partition)) deps.pipeline.dropProject(project);
    metrics.computeLag.remove({ partition: String(partition) });
  }

  const service: Service = {
    name: 'partition-owner',
    async start() {
      const { compete } = deps;
      for (let p = 0; p < opts.partitions; p++)
        deps.leases.hold(
          partitionLease(p),
          { acquired: () => acquired(p), lost: () => lost(p) },
          compete ? { compete: () => compete(p) } : {},
        );
    },
    /** Stops consuming; the leases are given up when the caller closes them. */
    async stop() {
      stopped = true;
      await Promise.all([...owned.keys()].map((p) => lost(p)));
    },
  };
  return {
    ...service,
    /** For the storage consumer's trimming: keep the entries after `cursor:<p>`. */
    retainFrom: (partition: number) => retainFrom(redis, partition),
    /** The partitions this node consumes now. */
    owned: () => [...owned.keys()].sort((a, b) => a - b),
  };
}

export type PartitionOwner = ReturnType<typeof createPartitionOwner>;
