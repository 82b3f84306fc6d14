export const defaultProjectQueueOptions = {
  maxQueued: 10_000, // batches waiting per project; past it new ones are refused
};

/**
 * Rule work per project, run one batch after another in arrival order, so a follow is stored
 * before a later batch's firing reads it and a threshold sees values in emission order.
 * Ingest and the pipeline only enqueue: they never wait for rule state or the router.
 *
 * @example
 * const queue = createProjectQueue((err, project) => log.warn({ err, project }, 'rule batch failed'));
 * queue.push('dev', () => runKeyed(tasks, onError));
 * await queue.idle();
 */
export function createProjectQueue(
  onError: (err: unknown, project: string) => void,
  onRefused: (project: string) => void,
  options: Partial<typeof defaultProjectQueueOptions> = {},
) {
  const opts = { ...defaultProjectQueueOptions, ...options };
  const queues = new Map<string, { tail: Promise<void>; queued: number }>();

  return {
    /** Runs `work` after the project's earlier work; the promise settles with it. */
    push(project: string, work: () => Promise<void>): Promise<void> {
      let queue = queues.get(project);
      if (!queue) queues.set(project, (queue = { tail: Promise.resolve(), queued: 0 }));
      if (queue.queued >= opts.maxQueued) {
        onRefused(project);
        return Promise.resolve();
      }
      const q = queue;
      q.queued += 1;
      const done = q.tail.then(work);
      // The tail never rejects, so one failed batch does not stop the ones behind it.
      q.tail = done.catch((err: unknown) => onError(err, project)).finally(() => (q.queued -= 1));
      return done;
    },
    /** Resolves once nothing is queued (tests, shutdown). */
    async idle(): Promise<void> {
      while ([...queues.values()].some((q) => q.queued > 0))
        await Promise.all([...queues.values()].map((q) => q.tail));
    },
  };
}
