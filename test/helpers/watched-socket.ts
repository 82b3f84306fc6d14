import { unpack } from 'msgpackr';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '../../src/client/index.js';

/**
 * What a client's sockets did, seen from the wire: every socket it made (its URL) and every
 * event id the server acknowledged. The client gets the `WebSocket` class as it gets `ws`;
 * its frames pass through unchanged.
 */
export interface SocketWatch {
  WebSocket: WebSocketConstructor;
  /** The URL of every socket made, in order. */
  readonly urls: string[];
  /** Ids of events whose frame was acknowledged. */
  readonly acked: Set<string>;
}

export function watchSockets(): SocketWatch {
  const urls: string[] = [];
  const acked = new Set<string>();

  class Watched extends WebSocket {
    // seq → event ids, per socket: a seq names a frame on its own socket only.
    private readonly frames = new Map<number, string[]>();

    constructor(url: string) {
      super(url);
      urls.push(url);
      const send = this.send.bind(this);
      this.send = ((data: Uint8Array) => {
        const message = unpack(data) as {
          t?: string;
          seq?: number;
          events?: Array<{ id: string }>;
        };
        if (message.t === 'events')
          this.frames.set(
            message.seq!,
            message.events!.map((e) => e.id),
          );
        send(data);
      }) as WebSocket['send'];
      this.on('message', (data: Buffer) => {
        const message = unpack(data) as { t?: string; seq?: number };
        if (message.t !== 'ack') return;
        for (const id of this.frames.get(message.seq!) ?? []) acked.add(id);
      });
    }
  }

  return { WebSocket: Watched, urls, acked };
}
