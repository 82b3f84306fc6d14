import { describe, expect, it } from 'vitest';
import { crossing, watchedValue } from '../../../src/rules/triggers/threshold-trigger.js';
import { openLmdbStateStore } from '../../../src/state/lmdb-state-store.js';
import { sharedRedisState } from '../../helpers/shared-redis-state.js';
import { openRules, rule, stateStores, tempDir, windowOf } from '../rules-fixtures.js';

const hot = (trigger: Record<string, unknown> = {}) =>
  rule({
    name: 'show_hot',
    trigger: {
      kind: 'threshold',
      stream: 'votes',
      value: 'votes',
      above: 1000,
      hysteresis: 10,
      ...trigger,
    },
    audience: { kind: 'list', users: ['ops'] },
    notification: {
      category: 'trending',
      title: '{{key}} at {{value}} (bound {{bound}})',
      body: '',
    },
  });

/** Successive emissions of one window, as an early-mode stream sends them. */
const emissions = (values: number[], key = 'show-7') =>
  values.map((votes, i) => windowOf('votes', { votes }, { key, rev: i + 1 }));

describe('crossing', () => {
  it('fires on reaching the bound and re-arms only past the hysteresis', () => {
    const bounds = { above: 1000, hysteresis: 10 };
    let armed = true;
    const fired = [990, 1001, 1003, 995, 985, 1002].map((value) => {
      const step = crossing(armed, value, bounds);
      armed = step.armed;
      return step.fired;
    });
    expect(fired).toEqual([false, true, false, false, false, true]);
  });

  it('mirrors for a lower bound', () => {
    const bounds = { below: 10, hysteresis: 5 };
    expect(crossing(true, 10, bounds)).toEqual({ armed: false, fired: true });
    expect(crossing(false, 14, bounds)).toEqual({ armed: false, fired: false });
    expect(crossing(false, 16, bounds)).toEqual({ armed: true, fired: false });
  });

  it('reads plain aggregates and quantile levels, numbers only', () => {
    const values = { votes: 3, load: { p95: 240, 'p99.9': 500 }, top: [{ value: 'x' }] };
    expect(watchedValue(values, 'votes')).toBe(3);
    expect(watchedValue(values, 'load.p95')).toBe(240);
    expect(watchedValue(values, 'load.p99.9')).toBe(500);
    expect(watchedValue(values, 'top')).toBeUndefined();
  });
});

describe.each(stateStores)('threshold trigger (%s state)', (_name, open) => {
  it('notifies once per hysteresis crossing of a value oscillating around its bound', async () => {
    const { service, intents } = openRules(open(), { dev: [hot()] });
    service.windowSink.write('dev', emissions([990, 1001, 1003, 995, 985, 1002]));
    await service.idle();
    expect(intents.map((i) => i.title)).toEqual([
      'show-7 at 1001 (bound 1000)',
      'show-7 at 1002 (bound 1000)',
    ]);
    expect(new Set(intents.map((i) => i.dedupKey)).size).toBe(2);
  });

  it('does not flap while the value hovers within the hysteresis band', async () => {
    const { service, intents } = openRules(open(), { dev: [hot()] });
    service.windowSink.write('dev', emissions([1001, 995, 1003, 992, 1004, 989, 1000]));
    await service.idle();
    expect(intents.map((i) => i.title)).toEqual([
      'show-7 at 1001 (bound 1000)',
      'show-7 at 1000 (bound 1000)',
    ]);
  });

  it('watches each group key apart, or only the one named', async () => {
    const all = openRules(open(), { dev: [hot()] });
    all.service.windowSink.write('dev', [...emissions([1001], 'a'), ...emissions([1001], 'b')]);
    await all.service.idle();
    expect(all.intents.map((i) => i.title)).toEqual([
      'a at 1001 (bound 1000)',
      'b at 1001 (bound 1000)',
    ]);

    const one = openRules(open(), { dev: [hot({ key: 'b' })] });
    one.service.windowSink.write('dev', [...emissions([1001], 'a'), ...emissions([1001], 'b')]);
    await one.service.idle();
    expect(one.intents.map((i) => i.title)).toEqual(['b at 1001 (bound 1000)']);
  });

  it('ignores other streams and re-emits of an older window', async () => {
    const { service, intents } = openRules(open(), { dev: [hot()] });
    service.windowSink.write('dev', [
      windowOf('other', { votes: 5000 }, { key: 'k' }),
      windowOf('votes', { votes: 1200 }, { key: 'k', start: 0 }), // fires
      windowOf('votes', { votes: 3 }, { key: 'k', start: 60_000 }), // the next minute re-arms
      windowOf('votes', { votes: 1300 }, { key: 'k', start: 0, final: true, rev: 9 }), // late: ignored
    ]);
    await service.idle();
    expect(intents.map((i) => i.title)).toEqual(['k at 1200 (bound 1000)']);
  });
});

it('does not fire again after a restart replays the window (LMDB state)', async () => {
  const dir = tempDir('threshold');
  const before = openLmdbStateStore(dir);
  const first = openRules(before, { dev: [hot()] });
  first.service.windowSink.write('dev', emissions([1001]));
  await first.service.idle();
  expect(first.intents).toHaveLength(1);
  await first.service.stop();
  await before.close();
  const state = openLmdbStateStore(dir);
  const second = openRules(state, { dev: [hot()] });
  second.service.windowSink.write('dev', emissions([1003, 1004]));
  await second.service.idle();
  expect(second.intents).toEqual([]);
  await state.close();
});

it('fires a crossing once when two nodes handle the same windows (shared Redis state)', async () => {
  const shared = await sharedRedisState();
  const nodes = shared.nodes.map((state) => openRules(state, { dev: [hot()] }));
  const keys = Array.from({ length: 20 }, (_, i) => `show-${i}`);
  for (const { service } of nodes)
    service.windowSink.write(
      'dev',
      keys.flatMap((key) => emissions([1001], key)),
    );
  await Promise.all(nodes.map(({ service }) => service.idle()));
  const titles = nodes.flatMap(({ intents }) => intents.map((i) => i.title));
  expect(titles.sort()).toEqual(keys.map((key) => `${key} at 1001 (bound 1000)`).sort());
  for (const { service } of nodes) await service.stop();
  await shared.stop();
});
