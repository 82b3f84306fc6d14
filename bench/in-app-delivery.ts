import { randomBytes } from 'node:crypto';
import { pack } from 'msgpackr';
import { settlesWithin, waitUntil } from './deadline.js';
import { encodeEvents } from './event-frames.js';
import { openEventSender, type EventSender } from './event-sender.js';
import { openWsClient, type IngestClient } from './ingest-client.js';
import { createLatencyHistogram, type LatencySummary } from './latency-histogram.js';
import { machineNow } from './machine-clock.js';
import { sendPaced } from './paced.js';
import type { ServerProcess } from './server-process.js';

export interface DeliverySettings {
  users: readonly string[];
  pings: number;
  pingsPerSecond: number;
  /** After the last ping, how long its notification and its ack are awaited. */
  drainMs: number;
}

export interface InAppDelivery {
  users: number;
  pings: number;
  pingsPerSecond: number;
  delivered: number;
  /** Notifications received over the time from the first send to the last receipt. */
  deliveredPerSecond: number;
  /** From the ping's send to its `{t:"notification"}` on the user's socket. */
  latencyMs: LatencySummary;
  errors: Record<string, number>;
}

/**
 * Connects one `/v1/user` socket per user (a token from `POST /v1/users/:id/token` with the
 * admin key), then sends `ping` events at a steady rate, users in turn, and times each one
 * until its notification arrives; the ping rule puts the event id in `data.event`.
 *
 * @example
 * const delivery = await measureInAppDelivery(server, { users, pings: 1000, pingsPerSecond: 200, drainMs: 5000 });
 * delivery.latencyMs.p99Ms;
 */
export async function measureInAppDelivery(
  server: ServerProcess,
  settings: DeliverySettings,
): Promise<InAppDelivery> {
  const errors: Record<string, number> = {};
  const sentAt = new Map<string, number>();
  const latency = createLatencyHistogram();
  const span = { first: NaN, last: NaN };
  const onNotification = (id: unknown) => {
    const at = machineNow();
    const sent = typeof id === 'string' ? sentAt.get(id) : undefined;
    if (sent === undefined) return count(errors, 'UNEXPECTED_NOTIFICATION');
    sentAt.delete(id as string);
    latency.record(at - sent);
    span.last = at;
  };
  const sockets = await Promise.all(
    settings.users.map((user) => openUserSocket(server, user, onNotification)),
  );
  let sender: EventSender | undefined;
  try {
    sender = await openEventSender(`ws://127.0.0.1:${server.port}/v1/ingest?key=${server.key}`);
    const { send, outstanding } = sender;
    const runId = randomBytes(4).toString('hex');
    await sendPaced(settings.pings, settings.pingsPerSecond, (n) => {
      const userId = settings.users[n % settings.users.length]!;
      const event = { id: `${runId}-${n}`, type: 'ping', ts: Date.now(), userId };
      const frame = send((seq) => encodeEvents(seq, [event]));
      sentAt.set(event.id, frame.sentAt);
      if (n === 0) span.first = frame.sentAt;
      void frame.outcome.then((o) => o.code && count(errors, `INGEST_${o.code}`));
    });
    await waitUntil(() => sentAt.size === 0 && outstanding() === 0, settings.drainMs);
  } finally {
    await sender?.close();
    for (const socket of sockets) socket.terminate();
  }
  const delivered = latency.summary();
  return {
    users: sockets.length,
    pings: settings.pings,
    pingsPerSecond: settings.pingsPerSecond,
    delivered: delivered.samples,
    deliveredPerSecond: delivered.samples / ((span.last - span.first) / 1000) || 0,
    latencyMs: delivered,
    errors,
  };
}

async function openUserSocket(
  server: ServerProcess,
  user: string,
  onNotification: (id: unknown) => void,
): Promise<IngestClient> {
  const origin = `127.0.0.1:${server.port}`;
  const res = await fetch(`http://${origin}/v1/users/${user}/token?key=${server.key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`POST /v1/users/${user}/token answered ${res.status}`);
  const { token } = (await res.json()) as { token: string };
  const url = `ws://${origin}/v1/user?token=${encodeURIComponent(token)}`;
  const socket = await openWsClient({ url, localAddress: '127.0.0.1', connectTimeoutMs: 10_000 });
  // A resume without `after` is answered with counts alone: once they arrive, the socket is
  // registered for live notifications (the counts sent on open may come before the handler).
  const ready = new Promise<void>((resolve) => {
    socket.onMessage((msg) => {
      if (msg?.t === 'counts') resolve();
      else if (msg?.t === 'notification')
        onNotification((msg.n as { data?: { event?: unknown } } | undefined)?.data?.event);
    });
  });
  socket.send(pack({ t: 'resume' }));
  if (!(await settlesWithin(ready, 10_000))) throw new Error(`no counts on ${user}'s socket`);
  return socket;
}

function count(counts: Record<string, number>, code: string): void {
  counts[code] = (counts[code] ?? 0) + 1;
}
