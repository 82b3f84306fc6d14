/**
 * Peer baseline: the same ingest exchange on a Socket.IO server, with NO storage and no
 * validation. A frame is a binary `events` event holding the MessagePack `{t:"events", seq,
 * events}`; the reply a binary `ack` event holding `{t:"ack", seq, accepted, duplicates: 0,
 * rejected: []}`, as a Socket.IO user would map protocol v1.
 *
 * Run: `node --import tsx bench/peers/socketio-peer.ts [port]` (or PORT=…; 0 picks a free
 * port). Prints `peer listening on 127.0.0.1:<port>`; stops on SIGTERM or SIGINT.
 */
import { createServer } from 'node:http';
import { Packr, unpack } from 'msgpackr';
import { Server } from 'socket.io';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
// Server messages are plain maps, as backline sends them.
const packr = new Packr({ useRecords: false });

const http = createServer();
// WebSocket only and no deflate: the clients never long-poll, and the bytes match the others'.
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  maxHttpBufferSize: 1024 * 1024,
});

io.on('connection', (socket) => {
  socket.on('events', (payload: Buffer) => {
    const reply = answer(payload);
    if (reply) socket.emit('ack', reply);
  });
});

function answer(data: Buffer): Buffer | undefined {
  try {
    const frame = unpack(data) as { t?: unknown; seq?: unknown; events?: unknown };
    if (frame.t !== 'events' || !Array.isArray(frame.events)) return undefined;
    const accepted = frame.events.length;
    return packr.pack({ t: 'ack', seq: frame.seq, accepted, duplicates: 0, rejected: [] });
  } catch {
    return packr.pack({ t: 'error', code: 'BAD_MSGPACK', msg: 'not valid MessagePack' });
  }
}

http.listen(port, '127.0.0.1', () => {
  const address = http.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  console.log(`peer listening on 127.0.0.1:${bound}`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => {
    io.disconnectSockets(true);
    void io.close(() => process.exit(0));
  });
