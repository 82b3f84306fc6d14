import type { WebSocket } from 'uWebSockets.js';
import { markAndAnnounce, parseIds, type MarkAction } from '../../notify/inbox-marks.js';
import type { UserSocketContext } from './user-context.js';
import type { UserSocketState } from './user-hub.js';

/**
 * `{t:"read"|"seen"|"archive", ids}`: marks the user's inbox items; every socket of the
 * user, this one included, then gets `{t:"marked", as, ids}` and fresh `{t:"counts"}`.
 */
export function handleMark(
  ctx: UserSocketContext,
  ws: WebSocket<UserSocketState>,
  action: MarkAction,
  msg: Record<string, unknown>,
): void {
  const ids = parseIds(msg.ids);
  const { projectId, userId } = ws.getUserData();
  markAndAnnounce(ctx, projectId, userId, action, ids).catch((err: unknown) =>
    ctx.sendError(ws, err),
  );
}
