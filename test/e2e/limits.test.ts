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
    const more = makeEvents(50, 'rl2');
    // Back to back: the second frame meets the bucket the first one emptied, however long
    // the first one's ack (which waits for ClickHouse) takes on a loaded machine.
    client.send({ t: 'events', seq: 1, events });
    client.send({ t: 'events', seq: 2, events: more });
    const replies = [await client.nextMessage(), await client.nextMessage()];
    const bySeq = new Map(replies.map((reply) => [reply.seq, reply]));
    expect(bySeq.get(1)).toMatchObject({ t: 'ack', seq: 1, accepted: 100 });
    const error = bySeq.get(2)!;
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
    // At once: the project's bucket holds one request's events, whatever the acks take.
    const answers = await Promise.all([post(), post()]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 429]);
    await answers.find((r) => r.status === 200)!.arrayBuffer();
    const res = answers.find((r) => r.status === 429)!;
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await res.json()).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: expect.any(Number),
    });
  });
});
