import { STATUS_CODES } from 'node:http';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { BacklineError, catalogue } from '../../errors.js';
import type { Logger } from '../../ops/logger.js';
import { bearer, remoteAddressOf, type Credentials } from '../credentials.js';
import { encode } from '../socket-writer.js';
import { streamBody } from './stream-body.js';

/** What a handler needs of a request, copied out at once: uWS frees `req` after the handler returns. */
export interface RequestInfo extends Credentials {
  url: string;
  contentType: string;
  wantsMsgpack: boolean;
  /** The client's `X-Request-Id` ('' when none): audited requests keep it. */
  requestId: string;
}

export function readRequest(req: HttpRequest, res: HttpResponse): RequestInfo {
  const query = new URLSearchParams(req.getQuery() ?? '');
  const accept = req.getHeader('accept');
  const fromHeader = bearer(req.getHeader('authorization'));
  return {
    url: req.getUrl(),
    query,
    credential: fromHeader ?? query.get('key') ?? undefined,
    credentialInHeader: fromHeader !== undefined,
    remoteAddress: remoteAddressOf(res),
    contentType: req.getHeader('content-type'),
    wantsMsgpack: /application\/(x-|vnd\.)?msgpack/.test(accept),
    requestId: req.getHeader('x-request-id'),
  };
}

/**
 * A response that remembers whether the client went away (uWS requires `onAborted` before
 * any async work) and corks late writes. `headers` go on every answer (CORS).
 */
export function createReply(
  res: HttpResponse,
  log: Logger,
  onStatus: (status: number) => void,
  headers: Readonly<Record<string, string>> = {},
) {
  let done = false;
  let gone = false;
  let closeAfter = false;
  const abortListeners: Array<() => void> = [];
  // Sent with whatever the answer is (CORS, the request's id).
  const always: Record<string, string> = { ...headers };
  res.onAborted(() => {
    done = true;
    gone = true;
    for (const listener of abortListeners) listener();
  });
  const reply = {
    get aborted() {
      return done;
    },
    /** Runs `listener` if the client goes away (uWS keeps a single `onAborted` per response). */
    onAborted(listener: () => void) {
      abortListeners.push(listener);
    },
    send(
      status: number,
      contentType: string,
      body: string | Uint8Array,
      headers: Record<string, string> = {},
    ) {
      if (done) return;
      done = true;
      onStatus(status);
      res.cork(() => {
        res.writeStatus(`${status} ${STATUS_CODES[status] ?? ''}`);
        res.writeHeader('content-type', contentType);
        for (const [name, value] of Object.entries({ ...always, ...headers }))
          res.writeHeader(name, value);
        res.end(body, closeAfter);
      });
    },
    /**
     * Answers with a body pulled from `chunks` (binary: Parquet), with back-pressure
     * (stream-body.ts). Rejects when the source fails before its first chunk (answer the
     * error then); resolves with how the stream ended otherwise.
     */
    pipe(
      status: number,
      contentType: string,
      chunks: AsyncIterable<Uint8Array>,
      headers: Record<string, string> = {},
    ) {
      const head = { status, contentType, headers: { ...always, ...headers } };
      return streamBody(res, head, chunks, {
        aborted: () => gone,
        onAborted: reply.onAborted,
        begin(code) {
          if (done) return false;
          done = true;
          onStatus(code);
          return true;
        },
      });
    },
    /** Adds a header to the answer, whichever it turns out to be. */
    header(name: string, value: string) {
      always[name] = value;
    },
    /**
     * Starts an answer of unknown length (chunked). `write` resolves once uWS took the chunk;
     * when the socket's buffer is full it waits for it to drain (`onWritable`), so a slow
     * reader slows the producer instead of filling memory. It answers false once the client
     * went away; `end` finishes the answer, `cut` drops it unfinished (a failure part way).
     */
    stream(status: number, contentType: string, headers: Record<string, string> = {}) {
      const started = !done;
      done = true;
      let drained: (() => void) | undefined;
      const wake = () => {
        const waiting = drained;
        drained = undefined;
        waiting?.();
      };
      if (started) {
        onStatus(status);
        abortListeners.push(wake);
        res.onWritable(() => {
          wake();
          return true;
        });
        res.cork(() => {
          res.writeStatus(`${status} ${STATUS_CODES[status] ?? ''}`);
          res.writeHeader('content-type', contentType);
          for (const [name, value] of Object.entries({ ...always, ...headers }))
            res.writeHeader(name, value);
        });
      }
      return {
        async write(chunk: string): Promise<boolean> {
          if (gone || !started) return false;
          let accepted = true;
          res.cork(() => (accepted = res.write(chunk)));
          if (!accepted && !gone) await new Promise<void>((resolve) => (drained = resolve));
          return !gone;
        },
        end() {
          if (gone || !started) return;
          gone = true;
          res.cork(() => res.end());
        },
        /** Drops the connection without the last chunk: the client sees the answer is cut short. */
        cut() {
          if (gone || !started) return;
          gone = true;
          res.close();
        },
      };
    },
    json(status: number, body: unknown, msgpack = false) {
      if (msgpack) reply.send(status, 'application/msgpack', encode(body as object));
      else reply.send(status, 'application/json', JSON.stringify(body));
    },
    error(err: unknown, msgpack = false) {
      const error = err instanceof BacklineError ? err : internal(err, log);
      const body: Record<string, unknown> = { code: error.code, msg: error.message };
      const headers: Record<string, string> = {};
      if (error.retryAfterMs !== undefined) {
        body.retryAfterMs = error.retryAfterMs;
        headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
      }
      if (msgpack) reply.send(error.status, 'application/msgpack', encode(body), headers);
      else reply.send(error.status, 'application/json', JSON.stringify(body), headers);
    },
    /**
     * Answers `err` with `Connection: close` and closes the connection once written: for a
     * request whose body is left unread, so no byte of it is buffered.
     */
    refuse(err: unknown) {
      closeAfter = true;
      reply.error(err);
    },
    /** Drops the connection without an answer (uWS `close()`): for a sender too slow to answer. */
    abort() {
      if (done) return;
      done = true;
      res.close();
    },
  };
  return reply;
}

export type Reply = ReturnType<typeof createReply>;

/** Collects a request body up to `maxBytes`; past that it is drained and reported too large. */
export function readBody(res: HttpResponse, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      size += chunk.byteLength;
      // The chunk's memory belongs to uWS and is reused after this callback: copy it.
      if (size <= maxBytes) chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
      if (isLast) resolve(size <= maxBytes ? Buffer.concat(chunks, size) : undefined);
    });
  });
}

function internal(err: unknown, log: Logger): BacklineError {
  log.error({ err }, 'unexpected error in a request');
  return new BacklineError('INTERNAL', catalogue.INTERNAL.message, { cause: err });
}
