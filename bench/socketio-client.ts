import { io } from 'socket.io-client';
import {
  decode,
  type ClientOptions,
  type IngestClient,
  type MessageHandler,
} from './ingest-client.js';

/**
 * The ingest protocol over Socket.IO, for the peer comparison: a frame is a binary `events`
 * event and the reply a binary `ack` event, with the same MessagePack payloads as protocol v1.
 */
export function openSocketIoClient(options: ClientOptions): Promise<IngestClient> {
  // engine.io-client hands `localAddress` to its `ws` socket but does not declare it.
  const settings: Parameters<typeof io>[1] & { localAddress: string } = {
    // WebSocket only: long-polling first and then upgrading would time another protocol.
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: options.connectTimeoutMs,
    localAddress: options.localAddress,
  };
  const socket = io(options.url, settings);
  let closeCode: string | undefined;
  const closed = new Promise<void>((resolve) =>
    socket.once('disconnect', (reason) => {
      closeCode = reason;
      resolve();
    }),
  );
  let handler: MessageHandler = () => undefined;
  socket.on('ack', (payload: Uint8Array) => handler(decode(Buffer.from(payload))));
  return new Promise<IngestClient>((resolve, reject) => {
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
    socket.once('connect', () =>
      resolve({
        send: (frame) => socket.emit('events', frame),
        onMessage: (next) => {
          handler = next;
        },
        isOpen: () => socket.connected,
        closeCode: () => closeCode,
        closed,
        close: () => socket.close(),
        terminate: () => socket.close(),
      }),
    );
  });
}
