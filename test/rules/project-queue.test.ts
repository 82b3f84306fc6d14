import { expect, it } from 'vitest';
import type { KeyedTask } from '../../src/rules/keyed-tasks.js';
import { createProjectQueue } from '../../src/rules/project-queue.js';
import { sleep } from './rules-fixtures.js';

const quiet = {
  onError: () => undefined,
  onRefused: () => undefined,
  onTaskError: () => undefined,
};

/** A task that logs its start and end, and first waits for `before` (if given). */
const task = (key: string, log: string[], before?: Promise<unknown>): KeyedTask => ({
  key,
  async run() {
    log.push(`${key} start`);
    await before;
    log.push(`${key} end`);
  },
});

/** A promise and its resolver, for tasks that wait on each other. */
function signal() {
  let fire = () => {};
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fired, fire };
}

it('runs a project’s work in arrival order and survives a failing batch', async () => {
  const errors: unknown[] = [];
  const queue = createProjectQueue({ ...quiet, onError: (err) => errors.push(err) });
  const order: number[] = [];
  void queue.push('p', async () => {
    await sleep(20);
    order.push(1);
  });
  queue.push('p', async () => Promise.reject(new Error('boom'))).catch(() => undefined);
  void queue.push('p', async () => void order.push(3));
  await queue.idle();
  expect(order).toEqual([1, 3]);
  expect(errors).toHaveLength(1);
});

it('refuses work past the bound and reports it', async () => {
  const refused: string[] = [];
  const queue = createProjectQueue(
    { ...quiet, onRefused: (project) => refused.push(project) },
    { maxQueued: 2 },
  );
  let ran = 0;
  for (let i = 0; i < 3; i += 1) void queue.push('p', async () => void (ran += 1));
  await queue.idle();
  expect(ran).toBe(2);
  expect(refused).toEqual(['p']);
});

it('runs the batches that waited behind a group together, one key in arrival order', async () => {
  const log: string[] = [];
  const gate = signal();
  const cStarted = signal();
  const queue = createProjectQueue(quiet);
  void queue.pushBatch('p', { edges: [], tasks: [task('a', log, gate.fired)] });
  await sleep(5); // the first group is running
  // b finishes only once c has started: batches run one after another would never end.
  const b: KeyedTask = {
    key: 'b',
    async run() {
      await cStarted.fired;
      log.push('b end');
    },
  };
  const c: KeyedTask = {
    key: 'c',
    async run() {
      cStarted.fire();
      log.push('c end');
    },
  };
  void queue.pushBatch('p', { edges: [], tasks: [b, task('k', log)] });
  void queue.pushBatch('p', { edges: [], tasks: [c, task('k', log)] });
  gate.fire();
  await Promise.race([queue.idle(), sleep(2000)]);
  expect(log).toContain('b end');
  expect(log.filter((line) => line.startsWith('k'))).toEqual([
    'k start',
    'k end',
    'k start',
    'k end',
  ]);
});

it('lands a batch’s follow edges after every earlier firing and before its own', async () => {
  const log: string[] = [];
  const gate = signal();
  const queue = createProjectQueue(quiet);
  void queue.pushBatch('p', { edges: [], tasks: [task('slow', log, gate.fired)] });
  await sleep(5);
  void queue.pushBatch('p', { edges: [], tasks: [task('fire1', log, sleep(20))] });
  void queue.pushBatch('p', { edges: [task('follow', log)], tasks: [task('fire2', log)] });
  gate.fire();
  await queue.idle();
  const at = (line: string) => log.indexOf(line);
  expect(at('follow start')).toBeGreaterThan(at('fire1 end'));
  expect(at('follow start')).toBeGreaterThan(at('slow end'));
  expect(at('fire2 start')).toBeGreaterThan(at('follow end'));
});

it('runs pushed work alone, after the batches before it and before those after', async () => {
  const log: string[] = [];
  const queue = createProjectQueue(quiet);
  void queue.pushBatch('p', { edges: [], tasks: [task('before', log, sleep(10))] });
  void queue.push('p', async () => void log.push('work'));
  void queue.pushBatch('p', { edges: [], tasks: [task('after', log)] });
  await queue.idle();
  expect(log).toEqual(['before start', 'before end', 'work', 'after start', 'after end']);
});
