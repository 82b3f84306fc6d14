import { describe, expect, it } from 'vitest';
import { BacklineError } from '../../../src/errors.js';
import { parseTimeRange, timeLimits } from '../../../src/transport/http/time-range.js';

const now = Date.UTC(2025, 5, 1, 12);
const hour = 3600_000;
const parse = (query: string, aheadMs?: number) =>
  parseTimeRange(
    new URLSearchParams(query),
    { spanMs: 2 * hour, ...(aheadMs ? { aheadMs } : {}) },
    now,
  );

function refusal(query: string): { code: string; message: string } {
  try {
    parse(query);
  } catch (err) {
    expect(err).toBeInstanceOf(BacklineError);
    return { code: (err as BacklineError).code, message: (err as BacklineError).message };
  }
  throw new Error(`${query} was accepted`);
}

describe('parseTimeRange', () => {
  it('fills absent bounds from now and the span, never before 1970', () => {
    expect(parse('')).toEqual({ from: now - 2 * hour, to: now });
    expect(parse('', hour)).toEqual({ from: now - hour, to: now + hour });
    expect(parse('to=1000')).toEqual({ from: 0, to: 1000 });
    expect(parse(`from=${now - 5}`)).toEqual({ from: now - 5, to: now });
  });

  it('reads epoch ms and ISO-8601, up to the last millisecond of 2299', () => {
    expect(parse('from=2025-06-01T10:00:00Z&to=2025-06-01T11:00:00.5Z')).toEqual({
      from: now - 2 * hour,
      to: now - hour + 500,
    });
    expect(parse(`from=0&to=${timeLimits.maxMs}`)).toEqual({ from: 0, to: timeLimits.maxMs });
    expect(new Date(timeLimits.maxMs).toISOString()).toBe('2299-12-31T23:59:59.999Z');
  });

  it('refuses, naming the parameter and the range, what ClickHouse cannot hold', () => {
    const cases: Array<[string, string]> = [
      ['from=0&to=9999999999999999', 'to'],
      [`from=0&to=${timeLimits.maxMs + 1}`, 'to'],
      ['to=2300-01-01T00:00:00Z', 'to'],
      ['from=-1&to=5', 'from'],
      ['from=1899-12-31T00:00:00Z', 'from'],
      ['from=99999999999999999999999', 'from'],
    ];
    for (const [query, name] of cases) {
      const { code, message } = refusal(query);
      expect(code, query).toBe('BAD_QUERY');
      expect(message, query).toContain(`\`${name}\``);
      expect(message, query).toContain('2299-12-31T23:59:59.999Z');
    }
  });

  it('refuses text that is no time, and a range that is empty or backwards', () => {
    expect(refusal('from=yesterday')).toMatchObject({ code: 'BAD_QUERY' });
    expect(refusal('from=yesterday').message).toContain('`from`');
    expect(refusal('from=5&to=5').message).toContain('`from` must be before `to`');
    expect(refusal('from=6&to=5').code).toBe('BAD_QUERY');
    expect(refusal(`from=${now + 1}`).code).toBe('BAD_QUERY');
  });
});
