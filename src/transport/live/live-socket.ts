import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  WebSocket,
  us_socket_context_t,
} from 'uWebSockets.js';
import { can } from '../../auth/key-registry.js';
import { handleSub } from './handle-sub.js';
import { handleUnsub } from './handle-unsub.js';
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
import type { LiveSocketContext, LiveSocketDeps } from './live-context.js';
import type { LiveSocketState } from './live-hub.js';
import { takeRequest } from '../rate-limits.js';
import type { SocketState } from '../socket-writer.js';

const endpoint = '/v1/live';
const maxFrameBytes = 64 * 1024; // a sub or unsub is tiny; larger frames are FRAME_TOO_LARGE

/**
 * `GET /v1/live`: dashboards subscribe to metric streams with a read key (`?key=` or
 * `Authorization: Bearer`). Same framing as ingest: binary MessagePack maps with `t`. Every
 * message takes one request from the key's budget (`{t:"error", code:"RATE_LIMITED"}`).
 */
export function registerLiveSocket(
  app: TemplatedApp,
  deps: LiveSocketDeps,
  sockets: Set<WebSocket<SocketState>>,
) {
  const { auth, metrics, hub } = deps;
  const frameError = createFrameErrors(deps, 'live');
  const ctx: LiveSocketContext = {
    ...deps,
    sendError: (ws, err, id) => frameError(ws, err, id === undefined ? {} : { id }),
  };

  const dispatch = (ws: WebSocket<LiveSocketState>, msg: Record<string, unknown>) => {
    switch (msg.t) {
      case 'sub':
        handleSub(ctx, ws, msg);
        break;
      case 'unsub':
        handleUnsub(ctx, ws, msg);
        break;
      default:
        throw unknownType(msg.t);
    }
    ws.getUserData().badFrames = 0;
  };

  app.ws<LiveSocketState>(endpoint, {
    maxPayloadLength: payloadLimit(maxFrameBytes),
    // Past `live.slowBytes` a dashboard reads the slow feeds; this bounds uWS's buffer until then.
    maxBackpressure: 4 * 1024 * 1024,
    idleTimeout: 120,
    sendPingsAutomatically: true,

    upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t) {
      const principal = auth.authenticate(
        req.getQuery('key') || bearer(req.getHeader('authorization')),
      );
      if (!principal || !can(principal, 'read')) {
        return refuseUpgrade(res, metrics, principal ? 'FORBIDDEN' : 'UNAUTHORIZED');
      }
      const state: LiveSocketState = {
        closed: false,
        principal,
        subs: new Map(),
        behind: false,
        badFrames: 0,
      };
      acceptUpgrade(res, req, context, state);
    },

    open(ws) {
      sockets.add(ws as WebSocket<SocketState>);
      hub.opened(ws);
      metrics.connections.inc({ endpoint });
      metrics.connectionsOpened.inc({ endpoint });
    },

    message(ws, message, isBinary) {
      const state = ws.getUserData();
      let id: unknown;
      try {
        const msg = readFrame(message, isBinary, maxFrameBytes);
        id = msg.id;
        takeRequest(deps, 'live', { limit: 'key', id: state.principal.keyId })
          // A socket closed meanwhile may no longer join topics.
          .then(() => {
            if (!state.closed) dispatch(ws, msg);
          })
          .catch((err: unknown) => ctx.sendError(ws, err, id));
      } catch (err) {
        ctx.sendError(ws, err, id);
      }
    },

    drain(ws) {
      hub.drain(ws);
    },

    close(ws, code, message) {
      ws.getUserData().closed = true;
      countDropped(metrics, 'live', code, message);
      hub.closed(ws);
      sockets.delete(ws as WebSocket<SocketState>);
      metrics.connections.dec({ endpoint });
    },
  });
}
