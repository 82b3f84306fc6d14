export const defaultSerialQueueOptions = {
  maxQueued: Infinity, // tasks of one key waiting or running; past it the key is `full`
};

/**
 * Tasks per key, run one after another in arrival order; different keys run at once. A
 * failed task rejects its own promise and does not stop the ones behind it. A key is
 * forgotten once its last task settles, so keys seen once cost nothing after.
 *
 * @example
 * const queue = createSerialQueue({ maxQueued: 10_000 });
 * if (!queue.full('dev')) await queue.push('dev', () => runBatch());
 */
export function createSerialQueue(options: Partial<typeof defaultSerialQueueOptions> = {}) {
  const opts = { ...defaultSerialQueueOptions, ...options };
  const queues = new Map<string, { tail: Promise<void>; queued: number }>();
  const settled = () => undefined;

  return {
    /** True when `maxQueued` tasks of `key` are waiting or running. */
    full: (key: string): boolean => (queues.get(key)?.queued ?? 0) >= opts.maxQueued,
    /** Runs `task` after every earlier task of `key`; the promise settles with it. */
    push<T>(key: string, task: () => Promise<T>): Promise<T> {
      const q = queues.get(key) ?? { tail: Promise.resolve(), queued: 0 };
      queues.set(key, q);
      q.queued += 1;
      const run = q.tail.then(task);
      // The tail never rejects, so one failed task does not stop the ones behind it.
      q.tail = run.then(settled, settled).then(() => {
        q.queued -= 1;
        if (q.queued === 0 && queues.get(key) === q) queues.delete(key);
      });
      return run;
    },
    /** Resolves once nothing is queued (tests, shutdown). */
    async idle(): Promise<void> {
      while (queues.size > 0) await Promise.all([...queues.values()].map((q) => q.tail));
    },
  };
}

export type SerialQueue = ReturnType<typeof createSerialQueue>;
