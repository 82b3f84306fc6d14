import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  WebSocket,
  us_socket_context_t,
} from 'uWebSockets.js';
import { can } from '../../auth/key-registry.js';
import type { ErrorCode } from '../../errors.js';
import { createTokenBucket } from '../../lib/token-bucket.js';
import { handleEvents } from './handle-events.js';
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
import type { IngestSocketContext, IngestSocketDeps, IngestSocketState } from './ingest-context.js';
import type { SocketState } from '../socket-writer.js';

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

const endpoint = '/v1/ingest';

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

  app.ws<IngestSocketState>(endpoint, {
    maxPayloadLength: payloadLimit(limits.maxFrameBytes),
    maxBackpressure: 1024 * 1024,
    idleTimeout: 120,
    sendPingsAutomatically: true,

    upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t) {
      const credential = req.getQuery('key') || bearer(req.getHeader('authorization'));
      const principal = auth.authenticate(credential);
      if (!principal || !can(principal, 'ingest')) {
        return refuseUpgrade(res, metrics, principal ? 'FORBIDDEN' : 'UNAUTHORIZED');
      }
      const state: IngestSocketState = {
        closed: false,
        principal,
        bucket: createTokenBucket(limits.eventsPerSecond, limits.burstEvents),
        badFrames: 0,
      };
      acceptUpgrade(res, req, context, state);
    },

    open(ws) {
      sockets.add(ws as WebSocket<SocketState>);
      metrics.connections.inc({ endpoint });
      metrics.connectionsOpened.inc({ endpoint });
    },

    message(ws, message, isBinary) {
      const arrivedAt = performance.now();
      metrics.frames.inc({ transport: 'ws' });
      let seq: number | undefined;
      try {
        const msg = readFrame(message, isBinary, limits.maxFrameBytes);
        if (typeof msg.seq === 'number') seq = msg.seq;
        switch (msg.t) {
          case 'events':
            handleEvents(ctx, ws, msg, arrivedAt);
            break;
          default:
            throw unknownType(msg.t);
        }
        ws.getUserData().badFrames = 0;
      } catch (err) {
        ctx.sendError(ws, err, seq);
      }
    },

    close(ws, code, message) {
      ws.getUserData().closed = true;
      countDropped(metrics, 'ws', code, message);
      sockets.delete(ws as WebSocket<SocketState>);
      metrics.connections.dec({ endpoint });
    },
  });
}
