import { expect, it } from 'vitest';
import { createAudience } from '../../src/rules/audience.js';
import { CountedFailure, createFire } from '../../src/rules/fire.js';
import { createFollowGraph } from '../../src/rules/follow-graph.js';
import type { NotificationIntent } from '../../src/notify/notification.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import { event, noSegments, openRules, rule } from './rules-fixtures.js';

const listRule = (trigger: Record<string, unknown>) =>
  rule({
    name: 'r',
    trigger,
    audience: { kind: 'list', users: ['a', 'bad', 'c'] },
    notification: { category: 'c', title: 't', body: '' },
  });

it('routes the other users when one fails, then reports the firing failed', async () => {
  const routed: string[] = [];
  const failures: string[] = [];
  const fire = createFire({
    audience: createAudience({
      follows: createFollowGraph(createMemoryStateStore()),
      segments: noSegments,
    }),
    route: async (intent) => {
      if (intent.userId === 'bad') throw new Error('router down');
      routed.push(intent.userId);
    },
    fail: (reason) => failures.push(reason),
  });
  const firing = {
    project: 'p',
    rule: listRule({ kind: 'event' }),
    id: 'f',
    userId: '',
    context: {},
  };
  await expect(fire(firing)).rejects.toBeInstanceOf(CountedFailure);
  expect(routed).toEqual(['a', 'c']);
  expect(failures).toEqual(['route']);
});

it('retries a timer firing whose routing failed, with the same dedup keys', async () => {
  let refuse = true;
  const intents: NotificationIntent[] = [];
  const { service, timers } = openRules(
    createMemoryStateStore(),
    { p: [listRule({ kind: 'schedule', types: ['s'], at: { field: 'props.at' } })] },
    {
      route: async (intent) => {
        if (intent.userId === 'bad' && refuse) {
          refuse = false;
          throw new Error('router down once');
        }
        intents.push(intent);
      },
    },
  );
  const at = Date.now() + 3600_000;
  service.onEvents('p', [event('s', { id: 'e1' }, { at })]);
  await service.idle();
  // Checked by hand at its due time, twice, as the timers' interval would.
  expect(await timers.fireDue(at)).toBe(0); // routing failed: the timer stays
  expect(intents.map((i) => i.userId)).toEqual(['a', 'c']);
  expect(await timers.fireDue(at)).toBe(1);
  expect(intents.map((i) => i.userId)).toEqual(['a', 'c', 'a', 'bad', 'c']);
  expect(new Set(intents.map((i) => i.dedupKey))).toEqual(new Set(['r/e1']));
});
