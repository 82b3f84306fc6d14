import { expect, it } from 'vitest';
import { runKeyed, type KeyedTask } from '../../src/rules/keyed-tasks.js';
import { sleep } from './rules-fixtures.js';

const task = (key: string, ms: number, log: string[], fail = false): KeyedTask => ({
  key,
  async run() {
    log.push(`${key} start`);
    await sleep(ms);
    log.push(`${key} end`);
    if (fail) throw new Error(`${key} failed`);
  },
});

it('runs one key in order and different keys at once', async () => {
  const log: string[] = [];
  await runKeyed([task('a', 30, log), task('b', 5, log), task('a', 1, log)], () => undefined);
  // b starts before the first a ends (parallel); the second a starts only after the first.
  expect(log.indexOf('b start')).toBeLessThan(log.indexOf('a end'));
  expect(log.filter((line) => line.startsWith('a'))).toEqual([
    'a start',
    'a end',
    'a start',
    'a end',
  ]);
});

it('reports a failing task and still runs the tasks after it', async () => {
  const log: string[] = [];
  const errors: string[] = [];
  await runKeyed([task('a', 1, log, true), task('a', 1, log)], (err, key) =>
    errors.push(`${key}: ${(err as Error).message}`),
  );
  expect(errors).toEqual(['a: a failed']);
  expect(log).toEqual(['a start', 'a end', 'a start', 'a end']);
});
