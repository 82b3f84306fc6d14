/** Bounded waits: every timer here is cleared once the wait ends, so none keeps the process up. */

/** Waits for `promise` at most `ms`; true if it settled (either way) in time. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` every `everyMs` for at most `ms`; true if it became true in time. */
export async function waitUntil(done: () => boolean, ms: number, everyMs = 20): Promise<boolean> {
  const polls = Math.ceil(ms / everyMs);
  for (let i = 0; i < polls && !done(); i += 1) await sleep(everyMs);
  return done();
}
