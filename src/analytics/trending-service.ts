import type { TrendingSettings } from '../config/analytics-schema.js';
import type { AcceptedListener } from '../ingest/acceptance.js';
import type { Metrics } from '../ops/metrics.js';
import type { StreamEvent } from '../model/event.js';
import type { TrendingQueryRunner } from '../storage/analytics/trending-sql.js';
import { createQueryContext, type QueryContextDeps } from './query-context.js';
import { createTrendingTracker, type TrendingTracker } from './trending-tracker.js';
import {
  entityReader,
  parseTrendingRequest,
  trackerKey,
  type TrendingRequest,
} from './trending.js';

export interface TrendingDeps extends QueryContextDeps {
  queries: { trending: TrendingQueryRunner };
  /** Single node: accepted events, live. Absent (cluster): each answer is read from storage. */
  ingest?: { onAccepted(listener: AcceptedListener): void; durable(): Promise<void> };
  settings: TrendingSettings;
  metrics?: Pick<Metrics, 'trendingTrackers' | 'trendingValuesDropped'> &
    QueryContextDeps['metrics'];
}

interface Entry {
  project: string;
  read: (event: StreamEvent) => string | undefined;
  tracker: TrendingTracker;
  /** Until the stored events are loaded: live events received from `cut` on, held back. */
  held?: Array<{ value: string; ts: number }>;
  cut: number;
  ready: Promise<void>;
  lastUsed: number;
}

/**
 * Trending values of any field (`props.artistId`, `props.genre`, `type`…), ranked by a
 * time-decayed score with the change against the previous period (the formula in
 * trending-tracker.ts). Single node: the first request for a field starts a tracker that
 * loads the stored events of the last two periods and from then on follows every accepted
 * event; trackers nobody asked for `idleMs` go, and at most `maxTrackers` are kept (the least
 * recently asked goes first). A cluster node has no local feed of every event: it reads each
 * answer from storage, the same sums.
 *
 * @example
 * const trending = createTrending({ queries, cohorts, ingest, settings: config.analytics.trending });
 * await trending.top('dev', new URLSearchParams('entity=props.artistId&limit=10'));
 */
export function createTrending(deps: TrendingDeps) {
  const { queries, settings, metrics } = deps;
  const { now, timed } = createQueryContext(deps);
  const entries = new Map<string, Entry>();
  const shape = (r: TrendingRequest) => ({ ...r, bucketMs: settings.bucketMs });

  const count = (entry: Entry, value: string, ts: number) => {
    if (!entry.tracker.has(value) && entry.tracker.size() >= settings.maxValues)
      return void metrics?.trendingValuesDropped.inc();
    entry.tracker.add(value, ts);
  };

  deps.ingest?.onAccepted((project, events, receivedAt) => {
    for (const entry of entries.values()) {
      if (entry.project !== project || receivedAt < entry.cut) continue;
      for (const event of events) {
        const value = entry.read(event);
        if (value === undefined) continue;
        if (entry.held) entry.held.push({ value, ts: event.ts });
        else count(entry, value, event.ts);
      }
    }
  });

  /** A tracker with the stored events of the two periods before now, `received_at < cut`. */
  async function load(project: string, request: TrendingRequest, cut?: number) {
    const at = now();
    const tracker = createTrendingTracker(shape(request), at);
    const start = Math.floor(at / settings.bucketMs) * settings.bucketMs + settings.bucketMs;
    const cells = await queries.trending.cells({
      project,
      entity: request.entity,
      ...(request.types ? { types: request.types } : {}),
      fromMs: start - 2 * request.periodMs,
      bucketMs: settings.bucketMs,
      halfLifeMs: request.halfLifeMs,
      ...(cut !== undefined ? { receivedBefore: cut } : {}),
    });
    for (const { value, bucket, n, w } of cells) {
      if (!tracker.has(value) && tracker.size() >= settings.maxValues)
        metrics?.trendingValuesDropped.inc();
      else tracker.load(value, bucket, n, w);
    }
    return tracker;
  }

  /**
   * Starts following a field: live events received from `cut` (the next millisecond) on are
   * held, then once everything received before it is stored, the stored part is loaded and
   * the held events added. Nothing is counted twice or missed: a batch's `receivedAt` puts
   * it on exactly one side.
   */
  function follow(project: string, request: TrendingRequest): Entry {
    const cut = Date.now() + 1;
    const entry: Entry = {
      project,
      read: entityReader(request),
      tracker: createTrendingTracker(shape(request), now()),
      held: [],
      cut,
      ready: Promise.resolve(),
      lastUsed: now(),
    };
    entry.ready = (async () => {
      while (Date.now() < cut) await new Promise((resolve) => setTimeout(resolve, 1));
      await deps.ingest!.durable();
      entry.tracker = await load(project, request, cut);
      for (const { value, ts } of entry.held ?? []) count(entry, value, ts);
      delete entry.held;
    })();
    return entry;
  }

  function sweep(at: number) {
    for (const [key, entry] of entries)
      if (entry.lastUsed < at - settings.idleMs) entries.delete(key);
    while (entries.size >= settings.maxTrackers) {
      const oldest = [...entries].sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0]!;
      entries.delete(oldest[0]);
    }
  }

  async function top(project: string, query: URLSearchParams) {
    const request = parseTrendingRequest(query, settings);
    const head = { entity: request.entity, types: request.types ?? null };
    const about = { ...head, periodMs: request.periodMs, halfLifeMs: request.halfLifeMs };
    if (!deps.ingest) {
      const tracker = await load(project, request);
      return { ...about, live: false, ...tracker.ranked(now(), request.limit) };
    }
    const key = trackerKey(project, request);
    let entry = entries.get(key);
    if (!entry) {
      sweep(now());
      entries.set(key, (entry = follow(project, request)));
      metrics?.trendingTrackers.set(entries.size);
    }
    entry.lastUsed = now();
    await entry.ready.catch((err: unknown) => {
      entries.delete(key); // the next request starts over
      metrics?.trendingTrackers.set(entries.size);
      throw err;
    });
    return { ...about, live: true, ...entry.tracker.ranked(now(), request.limit) };
  }

  return { top: timed('trending', top) };
}

export type Trending = ReturnType<typeof createTrending>;
