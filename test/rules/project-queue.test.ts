import { expect, it } from 'vitest';
import { createProjectQueue } from '../../src/rules/project-queue.js';
import { sleep } from './rules-fixtures.js';

it('runs a project’s work in arrival order and survives a failing batch', async () => {
  const errors: unknown[] = [];
  const queue = createProjectQueue(
    (err) => errors.push(err),
    () => undefined,
  );
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
    () => undefined,
    (project) => refused.push(project),
    {
      maxQueued: 2,
    },
  );
  let ran = 0;
  for (let i = 0; i < 3; i += 1) void queue.push('p', async () => void (ran += 1));
  await queue.idle();
  expect(ran).toBe(2);
  expect(refused).toEqual(['p']);
});
