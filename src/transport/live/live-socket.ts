import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import { defineSocket, keyPrincipal } from '../define-socket.js';
import { takeRequest } from '../rate-limits.js';
import { createFrameErrors } from '../socket-errors.js';
import type { SocketState } from '../socket-writer.js';
import { handleSub } from './handle-sub.js';
import { handleUnsub } from './handle-unsub.js';
import type { LiveSocketContext, LiveSocketDeps } from './live-context.js';
import type { LiveSocketState } from './live-hub.js';

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
  const { auth, hub } = deps;
  const frameError = createFrameErrors(deps, 'live');
  const ctx: LiveSocketContext = {
    ...deps,
    sendError: (ws, err, id) => frameError(ws, err, id === undefined ? {} : { id }),
  };

  defineSocket<LiveSocketState>(app, deps, sockets, {
    endpoint: '/v1/live',
    transport: 'live',
    maxFrameBytes: 64 * 1024, // a sub or unsub is tiny; larger frames are FRAME_TOO_LARGE
    // Past `live.slowBytes` a dashboard reads the slow feeds; this bounds uWS's buffer until then.
    maxBackpressure: 4 * 1024 * 1024,
    authenticate: (req) => ({
      closed: false,
      principal: keyPrincipal(auth, req, 'read'),
      subs: new Map(),
      behind: false,
      badFrames: 0,
    }),
    handlers: {
      sub: (ws, msg) => handleSub(ctx, ws, msg),
      unsub: (ws, msg) => handleUnsub(ctx, ws, msg),
    },
    frameError,
    echo: (msg) => (msg.id === undefined ? {} : { id: msg.id }),
    admit: (ws) =>
      takeRequest(deps, 'live', { limit: 'key', id: ws.getUserData().principal.keyId }),
    opened: (ws) => hub.opened(ws),
    closed: (ws) => hub.closed(ws),
    drain: (ws) => hub.drain(ws),
  });
}
