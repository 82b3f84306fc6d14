import { BacklineError } from '../../errors.js';

/**
 * The times a query may name, in epoch ms: from 1970-01-01 to the last millisecond of 2299,
 * the end of ClickHouse's DateTime64(3). Outside it the engine saturates or, past 2^53, the
 * parameter cannot even be sent, so such a range is the caller's mistake, not ours.
 */
export const timeLimits = { minMs: 0, maxMs: Date.UTC(2299, 11, 31, 23, 59, 59, 999) };

export interface TimeRange {
  from: number;
  to: number;
}

export interface RangeDefaults {
  /** `from` when absent: this long before `to` (ms). */
  spanMs: number;
  /** `to` when absent: this long after now (ms). */
  aheadMs?: number;
}

const limitsText = `${timeLimits.minMs} (${new Date(timeLimits.minMs).toISOString()}) and ${timeLimits.maxMs} (${new Date(timeLimits.maxMs).toISOString()})`;

/**
 * `from` and `to` of a query, each epoch milliseconds or an ISO-8601 time, as the range
 * [from, to) within `timeLimits`. Any bad one is a 400 `BAD_QUERY` naming the parameter.
 *
 * @example
 * const { from, to } = parseTimeRange(info.query, { spanMs: 24 * 3600_000 });
 */
export function parseTimeRange(
  query: URLSearchParams,
  defaults: RangeDefaults,
  now = Date.now(),
): TimeRange {
  const givenFrom = parseTime(query.get('from'), 'from');
  const to = parseTime(query.get('to'), 'to') ?? now + (defaults.aheadMs ?? 0);
  const from = givenFrom ?? Math.max(timeLimits.minMs, to - defaults.spanMs);
  if (from >= to) throw new BacklineError('BAD_QUERY', '`from` must be before `to`');
  return { from, to };
}

function parseTime(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  const ms = /^-?\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms))
    throw new BacklineError('BAD_QUERY', `\`${name}\` must be epoch ms or an ISO-8601 time`);
  if (ms < timeLimits.minMs || ms > timeLimits.maxMs)
    throw new BacklineError('BAD_QUERY', `\`${name}\` must be between ${limitsText}`);
  return ms;
}
