/**
 * Peer baseline: protocol v1's ingest socket on a plain `ws` server, with NO storage and no
 * validation: it decodes each `events` frame and acknowledges every event at once. It shows
 * what the transport and codec alone cost, next to backline, whose ack waits for ClickHouse.
 *
 * Run: `node --import tsx bench/peers/ws-peer.ts [port]` (or PORT=…; 0 picks a free port).
 * Prints `peer listening on 127.0.0.1:<port>`; stops on SIGTERM or SIGINT.
 */
import { Packr, unpack } from 'msgpackr';
import { WebSocketServer, type RawData } from 'ws';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
// Server messages are plain maps, as backline sends them.
const packr = new Packr({ useRecords: false });

// Deflate off, as on backline's uWS sockets: the comparison is of the same bytes on the wire.
const server = new WebSocketServer({
  host: '127.0.0.1',
  port,
  path: '/v1/ingest',
  perMessageDeflate: false,
});

server.on('connection', (socket) => {
  socket.on('message', (data: RawData) => {
    const reply = answer(data as Buffer);
    if (reply) socket.send(reply);
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

server.on('listening', () => {
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  console.log(`peer listening on 127.0.0.1:${bound}`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => {
    for (const client of server.clients) client.terminate();
    server.close(() => process.exit(0));
  });
