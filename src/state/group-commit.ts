import type { StateStore, StateWrite } from './state-store.js';

export const defaultGroupCommitOptions = {
  maxWrites: 2000, // writes per transaction at most; the rest go in the next one
};

const nothing = (): void => undefined;

interface Waiting {
  write: StateWrite;
  resolve: (result: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit over a StateStore: `put`, `putIfAbsent` and `del` calls made in one event
 * turn, or while the previous transaction commits, go together as the next one (one
 * `batch`: one commit, one Redis round trip and fsync), instead of each caller paying a
 * commit of its own. Every caller resolves only once the transaction holding its write has
 * committed, with its own result; a transaction that fails rejects every caller in it, and
 * none of its writes is visible. Writes apply in call order. `get`, `list` and `update` go
 * straight to the store.
 *
 * @example
 * const state = withGroupCommit(openLmdbStateStore('./data/state'));
 * await Promise.all(users.map((u) => state.putIfAbsent(`dedup/dev/${u}/k`, 1))); // one commit
 */
export function withGroupCommit(
  state: StateStore,
  options: Partial<typeof defaultGroupCommitOptions> = {},
): StateStore {
  const opts = { ...defaultGroupCommitOptions, ...options };
  const waiting: Waiting[] = [];
  let committing = false;
  let idle: Promise<void> = Promise.resolve();
  let settle = () => {};

  function enqueue(write: StateWrite): Promise<boolean> {
    return new Promise((resolve, reject) => {
      waiting.push({ write, resolve, reject });
      if (committing) return;
      committing = true;
      idle = new Promise((done) => (settle = done));
      // After this turn's other callers, which reach their writes a few promise hops later.
      setImmediate(commitNext);
    });
  }

  function commitNext(): void {
    const group = waiting.splice(0, opts.maxWrites);
    void Promise.resolve()
      .then(() => state.batch(group.map((w) => w.write)))
      .then(
        (results) => group.forEach((w, i) => w.resolve(results[i]!)),
        (err: unknown) => group.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        if (waiting.length > 0) return commitNext();
        committing = false;
        settle();
      });
  }

  return {
    ...state,
    // Each answer is one step after its transaction, so callers resume in call order.
    put: (key, value) => enqueue({ op: 'put', key, value }).then(nothing),
    putIfAbsent: (key, value) => enqueue({ op: 'putIfAbsent', key, value }).then((set) => set),
    del: (key) => enqueue({ op: 'del', key }).then(nothing),
    /** Commits what is waiting, then closes the store. */
    async close() {
      while (committing) await idle;
      await state.close();
    },
  };
}
