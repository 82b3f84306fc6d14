import { runKeyed, type KeyedTask } from './keyed-tasks.js';

export const defaultProjectQueueOptions = {
  maxQueued: 10_000, // batches waiting per project; past it new ones are refused
  maxGroupTasks: 20_000, // tasks of consecutive batches run together at most (one group)
};

/** One ingest or window batch's rule work: its follow edges, then its firings. */
export interface RuleBatch {
  edges: readonly KeyedTask[];
  tasks: readonly KeyedTask[];
}

type Item =
  | { batch: RuleBatch; settle: () => void }
  | { work: () => Promise<void>; settle: (err?: unknown) => void };

/**
 * Rule work per project, in arrival order, so a follow is stored before a later batch's
 * firing reads it and a threshold sees values in emission order. Batches that wait while a
 * group runs go together as the next group: their tasks run as one set (tasks of one key in
 * arrival order, keys at once), so their state writes share commits instead of each batch
 * paying its own round of them; a project's notifications/s is then bounded by CPU, not by
 * commits. A batch with follow edges starts a group (its edges land before its firings and
 * after every earlier firing), and `push`ed work runs alone, after all earlier work.
 * Ingest and the pipeline only enqueue: they never wait for rule state or the router.
 *
 * @example
 * const queue = createProjectQueue({ onError, onRefused, onTaskError });
 * queue.pushBatch('dev', { edges, tasks });
 * await queue.idle();
 */
export function createProjectQueue(
  deps: {
    onError: (err: unknown, project: string) => void;
    onRefused: (project: string) => void;
    onTaskError: (err: unknown, key: string) => void;
  },
  options: Partial<typeof defaultProjectQueueOptions> = {},
) {
  const opts = { ...defaultProjectQueueOptions, ...options };
  const projects = new Map<string, { waiting: Item[]; drained: Promise<void> }>();

  function enqueue(project: string, item: Item): void {
    const queue = projects.get(project);
    if (queue) return void queue.waiting.push(item);
    const created = { waiting: [item], drained: Promise.resolve() };
    projects.set(project, created);
    created.drained = drain(project, created.waiting);
  }

  async function drain(project: string, waiting: Item[]): Promise<void> {
    // Started from `enqueue`: yield once so batches pushed in the same turn join the group.
    await Promise.resolve();
    while (waiting.length > 0) {
      const first = waiting[0]!;
      if ('work' in first) {
        waiting.shift();
        await Promise.resolve()
          .then(first.work)
          .then(
            () => first.settle(),
            (err: unknown) => first.settle(err),
          );
        continue;
      }
      const group = takeGroup(waiting);
      try {
        await runKeyed(first.batch.edges, deps.onTaskError);
        await runKeyed(
          group.flatMap((item) => item.batch.tasks),
          deps.onTaskError,
        );
      } catch (err) {
        deps.onError(err, project); // only if reporting a task's failure itself failed
      } finally {
        for (const item of group) item.settle();
      }
    }
    projects.delete(project);
  }

  /** The first batch and the batches after it up to one with edges, `push`ed work or the cap. */
  function takeGroup(waiting: Item[]) {
    const group: Array<Extract<Item, { batch: RuleBatch }>> = [];
    let tasks = 0;
    for (const item of waiting) {
      if (!('batch' in item)) break;
      if (group.length > 0 && (item.batch.edges.length > 0 || tasks >= opts.maxGroupTasks)) break;
      group.push(item);
      tasks += item.batch.tasks.length;
    }
    waiting.splice(0, group.length);
    return group;
  }

  const full = (project: string) => (projects.get(project)?.waiting.length ?? 0) >= opts.maxQueued;

  function pushWork(project: string, work: () => Promise<void>): Promise<void> {
    const done = new Promise<void>((resolve, reject) =>
      enqueue(project, { work, settle: (err) => (err === undefined ? resolve() : reject(err)) }),
    );
    done.catch((err: unknown) => deps.onError(err, project));
    return done;
  }

  return {
    /** Queues a batch's rule work; resolves once it has run (task failures go to `onTaskError`). */
    pushBatch(project: string, batch: RuleBatch): Promise<void> {
      if (full(project)) {
        deps.onRefused(project);
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => enqueue(project, { batch, settle: resolve }));
    },
    /** Runs `work` alone, after the project's earlier work; the promise settles with it. */
    push(project: string, work: () => Promise<void>): Promise<void> {
      if (full(project)) {
        deps.onRefused(project);
        return Promise.resolve();
      }
      return pushWork(project, work);
    },
    /**
     * Runs `work` after the project's earlier work even past the bound: an admin change's
     * own work (a removed rule's state), one per request, which refusing would lose.
     */
    pushAlways: pushWork,
    /** Resolves once nothing is queued (tests, shutdown). */
    async idle(): Promise<void> {
      while (projects.size > 0) await Promise.all([...projects.values()].map((q) => q.drained));
    },
  };
}
