import { describe, expect, it } from 'vitest';
import { pathReader, readPath } from '../../src/lib/field-path.js';

const context = {
  props: { show: { id: 's1', tags: ['live'] }, score: 0, empty: null },
  values: { load: { p95: 240 } },
};

describe('readPath', () => {
  it('reads a dotted path or its keys, falsy values included', () => {
    expect(readPath(context, 'values.load.p95')).toBe(240);
    expect(readPath(context, ['props', 'show', 'tags', '0'])).toBe('live');
    expect(readPath(context, 'props.score')).toBe(0);
    expect(readPath(context, 'props.empty')).toBeNull();
  });

  it('reads a path through a missing or non-object value as absent', () => {
    expect(readPath(context, 'props.missing.id')).toBeUndefined();
    expect(readPath(context, 'props.show.id.length')).toBeUndefined();
    expect(readPath(context, 'props.empty.id')).toBeUndefined();
    expect(readPath('text', 'length')).toBeUndefined();
  });

  it('reads own properties only, never the prototype', () => {
    expect(readPath(context, 'props.constructor')).toBeUndefined();
    expect(readPath(context, 'props.show.__proto__')).toBeUndefined();
    expect(pathReader('constructor')({})).toBeUndefined();
    expect(pathReader('toString')({ toString: 1 })).toBe(1);
  });

  it('compiles a path once into the same reader', () => {
    for (const path of ['values', 'values.load.p95', 'props.show.id.length', 'nope'])
      expect(pathReader(path)(context)).toEqual(readPath(context, path));
    expect(pathReader('values')(null)).toBeUndefined();
  });
});
