import { Packr, unpack } from 'msgpackr';
import { backoffMs, type BackoffOptions } from './backoff.js';
import type {
  SocketCloseEvent,
  SocketMessageEvent,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

// Records: about 3× faster for the server to decode than plain maps (README, protocol v1).
const packr = new Packr();

export interface ConnectionOptions {
  /**
   * The full socket URL, e.g. `ws://127.0.0.1:8080/v1/ingest?key=…`; a function is called
   * again before every attempt, so a resuming socket can name the last message it saw.
   */
  url: string | (() => string);
  WebSocket: WebSocketConstructor;
  backoff: BackoffOptions;
}

export interface ConnectionHandlers {
  /** The socket is open (again): resend and resubscribe here. */
  open(): void;
  /** One decoded server message. */
  message(message: Record<string, unknown>): void;
  /** An open socket closed; a reconnect is already scheduled. */
  close(event: SocketCloseEvent): void;
}

/** One logical socket that reopens itself until `close()`. */
export interface Connection {
  readonly isOpen: boolean;
  /** Times the socket opened again after having been open before. */
  readonly reconnects: number;
  /** Encodes and sends one message; false (nothing sent) while the socket is not open. */
  send(message: object): boolean;
  /** Encodes without sending, so that a caller can check a frame's size first. */
  encode(message: object): Uint8Array;
  /** Sends bytes from `encode`; false while the socket is not open. */
  sendBytes(bytes: Uint8Array): boolean;
  close(): void;
}

const OPEN = 1; // WebSocket.OPEN, the same in browsers and `ws`

/**
 * Opens `options.url` and keeps it open: after every close or failed attempt it retries
 * with capped exponential backoff and jitter. A browser coming back online retries at once.
 *
 * @example
 * const conn = openConnection(
 *   { url: 'ws://127.0.0.1:8080/v1/live?key=…', WebSocket, backoff: defaultBackoff },
 *   { open: () => conn.send({ t: 'sub', id: 1, stream: 'active_users' }), message: console.log, close() {} },
 * );
 */
export function openConnection(
  options: ConnectionOptions,
  handlers: ConnectionHandlers,
): Connection {
  let socket: WebSocketLike | undefined;
  let isOpen = false;
  let stopped = false;
  let attempt = 0;
  let opens = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const retry = () => {
    if (stopped || timer !== undefined) return;
    attempt += 1;
    timer = setTimeout(connect, backoffMs(attempt, options.backoff));
  };

  function connect() {
    timer = undefined;
    if (stopped) return;
    const ws = new options.WebSocket(typeof options.url === 'string' ? options.url : options.url());
    socket = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      attempt = 0;
      isOpen = true;
      opens += 1;
      handlers.open();
    };
    ws.onmessage = (event: SocketMessageEvent) => {
      const message = decode(event.data);
      if (message) handlers.message(message);
    };
    // Every error is followed by a close, which schedules the retry.
    ws.onerror = () => undefined;
    ws.onclose = (event: SocketCloseEvent) => {
      const wasOpen = isOpen;
      isOpen = false;
      if (socket === ws) socket = undefined;
      if (wasOpen) handlers.close(event);
      retry();
    };
  }

  const wake = () => {
    if (stopped || isOpen || timer === undefined) return;
    clearTimeout(timer);
    attempt = 0;
    connect();
  };
  const events = globalThis as { addEventListener?: Listen; removeEventListener?: Listen };
  events.addEventListener?.('online', wake);

  const sendBytes = (bytes: Uint8Array) => {
    if (!isOpen || socket?.readyState !== OPEN) return false;
    socket.send(bytes);
    return true;
  };

  connect();
  return {
    get isOpen() {
      return isOpen;
    },
    get reconnects() {
      return Math.max(0, opens - 1);
    },
    encode: (message) => packr.pack(message),
    sendBytes,
    send: (message) => isOpen && sendBytes(packr.pack(message)),
    close() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      events.removeEventListener?.('online', wake);
      isOpen = false;
      socket?.close(1000, 'client closed');
      socket = undefined;
    },
  };
}

type Listen = (type: string, listener: () => void) => void;

function decode(data: unknown): Record<string, unknown> | undefined {
  if (!(data instanceof ArrayBuffer)) return undefined;
  try {
    const message: unknown = unpack(new Uint8Array(data));
    return typeof message === 'object' && message !== null && !Array.isArray(message)
      ? (message as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined; // not MessagePack: nothing the protocol sends, so nothing to act on
  }
}
