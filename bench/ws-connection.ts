import { unpack } from 'msgpackr';
import WebSocket, { type RawData } from 'ws';

/** The server's `ack` message of protocol v1. */
export interface Ack {
  t: 'ack';
  seq: number;
  accepted: number;
  duplicates: number;
  rejected: unknown[];
}

export interface ConnectionListener {
  /** `sentAt` is the `performance.now()` at which the acknowledged frame was sent. */
  ack(ack: Ack, sentAt: number | undefined): void;
  error(code: string, sentAt: number | undefined): void;
}

export interface LoadConnection {
  /** Starts keeping `inflight` frames outstanding. */
  start(): void;
  stopSending(): void;
  /** Frames sent and neither acknowledged nor refused, including any lost with the socket. */
  outstanding(): number;
  isOpen(): boolean;
  readonly closed: Promise<void>;
  close(): void;
  terminate(): void;
}

export interface ConnectionOptions {
  url: string;
  inflight: number;
  connectTimeoutMs: number;
  encode(seq: number): Uint8Array;
}

// A retryAfterMs hint is obeyed, but never for longer than this, so a bad hint cannot stall
// a connection for the rest of the run.
const maxPauseMs = 1000;

/** Opens one ingest socket; rejects with the HTTP status or socket error when it cannot. */
export function openConnection(options: ConnectionOptions, listener: ConnectionListener) {
  // Offer no deflate: backline compresses nothing (uWS's default), so no peer may either.
  const ws = new WebSocket(options.url, {
    perMessageDeflate: false,
    handshakeTimeout: options.connectTimeoutMs,
  });
  return new Promise<LoadConnection>((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP_${res.statusCode ?? 0}`));
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
    ws.once('open', () => resolve(driveConnection(ws, options, listener)));
  });
}

function driveConnection(
  ws: WebSocket,
  options: ConnectionOptions,
  listener: ConnectionListener,
): LoadConnection {
  const sentAt = new Map<number, number>();
  let nextSeq = 0;
  let sending = false;
  let pause: NodeJS.Timeout | undefined;

  const fill = () => {
    while (
      sending &&
      !pause &&
      ws.readyState === WebSocket.OPEN &&
      sentAt.size < options.inflight
    ) {
      const frame = options.encode(nextSeq);
      sentAt.set(nextSeq, performance.now());
      ws.send(frame);
      nextSeq += 1;
    }
  };
  const pauseFor = (ms: number) => {
    if (pause || !sending) return;
    pause = setTimeout(
      () => {
        pause = undefined;
        fill();
      },
      Math.min(ms, maxPauseMs),
    );
  };
  const takeSentAt = (seq: unknown) => {
    if (typeof seq !== 'number') return undefined;
    const at = sentAt.get(seq);
    sentAt.delete(seq);
    return at;
  };

  ws.on('message', (data: RawData) => {
    const msg = decode(data);
    if (msg?.t === 'ack') listener.ack(msg as unknown as Ack, takeSentAt(msg.seq));
    else if (msg?.t === 'error') {
      listener.error(String(msg.code), takeSentAt(msg.seq));
      if (typeof msg.retryAfterMs === 'number') pauseFor(msg.retryAfterMs);
    } else listener.error(msg ? 'UNEXPECTED_MESSAGE' : 'UNDECODABLE_MESSAGE', undefined);
    fill();
  });
  // 'error' is always followed by 'close'; the listener keeps an error from crashing the run.
  ws.on('error', () => listener.error('SOCKET_ERROR', undefined));
  const closed = new Promise<void>((resolve) => {
    ws.once('close', (code) => {
      if (sending) listener.error(`CLOSED_${code}`, undefined);
      sending = false;
      clearTimeout(pause);
      resolve();
    });
  });

  return {
    start() {
      sending = true;
      fill();
    },
    stopSending() {
      sending = false;
      clearTimeout(pause);
      pause = undefined;
    },
    outstanding: () => sentAt.size,
    isOpen: () => ws.readyState === WebSocket.OPEN,
    closed,
    close: () => ws.close(1000, 'bench done'),
    terminate: () => ws.terminate(),
  };
}

function decode(data: RawData): Record<string, unknown> | undefined {
  try {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data;
    const value: unknown = unpack(Buffer.isBuffer(bytes) ? bytes : new Uint8Array(bytes));
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
