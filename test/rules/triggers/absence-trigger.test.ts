import { describe, expect, it } from 'vitest';
import { event, openRules, rule, stateStores } from '../rules-fixtures.js';

const withinMs = 600;
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

// The timers are checked by hand at chosen times (`fireDue(at)`, what their interval calls
// with the clock's time), so no outcome depends on how fast the machine runs.
describe.each(stateStores)('absence trigger (%s state)', (_name, open) => {
  it('fires when B does not follow A within T, and not when it does', async () => {
    const { service, timers, intents } = openRules(open(), { dev: [nudge] });
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
    expect(await timers.fireDue(now + withinMs - 1)).toBe(0); // nothing before the span ends
    expect(intents).toEqual([]);
    expect(await timers.fireDue(now + withinMs)).toBe(3);
    expect(intents.map((i) => i.userId).sort()).toEqual(['late', 'lazy', 'other']);
    expect(intents[0]!.title).toMatch(/^Follow an artist, \w+$/);
    // keen's timer was cancelled, and the fired ones are gone: nothing is left to fire.
    expect(await timers.fireDue(now + 3600_000)).toBe(0);
    expect(intents).toHaveLength(3);
  });

  it('does not count a B from before A', async () => {
    const { service, timers, intents } = openRules(open(), { dev: [nudge] });
    const now = Date.now();
    service.onEvents('dev', [event('artist.follow', { userId: 'u1', ts: now - 1000 })]);
    service.onEvents('dev', [event('user.signup', { userId: 'u1', ts: now })]);
    // Arriving after the A but timed before it (a client's offline queue): still no B for it.
    service.onEvents('dev', [event('user.signup', { userId: 'u2', ts: now })]);
    service.onEvents('dev', [event('artist.follow', { userId: 'u2', ts: now - 1000 })]);
    await service.idle();
    expect(await timers.fireDue(now + withinMs)).toBe(2);
    expect(intents.map((i) => i.userId).sort()).toEqual(['u1', 'u2']);
  });
});
