import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import {
  decode,
  type ClientOptions,
  type IngestClient,
  type MessageHandler,
} from './ingest-client.js';

// RFC 6455, 1.3: the server proves it read the handshake by hashing the key with this.
const acceptGuid = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const opcode = { text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/**
 * A WebSocket client over a bare TCP socket (RFC 6455): the opening handshake (status 101 and
 * `Sec-WebSocket-Accept` checked), pongs to the server's pings, server frames decoded, masked
 * frames sent, the closing handshake. For holding idle sockets by the ten thousand: one load
 * worker opening 16,000 with `ws` took 1.25–2 ms of CPU and 9 KB of heap per socket, with this
 * 0.6 ms and 2.6 KB, so a worker on shared cores stalls less and writes its upgrade requests
 * before uWS gives up on them (10 s after the accept). No extensions, no fragmented messages
 * (uWS sends neither unless asked).
 */
export async function openIdleWsClient(options: ClientOptions): Promise<IngestClient> {
  const url = new URL(options.url);
  const { hostname: host, port } = url;
  const socket = connect({ host, port: Number(port), localAddress: options.localAddress });
  socket.setNoDelay(true);
  const rest = await handshake(socket, url, options.connectTimeoutMs);
  return holdSocket(socket, rest);
}

/**
 * Sends the upgrade request once connected and reads the answer; resolves with the bytes
 * after it (frames already sent), rejects (the socket destroyed) with `HTTP_<status>`, the
 * socket's error, `HANG_UP` (closed unanswered, as uWS does with a request that came too
 * late) or `HANDSHAKE_TIMEOUT`.
 */
function handshake(socket: Socket, url: URL, timeoutMs: number): Promise<Buffer> {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1')
    .update(key + acceptGuid)
    .digest('base64');
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const settle = (err: Error | undefined, rest?: Buffer) => {
      clearTimeout(timer);
      socket.removeListener('connect', onConnect).removeListener('data', onData);
      socket.removeListener('error', onError).removeListener('close', onClose);
      if (err) {
        socket.destroy();
        reject(err);
        return;
      }
      // Chunks already read would otherwise go to no listener before holdSocket has one.
      socket.pause();
      resolve(rest!);
    };
    const failed = (code: string, message: string) =>
      settle(Object.assign(new Error(message), { code }));
    const timer = setTimeout(() => failed('HANDSHAKE_TIMEOUT', 'handshake timed out'), timeoutMs);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = head.toString('latin1', 0, end).split('\r\n');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1] ?? '0';
      if (status !== '101') return settle(new Error(`HTTP_${status}`));
      if (!lines.some((line) => isHeader(line, 'sec-websocket-accept', accept)))
        return settle(new Error('HTTP_101 without the expected Sec-WebSocket-Accept'));
      settle(undefined, head.subarray(end + 4));
    };
    const onConnect = () => socket.write(upgradeRequest(url, key));
    const onError = (err: Error) => settle(err);
    const onClose = () => failed('HANG_UP', 'socket hang up');
    socket.once('connect', onConnect).on('data', onData);
    socket.once('error', onError).once('close', onClose);
  });
}

/** The open socket as an IngestClient: pongs, server frames to the handler, close handshake. */
function holdSocket(socket: Socket, rest: Buffer): IngestClient {
  let handler: MessageHandler = () => undefined;
  let open = !socket.destroyed;
  let closeCode: string | undefined = open ? undefined : '1006';
  const closed = new Promise<void>((resolve) => {
    if (!open) return resolve();
    socket.once('close', () => {
      open = false;
      closeCode ??= '1006'; // no close frame came first
      resolve();
    });
  });
  socket.on('error', () => undefined); // 'close' follows
  const write = (op: number, payload: Uint8Array) => {
    if (!socket.destroyed) socket.write(maskedFrame(op, payload));
  };
  const sendClose = (code: number) => {
    if (!open) return;
    open = false;
    write(opcode.close, Uint8Array.of(code >> 8, code & 0xff));
    socket.end();
  };
  const read = frameReader((op, payload) => {
    if (op === opcode.ping) write(opcode.pong, payload);
    else if (op === opcode.close) {
      closeCode = payload.length >= 2 ? String(payload.readUInt16BE(0)) : '1005';
      sendClose(1000);
    } else if (op === opcode.text || op === opcode.binary) handler(decode(payload));
  });
  if (rest.length > 0) read(rest);
  socket.on('data', read).resume();
  return {
    send: (frame) => open && write(opcode.binary, frame),
    onMessage: (next) => (handler = next),
    isOpen: () => open,
    closeCode: () => closeCode,
    closed,
    close: () => sendClose(1000),
    terminate: () => socket.destroy(),
  };
}

function upgradeRequest(url: URL, key: string): string {
  return (
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: Upgrade\r\n` +
    `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`
  );
}

function isHeader(line: string, name: string, value: string): boolean {
  const colon = line.indexOf(':');
  return (
    line.slice(0, colon).trim().toLowerCase() === name && line.slice(colon + 1).trim() === value
  );
}

/** Cuts the server's (unmasked) frames out of the byte stream, whatever the chunks. */
function frameReader(onFrame: (op: number, payload: Buffer) => void) {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 2) return;
      const short = pending[1]! & 0x7f;
      const headLength = short === 126 ? 4 : short === 127 ? 10 : 2;
      if (pending.length < headLength) return;
      const length =
        short === 126
          ? pending.readUInt16BE(2)
          : short === 127
            ? Number(pending.readBigUInt64BE(2))
            : short;
      if (pending.length < headLength + length) return;
      onFrame(pending[0]! & 0x0f, pending.subarray(headLength, headLength + length));
      pending = pending.subarray(headLength + length);
    }
  };
}

/** A final frame of `op`, masked with a random key as every client frame must be. */
function maskedFrame(op: number, payload: Uint8Array): Buffer {
  const n = payload.length;
  const lengthBytes = n < 126 ? 0 : n < 65_536 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + lengthBytes + 4 + n);
  frame[0] = 0x80 | op;
  frame[1] = 0x80 | (n < 126 ? n : n < 65_536 ? 126 : 127);
  if (lengthBytes === 2) frame.writeUInt16BE(n, 2);
  if (lengthBytes === 8) frame.writeBigUInt64BE(BigInt(n), 2);
  const mask = randomBytes(4);
  mask.copy(frame, 2 + lengthBytes);
  const offset = 2 + lengthBytes + 4;
  for (let i = 0; i < n; i += 1) frame[offset + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}
