import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uWebSockets.js';

export type StreamOutcome = 'complete' | 'aborted' | 'failed';

/** What the body stream needs of its reply: whether the client went away, and the first write. */
export interface StreamHooks {
  aborted(): boolean;
  onAborted(listener: () => void): void;
  /** Claims the response for this body; false when it was already answered. */
  begin(status: number): boolean;
}

export interface StreamHead {
  status: number;
  contentType: string;
  headers: Record<string, string>;
}

/**
 * Writes `chunks` as a chunked HTTP body with back-pressure: the next chunk is pulled only
 * once uWS has taken the last one (`write` true) or the socket drained (`onWritable`), so a
 * slow reader holds at most a chunk or two in memory, never the result. The first chunk is
 * pulled before the status is written: a source that fails at once rejects, and the route
 * answers with its error. A failure later, with the status sent, can only close the
 * connection (the client sees the body cut short). A client that goes away ends the source.
 */
export async function streamBody(
  res: HttpResponse,
  head: StreamHead,
  chunks: AsyncIterable<Uint8Array>,
  hooks: StreamHooks,
): Promise<{ outcome: StreamOutcome; bytes: number; error?: unknown }> {
  const source = chunks[Symbol.asyncIterator]();
  let wake: (() => void) | undefined;
  const woken = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  hooks.onAborted(woken);
  const stop = async (outcome: StreamOutcome, bytes: number, error?: unknown) => {
    await source.return?.().catch(() => undefined);
    return { outcome, bytes, ...(error === undefined ? {} : { error }) };
  };

  let next = await source.next();
  if (hooks.aborted()) return stop('aborted', 0);
  if (!hooks.begin(head.status)) return stop('aborted', 0);
  // One handler for the response's life: uWS.js keeps calling the first one registered, so a
  // handler registered per wait would wake a wait that is over (measured: the body stalled).
  res.onWritable(() => {
    woken();
    return true;
  });
  res.cork(() => {
    res.writeStatus(`${head.status} ${STATUS_CODES[head.status] ?? ''}`);
    res.writeHeader('content-type', head.contentType);
    for (const [name, value] of Object.entries(head.headers)) res.writeHeader(name, value);
  });
  let bytes = 0;
  while (!next.done) {
    const chunk = next.value;
    let taken = true;
    res.cork(() => {
      taken = res.write(chunk);
    });
    bytes += chunk.byteLength;
    if (!taken) await new Promise<void>((resolve) => (wake = resolve));
    if (hooks.aborted()) return stop('aborted', bytes);
    try {
      next = await source.next();
    } catch (error) {
      if (!hooks.aborted()) res.close();
      return { outcome: 'failed', bytes, error };
    }
    if (hooks.aborted()) return stop('aborted', bytes);
  }
  res.cork(() => res.end());
  return { outcome: 'complete', bytes };
}
