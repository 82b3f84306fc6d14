import type { HttpRequest, TemplatedApp, WebSocket } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import { maxIdLength } from '../../notify/inbox-marks.js';
import { bearer } from '../credentials.js';
import { defineSocket } from '../define-socket.js';
import { verifyUser } from '../identity.js';
import { takeRequest, userCaller } from '../rate-limits.js';
import { createFrameErrors } from '../socket-errors.js';
import type { SocketState } from '../socket-writer.js';
import { handleMark } from './handle-mark.js';
import { handleResume, resume, resumeAfterBusDrops } from './handle-resume.js';
import type { UserSocketContext, UserSocketDeps } from './user-context.js';
import type { UserSocketState } from './user-hub.js';

type OpeningState = UserSocketState & { after: string | undefined };

/**
 * `GET /v1/user`: an end user's in-app socket. The user token (`?token=` or
 * `Authorization: Bearer`: a backline user token or a JWT of the project's identity provider)
 * is checked before the upgrade: none gets 401 `UNAUTHORIZED`, a bad or expired one 401
 * `BAD_TOKEN`, one whose identity provider cannot be reached 503 `AUTH_UNAVAILABLE`. On open the socket gets what the inbox holds after
 * `?after=<last id seen>` and `{t:"counts"}`; then live notifications, and answers to
 * `resume`, `read`, `seen` and `archive` frames, each taking one request from the user's
 * budget (`{t:"error", code:"RATE_LIMITED"}`).
 */
export function registerUserSocket(
  app: TemplatedApp,
  deps: UserSocketDeps,
  sockets: Set<WebSocket<SocketState>>,
): void {
  const { users, hub, presence, log } = deps;
  const frameError = createFrameErrors(deps, 'user');
  const ctx: UserSocketContext = { ...deps, sendError: (ws, err) => frameError(ws, err) };
  let upgraded = 0;
  // The memory presence cannot fail; a shared one keeps and retries its own writes.
  const presenceFailed = (err: unknown) => log.warn({ err }, 'presence not updated');

  /** Reads `req` at once, then verifies the token (a JWKS may be fetched). */
  function authenticate(req: HttpRequest): Promise<OpeningState> {
    const query = new URLSearchParams(req.getQuery() ?? '');
    const token = query.get('token') || bearer(req.getHeader('authorization'));
    const after = query.get('after') || undefined;
    return verifyUser(users, token).then(({ projectId, userId }) => {
      if (after !== undefined && after.length > maxIdLength)
        throw new BacklineError('BAD_QUERY', '`after` must be a notification id');
      const state: OpeningState = {
        ...{ closed: false, socketId: String((upgraded += 1)), projectId, userId, badFrames: 0 },
        ...{ sent: new Set<string>(), held: undefined, after },
      };
      return state;
    });
  }

  resumeAfterBusDrops(ctx);

  defineSocket<OpeningState>(app, deps, sockets, {
    endpoint: '/v1/user',
    transport: 'user',
    maxFrameBytes: 64 * 1024, // 500 ids of a mark fit; larger frames are FRAME_TOO_LARGE
    // A resume writes up to 500 notifications at once; past this the client is too slow.
    maxBackpressure: 8 * 1024 * 1024,
    authenticate,
    handlers: {
      resume: (ws, msg) => handleResume(ctx, ws, msg),
      read: (ws, msg) => handleMark(ctx, ws, 'read', msg),
      seen: (ws, msg) => handleMark(ctx, ws, 'seen', msg),
      archive: (ws, msg) => handleMark(ctx, ws, 'archive', msg),
    },
    frameError,
    admit: (ws) => {
      const { projectId, userId } = ws.getUserData();
      return takeRequest(deps, 'user', userCaller(projectId, userId));
    },
    opened: (ws) => {
      const { socketId, projectId, userId, after } = ws.getUserData();
      hub.opened(ws);
      presence.join(projectId, userId, socketId).catch(presenceFailed);
      void resume(ctx, ws, after);
    },
    closed: (ws) => {
      const { socketId, projectId, userId } = ws.getUserData();
      hub.closed(ws);
      presence.leave(projectId, userId, socketId).catch(presenceFailed);
    },
  });
}
