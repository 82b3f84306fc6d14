import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createFrameEncoder } from '../../bench/event-frames.js';
import { openIdleWsClient } from '../../bench/idle-ws-client.js';
import { inProcessKeys, startInProcessServer } from '../helpers/in-process-server.js';

const options = { localAddress: '127.0.0.1', connectTimeoutMs: 5000 };

/** `ws`'s server checks every client frame as RFC 6455 asks (masking, lengths, close codes). */
async function strictPeer(onConnection: (socket: WebSocket) => void) {
  const http: Server = createServer((_req, res) => res.writeHead(418).end());
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => {
    if (req.url !== '/ok') return socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    wss.handleUpgrade(req, socket, head, onConnection);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: (path: string) => `ws://127.0.0.1:${port}${path}`,
    close: () => {
      for (const client of wss.clients) client.terminate();
      return new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

describe('idle WebSocket client (bench/idle-ws-client.ts)', () => {
  it('answers a ping with its payload, sends masked frames and reads server frames', async () => {
    const received: Buffer[] = [];
    const pongs: Buffer[] = [];
    const peer = await strictPeer((socket) => {
      socket.on('pong', (data) => pongs.push(data));
      socket.on('message', (data) => {
        received.push(data as Buffer);
        socket.send(Buffer.from([0x81, 0xa1, 0x74, 0x02])); // msgpack {t: 2}
      });
      socket.ping(Buffer.from('are you there'));
    });
    try {
      const client = await openIdleWsClient({ ...options, url: peer.url('/ok') });
      const replies: unknown[] = [];
      client.onMessage((msg) => replies.push(msg));
      client.send(new Uint8Array(70_000).fill(7)); // a 64-bit length, masked
      await expect.poll(() => replies.length).toBe(1);
      expect(replies[0]).toEqual({ t: 2 });
      expect(received[0]).toEqual(Buffer.alloc(70_000, 7));
      expect(pongs.map(String)).toEqual(['are you there']);
      expect(client.isOpen()).toBe(true);
    } finally {
      await peer.close();
    }
  });

  it('takes the close code from the server close frame, and 1006 from a dropped connection', async () => {
    const sockets: WebSocket[] = [];
    const peer = await strictPeer((socket) => sockets.push(socket));
    try {
      const closedByServer = await openIdleWsClient({ ...options, url: peer.url('/ok') });
      const dropped = await openIdleWsClient({ ...options, url: peer.url('/ok') });
      await expect.poll(() => sockets.length).toBe(2);
      sockets[0]!.close(4001, 'bye');
      sockets[1]!.terminate();
      await Promise.all([closedByServer.closed, dropped.closed]);
      expect([closedByServer.closeCode(), dropped.closeCode()]).toEqual(['4001', '1006']);
      expect(closedByServer.isOpen() || dropped.isOpen()).toBe(false);
    } finally {
      await peer.close();
    }
  });

  it('ends with close code 1000 when it closes, as the server echoes it', async () => {
    const codes: number[] = [];
    const peer = await strictPeer((socket) => socket.on('close', (code) => codes.push(code)));
    try {
      const client = await openIdleWsClient({ ...options, url: peer.url('/ok') });
      client.close();
      await client.closed;
      expect(client.closeCode()).toBe('1000');
      await expect.poll(() => codes).toEqual([1000]);
    } finally {
      await peer.close();
    }
  });

  it('refuses a non-101 answer with HTTP_<status> and a closed server with HANG_UP', async () => {
    const peer = await strictPeer(() => undefined);
    try {
      await expect(openIdleWsClient({ ...options, url: peer.url('/nope') })).rejects.toThrow(
        'HTTP_403',
      );
    } finally {
      await peer.close();
    }
    const mute = createServer();
    mute.on('upgrade', (_req, socket) => socket.end());
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const { port } = mute.address() as AddressInfo;
    try {
      const url = `ws://127.0.0.1:${port}/ok`;
      await expect(openIdleWsClient({ ...options, url })).rejects.toMatchObject({
        code: 'HANG_UP',
      });
    } finally {
      await new Promise<void>((resolve) => mute.close(() => resolve()));
    }
  });

  describe('against backline', () => {
    let app: Awaited<ReturnType<typeof startInProcessServer>>;
    beforeAll(async () => {
      app = await startInProcessServer();
    });
    afterAll(() => app.stop());

    it('opens an ingest socket whose frame is acknowledged', async () => {
      const url = `${app.origin.replace('http', 'ws')}/v1/ingest?key=${inProcessKeys.admin}`;
      const client = await openIdleWsClient({ ...options, url });
      const replies: Array<Record<string, unknown> | undefined> = [];
      client.onMessage((msg) => replies.push(msg));
      client.send(createFrameEncoder('idle-client-', 3)(1));
      await expect.poll(() => replies.find((msg) => msg?.t === 'ack')).toBeDefined();
      expect(replies.find((msg) => msg?.t === 'ack')).toMatchObject({ seq: 1, accepted: 3 });
      client.close();
      await client.closed;
    });

    it('is refused with HTTP_401 without a valid key', async () => {
      const url = `${app.origin.replace('http', 'ws')}/v1/ingest?key=wrong`;
      await expect(openIdleWsClient({ ...options, url })).rejects.toThrow('HTTP_401');
    });
  });
});
