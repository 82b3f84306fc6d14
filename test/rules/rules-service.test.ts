import { describe, expect, it } from 'vitest';
import { event, openRules, rule, stateStores } from './rules-fixtures.js';

const nudge = rule({
  name: 'nudge',
  trigger: { kind: 'absence', first: { types: ['a'] }, then: { types: ['b'] }, withinMs: 150 },
  audience: { kind: 'user' },
  notification: { category: 'c', title: 't', body: '' },
});

describe.each(stateStores)('rules service (%s state)', (_name, open) => {
  it('clears a removed rule’s state, so its pending timers fire as no-ops', async () => {
    const state = open();
    const { service, timers, intents } = openRules(state, { dev: [nudge] });
    service.onEvents('dev', [event('a', { userId: 'u1' })]);
    await service.idle();
    expect(await state.list('rule/')).toHaveLength(1);
    await service.remove('dev', 'nudge');
    expect(await state.list('rule/')).toEqual([]);
    // Checked by hand at a time past its due, as the timers' interval would.
    expect(await timers.fireDue(Date.now() + 3600_000)).toBe(1);
    expect(intents).toEqual([]);
    expect(await state.list('timer/')).toEqual([]); // handled and dropped, not retried forever
  });

  it('applies a rule defined while running to the next batch only', async () => {
    const { service, intents } = openRules(open(), {});
    const first = rule({ ...nudge, name: 'now', trigger: { kind: 'event', types: ['x'] } });
    service.onEvents('dev', [event('x', { userId: 'u0' })]);
    service.define('dev', first);
    service.onEvents('dev', [event('x', { userId: 'u1' })]);
    await service.idle();
    expect(intents.map((i) => i.userId)).toEqual(['u1']);
    expect(service.list('dev').map((r) => r.name)).toEqual(['now']);
  });

  it('resolves onEvents once the rule work of that batch has run (the partition cursor waits on it)', async () => {
    const welcome = rule({ ...nudge, name: 'welcome', trigger: { kind: 'event', types: ['x'] } });
    const { service, intents } = openRules(open(), { dev: [welcome] });
    await service.onEvents('dev', [event('x', { userId: 'u1' }), event('x', { userId: 'u2' })]);
    expect(intents.map((i) => i.userId)).toEqual(['u1', 'u2']);
    await service.onEvents('dev', [event('other', { userId: 'u3' })]);
    await service.onEvents('nobody', [event('x', { userId: 'u4' })]);
    expect(intents).toHaveLength(2);
  });
});
