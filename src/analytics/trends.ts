import { BacklineError } from '../errors.js';
import type { TrendMeasure, TrendRow } from '../storage/analytics/trends-sql.js';
import { bucketCount, bucketStarts, type Interval } from './buckets.js';
import { eventType, field, integer, json, oneOf, text, whereSchema } from './query-params.js';

export const maxBuckets = 5000;

/** `GET /v1/analytics/trends` as asked, checked. */
export interface TrendRequest {
  event?: string;
  where: ReturnType<typeof whereSchema.parse>;
  interval: Interval;
  measure: TrendMeasure;
  prop?: string;
  breakdown?: string;
  limit: number;
  compare: boolean;
  cohort?: string;
}

/** Reads the query string; any bad parameter is 400 BAD_QUERY naming it. */
export function parseTrendRequest(query: URLSearchParams): TrendRequest {
  const measure = oneOf(query, 'measure', ['count', 'users', 'sum', 'avg'], 'count');
  const prop = field(query, 'prop', true);
  if ((measure === 'sum' || measure === 'avg') && !prop)
    throw new BacklineError('BAD_QUERY', `\`prop\` names the props.<path> to ${measure}`);
  const breakdown = text(query, 'breakdown') === 'type' ? 'type' : field(query, 'breakdown');
  const compare = text(query, 'compare');
  if (compare !== undefined && compare !== 'previous')
    throw new BacklineError('BAD_QUERY', '`compare` is previous or absent');
  const event = eventType(query, 'event');
  const cohort = text(query, 'cohort');
  return {
    ...(event ? { event } : {}),
    where: json(query, 'where', whereSchema) ?? [],
    interval: oneOf(query, 'interval', ['hour', 'day', 'week'], 'day'),
    measure,
    ...(prop && (measure === 'sum' || measure === 'avg') ? { prop } : {}),
    ...(breakdown ? { breakdown } : {}),
    limit: integer(query, 'limit', { min: 1, max: 100 }, 10),
    compare: compare === 'previous',
    ...(cohort ? { cohort } : {}),
  };
}

export function checkBuckets(from: number, to: number, interval: Interval): void {
  if (bucketCount(from, to, interval) > maxBuckets)
    throw new BacklineError('BAD_QUERY', `the range holds more than ${maxBuckets} ${interval}s`);
}

export interface TrendSeries {
  /** The breakdown value; null when absent or for other (and without a breakdown). */
  key: string | null;
  other: boolean;
  /** One per bucket: 0 where nothing happened (null for an average of nothing). */
  values: Array<number | null>;
  /** Over the whole range: distinct users are not a sum of the buckets. */
  total: number | null;
}

export interface TrendAnswer {
  from: number;
  to: number;
  buckets: number[];
  series: TrendSeries[];
}

const seriesKey = (row: { key: string | null; other: boolean }) =>
  row.other ? 'other' : `key:${row.key}`;

/**
 * The rows of one range as series over every bucket, ranked as the top values were chosen
 * (by the measure, then value; other last). Without a breakdown there is one series.
 */
export function trendAnswer(
  rows: readonly TrendRow[],
  range: { from: number; to: number },
  request: Pick<TrendRequest, 'interval' | 'measure' | 'breakdown'>,
): TrendAnswer {
  const buckets = bucketStarts(range.from, range.to, request.interval);
  const index = new Map(buckets.map((t, i) => [t, i]));
  const empty = request.measure === 'avg' ? null : 0;
  const series = new Map<string, TrendSeries & { rank: number }>();
  const seriesOf = (row: TrendRow) => {
    let found = series.get(seriesKey(row));
    if (!found) {
      const values = buckets.map(() => empty);
      found = { key: row.key, other: row.other, values, total: empty, rank: 0 };
      series.set(seriesKey(row), found);
    }
    return found;
  };
  for (const row of rows) {
    const own = seriesOf(row);
    if (row.bucket === null) {
      own.total = row.value;
      own.rank = row.rank;
    } else {
      const at = index.get(row.bucket);
      if (at !== undefined) own.values[at] = row.value;
    }
  }
  if (series.size === 0 && request.breakdown === undefined)
    seriesOf({ bucket: null, key: null, other: false, value: empty, rank: 0 });
  const ranked = [...series.values()].sort(byRank);
  return { ...range, buckets, series: ranked.map(({ rank: _, ...rest }) => rest) };
}

function byRank(a: TrendSeries & { rank: number }, b: TrendSeries & { rank: number }): number {
  if (a.other !== b.other) return a.other ? 1 : -1;
  if (a.rank !== b.rank) return b.rank - a.rank;
  if (a.key === b.key) return 0;
  if (a.key === null) return 1;
  if (b.key === null) return -1;
  return a.key < b.key ? -1 : 1;
}

/**
 * The previous period's series in the current one's order, one for each current series (all
 * zeros where the value did not occur then), so `previous.series[i]` compares with `series[i]`.
 */
export function alignPrevious(
  current: TrendAnswer,
  previous: TrendAnswer,
  measure: TrendMeasure,
): TrendAnswer {
  const found = new Map(previous.series.map((s) => [seriesKey(s), s]));
  const empty = measure === 'avg' ? null : 0;
  const series = current.series.map(
    ({ key, other }) =>
      found.get(seriesKey({ key, other })) ?? {
        key,
        other,
        values: previous.buckets.map(() => empty),
        total: empty,
      },
  );
  return { ...previous, series };
}
