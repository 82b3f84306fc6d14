import { Packr } from 'msgpackr';
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import { closeCodes } from '../errors.js';
import type { Metrics } from '../ops/metrics.js';

/** State every backline socket carries; `closed` guards writes after uWS freed the socket. */
export interface SocketState {
  closed: boolean;
}

// Plain maps out, so any MessagePack decoder can read server messages.
const packr = new Packr({ useRecords: false });

export const encode = (message: object): Buffer => packr.pack(message);

export const defaultWriterOptions = {
  slowBytes: 256 * 1024, // unsent bytes past which a live dashboard is behind (leaves the topics)
};

/**
 * The one place that writes to a socket, and so the one back-pressure policy:
 * - a send uWS drops (past the socket's `maxBackpressure`) closes the client as a slow
 *   consumer (1008) rather than buffering without bound;
 * - a socket with more than `slowBytes` unsent is `lagging`: the live hub takes it off its
 *   topics; it `hasRoom` again once down to half of that, so it does not flap;
 * - a publish reaches a topic's subscribers in one call and is encoded only if it has any.
 * Writes from async continuations are corked into one syscall.
 *
 * @example
 * const writer = createSocketWriter({ app, metrics }, { slowBytes: 262144 });
 * writer.send(ws, { t: 'ack', seq: 1, accepted: 10, duplicates: 0, rejected: [] });
 */
export function createSocketWriter(
  deps: { app: TemplatedApp; metrics: Metrics },
  options: Partial<typeof defaultWriterOptions> = {},
) {
  const { app, metrics } = deps;
  const { slowBytes } = { ...defaultWriterOptions, ...options };

  const writer = {
    send<T extends SocketState>(ws: WebSocket<T>, message: object): boolean {
      if (ws.getUserData().closed) return false;
      return writer.sendBytes(ws, encode(message));
    },

    /** Sends a message already encoded: one encode serves every socket that gets it. */
    sendBytes<T extends SocketState>(ws: WebSocket<T>, bytes: Buffer): boolean {
      if (ws.getUserData().closed) return false;
      let status = 1;
      ws.cork(() => {
        status = ws.send(bytes, true, false);
      });
      if (status === 2) {
        writer.close(ws, closeCodes.policyViolation, 'slow consumer', 'slow_consumer');
        return false;
      }
      return true;
    },

    /** To every socket subscribed to `topic`; `bytes` is called only when there is one. */
    publish(topic: string, bytes: () => Buffer): boolean {
      if (app.numSubscribers(topic) === 0) return false;
      return app.publish(topic, bytes(), true);
    },

    /** Runs `writes` corked: what they send leaves in one syscall. */
    cork<T extends SocketState>(ws: WebSocket<T>, writes: () => void): void {
      if (!ws.getUserData().closed) ws.cork(writes);
    },

    /** More than `slowBytes` unsent: too far behind to keep up with publishes. */
    lagging: <T extends SocketState>(ws: WebSocket<T>): boolean =>
      ws.getBufferedAmount() > slowBytes,

    /** At most half of `slowBytes` unsent: it may be given more. */
    hasRoom: <T extends SocketState>(ws: WebSocket<T>): boolean =>
      ws.getBufferedAmount() <= slowBytes / 2,

    close<T extends SocketState>(
      ws: WebSocket<T>,
      code: number,
      message: string,
      reason: string,
    ): void {
      const state = ws.getUserData();
      if (state.closed) return;
      state.closed = true;
      metrics.socketsClosedByServer.inc({ reason });
      ws.end(code, message);
    },
  };
  return writer;
}

export type SocketWriter = ReturnType<typeof createSocketWriter>;
