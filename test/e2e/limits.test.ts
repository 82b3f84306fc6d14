import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, makeEvents, stats } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const key = 'limited_key_0123456789abcdef';
let server: ServerProcess;

beforeAll(async () => {
  server = await startServer({
    config: {
      projects: [{ id: 'slow', keys: [{ key, scopes: ['ingest', 'read'] }] }],
      limits: { eventsPerSecond: 50, burstEvents: 100 },
    },
  });
});
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

describe('rate limits', () => {
  it('answers RATE_LIMITED with a retry hint on the socket and takes the frame later', async () => {
    const client = await connect(`${server.wsUrl}/v1/ingest?key=${key}`);
    const events = makeEvents(100, 'rl');
    client.send({ t: 'events', seq: 1, events });
    expect(await client.nextMessage()).toMatchObject({ t: 'ack', seq: 1, accepted: 100 });
    const more = makeEvents(50, 'rl2');
    client.send({ t: 'events', seq: 2, events: more });
    const error = await client.nextMessage();
    expect(error).toMatchObject({ t: 'error', code: 'RATE_LIMITED', seq: 2 });
    expect(error.retryAfterMs).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs as number));
    client.send({ t: 'events', seq: 3, events: more });
    expect(await client.nextMessage()).toMatchObject({ t: 'ack', seq: 3, accepted: 50 });
    client.close();
    expect((await stats(server.url, key)).total).toBe(150);
  });

  it('answers 429 with Retry-After over HTTP', async () => {
    const post = () =>
      fetch(`${server.url}/v1/events?key=${key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: makeEvents(100) }),
      });
    let res = await post();
    while (res.status === 200) res = await post();
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await res.json()).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: expect.any(Number),
    });
  });
});
