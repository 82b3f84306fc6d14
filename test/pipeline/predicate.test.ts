import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/pipeline/predicate.js';
import type { Condition } from '../../src/pipeline/stream-spec.js';
import { event } from './stream-fixtures.js';

const where = (...conditions: Condition[]) => compileSource({ where: conditions });
const withProps = (props: Record<string, unknown>) => event(1, props);

describe('compileSource', () => {
  it('keeps every event when no type or condition is given', () => {
    expect(compileSource({ where: [] })(event(1, {}, { type: 'anything' }))).toBe(true);
  });

  it('keeps the listed event types only', () => {
    const votes = compileSource({ types: ['vote.cast', 'vote.undo'], where: [] });
    expect(votes(event(1, {}, { type: 'vote.undo' }))).toBe(true);
    expect(votes(event(1, {}, { type: 'page.view' }))).toBe(false);
  });

  it('eq and ne compare with ===', () => {
    const eq = where({ field: 'props.region', op: 'eq', value: 'eu' });
    const ne = where({ field: 'props.region', op: 'ne', value: 'eu' });
    expect([eq, ne].map((p) => p(withProps({ region: 'eu' })))).toEqual([true, false]);
    expect([eq, ne].map((p) => p(withProps({ region: 'us' })))).toEqual([false, true]);
    expect(where({ field: 'props.n', op: 'eq', value: 1 })(withProps({ n: '1' }))).toBe(false);
  });

  it('in accepts any of a list (or a single value)', () => {
    const inList = where({ field: 'props.region', op: 'in', value: ['eu', 'us'] });
    expect(inList(withProps({ region: 'us' }))).toBe(true);
    expect(inList(withProps({ region: 'asia' }))).toBe(false);
    expect(inList(withProps({}))).toBe(false);
    expect(where({ field: 'type', op: 'in', value: 'vote.cast' })(event(1))).toBe(true);
  });

  it('gt, gte, lt and lte compare numbers with numbers and strings with strings', () => {
    const at = (op: Condition['op'], value: unknown, actual: unknown) =>
      where({ field: 'props.v', op, value })(withProps({ v: actual }));
    expect([at('gt', 5, 6), at('gt', 5, 5), at('gte', 5, 5), at('gte', 5, 4)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect([at('lt', 5, 4), at('lt', 5, 5), at('lte', 5, 5), at('lte', 5, 6)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect([at('gt', 'b', 'c'), at('lt', 'b', 'a')]).toEqual([true, true]);
    // A number never compares with a string, nor a missing field with anything.
    expect([at('gt', 5, '6'), at('lt', '5', 4), at('gt', 5, undefined), at('gt', 5, null)]).toEqual(
      [false, false, false, false],
    );
  });

  it('exists holds when the field is neither absent nor null', () => {
    const exists = where({ field: 'props.v', op: 'exists' });
    expect([0, '', false, 'x'].map((v) => exists(withProps({ v })))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect([null, undefined].map((v) => exists(withProps({ v })))).toEqual([false, false]);
    expect(where({ field: 'userId', op: 'exists' })(event(1, {}, { userId: '' }))).toBe(false);
  });

  it('requires every condition to hold', () => {
    const both = where(
      { field: 'props.region', op: 'eq', value: 'eu' },
      { field: 'props.weight', op: 'gt', value: 0 },
    );
    expect(both(withProps({ region: 'eu', weight: 1 }))).toBe(true);
    expect(both(withProps({ region: 'eu', weight: 0 }))).toBe(false);
    expect(both(withProps({ region: 'us', weight: 1 }))).toBe(false);
  });
});
