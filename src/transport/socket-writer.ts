import { Packr } from 'msgpackr';
import type { WebSocket } from 'uWebSockets.js';
import { closeCodes } from '../errors.js';
import type { Metrics } from '../ops/metrics.js';

/** State every backline socket carries; `closed` guards writes after uWS freed the socket. */
export interface SocketState {
  closed: boolean;
}

// Plain maps out, so any MessagePack decoder can read server messages.
const packr = new Packr({ useRecords: false });

export const encode = (message: object): Buffer => packr.pack(message);

/**
 * The one place that writes to a socket. Writes from async continuations are corked into one
 * syscall. A client that lets more than `maxBackpressure` bytes pile up (uWS reports the send
 * as dropped) is closed as a slow consumer rather than buffered without bound.
 */
export function createSocketWriter(metrics: Metrics) {
  return {
    send<T extends SocketState>(ws: WebSocket<T>, message: object): boolean {
      if (ws.getUserData().closed) return false;
      return this.sendBytes(ws, encode(message));
    },

    /** Sends a message already encoded: one encode serves every socket that gets it. */
    sendBytes<T extends SocketState>(ws: WebSocket<T>, bytes: Buffer): boolean {
      if (ws.getUserData().closed) return false;
      let status = 1;
      ws.cork(() => {
        status = ws.send(bytes, true, false);
      });
      if (status === 2) {
        this.close(ws, closeCodes.policyViolation, 'slow consumer', 'slow_consumer');
        return false;
      }
      return true;
    },

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
}

export type SocketWriter = ReturnType<typeof createSocketWriter>;
