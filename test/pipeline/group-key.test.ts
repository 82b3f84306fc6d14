import { describe, expect, it } from 'vitest';
import { compileGroupKey } from '../../src/pipeline/group-key.js';
import { event } from './stream-fixtures.js';

describe('compileGroupKey', () => {
  it("is '' for a stream without grouping", () => {
    expect(compileGroupKey([])(event(1, { showId: 's1' }))).toBe('');
  });

  it('is the text of the one groupBy field, empty when absent', () => {
    const key = compileGroupKey(['props.showId']);
    expect(key(event(1, { showId: 's1' }))).toBe('s1');
    expect(key(event(1, { showId: 42 }))).toBe('42');
    expect(key(event(1, { showId: { season: 2 } }))).toBe('{"season":2}');
    expect(key(event(1, {}))).toBe('');
    expect(key(event(1, { showId: null }))).toBe('');
  });

  it('joins several groupBy fields with |, keeping the place of absent ones', () => {
    const key = compileGroupKey(['props.showId', 'userId', 'props.region']);
    expect(key(event(1, { showId: 's1', region: 'eu' }, { userId: 'u1' }))).toBe('s1|u1|eu');
    expect(key(event(1, { region: 'eu' }))).toBe('||eu');
  });
});
