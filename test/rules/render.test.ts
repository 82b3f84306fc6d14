import { describe, expect, it } from 'vitest';
import { render, renderValue } from '../../src/rules/render.js';

const context = {
  userId: 'u1',
  key: 'show-7',
  value: 1001,
  props: { artist: { name: 'Low' }, tags: ['a', 'b'] },
  values: { load: { p95: 240 } },
};

describe('render', () => {
  it('fills placeholders from nested paths, spaces allowed', () => {
    expect(render('{{props.artist.name}} for {{ userId }}: {{value}}', context)).toBe(
      'Low for u1: 1001',
    );
  });

  it('renders absent paths empty, objects as JSON, and leaves other braces alone', () => {
    expect(render('[{{props.nope}}] {{props.tags}} {x} {{bad path}}', context)).toBe(
      '[] ["a","b"] {x} {{bad path}}',
    );
  });

  it('reads own properties only: Object.prototype members are absent, not rendered', () => {
    const own = { props: JSON.parse('{"__proto__":"p","constructor":"c"}') as object };
    expect(render('[{{props.constructor}}][{{toString}}][{{props.__proto__}}]', context)).toBe(
      '[][][]',
    );
    expect(renderValue({ a: '{{props.constructor}}' }, context)).toEqual({ a: null });
    expect(render('{{props.constructor}}/{{props.__proto__}}', own)).toBe('c/p');
  });

  it('does not escape markup: escaping is the email channel’s', () => {
    expect(render('{{t}}', { t: '<b>&</b>' })).toBe('<b>&</b>');
  });

  it('renders data deeply, keeping the type of a lone placeholder', () => {
    expect(
      renderValue(
        {
          n: '{{value}}',
          text: 'n={{value}}',
          list: ['{{key}}', 2],
          deep: { p: '{{values.load}}' },
        },
        context,
      ),
    ).toEqual({ n: 1001, text: 'n=1001', list: ['show-7', 2], deep: { p: { p95: 240 } } });
    expect(renderValue('{{missing}}', context)).toBeNull();
  });
});
