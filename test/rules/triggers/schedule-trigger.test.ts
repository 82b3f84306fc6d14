import { describe, expect, it } from 'vitest';
import { timeOf } from '../../../src/rules/triggers/schedule-trigger.js';
import { openLmdbStateStore } from '../../../src/state/lmdb-state-store.js';
import { event, openRules, rule, stateStores, tempDir } from '../rules-fixtures.js';

const reminder = rule({
  name: 'show_reminder',
  trigger: {
    kind: 'schedule',
    types: ['show.scheduled'],
    at: { field: 'props.startsAt', offsetMs: -200 },
  },
  audience: { kind: 'list', users: ['fan'] },
  notification: { category: 'reminders', title: '{{props.name}} starts soon', body: '' },
});

const show = (startsAt: number | string, id?: string) =>
  event('show.scheduled', id ? { id } : {}, { name: 'Low', startsAt });

it('reads epoch ms, digit strings and ISO-8601', () => {
  expect(timeOf(1_795_640_000_000)).toBe(1_795_640_000_000);
  expect(timeOf('1795640000000')).toBe(1_795_640_000_000);
  expect(timeOf('2026-11-25T00:00:00Z')).toBe(Date.parse('2026-11-25T00:00:00Z'));
  expect([timeOf('soon'), timeOf(null), timeOf(Number.NaN)]).toEqual([
    undefined,
    undefined,
    undefined,
  ]);
});

// The timers are checked by hand at chosen times (`fireDue(at)`, what their interval calls
// with the clock's time), so no outcome depends on how fast the machine runs.
describe.each(stateStores)('schedule trigger (%s state)', (_name, open) => {
  it('fires at the time derived from the event, not before', async () => {
    const { service, timers, intents } = openRules(open(), { dev: [reminder] });
    const startsAt = Date.now() + 3600_000;
    service.onEvents('dev', [show(new Date(startsAt).toISOString())]);
    await service.idle();
    expect(await timers.fireDue(startsAt - 201)).toBe(0); // offsetMs: -200
    expect(intents).toEqual([]);
    expect(await timers.fireDue(startsAt - 200)).toBe(1);
    expect(intents.map((i) => i.title)).toEqual(['Low starts soon']);
  });

  it('schedules one timer for an event processed twice', async () => {
    const { service, timers, intents } = openRules(open(), { dev: [reminder] });
    const startsAt = Date.now() + 3600_000;
    const twice = show(startsAt);
    service.onEvents('dev', [twice]);
    service.onEvents('dev', [{ ...twice }]);
    await service.idle();
    expect(await timers.fireDue(startsAt)).toBe(1);
    expect(intents).toHaveLength(1);
  });

  it('fires at once when the time is already past, and skips events without a time', async () => {
    const { service, intents } = openRules(open(), { dev: [reminder] }); // timers not started
    service.onEvents('dev', [show(Date.now() - 60_000), show('not a time')]);
    await service.idle();
    expect(intents.map((i) => i.title)).toEqual(['Low starts soon']);
  });
});

it('fires once after a restart when the time passed while the server was down (LMDB)', async () => {
  const dir = tempDir('schedule');
  const startsAt = Date.now() + 3600_000;
  const before = openLmdbStateStore(dir);
  const up = openRules(before, { dev: [reminder] });
  up.service.onEvents('dev', [show(startsAt)]);
  await up.service.idle();
  // The server goes down before the reminder is due: up to then, nothing fires.
  expect(await up.timers.fireDue(startsAt - 201)).toBe(0);
  await up.service.stop();
  await before.close();
  expect(up.intents).toEqual([]);

  // Back up after the due time: the timer persisted in LMDB fires once.
  const after = openLmdbStateStore(dir);
  const back = openRules(after, { dev: [reminder] });
  expect(await back.timers.fireDue(startsAt + 60_000)).toBe(1);
  expect(back.intents.map((i) => i.title)).toEqual(['Low starts soon']);
  await after.close();

  // A second restart finds nothing left to fire.
  const again = openLmdbStateStore(dir);
  const third = openRules(again, { dev: [reminder] });
  expect(await third.timers.fireDue(startsAt + 120_000)).toBe(0);
  expect(third.intents).toEqual([]);
  await again.close();
});
