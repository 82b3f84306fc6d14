import type { Limits } from '../config/schema.js';
import { BacklineError, type ErrorCode } from '../errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { EventRow } from '../model/event.js';
import type { Acceptance, AcceptedListener, IngestCounts } from './acceptance.js';
import { validateEvent } from './validate-event.js';

export type { AcceptedListener, IngestCounts };

export interface Rejection {
  i: number;
  code: ErrorCode;
  msg: string;
}

/** What an ack carries: the rejections at once, the counts once the events are durable. */
export interface IngestResult {
  rejected: Rejection[];
  /**
   * Resolves with `accepted` and `duplicates` once every accepted event is durable (in
   * cluster mode the counts come from Redis, which de-duplicates across nodes); rejects
   * STORAGE_FAILED or BACKPRESSURE when that failed.
   */
  durable: Promise<IngestCounts>;
}

/** Called once a batch's counts are known and its events durable (per-project totals). */
export type CountedListener = (project: string, counts: IngestCounts) => void;

export interface IngestDeps {
  acceptance: Acceptance;
  metrics: Metrics;
  limits: Limits;
  now?: () => number;
}

/**
 * The transport-independent half of ingest: validate, then hand the valid events to the
 * acceptance backend (de-duplication and durability: this process's window and storage on a
 * single node, the Redis event log in a cluster). Socket frames and HTTP batches both come
 * through `accept`.
 *
 * @example
 * const result = ingest.accept('dev', frame.events);
 * const { accepted, duplicates } = await result.durable; // then send {t:'ack', seq, accepted, duplicates, rejected}
 */
export function createIngest(deps: IngestDeps) {
  const { acceptance, metrics, limits } = deps;
  const now = deps.now ?? Date.now;
  const counted: CountedListener[] = [];
  let closing = false;

  const count = (project: string, counts: IngestCounts) => {
    if (counts.accepted > 0) metrics.eventsAccepted.inc(counts.accepted);
    if (counts.duplicates > 0) metrics.eventsDuplicate.inc(counts.duplicates);
    for (const listener of counted) listener(project, counts);
    return counts;
  };

  return {
    /** Throws BACKPRESSURE or SHUTTING_DOWN when no batch may be accepted now. */
    checkOpen(): void {
      if (closing) throw new BacklineError('SHUTTING_DOWN');
      const retryAfterMs = acceptance.pressure();
      if (retryAfterMs !== undefined)
        throw new BacklineError('BACKPRESSURE', undefined, { retryAfterMs });
    },

    accept(project: string, batch: readonly unknown[]): IngestResult {
      this.checkOpen();
      const receivedAt = now();
      const rows: EventRow[] = [];
      const props: Array<Record<string, unknown>> = [];
      const rejected: Rejection[] = [];
      for (let i = 0; i < batch.length; i++) {
        const result = validateEvent(batch[i], project, receivedAt, limits);
        if (!result.ok) {
          rejected.push({ i, code: result.code, msg: result.msg });
          metrics.eventsRejected.inc({ code: result.code });
        } else {
          rows.push(result.row);
          props.push(result.props);
        }
      }
      metrics.eventsReceived.inc(batch.length);
      const durable = acceptance.accept(project, rows, props).then((c) => count(project, c));
      return { rejected, durable };
    },

    /**
     * Single node: `listener` gets each batch's new events as they are accepted. A cluster
     * node has no such listener (the partition owner feeds the pipeline and the rules).
     */
    onAccepted(listener: AcceptedListener): void {
      if (!acceptance.onAccepted)
        throw new Error('accepted events reach no listener here: the event log feeds them');
      acceptance.onAccepted(listener);
    },

    /** `listener` gets each batch's counts once they are durable, in either mode. */
    onCounted(listener: CountedListener): void {
      counted.push(listener);
    },

    /** Refuses new batches from now on (shutdown); what was accepted still becomes durable. */
    close(): void {
      closing = true;
    },

    durable: () => acceptance.durable(),
  };
}

export type Ingest = ReturnType<typeof createIngest>;
