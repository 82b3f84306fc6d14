import { Packr, unpack } from 'msgpackr';
import { retryDelayMs, type BackoffOptions } from './backoff.js';
import type {
  SocketCloseEvent,
  SocketMessageEvent,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

// Records: about 3× faster for the server to decode than plain maps (README, protocol v1).
const packr = new Packr();

export interface ConnectionOptions {
  /** The servers' base URLs (`http(s)://` or `ws(s)://`), tried in turn. */
  servers: readonly string[];
  /** Index in `servers` of the first attempt. */
  start: number;
  /**
   * The full socket URL on one server, e.g. `ws://127.0.0.1:8080/v1/ingest?key=…`; called
   * again before every attempt, so a resuming socket can name the last message it saw.
   */
  url: (server: string) => string;
  WebSocket: WebSocketConstructor;
  backoff: BackoffOptions;
  /**
   * An attempt still not open after this many ms is given up and the next server tried: a
   * node that vanished without a reset (a dead host, a dropped route) would otherwise hold
   * the attempt for the operating system's connect timeout.
   */
  openTimeoutMs: number;
  /** For the jitter; tests pass their own. */
  random?: () => number;
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
  /** The server (an entry of `servers`) of the open socket, or of the attempt under way. */
  readonly server: string;
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
 * Opens a socket to one of `options.servers` and keeps it open. Every attempt after a failed
 * one or after a close goes to the next server of the list; within a round of the list it
 * follows at once (a short random step), after a full round it waits a capped exponential
 * backoff with jitter. A socket that stayed open for `backoff.maxMs` starts a fresh round;
 * one that closed sooner counts as a failed attempt. A browser coming back online retries
 * at once.
 *
 * @example
 * const conn = openConnection(
 *   { servers: ['http://a:8080', 'http://b:8080'], start: 0, openTimeoutMs: 10_000,
 *     url: (server) => socketUrl(server, '/v1/live', { key }), WebSocket, backoff: defaultBackoff },
 *   { open: () => conn.send({ t: 'sub', id: 1, stream: 'active_users' }), message: console.log, close() {} },
 * );
 */
export function openConnection(
  options: ConnectionOptions,
  handlers: ConnectionHandlers,
): Connection {
  const { servers } = options;
  let socket: WebSocketLike | undefined;
  let isOpen = false;
  let stopped = false;
  // Attempts in a row that did not open or closed soon after: a node that accepts and drops
  // every socket must cost backoff rounds, not a loop of short steps.
  let failures = 0;
  let index = ((options.start % servers.length) + servers.length) % servers.length;
  let opens = 0;
  let openedAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let giveUp: ReturnType<typeof setTimeout> | undefined;

  const retry = () => {
    if (stopped || timer !== undefined) return;
    failures += 1;
    index = (index + 1) % servers.length;
    const delay = retryDelayMs(failures, servers.length, options.backoff, options.random);
    timer = setTimeout(connect, delay);
  };

  function connect() {
    timer = undefined;
    if (stopped) return;
    const ws = new options.WebSocket(options.url(servers[index]!));
    socket = ws;
    let ended = false;
    // Once per socket, whether it closed or was given up: a late close event changes nothing.
    const end = (event: SocketCloseEvent) => {
      if (ended) return;
      ended = true;
      clearTimeout(giveUp);
      if (socket !== ws) return; // closed by `close()`
      socket = undefined;
      const wasOpen = isOpen;
      isOpen = false;
      if (wasOpen && Date.now() - openedAt >= options.backoff.maxMs) failures = 0;
      if (wasOpen) handlers.close(event);
      retry();
    };
    giveUp = setTimeout(() => {
      ws.close(4000, 'open timed out');
      end({ code: 1006, reason: 'open timed out' }); // a stuck socket may be slow to close
    }, options.openTimeoutMs);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      if (ended) return ws.close(1000, 'client closed');
      clearTimeout(giveUp);
      openedAt = Date.now();
      isOpen = true;
      opens += 1;
      handlers.open();
    };
    ws.onmessage = (event: SocketMessageEvent) => {
      const message = ended ? undefined : decode(event.data);
      if (message) handlers.message(message);
    };
    // Every error is followed by a close, which schedules the retry.
    ws.onerror = () => undefined;
    ws.onclose = end;
  }

  const wake = () => {
    if (stopped || isOpen || timer === undefined) return;
    clearTimeout(timer);
    failures = 0;
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
    get server() {
      return servers[index]!;
    },
    get reconnects() {
      return Math.max(0, opens - 1);
    },
    encode: (message) => packr.pack(message),
    sendBytes,
    send: (message) => isOpen && sendBytes(packr.pack(message)),
    close() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(giveUp);
      events.removeEventListener?.('online', wake);
      isOpen = false;
      const open = socket;
      socket = undefined;
      open?.close(1000, 'client closed');
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
