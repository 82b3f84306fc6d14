import { describe, expect, it } from 'vitest';
import { bindAggregate } from '../../src/pipeline/aggregates/index.js';
import {
  addToWindow,
  createWindow,
  mergeWindows,
  windowId,
  windowResult,
} from '../../src/pipeline/window-state.js';
import { event } from './stream-fixtures.js';

const aggregates = [
  bindAggregate({ name: 'votes', fn: 'count' }),
  bindAggregate({ name: 'weight', fn: 'sum', field: 'props.weight' }),
];

describe('window state', () => {
  it('a new window reads as empty aggregates at revision 0', () => {
    const window = createWindow('s1', 0, 1000, aggregates);
    expect(windowResult('votes', window, false, false)).toEqual({
      stream: 'votes',
      start: 0,
      end: 1000,
      key: 's1',
      values: { votes: 0, weight: 0 },
      final: false,
      rev: 0,
    });
  });

  it('adds each event to every aggregate through its field', () => {
    const window = createWindow('', 0, 1000, aggregates);
    addToWindow(window, event(1, { weight: 2 }));
    addToWindow(window, event(2, { weight: 3 }));
    addToWindow(window, event(3));
    expect(windowResult('votes', window, false).values).toEqual({ votes: 3, weight: 5 });
  });

  it('keeps aggregates named like Object.prototype members as own values', () => {
    const named = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'].map((name) =>
      bindAggregate({ name, fn: 'count' }),
    );
    const window = createWindow('', 0, 1000, named);
    addToWindow(window, event(1));
    const { values } = windowResult('odd', window, false);
    expect(Object.keys(values)).toEqual(['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
    expect(JSON.parse(JSON.stringify(values))).toEqual(
      JSON.parse('{"__proto__":1,"constructor":1,"toString":1,"hasOwnProperty":1}'),
    );
  });

  it('numbers each emission: every result is a new revision unless told otherwise', () => {
    const window = createWindow('', 0, 1000, aggregates);
    expect(windowResult('votes', window, false).rev).toBe(1);
    expect(windowResult('votes', window, true).rev).toBe(2);
    expect(windowResult('votes', window, true, false)).toMatchObject({ rev: 2, final: true });
  });

  it('merging spans both windows, sums their states and keeps the later revision', () => {
    const a = createWindow('k', 1000, 2000, aggregates);
    const b = createWindow('k', 500, 1500, aggregates);
    addToWindow(a, event(1000, { weight: 1 }));
    addToWindow(b, event(500, { weight: 4 }));
    b.rev = 3;
    b.fired = true;
    mergeWindows(a, b);
    expect(windowResult('s', a, a.fired, false)).toMatchObject({
      start: 500,
      end: 2000,
      values: { votes: 2, weight: 5 },
      final: true,
      rev: 3,
    });
  });

  it('identifies a window by key and start, without collisions between keys', () => {
    expect(windowId('a', 10)).not.toBe(windowId('a1', 0));
    expect(windowId('a', 10)).toBe(windowId('a', 10));
  });
});
