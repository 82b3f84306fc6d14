import { C1, Unpackr, type Options } from 'msgpackr';
import { BacklineError } from '../errors.js';
import type { Limits } from '../config/schema.js';

/** A decoded client message: one map with a string `t`. */
export type ClientMessage = Record<string, unknown> & { t: string };

/** The `events` message of protocol v1 (socket frames and HTTP batches alike). */
export interface EventsFrame {
  seq: number | undefined;
  events: unknown[];
}

// msgpackr reads `auto` (unpack.js) though its typings list only bigint, number and string.
const int64AsAuto = 'auto' as string as Options['int64AsType'];

// Reads both plain maps and msgpackr records; record definitions live inside each frame,
// so nothing one client sends changes how another client's frames decode.
// Python's, Go's, Rust's and Java's MessagePack write integers of 2^32 and up (epoch ms among
// them) as uint64/int64: `auto` reads those within ±2^53 as exact numbers and leaves larger
// ones as bigints, which the checks then refuse (`seq`, `ts`, ids) or keep as decimal strings
// (props), so no integer is ever rounded. MessagePack timestamps (ext −1) decode to Dates.
// msgpackr's structured-clone references (ext 0x69, 0x70) are refused: a few KB of them
// decode to a graph of shared arrays whose walk (props checks, JSON) never ends.
const unpackr = new Unpackr({
  mapsAsObjects: true,
  int64AsType: int64AsAuto,
  structuredClone: false,
});

/** Decodes one MessagePack socket frame into a message map, or throws a frame-level error. */
export function decodeMessage(bytes: Uint8Array, maxFrameBytes: number): ClientMessage {
  const value = decodeMsgpack(bytes, maxFrameBytes);
  if (!isMap(value)) throw new BacklineError('NOT_A_MAP');
  if (typeof value.t !== 'string')
    throw new BacklineError('BAD_FRAME', 'field `t` must be a string');
  return value as ClientMessage;
}

function decodeMsgpack(bytes: Uint8Array, maxFrameBytes: number): unknown {
  checkSize(bytes, maxFrameBytes);
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (err) {
    throw new BacklineError('BAD_MSGPACK', `not valid MessagePack: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // msgpackr decodes the "never used" byte 0xc1 to a marker instead of failing.
  if (value === C1)
    throw new BacklineError('BAD_MSGPACK', 'not valid MessagePack: 0xc1 is never used');
  return value;
}

function checkSize(bytes: Uint8Array, maxFrameBytes: number): void {
  if (bytes.byteLength > maxFrameBytes) {
    throw new BacklineError('FRAME_TOO_LARGE', `${bytes.byteLength} bytes, limit ${maxFrameBytes}`);
  }
}

/**
 * Decodes an HTTP batch body (`application/msgpack` or `application/json`) into a map;
 * `t` may be left out and otherwise must be `events`.
 */
export function decodeBody(
  bytes: Uint8Array,
  contentType: string,
  maxFrameBytes: number,
): Record<string, unknown> {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  let value: unknown;
  if (/^application\/(x-|vnd\.)?msgpack$/.test(type)) {
    value = decodeMsgpack(bytes, maxFrameBytes);
  } else if (type === 'application/json' || type === '') {
    checkSize(bytes, maxFrameBytes);
    try {
      value = JSON.parse(
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
      );
    } catch (err) {
      throw new BacklineError('BAD_JSON', `not valid JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
  } else {
    throw new BacklineError('UNSUPPORTED_MEDIA_TYPE', `content-type ${type} is not supported`);
  }
  if (!isMap(value)) throw new BacklineError('NOT_A_MAP', 'body must be a map with `events`');
  if (value.t !== undefined && value.t !== 'events')
    throw new BacklineError('UNKNOWN_TYPE', 'only `events` batches are taken here');
  return value;
}

/**
 * Checks the fields of an events batch. `seq` is required on sockets, optional over HTTP;
 * a `seq` that is there must be an unsigned integer within 2^53 either way.
 */
export function parseEventsFrame(
  msg: Record<string, unknown>,
  limits: Limits,
  seqRequired: boolean,
): EventsFrame {
  const { seq, events } = msg;
  const validSeq = typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0;
  if ((seqRequired || (seq !== undefined && seq !== null)) && !validSeq)
    throw new BacklineError('BAD_FRAME', '`seq` must be an unsigned integer below 2^53');
  if (!Array.isArray(events)) throw new BacklineError('BAD_FRAME', '`events` must be an array');
  if (events.length > limits.maxEventsPerFrame) {
    throw new BacklineError(
      'TOO_MANY_EVENTS',
      `${events.length} events, limit ${limits.maxEventsPerFrame}`,
    );
  }
  return { seq: validSeq ? seq : undefined, events };
}

/** A plain map: what MessagePack maps and msgpackr records decode to (not arrays, bytes or ext types). */
export function isMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
