import type { TemplatedApp } from 'uWebSockets.js';
import type { Ingest } from '../../ingest/ingest-service.js';
import type { DecisionLog } from '../../notify/decision-log.js';
import type { ChannelCount } from '../../storage/decision-store.js';
import type { StreamCatalog } from '../../pipeline/stream-catalog.js';
import { createRoutes, type RouteDeps } from './route.js';

export const defaultOverviewOptions = {
  /** Rates and ack latencies cover the readings of at most this trailing span (ms). */
  rateWindowMs: 5000,
  /** A reading is kept as a later request's baseline at most this often (ms). */
  keepEveryMs: 1000,
  /** A project's notification counts are read from ClickHouse at most this often (ms). */
  notificationsEveryMs: 2000,
};

/** A histogram as `[upper bound in seconds, cumulative count]`, ascending, ending at +Inf. */
type Buckets = Array<[le: number, count: number]>;

/** Counters at one moment: the baseline that later requests take differences from. */
interface Reading {
  at: number;
  accepted: ReadonlyMap<string, number>;
  ack: Buckets;
}

/**
 * `GET /v1/overview` (read): the key's project at a glance, for the dashboard's first page,
 * which polls it every second. Totals count from the server's start (`since`); rates and ack
 * latencies are differences from the oldest reading kept within `rateWindowMs` (readings are
 * kept on requests, so a server nobody watches does nothing). Each figure says its `scope`:
 * `project` (accepted events, counted here per project; notifications, from the decision log)
 * or `server` (the rest, which the metrics registry holds for the whole process).
 */
export function registerHttpOverview(
  app: TemplatedApp,
  deps: RouteDeps & { ingest: Ingest; catalog: StreamCatalog; decisions: DecisionLog },
  options: Partial<typeof defaultOverviewOptions> = {},
): void {
  const opts = { ...defaultOverviewOptions, ...options };
  const { metrics, catalog } = deps;
  const since = Date.now();
  const accepted = new Map<string, number>();
  deps.ingest.onCounted((project, counts) =>
    accepted.set(project, (accepted.get(project) ?? 0) + counts.accepted),
  );
  const readings: Reading[] = [];
  const notifications = cachedPerProject(opts.notificationsEveryMs, (project) =>
    deps.decisions.countByChannel(project, since),
  );

  /** The oldest reading within the window (or the newest of all), then this one kept. */
  function baselineFor(now: Reading): Reading | undefined {
    while (readings.length > 1 && readings[0]!.at < now.at - opts.rateWindowMs) readings.shift();
    const base = readings[0];
    const last = readings.at(-1);
    if (!last || now.at - last.at >= opts.keepEveryMs) readings.push(now);
    return base && now.at > base.at ? base : undefined;
  }

  createRoutes(app, deps)('get', '/v1/overview', 'read', async ({ reply, principal }) => {
    const project = principal.projectId;
    const [ack, rejected, frameErrors, late, byChannel] = await Promise.all([
      readBuckets(metrics.ackSeconds),
      sumBy(metrics.eventsRejected, 'code'),
      sumBy(metrics.frameErrors, 'code'),
      metrics.lateEvents.get(),
      notifications(project),
    ]);
    const now: Reading = { at: Date.now(), accepted: new Map(accepted), ack };
    const base = baselineFor(now);
    const spanS = base ? (now.at - base.at) / 1000 : 0;
    const total = now.accepted.get(project) ?? 0;
    const recentAck = base ? difference(ack, base.ack) : undefined;
    const quantileMs = (q: number) => {
      const seconds = recentAck && bucketQuantile(recentAck, q);
      return seconds === undefined ? null : Math.round(seconds * 100_000) / 100;
    };
    const streams = catalog.list(project).map((spec) => spec.name);
    reply.json(200, {
      project,
      at: now.at,
      since,
      rateWindowMs: base ? now.at - base.at : null,
      events: {
        scope: 'project',
        accepted: total,
        perSecond: base ? (total - (base.accepted.get(project) ?? 0)) / spanS : null,
      },
      ack: {
        scope: 'server',
        frames: recentAck ? (recentAck.at(-1)?.[1] ?? 0) : null,
        p50Ms: quantileMs(0.5),
        p99Ms: quantileMs(0.99),
      },
      rejected: { scope: 'server', ...withTotal(rejected) },
      frameErrors: { scope: 'server', ...withTotal(frameErrors) },
      late: { scope: 'server', byStream: lateByStream(late.values, streams) },
      notifications: { scope: 'project', byChannel: channelTable(byChannel) },
    });
  });
}

/**
 * The `q` quantile (0 < q ≤ 1) of cumulative histogram buckets, interpolated linearly within
 * its bucket as Prometheus' `histogram_quantile` does; past the last finite bound, that bound.
 * Undefined when the histogram is empty.
 */
export function bucketQuantile(buckets: Buckets, q: number): number | undefined {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let [lowerLe, lowerCount] = [0, 0];
  for (const [le, count] of buckets) {
    if (count >= rank && count > lowerCount) {
      if (le === Infinity) return lowerLe;
      return lowerLe + ((le - lowerLe) * (rank - lowerCount)) / (count - lowerCount);
    }
    [lowerLe, lowerCount] = [le, count];
  }
  return lowerLe;
}

type Labelled = {
  get(): Promise<{
    values: Array<{ value: number; labels: Partial<Record<string, string | number>> }>;
  }>;
};

/** A histogram's buckets summed over its other labels (the ack histogram has `transport`). */
async function readBuckets(histogram: Labelled): Promise<Buckets> {
  const byLe = new Map<number, number>();
  for (const { labels, value } of (await histogram.get()).values) {
    if (labels.le === undefined) continue; // `_sum` and `_count`
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + value);
  }
  return [...byLe].sort(([a], [b]) => a - b);
}

function difference(now: Buckets, before: Buckets): Buckets {
  const old = new Map(before);
  return now.map(([le, count]) => [le, count - (old.get(le) ?? 0)]);
}

async function sumBy(counter: Labelled, label: string): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  for (const { labels, value } of (await counter.get()).values) {
    const name = String(labels[label] ?? '');
    sums[name] = (sums[name] ?? 0) + value;
  }
  return sums;
}

const withTotal = (byCode: Record<string, number>) => ({
  total: Object.values(byCode).reduce((sum, n) => sum + n, 0),
  byCode,
});

/**
 * The project's streams' late counts. The metric is labelled by stream name only, so a
 * same-named stream of another project adds to it: hence `scope: 'server'`.
 */
function lateByStream(
  values: Array<{ value: number; labels: Partial<Record<string, string | number>> }>,
  streams: readonly string[],
): Record<string, { within: number; tooLate: number }> {
  const byStream = new Map(streams.map((name) => [name, { within: 0, tooLate: 0 }]));
  for (const { labels, value } of values) {
    const counts = byStream.get(String(labels.stream));
    if (labels.kind === 'within' && counts) counts.within += value;
    if (labels.kind === 'too_late' && counts) counts.tooLate += value;
  }
  return Object.fromEntries(byStream);
}

/** `{in_app: {sent: 3, delivered: 3}, none: {suppressed: 1}}`; `none` is before a channel was picked. */
function channelTable(rows: readonly ChannelCount[]): Record<string, Record<string, number>> {
  const table: Record<string, Record<string, number>> = {};
  for (const { channel, outcome, count } of rows) {
    const name = channel || 'none';
    table[name] = { ...table[name], [outcome]: count };
  }
  return table;
}

/** One read per project at most every `everyMs`, shared by concurrent requests; failures are not kept. */
function cachedPerProject<T>(everyMs: number, read: (project: string) => Promise<T>) {
  const cache = new Map<string, { at: number; value: Promise<T> }>();
  return (project: string): Promise<T> => {
    const hit = cache.get(project);
    if (hit && Date.now() - hit.at < everyMs) return hit.value;
    const value = read(project);
    cache.set(project, { at: Date.now(), value });
    value.catch(() => {
      if (cache.get(project)?.value === value) cache.delete(project);
    });
    return value;
  };
}
