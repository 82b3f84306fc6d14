import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  WebSocket,
  us_socket_context_t,
} from 'uWebSockets.js';
import type { ErrorCode } from '../../errors.js';
import { handleMark } from './handle-mark.js';
import { handleResume, resume } from './handle-resume.js';
import { bearer } from '../credentials.js';
import {
  acceptUpgrade,
  countDropped,
  createFrameErrors,
  payloadLimit,
  readFrame,
  refuseUpgrade,
  unknownType,
} from '../socket-errors.js';
import { maxIdLength } from '../../notify/inbox-marks.js';
import { takeRequest, userCaller } from '../rate-limits.js';
import type { SocketState } from '../socket-writer.js';
import { isServableUserId } from './user-access.js';
import type { UserSocketContext, UserSocketDeps } from './user-context.js';
import type { UserSocketState } from './user-hub.js';

const endpoint = '/v1/user';
const maxFrameBytes = 64 * 1024; // 500 ids of a mark fit; larger frames are FRAME_TOO_LARGE

type OpeningState = UserSocketState & { after: string | undefined };

/**
 * `GET /v1/user`: an end user's in-app socket. The user token (`?token=` or
 * `Authorization: Bearer`) is checked before the upgrade: none gets 401 `UNAUTHORIZED`, a
 * bad or expired one 401 `BAD_TOKEN`. On open the socket gets what the inbox holds after
 * `?after=<last id seen>` and `{t:"counts"}`; then live notifications, and answers to
 * `resume`, `read`, `seen` and `archive` frames, each taking one request from the user's
 * budget (`{t:"error", code:"RATE_LIMITED"}`).
 */
export function registerUserSocket(
  app: TemplatedApp,
  deps: UserSocketDeps,
  sockets: Set<WebSocket<SocketState>>,
): void {
  const { tokens, hub, metrics } = deps;
  const frameError = createFrameErrors(deps, 'user');
  const ctx: UserSocketContext = {
    ...deps,
    sendError: (ws, err) => frameError(ws, err),
  };

  const refuse = (res: HttpResponse, code: ErrorCode, detail?: string) =>
    refuseUpgrade(res, metrics, code, detail);

  const dispatch = (ws: WebSocket<UserSocketState>, msg: Record<string, unknown>) => {
    switch (msg.t) {
      case 'resume':
        handleResume(ctx, ws, msg);
        break;
      case 'read':
      case 'seen':
      case 'archive':
        handleMark(ctx, ws, msg.t, msg);
        break;
      default:
        throw unknownType(msg.t);
    }
    ws.getUserData().badFrames = 0;
  };

  app.ws<OpeningState>(endpoint, {
    maxPayloadLength: payloadLimit(maxFrameBytes),
    // A resume writes up to 500 notifications at once; past this the client is too slow.
    maxBackpressure: 8 * 1024 * 1024,
    idleTimeout: 120,
    sendPingsAutomatically: true,

    upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t) {
      const query = new URLSearchParams(req.getQuery() ?? '');
      const token = query.get('token') || bearer(req.getHeader('authorization'));
      if (!token) return refuse(res, 'UNAUTHORIZED', 'a user token is required');
      const user = tokens.verify(token);
      if (!user || !isServableUserId(user.userId)) return refuse(res, 'BAD_TOKEN');
      const after = query.get('after') || undefined;
      if (after !== undefined && after.length > maxIdLength)
        return refuse(res, 'BAD_QUERY', '`after` must be a notification id');
      const state: OpeningState = {
        closed: false,
        projectId: user.projectId,
        userId: user.userId,
        badFrames: 0,
        sent: new Set(),
        held: undefined,
        after,
      };
      acceptUpgrade(res, req, context, state);
    },

    open(ws) {
      sockets.add(ws as WebSocket<SocketState>);
      hub.opened(ws);
      metrics.connections.inc({ endpoint });
      metrics.connectionsOpened.inc({ endpoint });
      void resume(ctx, ws, ws.getUserData().after);
    },

    message(ws, message, isBinary) {
      const state = ws.getUserData();
      try {
        const msg = readFrame(message, isBinary, maxFrameBytes);
        takeRequest(deps, 'user', userCaller(state.projectId, state.userId))
          // A socket closed meanwhile has left the hub: nothing to resume or announce to.
          .then(() => {
            if (!state.closed) dispatch(ws, msg);
          })
          .catch((err: unknown) => ctx.sendError(ws, err));
      } catch (err) {
        ctx.sendError(ws, err);
      }
    },

    close(ws, code, message) {
      ws.getUserData().closed = true;
      countDropped(metrics, 'user', code, message);
      hub.closed(ws);
      sockets.delete(ws as WebSocket<SocketState>);
      metrics.connections.dec({ endpoint });
    },
  });
}
