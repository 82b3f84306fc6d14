import type { Limits } from '../config/schema.js';
import { BacklineError, type ErrorCode } from '../errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { BatchWriter } from '../storage/batch-writer.js';
import { toStreamEvent, type StreamEvent } from '../model/event.js';
import type { EventRow } from '../model/event.js';
import type { DedupWindow } from './dedup-window.js';
import { validateEvent } from './validate-event.js';

export interface Rejection {
  i: number;
  code: ErrorCode;
  msg: string;
}

/** The counts an ack carries, and when the accepted events are durable. */
export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
  /** Resolves when every accepted event is durable; rejects when that failed. */
  durable: Promise<void>;
}

/** Consumers of accepted events beside storage (the stream-processing pipeline). */
export type AcceptedListener = (project: string, events: StreamEvent[]) => void;

export interface IngestDeps {
  writer: BatchWriter<EventRow>;
  dedup: DedupWindow;
  metrics: Metrics;
  limits: Limits;
  now?: () => number;
}

/**
 * The transport-independent half of ingest: validate, de-duplicate, hand rows to storage.
 * Socket frames and HTTP batches both come through `accept`.
 *
 * @example
 * const result = ingest.accept('dev', frame.events);
 * await result.durable; // then send {t:'ack', seq, accepted, duplicates, rejected}
 */
export function createIngest(deps: IngestDeps) {
  const { writer, dedup, metrics, limits } = deps;
  const now = deps.now ?? Date.now;
  const listeners: AcceptedListener[] = [];
  let closing = false;

  return {
    /** Throws BACKPRESSURE or SHUTTING_DOWN when no batch may be accepted now. */
    checkOpen(): void {
      if (closing) throw new BacklineError('SHUTTING_DOWN');
      const retryAfterMs = writer.pressure();
      if (retryAfterMs !== undefined)
        throw new BacklineError('BACKPRESSURE', undefined, { retryAfterMs });
    },

    accept(project: string, batch: readonly unknown[]): IngestResult {
      this.checkOpen();
      const receivedAt = now();
      const rows: EventRow[] = [];
      const events: StreamEvent[] = [];
      const rejected: Rejection[] = [];
      let duplicates = 0;
      for (let i = 0; i < batch.length; i++) {
        const result = validateEvent(batch[i], project, receivedAt, limits);
        if (!result.ok) {
          rejected.push({ i, code: result.code, msg: result.msg });
          metrics.eventsRejected.inc({ code: result.code });
        } else if (dedup.has(project, result.row.id)) {
          duplicates += 1;
        } else {
          dedup.add(project, result.row.id);
          rows.push(result.row);
          if (listeners.length > 0) events.push(toStreamEvent(result.row, result.props));
        }
      }
      metrics.eventsReceived.inc(batch.length);
      if (rows.length > 0) metrics.eventsAccepted.inc(rows.length);
      if (duplicates > 0) metrics.eventsDuplicate.inc(duplicates);

      writer.enqueue(rows);
      if (events.length > 0) for (const listener of listeners) listener(project, events);
      // Waiting on the writer also covers duplicates whose first copy is still in flight.
      const durable = writer.durable().catch((err: unknown) => {
        for (const row of rows) dedup.forget(project, row.id);
        throw new BacklineError('STORAGE_FAILED', undefined, { cause: err });
      });
      return { accepted: rows.length, duplicates, rejected, durable };
    },

    onAccepted(listener: AcceptedListener): void {
      listeners.push(listener);
    },

    /** Refuses new batches from now on (shutdown); what was accepted still becomes durable. */
    close(): void {
      closing = true;
    },

    durable: () => writer.durable(),
  };
}

export type Ingest = ReturnType<typeof createIngest>;
