import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import type { ErrorCode } from '../../errors.js';
import { createTokenBucket } from '../../lib/token-bucket.js';
import { defineSocket, keyPrincipal } from '../define-socket.js';
import { createFrameErrors } from '../socket-errors.js';
import type { SocketState } from '../socket-writer.js';
import { handleEvents } from './handle-events.js';
import type { IngestSocketContext, IngestSocketDeps, IngestSocketState } from './ingest-context.js';

/** Frame errors that are the sender's fault; a run of them closes the socket. */
const garbage = new Set<ErrorCode>([
  'BAD_MSGPACK',
  'NOT_A_MAP',
  'BAD_FRAME',
  'UNKNOWN_TYPE',
  'TEXT_FRAME',
  'FRAME_TOO_LARGE',
  'TOO_MANY_EVENTS',
]);

/**
 * `GET /v1/ingest`: the ingest WebSocket of protocol v1. The key (`?key=` or
 * `Authorization: Bearer`) is checked before the upgrade; a bad one gets a 401 and no socket.
 */
export function registerIngestSocket(
  app: TemplatedApp,
  deps: IngestSocketDeps,
  sockets: Set<WebSocket<SocketState>>,
) {
  const { auth, limits, metrics } = deps;
  const frameError = createFrameErrors(deps, 'ws', (code) => garbage.has(code));
  const ctx: IngestSocketContext = {
    ...deps,
    sendError: (ws, err, seq) => frameError(ws, err, seq === undefined ? {} : { seq }),
  };

  defineSocket<IngestSocketState>(app, deps, sockets, {
    endpoint: '/v1/ingest',
    transport: 'ws',
    maxFrameBytes: limits.maxFrameBytes,
    maxBackpressure: 1024 * 1024,
    authenticate: (req) => ({
      closed: false,
      principal: keyPrincipal(auth, req, 'ingest'),
      bucket: createTokenBucket(limits.eventsPerSecond, limits.burstEvents),
      badFrames: 0,
    }),
    handlers: {
      events: (ws, msg, arrivedAt) => handleEvents(ctx, ws, msg, arrivedAt),
    },
    frameError,
    echo: (msg) => (typeof msg.seq === 'number' ? { seq: msg.seq } : {}),
    received: () => metrics.frames.inc({ transport: 'ws' }),
  });
}
