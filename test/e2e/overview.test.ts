import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { connect } from '../helpers/socket-client.js';

const venueKey = 'overview_venue_0123456789';
const venueIngestOnly = 'overview_venue_ingest_0123';
const otherKey = 'overview_other_0123456789';
const ticketRule = {
  name: 'ticket',
  trigger: { kind: 'event', types: ['ticket.bought'] },
  audience: { kind: 'user' },
  notification: { category: 'tickets', title: 'Your ticket', body: '', channels: ['in_app'] },
};
const scansStream = {
  name: 'door_scans',
  source: { types: ['door.scan'] },
  window: { kind: 'tumbling', sizeMs: 1000 },
  aggregates: [{ name: 'scans', fn: 'count' }],
  outOfOrderMs: 200,
  idleTickMs: 200,
  allowedLatenessMs: 5000,
};
const config = {
  projects: [
    {
      id: 'venue',
      keys: [
        { key: venueKey, scopes: ['ingest', 'read'] },
        { key: venueIngestOnly, scopes: ['ingest'] },
      ],
      streams: [scansStream],
      rules: [ticketRule],
    },
    {
      id: 'other',
      keys: [{ key: otherKey, scopes: ['ingest', 'read'] }],
      streams: [{ ...scansStream, name: 'other_scans' }],
      rules: [ticketRule],
    },
  ],
};

interface Overview {
  project: string;
  at: number;
  since: number;
  rateWindowMs: number | null;
  events: { scope: string; accepted: number; perSecond: number | null };
  ack: { scope: string; frames: number | null; p50Ms: number | null; p99Ms: number | null };
  rejected: { scope: string; total: number; byCode: Record<string, number> };
  frameErrors: { scope: string; total: number; byCode: Record<string, number> };
  late: { scope: string; byStream: Record<string, { within: number; tooLate: number }> };
  notifications: { scope: string; byChannel: Record<string, Record<string, number>> };
}

const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 15_000 });

describe('GET /v1/overview over the real server', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ config });
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  const get = async (key?: string) => {
    const res = await fetch(`${server.url}/v1/overview`, {
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    return { status: res.status, body: (await res.json()) as Overview & { code?: string } };
  };
  const overview = async (key: string) => (await get(key)).body;

  it('wants a key with the read scope', async () => {
    expect([(await get()).status, (await get()).body.code]).toEqual([401, 'UNAUTHORIZED']);
    const ingestOnly = await get(venueIngestOnly);
    expect([ingestOnly.status, ingestOnly.body.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('counts the project’s own events and notifications, and the server’s errors', async () => {
    const first = await overview(venueKey);
    expect(first).toMatchObject({
      project: 'venue',
      rateWindowMs: null,
      events: { scope: 'project', accepted: 0, perSecond: null },
      ack: { scope: 'server', frames: null, p50Ms: null, p99Ms: null },
      rejected: { scope: 'server', total: 0, byCode: {} },
      frameErrors: { scope: 'server', total: 0, byCode: {} },
      late: { scope: 'server', byStream: { door_scans: { within: 0, tooLate: 0 } } },
      notifications: { scope: 'project', byChannel: {} },
    });

    const ts = Date.now();
    const scan = (id: string, at = ts) => ({ id, type: 'door.scan', ts: at, props: {} });
    const venue = await connect(`${server.wsUrl}/v1/ingest?key=${venueKey}`);
    const good = Array.from({ length: 10 }, (_, i) => scan(`s${i}`));
    const bad = [
      { id: 'no-type', ts },
      { id: 'bad-type', type: 1, ts },
    ];
    venue.send({ t: 'events', seq: 1, events: [...good, ...bad] });
    expect(await venue.nextMessage()).toMatchObject({ t: 'ack', accepted: 10 });
    // After the first frame's watermark (ts − 200 ms): one late within 5 s, one far too late.
    const late = [scan('late', ts - 2000), scan('too-late', ts - 60_000)];
    venue.send({ t: 'events', seq: 2, events: late });
    expect(await venue.nextMessage()).toMatchObject({ t: 'ack', accepted: 2 });
    venue.sendRaw(Buffer.from([0xc1]));
    expect(await venue.nextMessage()).toMatchObject({ t: 'error', code: 'BAD_MSGPACK' });
    const ticket = { id: 't1', type: 'ticket.bought', ts, userId: 'fan-1' };
    venue.send({ t: 'events', seq: 3, events: [ticket] });
    expect(await venue.nextMessage()).toMatchObject({ t: 'ack', accepted: 1 });
    venue.close();
    const other = await fetch(`${server.url}/v1/events?key=${otherKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Timed now, not at `ts`: on a slow machine the idle watermark may have passed `ts`.
      body: JSON.stringify({
        events: [scan('o1', Date.now()), scan('o2', Date.now()), { ...ticket, userId: 'fan-2' }],
      }),
    });
    expect(other.status).toBe(200);

    // The only reading kept so far is the first request's: the rate covers everything sent.
    const second = await overview(venueKey);
    expect(second.rateWindowMs).toBe(second.at - first.at);
    expect(second.events.accepted).toBe(13);
    expect((second.events.perSecond! * second.rateWindowMs!) / 1000).toBeCloseTo(13, 6);
    expect(second.ack.frames).toBe(4); // three acks on the socket, one HTTP batch
    expect(second.ack.p50Ms).toBeGreaterThan(0);
    expect(second.ack.p99Ms).toBeGreaterThanOrEqual(second.ack.p50Ms!);
    expect(second.rejected).toEqual({
      scope: 'server',
      total: 2,
      byCode: { MISSING_FIELD: 1, BAD_FIELD_TYPE: 1 },
    });
    expect(second.frameErrors).toEqual({ scope: 'server', total: 1, byCode: { BAD_MSGPACK: 1 } });
    expect(second.late.byStream).toEqual({ door_scans: { within: 1, tooLate: 1 } });

    // Decisions reach ClickHouse in batches: the offline fan's notification is inbox-only.
    await poll(async () => (await overview(venueKey)).notifications.byChannel).toEqual({
      none: { sent: 1 },
    });
    const theirs = await overview(otherKey);
    expect(theirs).toMatchObject({
      project: 'other',
      events: { accepted: 3 },
      rejected: { total: 2 },
      late: { byStream: { other_scans: { within: 0, tooLate: 0 } } },
      notifications: { byChannel: { none: { sent: 1 } } },
    });
    expect(Object.keys(theirs.late.byStream)).toEqual(['other_scans']);
  });
});
