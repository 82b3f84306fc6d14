import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { LeaseHandlers } from './leases.js';

export interface LeaseDeps {
  log?: Logger;
  metrics?: Pick<Metrics, 'leasesHeld' | 'leaseChanges'>;
}

/**
 * Tells a lease's owner that it got or lost the lease, one call at a time: `lost` waits for
 * an `acquired` still running, so the work never starts after it was told to stop. A handler
 * that throws is logged; the lease itself goes on.
 */
export function createLeaseEvents(name: string, handlers: LeaseHandlers, deps: LeaseDeps) {
  let queue: Promise<void> = Promise.resolve();
  deps.metrics?.leasesHeld.set({ name }, 0);

  const signal = (change: 'acquired' | 'lost') => {
    deps.metrics?.leasesHeld.set({ name }, change === 'acquired' ? 1 : 0);
    deps.metrics?.leaseChanges.inc({ name, change });
    queue = queue
      .then(() => handlers[change]())
      .catch((err: unknown) =>
        deps.log?.error({ err, lease: name }, `lease ${change} handler failed`),
      );
  };
  return {
    acquired: () => signal('acquired'),
    lost: () => signal('lost'),
    /** Resolves once every handler called so far has returned. */
    settled: () => queue,
  };
}

export type LeaseEvents = ReturnType<typeof createLeaseEvents>;
