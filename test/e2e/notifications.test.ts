import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type SocketClient } from '../helpers/socket-client.js';
import { removeDir, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

const key = 'notify_admin_key_0123456789ab';
const notification = (category: string, title: string, extra: object = {}) => ({
  category,
  title,
  body: '',
  channels: ['in_app'],
  ...extra,
});
const config = {
  projects: [
    {
      id: 'live',
      keys: [{ key, scopes: ['ingest', 'read', 'admin'] }],
      streams: [
        {
          name: 'score',
          source: { types: ['score'] },
          groupBy: ['props.showId'],
          window: { kind: 'tumbling', sizeMs: 600_000 },
          aggregates: [{ name: 'avg', fn: 'avg', field: 'props.v' }],
          outOfOrderMs: 1000,
          emit: { mode: 'early', everyMs: 50 },
        },
      ],
      rules: [
        {
          name: 'welcome',
          trigger: { kind: 'event', types: ['user.signup'] },
          audience: { kind: 'user' },
          notification: notification('welcome', 'Welcome {{props.name}}'),
        },
        {
          name: 'nudge',
          trigger: {
            kind: 'absence',
            first: { types: ['user.signup'] },
            then: { types: ['artist.follow'] },
            withinMs: 1500,
          },
          audience: { kind: 'user' },
          notification: notification('nudge', 'Follow an artist'),
        },
        {
          name: 'hot',
          trigger: {
            kind: 'threshold',
            stream: 'score',
            value: 'avg',
            above: 1000,
            hysteresis: 10,
          },
          audience: { kind: 'list', users: ['fan'] },
          notification: notification('hot', 'Show {{key}} is hot'),
        },
        {
          name: 'promo',
          trigger: { kind: 'event', types: ['promo'] },
          audience: { kind: 'user' },
          notification: notification('promo', 'Promo {{props.code}}', {
            dedupKey: 'promo-{{props.code}}',
          }),
        },
        {
          name: 'reminder',
          trigger: {
            kind: 'schedule',
            types: ['show.scheduled'],
            at: { field: 'props.startsAt', offsetMs: 0 },
          },
          audience: { kind: 'user' },
          notification: notification('reminder', 'Show {{props.showId}} starts now'),
        },
      ],
      notifications: { caps: [{ category: 'promo', max: 2, periodMs: 3600_000 }] },
    },
  ],
};

let server: ServerProcess;
let ingest: SocketClient;
let seq = 0;

async function send(events: Array<Record<string, unknown>>): Promise<void> {
  seq += 1;
  ingest.send({
    t: 'events',
    seq,
    events: events.map((e, i) => ({ id: `e${seq}-${i}`, ts: Date.now(), ...e })),
  });
  expect(await ingest.nextMessage()).toMatchObject({ t: 'ack', seq, accepted: events.length });
}

const api = (srv: ServerProcess, path: string, init: RequestInit = {}) =>
  fetch(`${srv.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, ...(init.headers ?? {}) },
  });

async function userSocket(userId: string): Promise<SocketClient> {
  const { token } = (await (
    await api(server, `/v1/users/${userId}/token`, { method: 'POST' })
  ).json()) as { token: string };
  const socket = await connect(`${server.wsUrl}/v1/user?token=${token}`);
  expect(await socket.nextMessage()).toMatchObject({ t: 'counts' });
  return socket;
}

async function inbox(
  srv: ServerProcess,
  userId: string,
): Promise<Array<{ category: string; title: string; ts: number }>> {
  return (
    (await (await api(srv, `/v1/users/${userId}/inbox?limit=500`)).json()) as {
      items: Array<{ category: string; title: string; ts: number }>;
    }
  ).items;
}

async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  ms = 5000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > end) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  server = await startServer({ config, key });
  ingest = await connect(`${server.wsUrl}/v1/ingest?key=${key}`);
});
afterAll(async () => {
  ingest?.close();
  await server?.stop();
  removeDir(server.dataDir);
});

describe('notifications end to end', () => {
  it('event rule: a signup is welcomed on the user socket', async () => {
    const alice = await userSocket('alice');
    await send([{ type: 'user.signup', userId: 'alice', props: { name: 'Alice' } }]);
    expect(await alice.nextMessage()).toMatchObject({
      t: 'notification',
      n: { category: 'welcome', title: 'Welcome Alice' },
    });

    // Absence: no artist.follow within 1.5 s → the nudge comes too.
    expect(await alice.nextMessage(5000)).toMatchObject({
      t: 'notification',
      n: { category: 'nudge' },
    });
    alice.close();
  });

  it('absence rule: no nudge when B follows A in time', async () => {
    await send([{ type: 'user.signup', userId: 'bob', props: { name: 'Bob' } }]);
    await send([{ type: 'artist.follow', userId: 'bob', props: { artistId: 'a1' } }]);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await inbox(server, 'bob')).map((n) => n.category)).toEqual(['welcome']);
  });

  it('threshold rule: an average hovering around the bound notifies once per hysteresis crossing', async () => {
    // Running averages: 990, 1001 (cross), 994, 985.5 (re-arm below 990), 1002.4 (cross), 995.
    for (const v of [990, 1012, 980, 960, 1070, 960]) {
      await send([{ type: 'score', userId: 'x', props: { showId: 's1', v } }]);
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    const hot = await eventually(
      async () => (await inbox(server, 'fan')).filter((n) => n.category === 'hot'),
      (items) => items.length >= 2,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await inbox(server, 'fan')).filter((n) => n.category === 'hot')).toHaveLength(2);
    expect(hot[0]!.title).toBe('Show s1 is hot');
  });

  it('de-duplicates by key and caps the (N+1)th, and the decision log says why', async () => {
    for (const code of ['A', 'A', 'B', 'C'])
      await send([{ type: 'promo', userId: 'dora', props: { code } }]);
    const promos = await eventually(
      async () => (await inbox(server, 'dora')).filter((n) => n.category === 'promo'),
      (items) => items.length >= 2,
    );
    expect(promos.map((n) => n.title).sort()).toEqual(['Promo A', 'Promo B']);
    const decisions = await eventually(
      async () =>
        (
          (await (await api(server, '/v1/users/dora/decisions?rule=promo')).json()) as {
            decisions: Array<{ outcome: string; reason: string }>;
          }
        ).decisions,
      (rows) => rows.filter((d) => d.outcome === 'suppressed').length >= 2,
    );
    const reasons = decisions
      .filter((d) => d.outcome === 'suppressed')
      .map((d) => d.reason.split(':')[0])
      .sort();
    expect(reasons).toEqual(['cap', 'duplicate']);
  });

  it('defers during quiet hours, and the decision log answers why nothing arrived yet', async () => {
    const hour = new Date().getUTCHours();
    const quietHours = {
      start: `${String(hour).padStart(2, '0')}:00`,
      end: `${String((hour + 2) % 24).padStart(2, '0')}:00`,
    };
    const put = await api(server, '/v1/users/erin/preferences', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ quietHours, timeZone: 'UTC' }),
    });
    expect(put.status).toBe(200);
    await send([{ type: 'user.signup', userId: 'erin', props: { name: 'Erin' } }]);
    const decisions = await eventually(
      async () =>
        (
          (await (await api(server, '/v1/users/erin/decisions?rule=welcome')).json()) as {
            decisions: Array<{ outcome: string; reason: string }>;
          }
        ).decisions,
      (rows) => rows.length > 0,
    );
    expect(decisions[0]).toMatchObject({ outcome: 'deferred' });
    expect(decisions[0]!.reason).toMatch(/^quiet_hours: until \d{4}-\d\d-\d\dT\d\d:00:00/);
    expect(await inbox(server, 'erin')).toEqual([]);
  });
});

/** A reminder for carol due `leadMs` from now, taken by a server that is then stopped. */
async function scheduleThenStop(leadMs: number) {
  const dataDir = tempDir();
  const first = await startServer({ config, key, dataDir });
  const client = await connect(`${first.wsUrl}/v1/ingest?key=${key}`);
  const startsAt = Date.now() + leadMs;
  client.send({
    t: 'events',
    seq: 1,
    events: [
      {
        id: 'sched-1',
        type: 'show.scheduled',
        ts: Date.now(),
        userId: 'carol',
        props: { showId: 'x9', startsAt },
      },
    ],
  });
  expect(await client.nextMessage()).toMatchObject({ t: 'ack', accepted: 1 });
  client.close();
  expect(await first.stop()).toBe(0);
  return { dataDir, startsAt, stoppedAt: Date.now() };
}

describe('schedule rule across a restart', () => {
  it('fires once after restart when its time passed while the server was down', async () => {
    // The reminder must come due while no server runs. A loaded machine may take longer than
    // the lead to ack and stop; then the first server could have fired it itself, which
    // proves nothing, so the run is repeated with a longer lead rather than judged.
    let run = await scheduleThenStop(2000);
    if (run.stoppedAt >= run.startsAt) {
      removeDir(run.dataDir);
      run = await scheduleThenStop(10_000);
    }
    const { dataDir, startsAt, stoppedAt } = run;
    expect(stoppedAt, 'the first server was down before the reminder came due').toBeLessThan(
      startsAt,
    );
    await new Promise((resolve) => setTimeout(resolve, startsAt - Date.now() + 300));

    const second = await startServer({ config, key, dataDir });
    const items = await eventually(
      () => inbox(second, 'carol'),
      (list) => list.length >= 1,
    );
    expect(items.map((n) => n.title)).toEqual(['Show x9 starts now']);
    // Created by the restarted server: after the first one had stopped, not before.
    expect(items[0]!.ts).toBeGreaterThan(stoppedAt);
    expect(await second.stop()).toBe(0);

    const third = await startServer({ config, key, dataDir });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await inbox(third, 'carol')).map((n) => n.title)).toEqual(['Show x9 starts now']);
    await third.stop();
    removeDir(dataDir);
  }, 240_000);
});
