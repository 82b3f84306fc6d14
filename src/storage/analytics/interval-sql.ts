/** Calendar buckets of analytics queries, in UTC; weeks start on Monday (ISO). */
export type Interval = 'hour' | 'day' | 'week';

const startOf: Record<Interval, string> = {
  hour: 'toStartOfHour',
  day: 'toStartOfDay',
  // Mode 1: weeks start on Monday, as toMonday and ISO 8601.
  week: 'toMonday',
};

/** The start of `ts`'s bucket as epoch ms (Int64). */
export function bucketSql(interval: Interval, ts = 'e.ts'): string {
  return `toInt64(toUnixTimestamp(toDateTime(${startOf[interval]}(${ts}), 'UTC'))) * 1000`;
}
