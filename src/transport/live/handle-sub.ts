import type { WebSocket } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import { checkStreamRead } from '../stream-access.js';
import {
  defaultSnapshotWindows,
  maxSnapshotWindows,
  maxSubscriptionsPerSocket,
  type LiveSocketContext,
} from './live-context.js';
import type { LiveSocketState } from './live-hub.js';

/**
 * `{t:"sub", id, stream, key?, last?}`: answers `{t:"snapshot", id, windows}` with the last
 * windows, then every update comes as `{t:"window", id, w}`. Reusing an id replaces that
 * subscription. A stream the socket's viewer may not read is refused (see `checkStreamRead`).
 */
export function handleSub(
  ctx: LiveSocketContext,
  ws: WebSocket<LiveSocketState>,
  msg: Record<string, unknown>,
): void {
  const { id, stream, key, last } = msg;
  if (
    (typeof id !== 'string' && typeof id !== 'number') ||
    String(id).length === 0 ||
    String(id).length > 64
  ) {
    throw new BacklineError(
      'BAD_FRAME',
      '`id` must be a string or a number (within ±2^53) of at most 64 characters',
    );
  }
  if (typeof stream !== 'string') throw new BacklineError('BAD_FRAME', '`stream` must be a string');
  if (key !== undefined && key !== null && typeof key !== 'string')
    throw new BacklineError('BAD_FRAME', '`key` must be a string');
  if (
    last !== undefined &&
    (typeof last !== 'number' || !Number.isInteger(last) || last < 0 || last > maxSnapshotWindows)
  ) {
    throw new BacklineError(
      'BAD_FRAME',
      `\`last\` must be an integer from 0 to ${maxSnapshotWindows}`,
    );
  }
  const state = ws.getUserData();
  const project = state.viewer.projectId;
  checkStreamRead(state.viewer, ctx.catalog.get(project, stream));
  if (!state.subs.has(String(id)) && state.subs.size >= maxSubscriptionsPerSocket) {
    throw new BacklineError(
      'TOO_MANY_SUBSCRIPTIONS',
      `at most ${maxSubscriptionsPerSocket} per socket`,
    );
  }
  const wantedKey = typeof key === 'string' ? key : undefined;
  // Snapshot first, then join the topic: both happen in this tick, so no update falls between.
  const windows = ctx.catalog.snapshot(
    project,
    stream,
    (last as number | undefined) ?? defaultSnapshotWindows,
    wantedKey,
  );
  ctx.writer.send(ws, { t: 'snapshot', id, windows });
  ctx.hub.subscribe(ws, id, stream, wantedKey);
}
