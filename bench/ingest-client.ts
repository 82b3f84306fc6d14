import { unpack } from 'msgpackr';
import WebSocket, { type RawData } from 'ws';

/** One load socket, whatever carries it: the driver only sends frames and reads replies. */
export interface IngestClient {
  send(frame: Uint8Array): void;
  /** Sets (replacing any earlier one) who gets every server message, decoded. */
  onMessage(handler: MessageHandler): void;
  isOpen(): boolean;
  /** Once closed: the WebSocket close code (1006: the connection dropped) or the reason. */
  closeCode(): string | undefined;
  readonly closed: Promise<void>;
  close(): void;
  terminate(): void;
}

/** `msg` is undefined for a reply that is not a MessagePack map. */
export type MessageHandler = (msg: Record<string, unknown> | undefined) => void;

export interface ClientOptions {
  url: string;
  localAddress: string;
  connectTimeoutMs: number;
}

/** Opens a protocol v1 ingest socket; rejects with `HTTP_<status>` or the socket error. */
export function openWsClient(options: ClientOptions): Promise<IngestClient> {
  // Offer no deflate: backline compresses nothing (uWS's default), so no peer may either.
  const ws = new WebSocket(options.url, {
    perMessageDeflate: false,
    handshakeTimeout: options.connectTimeoutMs,
    localAddress: options.localAddress,
  });
  // 'error' is always followed by 'close'; a listener keeps it from crashing the worker.
  ws.on('error', () => undefined);
  let closeCode: string | undefined;
  const closed = new Promise<void>((resolve) =>
    ws.once('close', (code) => {
      closeCode = String(code);
      resolve();
    }),
  );
  // One listener for the socket's life; each run of the worker swaps in its own handler.
  let handler: MessageHandler = () => undefined;
  ws.on('message', (data: RawData) => handler(decode(data)));
  return new Promise<IngestClient>((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP_${res.statusCode ?? 0}`));
      ws.terminate();
    });
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        send: (frame) => ws.send(frame),
        onMessage: (next) => {
          handler = next;
        },
        isOpen: () => ws.readyState === WebSocket.OPEN,
        closeCode: () => closeCode,
        closed,
        close: () => ws.close(1000, 'bench done'),
        terminate: () => ws.terminate(),
      }),
    );
  });
}

export function decode(data: RawData | Uint8Array): Record<string, unknown> | undefined {
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
