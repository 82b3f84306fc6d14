import { describe, expect, it } from 'vitest';
import type { StateStore } from '../../src/state/state-store.js';
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
    await service.idle();
    expect(await state.list('rule/')).toEqual([]);
    // Checked by hand at a time past its due, as the timers' interval would.
    expect(await timers.fireDue(Date.now() + 3600_000)).toBe(1);
    expect(intents).toEqual([]);
    expect(await state.list('timer/')).toEqual([]); // handled and dropped, not retried forever
  });

  // A rule's work queued before its removal: a batch held in routing, so the queue stays busy.
  function busyRules(state: StateStore, maxQueued = 10_000) {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const hold = rule({ ...nudge, name: 'hold', trigger: { kind: 'event', types: ['x'] } });
    const rules = openRules(
      state,
      { dev: [nudge, hold] },
      { route: () => held, queue: { maxQueued } },
    );
    return { ...rules, release };
  }

  it('answers a removal without waiting for the rule work queued before it', async () => {
    const state = open();
    const { service, release } = busyRules(state);
    service.onEvents('dev', [event('a', { userId: 'u1' })]);
    void service.onEvents('dev', [event('x', { userId: 'u2' })]);
    const turn = new Promise((resolve) => setImmediate(() => resolve('still waiting')));
    expect(await Promise.race([service.remove('dev', 'nudge'), turn])).toBe(true);
    expect(service.list('dev').map((r) => r.name)).toEqual(['hold']);
    release();
    await service.idle();
    expect(await state.list('rule/dev/nudge/')).toEqual([]);
  });

  it('clears a removed rule’s state even while the project’s queue is full', async () => {
    const state = open();
    const { service, release } = busyRules(state, 2);
    await service.onEvents('dev', [event('a', { userId: 'u1' })]);
    expect(await state.list('rule/dev/nudge/')).toHaveLength(1);
    void service.onEvents('dev', [event('x', { userId: 'u2' })]);
    void service.onEvents('dev', [event('x', { userId: 'u3' })]); // the queue is full now
    expect(await service.remove('dev', 'nudge')).toBe(true);
    release();
    await service.idle();
    expect(await state.list('rule/dev/nudge/')).toEqual([]);
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
