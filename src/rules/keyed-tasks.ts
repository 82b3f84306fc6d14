import { createSerialQueue } from '../lib/serial-queue.js';

/** A unit of rule work; tasks with the same key read and write the same state. */
export interface KeyedTask {
  key: string;
  run(): Promise<void>;
}

/**
 * Runs tasks of one key in order and different keys at once. Order matters within a key
 * (an absence's A before its B for one user; a threshold's successive values), while
 * running keys together lets LMDB commit their writes in one transaction instead of one
 * fsync per event. A failing task is reported and does not stop the others.
 *
 * @example
 * await runKeyed(tasks, (err, key) => log.warn({ err, key }, 'rule task failed'));
 */
export async function runKeyed(
  tasks: readonly KeyedTask[],
  onError: (err: unknown, key: string) => void,
): Promise<void> {
  const queue = createSerialQueue();
  await Promise.all(
    tasks.map((task) =>
      queue.push(task.key, () => task.run()).catch((err: unknown) => onError(err, task.key)),
    ),
  );
}
