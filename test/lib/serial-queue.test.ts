import { expect, it } from 'vitest';
import { createSerialQueue } from '../../src/lib/serial-queue.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('runs one key in arrival order and other keys at once', async () => {
  const queue = createSerialQueue();
  const log: string[] = [];
  const task = (name: string, ms: number) => async () => {
    log.push(`${name} start`);
    await sleep(ms);
    log.push(`${name} end`);
    return name;
  };
  const results = await Promise.all([
    queue.push('a', task('a1', 30)),
    queue.push('b', task('b1', 1)),
    queue.push('a', task('a2', 1)),
  ]);
  expect(results).toEqual(['a1', 'b1', 'a2']);
  expect(log.indexOf('b start')).toBeLessThan(log.indexOf('a1 end'));
  expect(log.indexOf('a2 start')).toBeGreaterThan(log.indexOf('a1 end'));
});

it('rejects a failed task’s own promise and still runs the tasks behind it', async () => {
  const queue = createSerialQueue();
  const order: number[] = [];
  const failed = queue.push('k', async () => {
    order.push(1);
    throw new Error('boom');
  });
  const next = queue.push('k', async () => void order.push(2));
  await expect(failed).rejects.toThrow('boom');
  await next;
  expect(order).toEqual([1, 2]);
});

it('is full at maxQueued tasks of a key, and free again once they settle', async () => {
  const queue = createSerialQueue({ maxQueued: 2 });
  let ran = 0;
  void queue.push('p', async () => void (ran += 1));
  expect(queue.full('p')).toBe(false);
  void queue.push('p', async () => void (ran += 1));
  expect([queue.full('p'), queue.full('other')]).toEqual([true, false]);
  await queue.idle();
  expect(ran).toBe(2);
  expect(queue.full('p')).toBe(false);
});

it('idle waits for tasks queued while it waits', async () => {
  const queue = createSerialQueue();
  const order: string[] = [];
  void queue.push('a', async () => {
    await sleep(5);
    order.push('first');
    void queue.push('b', async () => {
      await sleep(5);
      order.push('second');
    });
  });
  await queue.idle();
  expect(order).toEqual(['first', 'second']);
});
