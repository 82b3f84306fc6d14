import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { connect, type Message, type SocketClient } from '../helpers/socket-client.js';
import { upgradeRefusal } from '../helpers/user-app.js';

/** Who reads which stream, over the real server: `private`, `users` and `public` streams. */
const adminKey = 'access_admin_key_0123456789';
const readKey = 'access_read_key_0123456789';
const otherKey = 'access_other_key_0123456789';
let server: ServerProcess;

const stream = (name: string, access?: string) => ({
  name,
  ...(access ? { access } : {}),
  source: { types: ['vote'] },
  window: { kind: 'tumbling', sizeMs: 600_000 },
  aggregates: [{ name: 'votes', fn: 'count' }],
  outOfOrderMs: 1000,
  emit: { mode: 'early', everyMs: 50 },
});

beforeAll(async () => {
  server = await startServer({
    config: {
      // Small budgets, so the ones a caller without a credential takes can be seen to end.
      limits: { userRequestsPerSecond: 0.5, userBurstRequests: 8 },
      projects: [
        {
          id: 'gig',
          keys: [
            { key: adminKey, scopes: ['ingest', 'admin'] },
            { key: readKey, scopes: ['read'] },
          ],
          streams: [stream('tally', 'public'), stream('fans_only', 'users'), stream('books')],
        },
        {
          id: 'other',
          keys: [{ key: otherKey, scopes: ['ingest', 'read'] }],
          streams: [stream('tally', 'public')],
        },
      ],
    },
  });
  const events = [1, 2, 3].map((i) => ({
    id: `v${i}`,
    type: 'vote',
    ts: Date.now(),
    userId: `u${i}`,
  }));
  const res = await fetch(`${server.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  expect(await res.json()).toMatchObject({ accepted: 3 });
});
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

let users = 0;
/** A backline user token of a fresh user of `gig` (each has a budget of its own). */
async function userToken(): Promise<string> {
  users += 1;
  const res = await fetch(`${server.url}/v1/users/fan${users}/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}` },
  });
  return ((await res.json()) as { token: string }).token;
}

/** The answer to a subscription: the next message of its id (an earlier one's updates go by). */
async function sub(socket: SocketClient, id: string, stream: string): Promise<Message> {
  socket.send({ t: 'sub', id, stream });
  for (;;) {
    const message = await socket.nextMessage();
    if (message.id === id) return message;
  }
}

const windows = (path: string, bearer?: string) =>
  fetch(`${server.url}${path}`, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});

const snapshotVotes = (message: Message) =>
  (message.windows as Array<{ values: { votes: number } }>).map((w) => w.values.votes);

describe('public streams', () => {
  it('serve anyone on /v1/live with ?project= and no credential, and nothing else', async () => {
    const page = await connect(`${server.wsUrl}/v1/live?project=gig`);
    const tally = await sub(page, 't', 'tally');
    expect(tally).toMatchObject({ t: 'snapshot', id: 't' });
    expect(snapshotVotes(tally)).toEqual([3]);
    for (const name of ['fans_only', 'books', 'nope'])
      expect(await sub(page, name, name)).toMatchObject({
        t: 'error',
        code: 'UNAUTHORIZED',
        id: name,
      });
    page.close();
    // Another project's public stream of the same name is its own.
    const other = await connect(`${server.wsUrl}/v1/live?project=other`);
    expect(snapshotVotes(await sub(other, 't', 'tally'))).toEqual([]);
    other.close();
    expect(await upgradeRefusal(`${server.wsUrl}/v1/live`)).toMatchObject({
      status: 401,
      body: { code: 'UNAUTHORIZED' },
    });
  });

  it('serve their windows and rollups over HTTP without a credential; other routes still need a key', async () => {
    const open = await windows('/v1/streams/tally/windows?project=gig');
    expect(open.status).toBe(200);
    expect(((await open.json()) as { windows: unknown[] }).windows).toHaveLength(1);
    expect((await windows('/v1/streams/tally/rollup?project=gig&bucket=all')).status).toBe(200);
    for (const path of [
      '/v1/streams/books/windows?project=gig',
      '/v1/streams/fans_only/windows?project=gig',
      '/v1/streams/tally/windows',
      '/v1/streams?project=gig',
      '/v1/streams/tally?project=gig',
    ]) {
      const res = await windows(path);
      expect([path, res.status]).toEqual([path, 401]);
    }
  });

  it('take a budget per socket, or per address over HTTP, when no credential comes', async () => {
    const page = await connect(`${server.wsUrl}/v1/live?project=gig`);
    const answers: string[] = [];
    for (let i = 0; i < 10; i++)
      answers.push(String((await sub(page, `s${i}`, 'tally')).code ?? 'ok'));
    expect(answers.slice(0, 8)).toEqual(Array(8).fill('ok'));
    expect(answers.slice(8)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    page.close();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push((await windows('/v1/streams/tally/windows?project=gig')).status);
    expect(statuses).toContain(429);
  });
});

describe('streams open to users', () => {
  it('serve any signed-in user of the project, live and over HTTP; private ones only keys', async () => {
    const token = await userToken();
    const live = await connect(`${server.wsUrl}/v1/live?token=${token}`);
    expect(snapshotVotes(await sub(live, 'f', 'fans_only'))).toEqual([3]);
    expect(await sub(live, 't', 'tally')).toMatchObject({ t: 'snapshot' });
    expect(await sub(live, 'b', 'books')).toMatchObject({ t: 'error', code: 'FORBIDDEN', id: 'b' });
    expect(await sub(live, 'n', 'nope')).toMatchObject({
      t: 'error',
      code: 'UNKNOWN_STREAM',
      id: 'n',
    });
    live.close();
    const http = await userToken();
    expect((await windows('/v1/streams/fans_only/windows', http)).status).toBe(200);
    expect((await windows(`/v1/streams/fans_only/windows?token=${http}`)).status).toBe(200);
    expect((await windows('/v1/streams/books/windows', http)).status).toBe(403);
    expect((await windows('/v1/streams', http)).status).toBe(401);
  });

  it('let read keys read every stream, private ones included', async () => {
    const dash = await connect(`${server.wsUrl}/v1/live?key=${readKey}`);
    for (const name of ['books', 'fans_only', 'tally'])
      expect(snapshotVotes(await sub(dash, name, name))).toEqual([3]);
    dash.close();
    expect((await windows('/v1/streams/books/windows', readKey)).status).toBe(200);
  });

  it('end a user’s subscription when the stream is made private, and keep the keys’ ones', async () => {
    const user = await connect(`${server.wsUrl}/v1/live?token=${await userToken()}`);
    const dash = await connect(`${server.wsUrl}/v1/live?key=${readKey}`);
    expect(await sub(user, 'u', 'fans_only')).toMatchObject({ t: 'snapshot' });
    expect(await sub(dash, 'd', 'fans_only')).toMatchObject({ t: 'snapshot' });
    const put = await fetch(`${server.url}/v1/streams/fans_only`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ ...stream('fans_only', 'private'), name: undefined }),
    });
    expect(put.status).toBe(200);
    expect(await user.nextMessage()).toMatchObject({ t: 'error', code: 'FORBIDDEN', id: 'u' });
    await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [{ id: 'v9', type: 'vote', ts: Date.now() }] }),
    });
    expect(await dash.nextMessage()).toMatchObject({ t: 'window', id: 'd' });
    await user.expectNoMessage(300);
    user.close();
    dash.close();
  });
});
