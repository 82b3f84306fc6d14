import { describe, expect, it } from 'vitest';
import { asText, numeric } from '../../../src/pipeline/aggregates/aggregate.js';

describe('numeric', () => {
  it('accepts finite numbers only', () => {
    expect([3, -2.5, 0].map(numeric)).toEqual([3, -2.5, 0]);
    const rejected = ['3', NaN, Infinity, -Infinity, null, undefined, true, [1], { v: 1 }];
    expect(rejected.map(numeric)).toEqual(rejected.map(() => undefined));
  });
});

describe('asText', () => {
  it('keeps strings, writes numbers and other values as JSON, and has no text for nothing', () => {
    expect(asText('s1')).toBe('s1');
    expect(asText('')).toBe('');
    expect(asText(42)).toBe('42');
    expect(asText(true)).toBe('true');
    expect(asText({ id: 7 })).toBe('{"id":7}');
    expect(asText(['a', 1])).toBe('["a",1]');
    expect(asText(null)).toBeUndefined();
    expect(asText(undefined)).toBeUndefined();
  });
});
