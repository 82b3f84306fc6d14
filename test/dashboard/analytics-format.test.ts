import { describe, expect, it } from 'vitest';
import {
  amount,
  bucketLabel,
  duration,
  percent,
  seriesName,
} from '../../src/dashboard/analytics-format.js';

describe('how the analytics pages write numbers and times', () => {
  it('writes durations in their two largest units', () => {
    expect(duration(null)).toBe('–');
    expect(duration(450)).toBe('450 ms');
    expect(duration(3000)).toBe('3 s');
    expect(duration(612_000)).toBe('10 min 12 s');
    expect(duration(3_600_000)).toBe('1 h');
    expect(duration(3_840_000)).toBe('1 h 4 min');
    expect(duration(86_400_000)).toBe('1 d');
    expect(duration(2 * 86_400_000 + 3 * 3_600_000 + 59_000)).toBe('2 d 3 h');
  });

  it('writes buckets in UTC, rates as percentages, and breakdown values', () => {
    const t = Date.UTC(2026, 0, 5, 14, 30);
    expect(bucketLabel(t, 'day')).toBe('2026-01-05');
    expect(bucketLabel(t, 'week')).toBe('2026-01-05');
    expect(bucketLabel(t, 'hour')).toBe('2026-01-05 14:30');
    expect([percent(0.547), percent(1, 0), percent(null)]).toEqual(['54.7%', '100%', '–']);
    expect([amount(12), amount(0.125), amount(null)]).toEqual(['12', '0.13', '–']);
    expect(seriesName({ key: 'ar1', other: false })).toBe('ar1');
    expect(seriesName({ key: null, other: true })).toBe('other');
    expect(seriesName({ key: null, other: false })).toBe('(none)');
  });
});
