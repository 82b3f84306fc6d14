/**
 * The history scenario's measured calls: the three routes of issue #14's goal 6, each over a
 * range of the seeded days that moves from call to call (so no answer is served from a
 * cache of the one before), one call at a time, the routes taking turns.
 */
import { dayMs, historyStream } from './history-data.js';
import { percentile } from './percentiles.js';

/** Issue #14, goal 6: p99 of each route under this. */
export const historyGoalMs = 100;

export interface HistoryRoute {
  name: string;
  /** The path and query of one call over `[from, to)`. */
  path(range: { from: number; to: number }): string;
  /** A range of the seeded days `[start, end)`, picked with `random()` in [0, 1). */
  range(start: number, end: number, random: () => number): { from: number; to: number };
  /** The p99 goal (ms): `historyGoalMs` when absent; null where the issue sets none. */
  goalMs?: number | null;
}

const minute = 60_000;
const hour = 60 * minute;
const stream = encodeURIComponent(historyStream.name);

/** A `spanMs` range starting on a whole `stepMs` somewhere in `[start, end − spanMs]`. */
export const within =
  (spanMs: number, stepMs: number) => (start: number, end: number, random: () => number) => {
    const steps = Math.max(0, Math.floor((end - spanMs - start) / stepMs));
    const from = start + Math.floor(random() * (steps + 1)) * stepMs;
    return { from, to: from + spanMs };
  };

export const historyRoutes: HistoryRoute[] = [
  {
    name: `GET /v1/streams/${stream}/windows, a day`,
    path: ({ from, to }) => `/v1/streams/${stream}/windows?from=${from}&to=${to}`,
    range: within(dayMs, minute),
  },
  {
    name: `GET /v1/streams/${stream}/rollup?bucket=day, 30 days`,
    path: ({ from, to }) => `/v1/streams/${stream}/rollup?from=${from}&to=${to}&bucket=day`,
    // The 30 days end on any hour of the last seeded day (with fewer days seeded, all of them).
    range: (start, end, random) => {
      const to = end - Math.floor(random() * 24) * hour;
      return { from: to - 30 * dayMs, to };
    },
  },
  {
    name: 'GET /v1/events/stats, 7 days',
    path: ({ from, to }) => `/v1/events/stats?from=${from}&to=${to}`,
    range: within(7 * dayMs, minute),
  },
];

export interface RouteFigures {
  route: string;
  calls: number;
  /** The first call of all, before any warm-up: cold caches and JIT. */
  coldMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Mean size of an answer's body. */
  meanBytes: number;
  /** null where the route has no goal. */
  goalMs: number | null;
  goalMet: boolean;
}

/** Park–Miller: the same ranges every run, so two runs measure the same calls. */
export function seededRandom(seed = 14): () => number {
  let state = seed;
  return () => {
    state = (state * 48_271) % 2_147_483_647;
    return (state - 1) / 2_147_483_646;
  };
}

/**
 * Calls each route `warmup` times (discarded) then `calls` times, the routes in turn; each
 * time is from the request's send to its whole body read. Throws on any answer but 200.
 */
export async function measureRoutes(
  target: { port: number; key: string },
  days: { start: number; end: number },
  counts: { warmup: number; calls: number },
  routes: readonly HistoryRoute[] = historyRoutes,
): Promise<RouteFigures[]> {
  const random = seededRandom();
  const times = routes.map(() => [] as number[]);
  const bytes = routes.map(() => 0);
  const cold: number[] = [];
  for (let round = 0; round < counts.warmup + counts.calls; round++) {
    for (const [i, route] of routes.entries()) {
      const path = route.path(route.range(days.start, days.end, random));
      const { ms, size } = await timedGet(target, path);
      if (round === 0) cold.push(ms);
      if (round < counts.warmup) continue;
      times[i]!.push(ms);
      bytes[i]! += size;
    }
  }
  return routes.map((route, i) => {
    const p99Ms = percentile(times[i]!, 99);
    const goalMs = route.goalMs === undefined ? historyGoalMs : route.goalMs;
    return {
      route: route.name,
      calls: counts.calls,
      coldMs: cold[i]!,
      p50Ms: percentile(times[i]!, 50),
      p99Ms,
      maxMs: percentile(times[i]!, 100),
      meanBytes: Math.round(bytes[i]! / counts.calls),
      goalMs,
      goalMet: goalMs === null || p99Ms < goalMs,
    };
  });
}

/** One GET with the project key in the header, timed to its last body byte. */
export async function timedGet(
  target: { port: number; key: string },
  path: string,
): Promise<{ ms: number; size: number; body: string }> {
  const began = performance.now();
  const res = await fetch(`http://127.0.0.1:${target.port}${path}`, {
    headers: { authorization: `Bearer ${target.key}` },
    signal: AbortSignal.timeout(30_000),
  });
  const body = await res.text();
  const ms = performance.now() - began;
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${body.slice(0, 300)}`);
  return { ms, size: Buffer.byteLength(body), body };
}
