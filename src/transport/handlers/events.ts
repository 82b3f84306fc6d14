import type { WebSocket } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import { parseEventsFrame } from '../../ingest/decode-frame.js';
import type { IngestSocketContext, IngestSocketState } from '../ingest-context.js';

/**
 * `{t:"events", seq, events}`: validate, accept, and acknowledge once every accepted event
 * is durable. A storage failure turns into `{t:"error", code:"STORAGE_FAILED", seq}` so
 * the client resends the frame.
 */
export function handleEvents(
  ctx: IngestSocketContext,
  ws: WebSocket<IngestSocketState>,
  msg: Record<string, unknown>,
  arrivedAt: number,
): void {
  const { ingest, limits, metrics, writer } = ctx;
  const state = ws.getUserData();
  const frame = parseEventsFrame(msg, limits, true);
  const seq = frame.seq!;
  const waitMs = state.bucket.take(frame.events.length);
  if (waitMs > 0) throw new BacklineError('RATE_LIMITED', undefined, { retryAfterMs: waitMs });

  const result = ingest.accept(state.principal.projectId, frame.events);
  result.durable.then(
    () => {
      const { accepted, duplicates, rejected } = result;
      writer.send(ws, { t: 'ack', seq, accepted, duplicates, rejected });
      metrics.ackSeconds.observe({ transport: 'ws' }, (performance.now() - arrivedAt) / 1000);
    },
    (err: unknown) => ctx.sendError(ws, err, seq),
  );
}
