import type { WebSocket } from 'uWebSockets.js';
import { parseEventsFrame } from '../../ingest/decode-frame.js';
import type { IngestSocketContext, IngestSocketState } from './ingest-context.js';
import { takeEvents } from '../rate-limits.js';

/**
 * `{t:"events", seq, events}`: validate, take the events from the connection's and the key's
 * rate limits, accept, and acknowledge once every accepted event is durable. A storage
 * failure turns into `{t:"error", code:"STORAGE_FAILED", seq}` so the client resends the
 * frame. The rate limits answer in order, so frames are still accepted in the order sent.
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
  takeEvents(ctx, 'ws', state.bucket, state.principal.keyId, frame.events.length)
    .then(() => {
      const { rejected, durable } = ingest.accept(state.principal.projectId, frame.events);
      return durable.then(({ accepted, duplicates }) => {
        writer.send(ws, { t: 'ack', seq, accepted, duplicates, rejected });
        metrics.ackSeconds.observe({ transport: 'ws' }, (performance.now() - arrivedAt) / 1000);
      });
    })
    .catch((err: unknown) => ctx.sendError(ws, err, seq));
}
