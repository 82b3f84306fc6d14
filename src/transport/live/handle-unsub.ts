import type { WebSocket } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { LiveSocketContext } from './live-context.js';
import type { LiveSocketState } from './live-hub.js';

/** `{t:"unsub", id}`: stops that subscription and confirms with `{t:"unsubscribed", id}`. */
export function handleUnsub(
  ctx: LiveSocketContext,
  ws: WebSocket<LiveSocketState>,
  msg: Record<string, unknown>,
): void {
  const { id } = msg;
  if (typeof id !== 'string' && typeof id !== 'number')
    throw new BacklineError('BAD_FRAME', '`id` must be a string or a number (within ±2^53)');
  ctx.hub.unsubscribe(ws, String(id));
  ctx.writer.send(ws, { t: 'unsubscribed', id });
}
