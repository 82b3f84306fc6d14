const hour = 3_600_000;
const day = 24 * hour;

export type Interval = 'hour' | 'day' | 'week';

/** The start of the UTC hour, day, or ISO week (Monday) `ms` falls in, as the APIs bucket. */
export function startOf(ms: number, interval: Interval): number {
  if (interval === 'hour') return ms - (ms % hour);
  const midnight = ms - (ms % day);
  if (interval === 'day') return midnight;
  const weekday = (new Date(midnight).getUTCDay() + 6) % 7; // Monday 0
  return midnight - weekday * day;
}

const sizes: Record<Interval, number> = { hour, day, week: 7 * day };

/**
 * The last `days` days in whole buckets: up to the end of the current bucket, back far enough
 * to cover `days` (so no bucket is cut at the start). The current bucket is still filling.
 */
export function lastDays(
  days: number,
  interval: Interval,
  now = Date.now(),
): {
  from: number;
  to: number;
} {
  const size = sizes[interval];
  const to = startOf(now, interval) + size;
  return { from: to - Math.ceil((days * day) / size) * size, to };
}
