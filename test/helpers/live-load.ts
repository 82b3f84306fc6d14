import type { Socket } from 'node:net';
import { Packr, unpack } from 'msgpackr';
import WebSocket from 'ws';
import { eventAt, type LiveWindow } from './live-client.js';
import { withTimeout, type Message, type SocketClient } from './socket-client.js';

/** A dashboard on `/v1/live` that counts the window updates it reads. */
export interface Dashboard {
  readonly ws: WebSocket;
  windows: number;
  keys: Set<string>;
  /** Anything but snapshots and window updates. */
  errors: Message[];
  closed: Promise<{ code: number; reason: string }>;
  /**
   * Subscribes `widgets` times to `stream`, as a dashboard with that many panels: each gets
   * every update (and a snapshot of `last` window starts, by default the server's); resolves
   * with the snapshots. Long ids make every update bigger, so a paused socket backs up fast.
   */
  subscribe(stream: string, widgets?: number, last?: number): Promise<void>;
  /** Sends the same subscriptions without waiting for anything. */
  request(stream: string, widgets?: number, last?: number): void;
}

const packr = new Packr();

/** Opens `/v1/live` without subscribing. */
export async function connectDashboard(url: string): Promise<Dashboard> {
  const ws = new WebSocket(url);
  let awaited = 0;
  let ready = () => {};
  const dashboard: Dashboard = {
    ws,
    windows: 0,
    keys: new Set(),
    errors: [],
    closed: new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    ),
    subscribe(stream, widgets = 1, last) {
      const snapshots = new Promise<void>((resolve) => (ready = resolve));
      awaited = widgets;
      this.request(stream, widgets, last);
      return withTimeout(snapshots, 10_000, 'the snapshots');
    },
    request(stream, widgets = 1, last) {
      for (let i = 0; i < widgets; i++) {
        const id = `widget-${i}-`.padEnd(64, 'x');
        ws.send(packr.pack({ t: 'sub', id, stream, ...(last === undefined ? {} : { last }) }));
      }
    },
  };
  ws.on('message', (data: Buffer) => {
    const message = unpack(data) as Message;
    if (message.t === 'snapshot') return --awaited === 0 && ready();
    if (message.t !== 'window') return dashboard.errors.push(message);
    dashboard.windows += 1;
    dashboard.keys.add((message.w as LiveWindow).key);
  });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => resolve());
    }),
    10_000,
    'the socket to open',
  );
  return dashboard;
}

/** A dashboard subscribed `widgets` times to `stream` (see `Dashboard.subscribe`). */
export async function openDashboard(
  url: string,
  stream: string,
  widgets = 1,
  last?: number,
): Promise<Dashboard> {
  const dashboard = await connectDashboard(url);
  await dashboard.subscribe(stream, widgets, last);
  return dashboard;
}

/** The TCP socket under a `ws` client: pausing it makes a real reader that stopped reading. */
export const tcpOf = (dashboard: Dashboard) =>
  (dashboard.ws as unknown as { _socket: Socket })._socket;

export interface LoadShape {
  /** Distinct values of `props.k`, cycled through. */
  keys: number;
  eventsPerFrame: number;
  /** One frame per this many ms. */
  paceMs: number;
  /** Event type. */
  type: string;
}

/** A group key of 100 characters: long keys make every window update bigger. */
export const keyName = (i: number) => `key-${i}-`.padEnd(100, 'x');

/**
 * Sends a frame of events over the next keys every `paceMs` on an ingest socket, without
 * waiting for acks, until stopped: a steady load whatever the ack latency. `sent` and `acks`
 * count frames; a refused frame fails the load.
 */
export function startLoad(ingest: SocketClient, shape: LoadShape) {
  const load = { sent: 0, acks: 0, error: undefined as Message | undefined };
  let offset = 0;
  const timer = setInterval(() => {
    const ts = Date.now();
    const events = Array.from({ length: shape.eventsPerFrame }, (_, i) =>
      eventAt(shape.type, ts, { k: keyName((offset + i) % shape.keys) }),
    );
    offset += shape.eventsPerFrame;
    load.sent += 1;
    ingest.send({ t: 'events', seq: load.sent, events });
  }, shape.paceMs);
  const onMessage = (data: Buffer) => {
    const message = unpack(data) as Message;
    if (message.t === 'ack' && (message.rejected as unknown[]).length === 0) load.acks += 1;
    else load.error ??= message;
  };
  ingest.ws.on('message', onMessage);
  return {
    load,
    /** Stops sending. */
    stop(): void {
      clearInterval(timer);
    },
    /** Waits until every frame sent is acknowledged (or one was refused). */
    async settled(): Promise<void> {
      await withTimeout(
        new Promise<void>((resolve) => {
          const check = () =>
            load.acks >= load.sent || load.error ? resolve() : setTimeout(check, 20);
          check();
        }),
        30_000,
        'the last acks',
      );
      ingest.ws.off('message', onMessage);
    },
  };
}
