import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  WebSocket,
  us_socket_context_t,
} from 'uWebSockets.js';
import { can, type Authenticator, type Principal } from '../auth/key-registry.js';
import type { Limits, Scope } from '../config/schema.js';
import { BacklineError } from '../errors.js';
import type { ClientMessage } from '../ingest/decode-frame.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { bearer, remoteAddressOf } from './credentials.js';
import { createReply } from './http/reply.js';
import { routeTable } from './route-table.js';
import {
  countDropped,
  payloadLimit,
  readFrame,
  unknownType,
  type FrameError,
  type FrameErrorState,
} from './socket-errors.js';
import type { RateLimiters } from './rate-limits.js';
import type { SocketState, SocketWriter } from './socket-writer.js';
import type { UpgradeGate } from './upgrade-gate.js';

/** One handler per message type; `arrivedAt` is `performance.now()` when the frame came. */
export type FrameHandler<S> = (ws: WebSocket<S>, msg: ClientMessage, arrivedAt: number) => void;

/** What a socket is: its caller and state, its handlers, and what it does around them. */
export interface SocketDefinition<S extends FrameErrorState> {
  /** The path, and the `endpoint` label of the connection metrics. */
  endpoint: string;
  /** The `transport` label of frame errors. */
  transport: string;
  /** Larger frames are answered FRAME_TOO_LARGE (bytes). */
  maxFrameBytes: number;
  /** Bytes uWS buffers for the socket before it drops a send: the slow-consumer bound. */
  maxBackpressure: number;
  /**
   * The socket's initial state from its upgrade request and the peer's address; throws or
   * rejects with a BacklineError to refuse the upgrade with its status. It may be asynchronous
   * (a JWT whose keys are fetched) but must read `req` before its first `await`: uWS frees
   * `req` when `upgrade` returns.
   */
  authenticate(req: HttpRequest, remoteAddress: string): S | Promise<S>;
  /** `switch (msg.t)`: a type without a handler is UNKNOWN_TYPE. */
  handlers: Readonly<Record<string, FrameHandler<S>>>;
  /** Answers a refused frame (see `createFrameErrors`). */
  frameError: FrameError;
  /** Fields of the frame its error answer repeats (`seq`, `id`). */
  echo?(msg: ClientMessage): Record<string, unknown>;
  /** Taken before each handler runs (a request budget); the handler runs if still open. */
  admit?(ws: WebSocket<S>): Promise<void>;
  /** Every frame, before it is read. */
  received?(): void;
  opened?(ws: WebSocket<S>): void;
  closed?(ws: WebSocket<S>): void;
  drain?(ws: WebSocket<S>): void;
}

/** What every socket and its handlers share: settings, the writer, metrics, logs, budgets. */
export interface SocketDeps {
  limits: Limits;
  metrics: Metrics;
  writer: SocketWriter;
  log: Logger;
  rateLimits: RateLimiters;
  /** Per-address limits and the Origin check, before any upgrade is authenticated. */
  gate?: UpgradeGate;
}

const noEcho = () => ({});

/**
 * Registers a WebSocket endpoint from its definition, so every socket shares one skeleton:
 * upgrade (the gate, authenticate, or refuse with the error's status and no socket), open and close
 * bookkeeping (`sockets`, the connection metrics, frames uWS dropped as too big), each
 * binary frame read and dispatched to the handler of its `t`, frame errors answered and
 * counted, and drain.
 *
 * @example
 * defineSocket(app, { metrics, log }, sockets, {
 *   endpoint: '/v1/live', transport: 'live', maxFrameBytes: 65536, maxBackpressure: 4194304,
 *   authenticate: (req) => ({ closed: false, badFrames: 0, principal: keyPrincipal(auth, req, 'read') }),
 *   handlers: { sub: (ws, msg) => handleSub(ctx, ws, msg) },
 *   frameError,
 * });
 */
export function defineSocket<S extends FrameErrorState>(
  app: TemplatedApp,
  deps: Pick<SocketDeps, 'metrics' | 'log' | 'gate'>,
  sockets: Set<WebSocket<SocketState>>,
  definition: SocketDefinition<S>,
): void {
  const { metrics } = deps;
  const { endpoint, transport } = definition;
  routeTable(app).sockets.push({ endpoint, messages: Object.keys(definition.handlers) });

  app.ws<S>(endpoint, {
    maxPayloadLength: payloadLimit(definition.maxFrameBytes),
    maxBackpressure: definition.maxBackpressure,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: upgradeWith(definition, deps),

    open(ws) {
      deps.gate?.opened(ws);
      sockets.add(ws as WebSocket<SocketState>);
      definition.opened?.(ws);
      metrics.connections.inc({ endpoint });
      metrics.connectionsOpened.inc({ endpoint });
    },

    message: messageWith(definition),

    drain(ws) {
      definition.drain?.(ws);
    },

    close(ws, code, message) {
      ws.getUserData().closed = true;
      countDropped(metrics, transport, code, message);
      definition.closed?.(ws);
      sockets.delete(ws as WebSocket<SocketState>);
      deps.gate?.closed(ws);
      metrics.connections.dec({ endpoint });
    },
  });
}

/**
 * uWS `upgrade`: the state `authenticate` makes, or its error answered with no socket. An
 * asynchronous one follows uWS's UpgradeAsync example (the handshake headers are copied
 * before `req` is freed, `onAborted` notes a client that left meanwhile: no upgrade then),
 * except that the late upgrade is not corked (see below).
 */
function upgradeWith<S extends FrameErrorState>(
  definition: SocketDefinition<S>,
  deps: Pick<SocketDeps, 'metrics' | 'log' | 'gate'>,
) {
  const { metrics, log } = deps;
  const refuse = (res: HttpResponse, err: unknown) => {
    const { endpoint } = definition;
    if (!(err instanceof BacklineError)) log.error({ err, endpoint }, 'upgrade failed');
    const error = err instanceof BacklineError ? err : new BacklineError('INTERNAL');
    // Answered like any HTTP request, counted apart.
    const reply = createReply(res, log, () => metrics.upgradesRefused.inc({ code: error.code }));
    reply.error(error);
  };
  return (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    let state: S | Promise<S>;
    try {
      deps.gate?.admit(req, res);
      state = definition.authenticate(req, remoteAddressOf(res));
    } catch (err) {
      return refuse(res, err);
    }
    if (!(state instanceof Promise))
      return void res.upgrade(state, key, protocol, extensions, context);
    let aborted = false;
    res.onAborted(() => (aborted = true));
    state.then(
      (ready) => {
        // Not inside `res.cork()`: uWS (v20.30) then sometimes closes the new socket about a
        // millisecond after `open`, no close frame, no error (its cork() reads the response's
        // state from memory the WebSocket took over: uNetworking/uWebSockets#1928, fixed by
        // #1929). Seen as a /v1/live socket of a user JWT closing at once, 1 run in ~15.
        if (!aborted) res.upgrade(ready, key, protocol, extensions, context);
      },
      (err: unknown) => {
        if (!aborted) refuse(res, err);
      },
    );
  };
}

/** uWS `message`: read the frame, admit it, run the handler of its `t`; errors answered. */
function messageWith<S extends FrameErrorState>(definition: SocketDefinition<S>) {
  const { maxFrameBytes, handlers, frameError, admit } = definition;
  const echo = definition.echo ?? noEcho;

  const dispatch = (ws: WebSocket<S>, msg: ClientMessage, arrivedAt: number) => {
    const handle = Object.hasOwn(handlers, msg.t) ? handlers[msg.t] : undefined;
    if (!handle) throw unknownType(msg.t);
    handle(ws, msg, arrivedAt);
    ws.getUserData().badFrames = 0;
  };

  return (ws: WebSocket<S>, message: ArrayBuffer, isBinary: boolean) => {
    const arrivedAt = performance.now();
    definition.received?.();
    let msg: ClientMessage | undefined;
    try {
      msg = readFrame(message, isBinary, maxFrameBytes);
      if (!admit) return dispatch(ws, msg, arrivedAt);
      const read = msg;
      const state = ws.getUserData();
      admit(ws)
        // A socket closed meanwhile has left its hub: no topic to join, nothing to announce to.
        .then(() => {
          if (!state.closed) dispatch(ws, read, arrivedAt);
        })
        .catch((err: unknown) => frameError(ws, err, echo(read)));
    } catch (err) {
      frameError(ws, err, msg ? echo(msg) : {});
    }
  };
}

/**
 * The project key of an upgrade (`?key=` or `Authorization: Bearer`) with `scope`; throws
 * UNAUTHORIZED without a valid key, FORBIDDEN without the scope.
 */
export function keyPrincipal(auth: Authenticator, req: HttpRequest, scope: Scope): Principal {
  const principal = auth.authenticate(
    req.getQuery('key') || bearer(req.getHeader('authorization')),
  );
  if (!principal) throw new BacklineError('UNAUTHORIZED');
  if (!can(principal, scope)) throw new BacklineError('FORBIDDEN');
  return principal;
}
