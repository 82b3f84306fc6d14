import type { BatchWriter } from '../storage/batch-writer.js';
import type { WindowRow } from '../storage/window-store.js';
import type { WindowSink } from './pipeline-service.js';

/** Sends final window results (on close and each late re-emit) to the window table. */
export function createStoredWindowSink(writer: BatchWriter<WindowRow>, now = Date.now): WindowSink {
  return {
    write(project, results) {
      const rows: WindowRow[] = [];
      for (const result of results) {
        if (!result.final) continue;
        rows.push({
          project,
          stream: result.stream,
          key: result.key,
          start: result.start,
          end: result.end,
          rev: result.rev,
          values: JSON.stringify(result.values),
          emitted_at: now(),
        });
      }
      writer.enqueue(rows);
    },
  };
}
