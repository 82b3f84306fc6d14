import { createSerialQueue } from '../lib/serial-queue.js';

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
  const queue = createSerialQueue({ ...defaultProjectQueueOptions, ...options });
  return {
    /** Runs `work` after the project's earlier work; the promise settles with it. */
    push(project: string, work: () => Promise<void>): Promise<void> {
      if (queue.full(project)) {
        onRefused(project);
        return Promise.resolve();
      }
      const done = queue.push(project, work);
      done.catch((err: unknown) => onError(err, project));
      return done;
    },
    /**
     * Runs `work` after the project's earlier work even past the bound: an admin change's
     * own work (a removed rule's state), one per request, which refusing would lose.
     */
    pushAlways(project: string, work: () => Promise<void>): Promise<void> {
      const done = queue.push(project, work);
      done.catch((err: unknown) => onError(err, project));
      return done;
    },
    /** Resolves once nothing is queued (tests, shutdown). */
    idle: queue.idle,
  };
}
