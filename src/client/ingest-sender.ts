import { backoffMs } from '../lib/backoff.js';
import type { BackoffOptions } from './backoff.js';
import type { Batcher } from './batcher.js';
import type { Connection, ConnectionHandlers } from './connection.js';
import type { OfflineQueue, QueuedEvent } from './offline-queue.js';
import type { ClientEvent, IngestAck, ServerError } from './types.js';

export interface SenderOptions {
  /** Frames sent and not yet acknowledged, at most. */
  maxInFlightFrames: number;
  /** A frame is split before it grows past this (the server's default limit is 1 MiB). */
  maxFrameBytes: number;
  /** Largest frame in events; halved when the server says a frame was too big. */
  maxEvents: number;
  /** Waits between retries of refused frames that came without `retryAfterMs`. */
  backoff: BackoffOptions;
}

export interface SenderDeps {
  queue: OfflineQueue;
  batcher: (onDue: () => void) => Batcher;
  /** Opens the ingest socket; called once, when the first event waits. */
  connect: (handlers: ConnectionHandlers) => Connection;
  onRejected?: (event: ClientEvent, code: string, msg: string) => void;
  onError?: (error: ServerError) => void;
}

export interface SenderCounts {
  accepted: number;
  duplicates: number;
  rejected: number;
}

// The frame itself is malformed: resending it can never succeed.
const hopeless = new Set(['BAD_MSGPACK', 'NOT_A_MAP', 'UNKNOWN_TYPE', 'BAD_FRAME', 'TEXT_FRAME']);
// The server's limits are lower than ours: smaller frames will pass.
const tooBig = new Set(['TOO_MANY_EVENTS', 'FRAME_TOO_LARGE']);

/**
 * Sends queued events as `{t:"events", seq, events}` frames and removes them on their ack.
 * A frame stays in the queue until acknowledged: after a reconnect every unacknowledged event
 * goes again (the server de-duplicates by id). Refused frames wait for `retryAfterMs` or a
 * backoff (RATE_LIMITED, BACKPRESSURE, STORAGE_FAILED, SHUTTING_DOWN, …) and go again.
 *
 * @example
 * const sender = createIngestSender(
 *   { queue, batcher: (onDue) => createBatcher(defaultBatch, onDue), connect },
 *   { maxInFlightFrames: 4, maxFrameBytes: 1_000_000, maxEvents: 100, backoff: defaultBackoff },
 * );
 * sender.add({ id: eventId(), type: 'page.view', ts: Date.now() });
 * await sender.flush();
 */
export function createIngestSender(deps: SenderDeps, options: SenderOptions) {
  const { queue } = deps;
  const inFlight = new Map<number, ClientEvent[]>();
  const inFlightIds = new Set<string>();
  const waiters: Array<{ n: number; resolve: () => void; reject: (err: Error) => void }> = [];
  const counts: SenderCounts = { accepted: 0, duplicates: 0, rejected: 0 };
  let connection: Connection | undefined;
  let seq = 0;
  let limit = options.maxEvents;
  let retries = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const release = (frame: ClientEvent[]) => {
    for (const event of frame) inFlightIds.delete(event.id);
  };
  const settle = () => {
    const oldest = queue.oldest();
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.n < oldest) waiters.splice(i, 1)[0]!.resolve();
    }
  };

  function pump() {
    if (!connection?.isOpen || retryTimer !== undefined) return;
    while (inFlight.size < options.maxInFlightFrames) {
      const batch = queue.take(limit, (id) => inFlightIds.has(id));
      if (!batcher.ready(batch.length)) return batcher.waiting(batch.length);
      if (!sendFrame(batch)) return;
    }
  }

  function sendFrame(batch: QueuedEvent[]): boolean {
    // sentAt at send time, also on a resend: the server corrects `ts` by receivedAt − sentAt.
    const sentAt = Date.now();
    let events = batch.map((queued) => ({ ...queued.event, sentAt }));
    let bytes = connection!.encode({ t: 'events', seq, events });
    while (bytes.byteLength > options.maxFrameBytes && events.length > 1) {
      events = events.slice(0, Math.ceil(events.length / 2));
      bytes = connection!.encode({ t: 'events', seq, events });
    }
    if (!connection!.sendBytes(bytes)) return false;
    const frame = batch.slice(0, events.length).map((queued) => queued.event);
    inFlight.set(seq++, frame);
    for (const event of frame) inFlightIds.add(event.id);
    return true;
  }

  function onAck(ack: IngestAck) {
    const frame = inFlight.get(ack.seq);
    if (!frame) return; // a frame of an earlier socket: it has been resent since
    inFlight.delete(ack.seq);
    release(frame);
    retries = 0;
    counts.accepted += ack.accepted;
    counts.duplicates += ack.duplicates;
    counts.rejected += ack.rejected.length;
    for (const { i, code, msg } of ack.rejected) {
      const event = frame[i];
      if (event) deps.onRejected?.(event, code, msg);
    }
    queue.remove(frame.map((event) => event.id));
    settle();
    pump();
  }

  function onRefused(error: ServerError) {
    const frame = error.seq === undefined ? undefined : inFlight.get(error.seq);
    deps.onError?.(error);
    if (!frame) return;
    inFlight.delete(error.seq!);
    release(frame);
    if (tooBig.has(error.code) && frame.length > 1) {
      limit = Math.max(1, Math.floor(frame.length / 2));
    } else if (hopeless.has(error.code) || tooBig.has(error.code)) {
      counts.rejected += frame.length;
      queue.remove(frame.map((event) => event.id));
      settle();
    } else if (retryTimer === undefined) {
      retries += 1;
      const delay =
        error.retryAfterMs ?? backoffMs(retries, options.backoff.baseMs, options.backoff.maxMs);
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        pump();
      }, delay);
      return;
    }
    pump();
  }

  const handlers: ConnectionHandlers = {
    open: () => batcher.hurry(),
    close() {
      // Acks of this socket will never come: everything in flight goes again on the next one.
      inFlight.clear();
      inFlightIds.clear();
    },
    message(message) {
      if (message.t === 'ack') onAck(message as unknown as IngestAck);
      else if (message.t === 'error') onRefused(message as unknown as ServerError);
    },
  };
  const batcher = deps.batcher(pump);

  return {
    counts,
    get inFlightFrames() {
      return inFlight.size;
    },
    get connection() {
      return connection;
    },
    /** Opens the socket, e.g. to send events restored from storage. */
    start() {
      connection ??= deps.connect(handlers);
    },
    /** Queues an event and sends what is due; opens the socket on first use. */
    add(event: ClientEvent) {
      queue.push(event);
      connection ??= deps.connect(handlers);
      settle(); // a full queue may just have dropped what a flush waited for
      pump();
    },
    /**
     * Resolves once every event queued so far has been acknowledged, rejected or dropped;
     * rejects if the sender is closed first.
     */
    flush(): Promise<void> {
      if (queue.size === 0) return Promise.resolve();
      connection ??= deps.connect(handlers);
      const n = queue.newest();
      batcher.hurry();
      return new Promise<void>((resolve, reject) => {
        waiters.push({ n, resolve, reject });
        settle();
      });
    },
    close() {
      const unacknowledged = new Error('closed before every event was acknowledged');
      for (const waiter of waiters.splice(0)) waiter.reject(unacknowledged);
      batcher.stop();
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      connection?.close();
      queue.persist();
    },
  };
}

export type IngestSender = ReturnType<typeof createIngestSender>;
