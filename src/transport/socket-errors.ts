import type { WebSocket } from 'uWebSockets.js';
import type { Limits } from '../config/schema.js';
import { BacklineError, closeCodes, type ErrorCode } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { decodeMessage, type ClientMessage } from '../ingest/decode-frame.js';
import type { SocketState, SocketWriter } from './socket-writer.js';

export interface FrameErrorState extends SocketState {
  badFrames: number;
}

/** Answers a refused frame with `extra` (the `seq` or `id` it carried), closing on a run. */
export type FrameError = <T extends FrameErrorState>(
  ws: WebSocket<T>,
  err: unknown,
  extra?: Record<string, unknown>,
) => void;

/**
 * How every socket answers a frame it refuses: `{t:"error", code, msg, retryAfterMs?, …}`,
 * counted by transport and code; a run of the sender's own mistakes (`counts`) closes the
 * socket with 1008. An internal error never does, nor RATE_LIMITED: the frame was fine, and
 * the retry hint already tells the client to slow down.
 */
export function createFrameErrors(
  deps: { writer: SocketWriter; metrics: Metrics; limits: Limits; log: Logger },
  transport: string,
  counts: (code: ErrorCode) => boolean = () => true,
) {
  const { writer, metrics, limits, log } = deps;
  const frameError: FrameError = (ws, err, extra = {}) => {
    const error =
      err instanceof BacklineError ? err : new BacklineError('INTERNAL', undefined, { cause: err });
    if (error.code === 'INTERNAL') log.error({ err, transport }, 'unexpected error on a socket');
    metrics.frameErrors.inc({ transport, code: error.code });
    writer.send(ws, {
      t: 'error',
      code: error.code,
      msg: error.message,
      ...extra,
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    });
    if (error.code === 'INTERNAL' || error.code === 'RATE_LIMITED' || !counts(error.code)) return;
    if (++ws.getUserData().badFrames >= limits.badFramesBeforeClose) {
      writer.close(ws, closeCodes.policyViolation, 'too many bad frames', 'bad_frames');
    }
  };
  return frameError;
}

/**
 * One client frame as a message map. Decoded synchronously: uWS reuses `message` once the
 * callback returns.
 */
export function readFrame(
  message: ArrayBuffer,
  isBinary: boolean,
  maxBytes: number,
): ClientMessage {
  if (!isBinary) throw new BacklineError('TEXT_FRAME');
  return decodeMessage(new Uint8Array(message), maxBytes);
}

/**
 * The `maxPayloadLength` for uWS on a socket whose frames may be `maxFrameBytes`. uWS drops
 * a connection whose frame exceeds it without a close frame (the client sees 1006); with room
 * above the limit, an oversized frame reaches `readFrame` and is answered `FRAME_TOO_LARGE`
 * on an open socket. Only frames over this are dropped, and `countDropped` counts them.
 */
export const payloadLimit = (maxFrameBytes: number): number =>
  Math.max(4 * maxFrameBytes, 256 * 1024);

// The message uWS passes to `close` when it dropped a socket for a frame over the limit.
const tooBigMessage = 'Received too big message';

/** In a socket's `close`: counts a connection uWS dropped for a frame over `payloadLimit`. */
export function countDropped(
  metrics: Metrics,
  transport: string,
  code: number,
  message: ArrayBuffer,
): void {
  if (code !== 1006 || Buffer.from(message).toString() !== tooBigMessage) return;
  metrics.frameErrors.inc({ transport, code: 'FRAME_TOO_LARGE' });
  metrics.socketsClosedByServer.inc({ reason: 'frame_too_large' });
}

/** The `default:` of every socket's message switch. */
export function unknownType(t: unknown): BacklineError {
  return new BacklineError(
    'UNKNOWN_TYPE',
    `unknown message type ${JSON.stringify(t).slice(0, 64)}`,
  );
}
