import type { TemplatedApp } from 'uWebSockets.js';
import type { Authenticator } from '../../auth/key-registry.js';
import type { Limits } from '../../config/schema.js';
import type { Cors } from '../cors.js';
import { BacklineError } from '../../errors.js';
import { decodeBody, parseEventsFrame } from '../../ingest/decode-frame.js';
import type { Ingest } from '../../ingest/ingest-service.js';
import { createTokenBucket, type TokenBucket } from '../../lib/token-bucket.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import { createRoutes, keyAccess } from '../http/route.js';
import { takeEvents, type RateLimiters } from '../rate-limits.js';

export interface HttpEventsDeps {
  ingest: Ingest;
  auth: Authenticator;
  limits: Limits;
  metrics: Metrics;
  log: Logger;
  rateLimits: RateLimiters;
  /** Requests whose answer is still owed; shutdown waits for them. */
  pending: Set<Promise<unknown>>;
  /** Pages of other origins allowed to send events (`cors.origins`). */
  cors?: Cors;
}

/**
 * `POST /v1/events`: the socket's `events` batch for senders without a socket. The body is
 * `{events:[…]}` as `application/msgpack` or `application/json`; the answer carries the
 * ack's counts (`accepted`, `duplicates`, `rejected`) once the events are durable, as JSON
 * or, with `Accept: application/msgpack`, as MessagePack. A batch takes its events from the
 * key's budget, shared with the key's sockets, and from a connection-sized bucket that the
 * key's HTTP batches share (uWS shows no connection behind a request).
 */
export function registerHttpEvents(app: TemplatedApp, deps: HttpEventsDeps): void {
  const { ingest, auth, limits, metrics, pending } = deps;
  // By key id: bounded by the configured keys.
  const buckets = new Map<string, TokenBucket>();
  const bucketOf = (keyId: string) => {
    let bucket = buckets.get(keyId);
    if (!bucket)
      buckets.set(keyId, (bucket = createTokenBucket(limits.eventsPerSecond, limits.burstEvents)));
    return bucket;
  };

  const route = createRoutes(app, deps, {
    access: keyAccess(auth),
    msgpack: true,
    maxBodyBytes: limits.maxFrameBytes,
    takesRequest: false,
    failed: (err) => {
      if (err instanceof BacklineError)
        metrics.frameErrors.inc({ transport: 'http', code: err.code });
    },
    pending,
  });

  route('post', '/v1/events', 'ingest', async ({ reply, principal, info, body, arrivedAt }) => {
    metrics.frames.inc({ transport: 'http' });
    const bytes = await body;
    if (reply.aborted) return;
    if (!bytes)
      throw new BacklineError('FRAME_TOO_LARGE', `body is over ${limits.maxFrameBytes} bytes`);
    const frame = parseEventsFrame(
      decodeBody(bytes, info.contentType, limits.maxFrameBytes),
      limits,
      false,
    );
    const { keyId } = principal;
    await takeEvents(deps, 'http', bucketOf(keyId), keyId, frame.events.length);
    const { rejected, durable } = ingest.accept(principal.projectId, frame.events);
    const { accepted, duplicates } = await durable;
    const answer =
      frame.seq === undefined
        ? { accepted, duplicates, rejected }
        : { seq: frame.seq, accepted, duplicates, rejected };
    reply.json(200, answer, info.wantsMsgpack);
    metrics.ackSeconds.observe({ transport: 'http' }, (performance.now() - arrivedAt) / 1000);
  });
}
