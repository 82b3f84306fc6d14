/**
 * The analytics scenario's measured calls (issue #12): each API over HTTP, over a range of the
 * seeded days that moves from call to call so no answer comes from a cache of the one before,
 * with the goals: p99 under 100 ms for trends, retention and trending, funnels over 30
 * days under 500 ms. The other APIs have no goal in the issue; their figures are shown as
 * they are.
 */
import { trendingArtist } from '../src/storage/analytics/music-history-sql.js';
import { dayMs } from './history-data.js';
import { within, type HistoryRoute } from './history-routes.js';

const hour = 3600_000;
const q = (value: unknown) => encodeURIComponent(JSON.stringify(value));
const funnelSteps = q([{ type: 'show.view' }, { type: 'vote.cast' }, { type: 'ticket.purchase' }]);
const range = ({ from, to }: { from: number; to: number }) => `from=${from}&to=${to}`;
/** 30 days starting on a whole hour somewhere in the seeded days. */
const month = within(30 * dayMs, hour);

/**
 * The fields the scenario's server keeps as columns (analytics.materializedProps): the one its
 * breakdowns and trending read, as a deployment that breaks plays down by artist would list.
 */
export const benchMaterializedProps = ['props.artistId'];

/**
 * A breakdown by a prop neither listed nor yet a column: read out of the JSON text of ~1.5M
 * events until slow calls make it a column (analytics.autoMaterialize; bench/analytics-props.ts
 * times it before and after, apart from the other routes, whose times the mutation would share).
 */
export const genreBreakdown = (after: boolean): AnalyticsRoute => ({
  name:
    'GET /v1/analytics/trends, 30 days per day, breakdown by props.genre, top 10 + other, ' +
    (after ? 'made a column automatically' : 'read from the JSON text'),
  path: (r) =>
    `/v1/analytics/trends?${range(r)}&interval=day&event=song.play&breakdown=props.genre&limit=10`,
  range: month,
});

/** A route with what bounds its time, shown when its goal is missed (measured, see README). */
export type AnalyticsRoute = HistoryRoute & { bound?: string };

/** The routes, for `persons` seeded persons (profiles pick one per call). */
export function analyticsRoutes(persons: number): AnalyticsRoute[] {
  const trends = (name: string, query: string, bound?: string): AnalyticsRoute => ({
    name: `GET /v1/analytics/trends, 30 days per day, ${name}`,
    path: (r) => `/v1/analytics/trends?${range(r)}&interval=day&${query}`,
    range: month,
    ...(bound ? { bound } : {}),
  });
  let call = 0;
  return [
    trends('song.play count', 'event=song.play'),
    trends(
      'persons (identities joined)',
      'event=song.play&measure=users',
      'exact distinct persons per day and over the range: ~185,000 rows of who was active on ' +
        'which day (actor_days) for the 29 whole days, the events of the partial days at both ' +
        'ends (the range starts on an hour), each resolved through the identity map',
    ),
    trends(
      'breakdown by props.artistId (materialized), top 10 + other',
      'event=song.play&breakdown=props.artistId&limit=10',
    ),
    trends(
      `song.play count where props.artistId = ${trendingArtist} (materialized)`,
      `event=song.play&where=${q([{ field: 'props.artistId', op: 'eq', value: trendingArtist }])}`,
    ),
    trends('compared with the 30 days before', 'event=song.play&compare=previous'),
    {
      name: 'GET /v1/analytics/funnels, 30 days: show.view → vote.cast → ticket.purchase in 1 day',
      path: (r) => `/v1/analytics/funnels?${range(r)}&steps=${funnelSteps}&window=${dayMs}`,
      range: month,
      goalMs: 500,
      bound:
        'reading ~1M step events of 30 days with their persons, and per person the array ' +
        'passes that find the step reached and the chain behind it (for the medians)',
    },
    {
      name: 'GET /v1/analytics/retention, daily cohorts of 28 days, 7 periods',
      path: ({ to }) => `/v1/analytics/retention?from=${to - 28 * dayMs}&to=${to}&interval=day`,
      range: within(28 * dayMs + 8 * dayMs, dayMs),
      bound:
        'who was first seen when (18,500 all-time rows of actor_days) and ~290,000 rows of ' +
        'active days in the 36 days after, grouped by actor then by person',
    },
    {
      // The same tracker every call: after the first, answers come from memory.
      name: 'GET /v1/trending?entity=props.artistId (song.play), live',
      path: () => `/v1/trending?entity=props.artistId&types=${q(['song.play'])}`,
      range: month,
    },
    {
      // A new half-life every call: a new tracker, loaded from ClickHouse (2 periods of events).
      name: 'GET /v1/trending, a new tracker each call (loads 2 days from ClickHouse)',
      path: () => `/v1/trending?entity=props.artistId&halfLife=${3600_000 + ++call * 1000}`,
      range: month,
      bound:
        'the load of a new tracker: 2 days of events summed per value and 1-minute bucket, ' +
        'about 200 values × 2,880 buckets of cells sent from ClickHouse as JSON and parsed',
    },
    {
      name: 'GET /v1/analytics/engagement, scores of 30 days, distribution',
      path: ({ to }) => `/v1/analytics/engagement?at=${to}`,
      range: month,
      goalMs: null,
    },
    {
      name: 'GET /v1/analytics/stickiness, 30 days, DAU/MAU',
      path: (r) => `/v1/analytics/stickiness?${range(r)}`,
      range: within(30 * dayMs, dayMs),
      goalMs: null,
    },
    {
      name: 'GET /v1/analytics/persons/:id, profile and first 50 events',
      // Never one of the newcomers who stay anonymous (every fifth), whose `fan-` id is unused.
      path: ({ from }) => {
        const n = Math.floor(from / hour) % persons;
        return `/v1/analytics/persons/fan-${n % 5 === 4 ? n - 1 : n}`;
      },
      range: month,
      goalMs: null,
    },
  ];
}
