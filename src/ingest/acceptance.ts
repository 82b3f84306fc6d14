import type { EventRow, StreamEvent } from '../model/event.js';

/** What an ack reports of a batch's valid events: new ones, and ids seen before. */
export interface IngestCounts {
  accepted: number;
  duplicates: number;
}

/**
 * Consumers of accepted events on this node (single node: the pipeline, the rules, trending).
 * `receivedAt` is the batch's receive time as stored in `received_at`: a consumer that also
 * reads stored events splits the two by it.
 */
export type AcceptedListener = (project: string, events: StreamEvent[], receivedAt: number) => void;

/**
 * Where ingest hands a batch's valid events: de-duplication and durability. Single node: the
 * in-memory de-dup window and the events batch writer (local-acceptance.ts); cluster: the
 * Redis event log, de-duplicated across nodes (log-acceptance.ts).
 */
export interface Acceptance {
  /** A retry delay in ms while no batch may be accepted (BACKPRESSURE); else undefined. */
  pressure(): number | undefined;
  /**
   * Takes one batch's valid rows of one project (`props[i]` decoded for `rows[i]`); resolves
   * with the counts once every new row is durable, rejects STORAGE_FAILED or BACKPRESSURE.
   */
  accept(
    project: string,
    rows: readonly EventRow[],
    props: ReadonlyArray<Record<string, unknown>>,
  ): Promise<IngestCounts>;
  /** Resolves once every batch taken so far is durable (shutdown waits on it). */
  durable(): Promise<void>;
  /** Adds a consumer of accepted events; absent where events reach no local consumer. */
  onAccepted?(listener: AcceptedListener): void;
}
