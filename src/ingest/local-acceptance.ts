import { BacklineError } from '../errors.js';
import { toStreamEvent, type EventRow, type StreamEvent } from '../model/event.js';
import type { BatchWriter } from '../storage/batch-writer.js';
import type { Acceptance, AcceptedListener } from './acceptance.js';
import type { DedupWindow } from './dedup-window.js';

/**
 * Single-node acceptance: ids de-duplicated in this process's window, new rows to the events
 * batch writer (ClickHouse, or the fsynced spool), and handed at once, before they are
 * durable, to the listeners (pipeline, rules), which then see events in arrival order.
 *
 * @example
 * const ingest = createIngest({ acceptance: createLocalAcceptance({ writer, dedup }), metrics, limits });
 */
export function createLocalAcceptance(deps: {
  writer: BatchWriter<EventRow>;
  dedup: DedupWindow;
}): Acceptance & { onAccepted(listener: AcceptedListener): void } {
  const { writer, dedup } = deps;
  const listeners: AcceptedListener[] = [];
  return {
    pressure: () => writer.pressure(),
    accept(project, rows, props) {
      const fresh: EventRow[] = [];
      const events: StreamEvent[] = [];
      let duplicates = 0;
      rows.forEach((row, i) => {
        if (dedup.has(project, row.id)) return void (duplicates += 1);
        dedup.add(project, row.id);
        fresh.push(row);
        if (listeners.length > 0) events.push(toStreamEvent(row, props[i]!));
      });
      writer.enqueue(fresh);
      if (events.length > 0)
        for (const listener of listeners) listener(project, events, fresh[0]!.received_at);
      const counts = { accepted: fresh.length, duplicates };
      // Waiting on the writer also covers duplicates whose first copy is still in flight.
      return writer.durable().then(
        () => counts,
        (err: unknown) => {
          for (const row of fresh) dedup.forget(project, row.id);
          throw new BacklineError('STORAGE_FAILED', undefined, { cause: err });
        },
      );
    },
    durable: () => writer.durable(),
    onAccepted(listener) {
      listeners.push(listener);
    },
  };
}
