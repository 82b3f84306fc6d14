import { describe, expect, it } from 'vitest';
import { event, openRules, rule, sleep, stateStores, until } from '../rules-fixtures.js';

const withinMs = 600; // long enough for a loaded machine to process the batch first
const nudge = rule({
  name: 'nudge_follow',
  trigger: {
    kind: 'absence',
    first: { types: ['user.signup'] },
    then: { types: ['artist.follow'] },
    withinMs,
  },
  audience: { kind: 'user' },
  notification: { category: 'onboarding', title: 'Follow an artist, {{userId}}', body: '' },
});

describe.each(stateStores)('absence trigger (%s state)', (_name, open) => {
  it('fires when B does not follow A within T, and not when it does', async () => {
    const { service, timers, intents } = openRules(open(), { dev: [nudge] });
    await timers.start();
    const now = Date.now();
    service.onEvents('dev', [
      event('user.signup', { userId: 'lazy', ts: now }),
      event('user.signup', { userId: 'keen', ts: now }),
      event('user.signup', { userId: 'late', ts: now }),
      event('user.signup', { userId: 'other', ts: now }),
      event('artist.follow', { userId: 'keen', ts: now + 100 }), // in time
      event('artist.follow', { userId: 'late', ts: now + withinMs + 100 }), // past the span
      event('artist.follow', { userId: 'someone-else', ts: now + 100 }), // not the same user
    ]);
    await service.idle();
    expect(intents).toEqual([]); // nothing before the span ends
    await until(() => intents.length >= 3, 3000, 'absence firings');
    await sleep(200);
    expect(intents.map((i) => i.userId).sort()).toEqual(['late', 'lazy', 'other']);
    expect(intents[0]!.title).toMatch(/^Follow an artist, \w+$/);
    await timers.stop();
  });

  it('does not count a B from before A', async () => {
    const { service, timers, intents } = openRules(open(), { dev: [nudge] });
    await timers.start();
    const now = Date.now();
    service.onEvents('dev', [event('artist.follow', { userId: 'u1', ts: now - 1000 })]);
    service.onEvents('dev', [event('user.signup', { userId: 'u1', ts: now })]);
    await until(() => intents.length === 1, 3000, 'absence firing');
    await timers.stop();
  });
});
