import { pino } from 'pino';
import { expect, it } from 'vitest';
import { createLifecycle, shutdownOnSignals, type Service } from '../../src/ops/lifecycle.js';

const log = pino({ level: 'silent' });

const service = (
  name: string,
  events: string[],
  stop: () => Promise<unknown> = async () => undefined,
): Service => ({
  name,
  start: async () => void events.push(`start ${name}`),
  stop: async () => {
    events.push(`stop ${name}`);
    await stop();
  },
});

it('starts in order, stops in reverse, and is running only in between', async () => {
  const events: string[] = [];
  const life = createLifecycle(log);
  expect(life.running()).toBe(false);
  await life.start([service('storage', events), service('server', events)]);
  expect(life.running()).toBe(true);
  const stopped = life.stop();
  expect(life.running()).toBe(false);
  await stopped;
  expect(events).toEqual(['start storage', 'start server', 'stop server', 'stop storage']);
});

it('keeps stopping the rest when one stop throws', async () => {
  const events: string[] = [];
  const life = createLifecycle(log);
  await life.start([
    service('a', events),
    service('b', events, () => Promise.reject(new Error('boom'))),
  ]);
  await life.stop();
  expect(events).toEqual(['start a', 'start b', 'stop b', 'stop a']);
});

it('on the first signal stops every service once, then exits 0', async () => {
  const events: string[] = [];
  const life = createLifecycle(log);
  await life.start([service('a', events)]);
  const exits: number[] = [];
  let exited: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (exited = resolve));
  const remove = shutdownOnSignals(life, log, { signals: ['SIGUSR2'] }, (code) => {
    exits.push(code);
    exited();
  });
  try {
    process.emit('SIGUSR2', 'SIGUSR2');
    process.emit('SIGUSR2', 'SIGUSR2');
    await done;
    expect(events).toEqual(['start a', 'stop a']);
    expect(exits).toEqual([0]);
  } finally {
    remove();
  }
});

it('exits 1 when the stop outlasts the timeout', async () => {
  const events: string[] = [];
  const life = createLifecycle(log);
  let release: () => void = () => undefined;
  const stuck = new Promise<void>((resolve) => (release = resolve));
  await life.start([service('stuck', events, () => stuck)]);
  const exits: number[] = [];
  let exited: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (exited = resolve));
  const remove = shutdownOnSignals(life, log, { signals: ['SIGUSR2'], timeoutMs: 20 }, (code) => {
    exits.push(code);
    exited();
  });
  try {
    process.emit('SIGUSR2', 'SIGUSR2');
    await first;
    expect(exits).toEqual([1]);
  } finally {
    release();
    remove();
  }
});
