import { describe, expect, it } from 'vitest';
import { timeOf } from '../../../src/rules/triggers/schedule-trigger.js';
import { openLmdbStateStore } from '../../../src/state/lmdb-state-store.js';
import { event, openRules, rule, sleep, stateStores, tempDir, until } from '../rules-fixtures.js';

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

describe.each(stateStores)('schedule trigger (%s state)', (_name, open) => {
  it('fires at the time derived from the event, not before', async () => {
    const { service, timers, intents } = openRules(open(), { dev: [reminder] });
    await timers.start();
    const startsAt = Date.now() + 1000;
    service.onEvents('dev', [show(new Date(startsAt).toISOString())]);
    await sleep(150);
    expect(intents).toEqual([]);
    await until(() => intents.length === 1, 3000, 'reminder');
    expect(Date.now()).toBeGreaterThanOrEqual(startsAt - 200);
    expect(intents[0]!.title).toBe('Low starts soon');
    await timers.stop();
  });

  it('schedules one timer for an event processed twice', async () => {
    const { service, timers, intents } = openRules(open(), { dev: [reminder] });
    await timers.start();
    const twice = show(Date.now() + 800); // due well after both batches ran
    service.onEvents('dev', [twice]);
    service.onEvents('dev', [{ ...twice }]);
    await until(() => intents.length >= 1, 3000, 'reminder');
    await sleep(200);
    expect(intents).toHaveLength(1);
    await timers.stop();
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
  const before = openLmdbStateStore(dir);
  const up = openRules(before, { dev: [reminder] });
  await up.timers.start();
  up.service.onEvents('dev', [show(Date.now() + 800)]); // due in 600 ms
  await up.service.idle();
  // The server goes down before the reminder is due.
  await up.service.stop();
  await up.timers.stop();
  await before.close();
  await sleep(800);
  expect(up.intents).toEqual([]);

  const after = openLmdbStateStore(dir);
  const back = openRules(after, { dev: [reminder] });
  await back.timers.start();
  await until(() => back.intents.length === 1, 3000, 'reminder after restart');
  await sleep(200);
  expect(back.intents).toHaveLength(1);
  await back.timers.stop();
  await after.close();

  // A second restart finds nothing left to fire.
  const again = openLmdbStateStore(dir);
  const third = openRules(again, { dev: [reminder] });
  expect(await third.timers.fireDue()).toBe(0);
  expect(third.intents).toEqual([]);
  await again.close();
});
