import type { Service } from '../ops/lifecycle.js';
import type { Leases } from './leases.js';

/**
 * The persistent timers (src/state/timers.ts) run on one node at a time: the holder of the
 * `timers` lease starts them and stops them when the lease is lost. Their state is in the
 * shared StateStore, so the next holder fires whatever came due meanwhile; a timer whose
 * handler ran without being deleted fires again there (handlers de-duplicate).
 *
 * @example
 * const timersLease = createTimersLease({ leases, timers: stored.timers });
 * await lifecycle.start([…, timersLease]); // instead of starting stored.timers itself
 */
export function createTimersLease(deps: {
  leases: Leases;
  timers: Pick<Service, 'start' | 'stop'>;
}): Service {
  let running = false;
  let stopped = false;
  const halt = async () => {
    if (!running) return;
    running = false;
    await deps.timers.stop();
  };
  return {
    name: 'timers-lease',
    async start() {
      deps.leases.hold('timers', {
        async acquired() {
          if (stopped) return;
          running = true;
          await deps.timers.start();
        },
        lost: halt,
      });
    },
    /** Stops the timers; the lease is given up when the caller closes the leases. */
    async stop() {
      stopped = true;
      await halt();
    },
  };
}
