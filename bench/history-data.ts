/**
 * What the history scenario stores before the server starts (history-seed.ts) and then reads
 * back through the routes (history.ts): one project's events over `days` whole UTC days up
 * to `endMs`, and the one stream of the server's config whose windows and rollup it reads.
 */
import { benchProjectId } from './server-process.js';

export const historyProject = benchProjectId;

/** Types by weight: each row picks one of these at random (a hash of its number). */
export const eventTypes = [
  'page.view',
  'page.view',
  'page.view',
  'page.view',
  'click',
  'click',
  'search',
  'purchase',
  'signup',
  'error',
] as const;

/**
 * A dashboard's stream over the seeded events: per minute and plan, the events, distinct
 * users, and the sum and maximum of a numeric field. Every aggregate is one the seed can
 * compute exactly in SQL as the pipeline would (uniq is exact up to 1,024 values: a minute
 * of one plan holds about a hundred users).
 */
export const historyStream = {
  name: 'history',
  source: { types: ['page.view', 'click', 'purchase'] },
  groupBy: ['props.plan'],
  window: { kind: 'tumbling', sizeMs: 60_000 },
  aggregates: [
    { name: 'events', fn: 'count' },
    { name: 'users', fn: 'uniq', field: 'userId' },
    { name: 'ms_total', fn: 'sum', field: 'props.ms' },
    { name: 'ms_max', fn: 'max', field: 'props.ms' },
  ],
};

export const dayMs = 24 * 3600_000;

/** What the seed is asked for. */
export interface HistorySeedSpec {
  events: number;
  days: number;
  /** Exclusive end of the seeded event times: a UTC midnight. */
  endMs: number;
  /** Distinct users the events spread over. */
  users: number;
}

/** What the seed stored and how long it took (outside every measured figure). */
export interface HistorySeedResult {
  events: number;
  /** Events of the stream's types: what its rollup and windows count. */
  streamEvents: number;
  /** Closed windows stored, as the pipeline writes them. */
  windows: number;
  /** Active parts of `events` once the seed ended. */
  eventParts: number;
  eventsSeconds: number;
  windowsSeconds: number;
}

/** UTC midnight at or before `nowMs`: the seeded days end there, so they are whole days. */
export const seedEnd = (nowMs: number): number => Math.floor(nowMs / dayMs) * dayMs;
