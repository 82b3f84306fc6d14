import type { EventLog } from '../cluster/event-log.js';
import type { Acceptance } from './acceptance.js';

/**
 * Cluster acceptance: each batch is one append to the Redis event log, whose script
 * de-duplicates ids across every node and adds the entry in one atomic step; the reply comes
 * once Redis has fsynced it, with the duplicates, so the ack's counts come from Redis. No
 * listener here: the partition owner feeds the pipeline and the rules from the log.
 *
 * @example
 * const ingest = createIngest({ acceptance: createLogAcceptance(createRedisEventLog(redis)), metrics, limits });
 */
export function createLogAcceptance(log: Pick<EventLog, 'append' | 'pressure'>): Acceptance {
  const inFlight = new Set<Promise<unknown>>();
  return {
    pressure: () => log.pressure(),
    accept(project, rows, props) {
      const appended = log.append(project, rows, props).then(({ duplicates }) => ({
        accepted: rows.length - duplicates.length,
        duplicates: duplicates.length,
      }));
      const settled = appended.catch(() => undefined);
      inFlight.add(settled);
      void settled.finally(() => inFlight.delete(settled));
      return appended;
    },
    async durable() {
      await Promise.all([...inFlight]);
    },
  };
}
