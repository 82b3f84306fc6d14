import { expect, it } from 'vitest';
import type { StreamEvent } from '../../src/model/event.js';
import { createRuleIndex } from '../../src/rules/rule-index.js';
import { createTriggers } from '../../src/rules/triggers/index.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import { createTimers } from '../../src/state/timers.js';
import { event, log, rule } from './rules-fixtures.js';

const notification = { category: 'c', title: 't', body: 'b' };
const audience = { kind: 'user' };

/** Rules of every kind that reads events, with and without types and indexable conditions. */
const specs = [
  { kind: 'event', types: ['view'], where: [{ field: 'props.path', op: 'eq', value: '/a' }] },
  {
    kind: 'event',
    types: ['view'],
    where: [{ field: 'props.path', op: 'in', value: ['/a', '/b'] }],
  },
  { kind: 'event', types: ['view'], where: [{ field: 'props.ms', op: 'gte', value: 5 }] },
  { kind: 'event', where: [{ field: 'userId', op: 'eq', value: 'u1' }] },
  { kind: 'event', types: ['view', 'buy'], where: [] },
  { kind: 'event', types: ['buy'], where: [{ field: 'props.n', op: 'eq', value: 2 }] },
  {
    kind: 'event',
    types: ['view'],
    where: [
      { field: 'props.ms', op: 'lt', value: 3 },
      { field: 'props.path', op: 'eq', value: '/b' },
    ],
  },
  {
    kind: 'absence',
    first: { types: ['signup'], where: [] },
    then: { types: ['view'], where: [{ field: 'props.path', op: 'eq', value: '/a' }] },
    withinMs: 1000,
  },
  { kind: 'schedule', types: ['show'], where: [], at: { field: 'props.at' } },
  { kind: 'event', types: ['view'], where: [{ field: 'props.ms', op: 'gte', value: 5 }] },
  { kind: 'threshold', stream: 's', value: 'n', above: 1 },
].map((trigger, i) =>
  rule({
    name: `r${i}`,
    trigger,
    audience: trigger.kind === 'threshold' ? { kind: 'list', users: ['ops'] } : audience,
    notification,
  }),
);

function compiled() {
  const state = createMemoryStateStore();
  const triggers = createTriggers({
    state,
    timers: createTimers(state, log),
    fire: async () => undefined,
    ruleOf: () => undefined,
    onBadTime: () => undefined,
  });
  return specs.map((spec) => triggers.compile(spec));
}

const events: StreamEvent[] = [
  event('view', { userId: 'u1' }, { path: '/a', ms: 1 }),
  event('view', { userId: 'u2' }, { path: '/b', ms: 9 }),
  event('view', {}, { path: '/c', ms: 2 }),
  event('buy', { userId: 'u1' }, { n: 2 }),
  event('buy', { userId: 'u3' }, { n: '2' }),
  event('signup', { userId: 'u3' }),
  event('show', { userId: 'u3' }, { at: 0 }),
  event('other', { userId: 'u1' }),
  event('other', { userId: 'u9' }, { path: '/a' }),
];

it('asks the same tasks of the rules, in the same order, as reading every rule', () => {
  const triggers = compiled();
  const everyRule = events.flatMap((e) =>
    triggers.map((t) => t.onEvent?.('dev', e)?.key).filter((key) => key !== undefined),
  );
  const indexed = createRuleIndex(triggers)
    .tasks('dev', events)
    .map((task) => task.key);
  expect(indexed).toEqual(everyRule);
  expect(indexed.length).toBeGreaterThan(10); // the events do fire rules of every kind
});

it('has nothing to read when no rule reads events', () => {
  const thresholdsOnly = compiled().filter((t) => t.onEvent === undefined);
  const index = createRuleIndex(thresholdsOnly);
  expect(index.empty).toBe(true);
  expect(index.tasks('dev', events)).toEqual([]);
});
