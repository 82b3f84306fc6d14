/** Calendar buckets in UTC, as the SQL makes them (src/storage/analytics/interval-sql.ts). */
export type Interval = 'hour' | 'day' | 'week';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

export const intervalMs: Record<Interval, number> = { hour: hourMs, day: dayMs, week: 7 * dayMs };

/** The start of `ms`'s bucket. Weeks start on Monday; 1970-01-01 was a Thursday. */
export function bucketStart(ms: number, interval: Interval): number {
  if (interval !== 'week') return Math.floor(ms / intervalMs[interval]) * intervalMs[interval];
  const day = Math.floor(ms / dayMs);
  return (day - ((day + 3) % 7)) * dayMs;
}

/** Every bucket start from `from`'s bucket up to, not including, `to`. */
export function bucketStarts(from: number, to: number, interval: Interval): number[] {
  const starts: number[] = [];
  for (let t = bucketStart(from, interval); t < to; t += intervalMs[interval]) starts.push(t);
  return starts;
}

/** How many buckets `bucketStarts` would make. */
export function bucketCount(from: number, to: number, interval: Interval): number {
  return Math.ceil((to - bucketStart(from, interval)) / intervalMs[interval]);
}
