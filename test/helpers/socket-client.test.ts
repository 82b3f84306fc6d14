import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { connect } from './socket-client.js';

/** The test client itself: a wait that timed out must not take a later message. */
let server: WebSocketServer;
let peer: Promise<WebSocket>;

beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  peer = new Promise((resolve) => server.once('connection', resolve));
});
afterAll(async () => {
  for (const socket of server.clients) socket.terminate();
  await new Promise((resolve) => server.close(resolve));
});

describe('socket test client', () => {
  it('gives the message after a timed-out wait to the next wait', async () => {
    const { port } = server.address() as { port: number };
    const client = await connect(`ws://127.0.0.1:${port}`);
    await expect(client.nextMessage(50)).rejects.toThrow('timed out after 50 ms');
    (await peer).send(pack({ t: 'window', n: 1 }));
    expect(await client.nextMessage(5000)).toEqual({ t: 'window', n: 1 });
    client.close();
  });
});
