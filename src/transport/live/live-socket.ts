import type { HttpRequest, TemplatedApp, WebSocket } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import { createTokenBucket } from '../../lib/token-bucket.js';
import { bearer, type Credentials } from '../credentials.js';
import { defineSocket } from '../define-socket.js';
import { takeRequest } from '../rate-limits.js';
import { createFrameErrors } from '../socket-errors.js';
import type { SocketState } from '../socket-writer.js';
import { streamViewer } from '../stream-access.js';
import { endUnreadableOnChange } from './access-changes.js';
import { handleSub } from './handle-sub.js';
import { handleUnsub } from './handle-unsub.js';
import type { LiveSocketContext, LiveSocketDeps } from './live-context.js';
import type { LiveSocketState } from './live-hub.js';

/** The upgrade's credentials, copied out of `req` at once: uWS frees it when `upgrade` returns. */
function upgradeCredentials(req: HttpRequest, remoteAddress: string): Credentials {
  const query = new URLSearchParams(req.getQuery() ?? '');
  const fromHeader = bearer(req.getHeader('authorization'));
  return {
    query,
    credential: query.get('key') || fromHeader,
    credentialInHeader: !query.get('key') && fromHeader !== undefined,
    remoteAddress,
  };
}

/**
 * `GET /v1/live`: live windows of metric streams. A read key (`?key=` or `Authorization:
 * Bearer`) reads every stream of its project; a user token (`?token=` or Bearer: a backline
 * user token or a JWT) the streams of the user's project whose `access` is `users` or
 * `public`; no credential, with `?project=`, the `public` ones. Same framing as ingest:
 * binary MessagePack maps with `t`. Every message takes one request from the key's or the
 * user's budget, or, without a credential, from the socket's own
 * (`{t:"error", code:"RATE_LIMITED"}`).
 */
export function registerLiveSocket(
  app: TemplatedApp,
  deps: LiveSocketDeps,
  sockets: Set<WebSocket<SocketState>>,
) {
  const { hub, limits, metrics } = deps;
  const frameError = createFrameErrors(deps, 'live');
  const ctx: LiveSocketContext = {
    ...deps,
    endSubscription(ws, err, id) {
      metrics.liveSubscriptionsEnded.inc({ code: err.code });
      deps.writer.send(ws, { t: 'error', code: err.code, msg: err.message, id });
    },
  };
  const live = new Set<WebSocket<LiveSocketState>>();
  endUnreadableOnChange(deps.bus, ctx, live);

  const admit = async (ws: WebSocket<LiveSocketState>): Promise<void> => {
    const { viewer, bucket } = ws.getUserData();
    if (!bucket) return takeRequest(deps, 'live', viewer.caller);
    const waitMs = bucket.take(1);
    if (waitMs === 0) return;
    metrics.requestsRateLimited.inc({ limit: 'connection', transport: 'live' });
    throw new BacklineError('RATE_LIMITED', 'requests per second of this socket exceeded', {
      retryAfterMs: waitMs,
    });
  };

  defineSocket<LiveSocketState>(app, deps, sockets, {
    endpoint: '/v1/live',
    transport: 'live',
    maxFrameBytes: 64 * 1024, // a sub or unsub is tiny; larger frames are FRAME_TOO_LARGE
    // Past `live.slowBytes` a dashboard reads the slow feeds; this bounds uWS's buffer until then.
    maxBackpressure: 4 * 1024 * 1024,
    authenticate: (req, remoteAddress) =>
      streamViewer(deps, upgradeCredentials(req, remoteAddress)).then((viewer) => ({
        ...{ closed: false, viewer, subs: new Map(), behind: false, badFrames: 0 },
        bucket:
          viewer.kind === 'anonymous'
            ? createTokenBucket(limits.userRequestsPerSecond, limits.userBurstRequests)
            : undefined,
      })),
    handlers: {
      sub: (ws, msg) => handleSub(ctx, ws, msg),
      unsub: (ws, msg) => handleUnsub(ctx, ws, msg),
    },
    frameError,
    // Only an id MessagePack can write back comes back: anything else (a map nested 3,000 deep,
    // a bigint past 64 bits from msgpackr's bigint extension) would make the encoder throw here
    // and end the process. A uint64 past 2^53 (a bigint) is refused as an id but echoed
    // exactly, so the client can tell which request failed.
    echo: (msg) => (isScalarId(msg.id) ? { id: msg.id } : {}),
    admit,
    opened: (ws) => {
      live.add(ws);
      hub.opened(ws);
    },
    closed: (ws) => {
      live.delete(ws);
      hub.closed(ws);
    },
    drain: (ws) => hub.drain(ws),
  });
}

const int64Min = -(2n ** 63n);
const uint64Max = 2n ** 64n - 1n;

function isScalarId(id: unknown): id is string | number | bigint {
  if (typeof id === 'bigint') return id >= int64Min && id <= uint64Max;
  return typeof id === 'string' || typeof id === 'number';
}
