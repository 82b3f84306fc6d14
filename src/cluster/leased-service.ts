import type { Service } from '../ops/lifecycle.js';
import type { Leases } from './leases.js';

/**
 * A service that must run on one node at a time, run by the holder of the lease `lease`:
 * started when this node gets it, stopped when it loses it or stops.
 *
 * @example
 * const rolling = leasedService(leases, 'rollups', stored.roller);
 * await lifecycle.start([…, rolling]); // instead of starting stored.roller itself
 */
export function leasedService(leases: Leases, lease: string, service: Service): Service {
  let running = false;
  let stopped = false;
  const halt = async () => {
    if (!running) return;
    running = false;
    await service.stop();
  };
  return {
    name: `${service.name}-lease`,
    async start() {
      leases.hold(lease, {
        async acquired() {
          if (stopped) return;
          running = true;
          await service.start();
        },
        lost: halt,
      });
    },
    /** Stops the service; the lease is given up when the caller closes the leases. */
    async stop() {
      stopped = true;
      await halt();
    },
  };
}
