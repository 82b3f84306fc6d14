import type { Redis } from 'ioredis';
import { commitCursor } from './partition-cursor.js';

export interface CursorCommitterDeps {
  redis: Redis;
  nodeId: string;
  partition: number;
  /** The lease is another node's (refused) or the write failed (error): counted by the owner. */
  onFailure(reason: 'cursor_refused' | 'redis_error', err?: unknown): void;
}

/**
 * Moves `cursor:<p>` forward as the owner's work completes, at most once per `everyMs`: an
 * entry counts as done once its batch was fed to the streams and the rule work it queued has
 * finished. Batches settle in order, so the cursor never passes an entry still in progress.
 *
 * @example
 * const committer = createCursorCommitter({ redis, nodeId, partition: 3, onFailure }, 100);
 * committer.after(lastId, Promise.allSettled(ruleWork));
 * await committer.close(); // writes what is done by then
 */
export function createCursorCommitter(deps: CursorCommitterDeps, everyMs: number) {
  let chain: Promise<void> = Promise.resolve();
  let done: string | undefined;
  let written: string | undefined;
  let writing: Promise<void> | undefined;

  async function write(id: string): Promise<void> {
    try {
      if (await commitCursor(deps.redis, deps.partition, deps.nodeId, id)) written = id;
      else deps.onFailure('cursor_refused');
    } catch (err) {
      deps.onFailure('redis_error', err);
    }
  }

  function flush(): Promise<void> {
    if (writing) return writing;
    if (done === undefined || done === written) return Promise.resolve();
    writing = write(done).finally(() => (writing = undefined));
    return writing;
  }

  const timer = setInterval(() => void flush(), everyMs).unref();
  return {
    /** Entry `id` and every earlier one are done once `work` settles (it must not reject). */
    after(id: string, work: Promise<unknown>): void {
      const settled = () => void (done = id);
      chain = chain.then(() => work).then(settled, settled);
    },
    /** The last id committed by this committer. */
    committed: () => written,
    /**
     * Stops the timer, waits for the work handed in so far, and writes the cursor after it: a
     * node handing its partition over leaves the next owner nothing to run again.
     */
    async close(): Promise<void> {
      clearInterval(timer);
      await chain;
      await writing;
      await flush();
    },
  };
}

export type CursorCommitter = ReturnType<typeof createCursorCommitter>;
