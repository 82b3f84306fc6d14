import WebSocket from 'ws';
import { createClient, type Client } from '../src/client/index.js';
import { settlesWithin } from './deadline.js';

export interface FailoverClientsOptions {
  /** Every node's `http://…` origin: each client gets the whole list and fails over along it. */
  urls: string[];
  key: string;
  clients: number;
  /** Events each client tracks per second, steadily, whatever the acks do. */
  eventsPerSecond: number;
  /** The events' type, so that what was stored of this run can be told apart. */
  type: string;
}

// The clients' tracking clock: events due are tracked each tick.
const tickMs = 20;
// Reconnect quickly, as a dead node costs one attempt (README "Client library"); the cap
// keeps a client from waiting long behind a node that is still starting.
const backoff = { baseMs: 100, maxMs: 2000 };
// Far above what a client queues while its node is down for seconds: nothing is dropped.
const maxQueuedEvents = 1_000_000;

/**
 * Clients of the client library (src/client) in the runner, tracking at a steady rate over a
 * list of nodes; every id tracked is kept, and every id the server refused, so that what was
 * acknowledged is known per event once `flush` has settled.
 *
 * @example
 * const fleet = startFailoverClients({ urls, key, clients: 20, eventsPerSecond: 100, type });
 * await sleep(10_000); fleet.stopTracking();
 * await fleet.flush(60_000); fleet.acknowledgedIds(); fleet.close();
 */
export function startFailoverClients(options: FailoverClientsOptions) {
  const tracked: string[] = [];
  const rejected = new Map<string, string>();
  const errors: Record<string, number> = {};
  const clients: Client[] = Array.from({ length: options.clients }, () =>
    createClient({
      url: options.urls,
      key: options.key,
      WebSocket,
      storage: null,
      backoff,
      maxQueuedEvents,
      onRejected: (event, code) => rejected.set(event.id, code),
      onError: (error) => (errors[error.code] = (errors[error.code] ?? 0) + 1),
    }),
  );
  const start = performance.now();
  let stoppedAt: number | undefined;
  let due = 0;
  const ticker = setInterval(() => {
    const now = Math.floor(((performance.now() - start) / 1000) * options.eventsPerSecond);
    for (; due < now; due += 1)
      for (const [i, client] of clients.entries())
        tracked.push(client.track(options.type, { n: due }, { userId: `u${i}` }));
  }, tickMs);

  return {
    clients,
    stopTracking() {
      clearInterval(ticker);
      stoppedAt ??= performance.now();
    },
    /** From the first event to `stopTracking`: longer than asked when timers ran late. */
    trackedForSeconds: () => ((stoppedAt ?? performance.now()) - start) / 1000,
    /** True when every client's tracked events were acknowledged, refused or dropped in time. */
    flush: (timeoutMs: number) =>
      settlesWithin(Promise.all(clients.map((client) => client.flush())), timeoutMs),
    /** After a successful flush: every id tracked that the server neither refused nor dropped. */
    acknowledgedIds: () => tracked.filter((id) => !rejected.has(id)),
    tracked: () => tracked.length,
    rejected: () => rejected.size,
    errors: () => ({ ...errors }),
    totals() {
      const sum = { accepted: 0, duplicates: 0, dropped: 0, queued: 0, reconnects: 0 };
      for (const client of clients) {
        const stats = client.stats();
        for (const key of Object.keys(sum) as Array<keyof typeof sum>) sum[key] += stats[key];
      }
      return sum;
    },
    close: () => {
      clearInterval(ticker);
      for (const client of clients) client.close();
    },
  };
}

export type FailoverClients = ReturnType<typeof startFailoverClients>;
