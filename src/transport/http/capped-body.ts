import type { HttpResponse } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { Reply } from './reply.js';

export interface CappedBodyOptions {
  maxBytes: number; // bytes of body held at most; one more and the request is refused
  timeoutMs: number; // to receive the whole body, counted from the request's headers
}

/** Why a body was not read to its end: over the cap, too slow, or the client went away. */
export type BodyRefusal = 'too_large' | 'timeout' | 'aborted';

/**
 * Reads a request body while holding at most `maxBytes` of it, for at most `timeoutMs`.
 * Past the cap it answers 413 `FRAME_TOO_LARGE` and closes the connection at once, so the
 * rest is never read (unlike `readBody`, which drains); past the time it drops the connection
 * without an answer. Resolves the body, or `undefined` once `onRefused` has been told why.
 *
 * @example
 * const body = await readCappedBody(res, reply, { maxBytes: 262144, timeoutMs: 10_000 }, count);
 * if (body) reply.json(200, handle(body));
 */
export function readCappedBody(
  res: HttpResponse,
  reply: Reply,
  options: CappedBodyOptions,
  onRefused: (reason: BodyRefusal) => void,
): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (body: Buffer | undefined, refusal?: BodyRefusal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (refusal) onRefused(refusal);
      resolve(body);
    };
    const timer = setTimeout(() => {
      settle(undefined, 'timeout');
      reply.abort();
    }, options.timeoutMs);
    timer.unref(); // a body still arriving must not hold a stopping process open
    reply.onAborted(() => settle(undefined, 'aborted'));
    res.onData((chunk, isLast) => {
      if (settled) return;
      size += chunk.byteLength;
      if (size > options.maxBytes) {
        settle(undefined, 'too_large');
        return reply.refuse(tooLarge(options.maxBytes));
      }
      // The chunk's memory belongs to uWS and is reused after this callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
      if (isLast) settle(Buffer.concat(chunks, size));
    });
  });
}

export const tooLarge = (maxBytes: number) =>
  new BacklineError('FRAME_TOO_LARGE', `the body is over its limit of ${maxBytes} bytes`);
