import { describe, expect, it } from 'vitest';
import { lastDays, startOf } from '../../src/dashboard/analytics-range.js';

const hour = 3_600_000;
const day = 24 * hour;
// Wednesday 2026-01-07 15:42:10 UTC.
const now = Date.UTC(2026, 0, 7, 15, 42, 10);

describe('the analytics pages’ ranges', () => {
  it('buckets by UTC hour, day and ISO week as the APIs do', () => {
    expect(startOf(now, 'hour')).toBe(Date.UTC(2026, 0, 7, 15));
    expect(startOf(now, 'day')).toBe(Date.UTC(2026, 0, 7));
    expect(startOf(now, 'week')).toBe(Date.UTC(2026, 0, 5)); // the Monday before
    expect(startOf(Date.UTC(2026, 0, 11, 23), 'week')).toBe(Date.UTC(2026, 0, 5)); // a Sunday
    expect(startOf(Date.UTC(2026, 0, 12), 'week')).toBe(Date.UTC(2026, 0, 12)); // a Monday
  });

  it('covers the last days in whole buckets, up to the end of the current one', () => {
    expect(lastDays(7, 'day', now)).toEqual({
      from: Date.UTC(2026, 0, 1),
      to: Date.UTC(2026, 0, 8),
    });
    expect(lastDays(2, 'hour', now)).toEqual({
      from: Date.UTC(2026, 0, 7, 16) - 2 * day,
      to: Date.UTC(2026, 0, 7, 16),
    });
    // 10 days need two whole weeks, ending next Monday.
    expect(lastDays(10, 'week', now)).toEqual({
      from: Date.UTC(2025, 11, 29),
      to: Date.UTC(2026, 0, 12),
    });
  });
});
