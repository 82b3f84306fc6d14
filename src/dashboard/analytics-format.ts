/**
 * How the analytics pages write times and numbers. Buckets, cohorts and days are UTC, as the
 * APIs count them, so they are written in UTC with the zone said in the headers.
 */

const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-01-05`. */
export function utcDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** `2026-01-05 14:00`. */
export function utcMinute(ms: number): string {
  const d = new Date(ms);
  return `${utcDay(ms)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** A bucket's start as its interval names it: a day or week by its date, an hour with its time. */
export const bucketLabel = (ms: number, interval: string) =>
  interval === 'hour' ? utcMinute(ms) : utcDay(ms);

/** `54.7%`; `–` for nothing. */
export const percent = (rate: number | null, digits = 1) =>
  rate === null ? '–' : `${(rate * 100).toFixed(digits)}%`;

/** Integers as they are, other numbers to two decimals; `–` for nothing. */
export const amount = (value: number | null) =>
  value === null ? '–' : Number.isInteger(value) ? String(value) : value.toFixed(2);

/** `1 h 4 min`, `12 min 5 s`, `2 d`: the largest unit and the next one, to the second. */
export function duration(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ];
  const first = units.findIndex(([, size]) => ms >= size);
  let rest = Math.round(ms / 1000) * 1000;
  const parts: string[] = [];
  for (const [name, size] of units.slice(first, first + 2)) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n} ${name}`);
  }
  return parts.join(' ');
}

/** A breakdown value as a reader sees it: `other` for the rest, `(none)` where absent. */
export const seriesName = (s: { key: string | null; other: boolean }) =>
  s.other ? 'other' : (s.key ?? '(none)');
