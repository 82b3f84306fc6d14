import { describe, expect, it } from 'vitest';
import { readField } from '../../src/pipeline/field-path.js';
import { event } from './stream-fixtures.js';

describe('readField', () => {
  const e = event(
    1234,
    { show: { id: 's1', tags: ['live'] }, score: 0, empty: null },
    { id: 'e-1', type: 'vote.cast', userId: 'u1', anonymousId: '', sessionId: 'sess' },
  );

  it('reads the top-level fields', () => {
    expect(['id', 'type', 'ts', 'userId', 'sessionId'].map((p) => readField(p)(e))).toEqual([
      'e-1',
      'vote.cast',
      1234,
      'u1',
      'sess',
    ]);
  });

  it("reads an absent id ('' on the wire) as absent", () => {
    expect(readField('anonymousId')(e)).toBeUndefined();
  });

  it('reads props by path, falsy values included', () => {
    expect(readField('props.score')(e)).toBe(0);
    expect(readField('props.empty')(e)).toBeNull();
    expect(readField('props.show.id')(e)).toBe('s1');
    expect(readField('props.show')(e)).toEqual({ id: 's1', tags: ['live'] });
    expect(readField('props.show.tags.0')(e)).toBe('live');
  });

  it('reads a path through a missing or non-object value as absent', () => {
    expect(readField('props.missing')(e)).toBeUndefined();
    expect(readField('props.missing.id')(e)).toBeUndefined();
    expect(readField('props.show.id.length')(e)).toBeUndefined();
    expect(readField('props.empty.id')(e)).toBeUndefined();
  });
});
