import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionLog } from '../../../src/notify/decision-log.js';
import { openDecisionLog } from '../../helpers/decision-log.js';
import { connect } from '../../helpers/socket-client.js';
import { keys, makeNotification, startUserApp, type UserApp } from '../../helpers/user-app.js';

const dir = mkdtempSync(join(tmpdir(), 'backline-users-'));
let store: Awaited<ReturnType<typeof openDecisionLog>>;
let decisions: DecisionLog;
let server: UserApp;

beforeAll(async () => {
  store = await openDecisionLog(dir);
  decisions = store.decisions;
  server = await startUserApp({ decisions });
});
afterAll(async () => {
  server.close();
  await store.close();
});

type Json = Record<string, unknown>;

async function call(
  method: string,
  path: string,
  credential?: { key?: string; token?: string; bearer?: string },
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const url = new URL(`${server.url}${path}`);
  if (credential?.key) url.searchParams.set('key', credential.key);
  if (credential?.token) url.searchParams.set('token', credential.token);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (credential?.bearer) headers.authorization = `Bearer ${credential.bearer}`;
  const res = await fetch(url, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

const admin = { key: keys.admin };
const read = { key: keys.read };
const usersRead = { key: keys.usersRead };

describe('POST /v1/users/:id/token', () => {
  it('issues a token for the user with an admin key, 24 h by default or ttlMs', async () => {
    const before = Date.now();
    const { status, json } = await call('POST', '/v1/users/fan%201/token', admin);
    expect(status).toBe(200);
    expect(json.expiresAt as number).toBeGreaterThanOrEqual(before + 24 * 3600_000);
    expect(server.tokens.verify(json.token as string)).toEqual({
      projectId: 'p1',
      userId: 'fan 1',
    });

    const short = await call(
      'POST',
      '/v1/users/fan1/token',
      { bearer: keys.admin },
      { ttlMs: 60_000 },
    );
    expect(short.json.expiresAt as number).toBeLessThanOrEqual(Date.now() + 60_000);
    // The token opens the user's socket.
    const client = await connect(`${server.wsUrl}/v1/user?token=${short.json.token as string}`);
    expect((await client.nextMessage()).t).toBe('counts');
    client.close();
  });

  it('refuses other keys, user tokens, no key, and a bad ttlMs', async () => {
    expect((await call('POST', '/v1/users/fan1/token', read)).json.code).toBe('FORBIDDEN');
    const own = { token: server.tokenFor('fan1') };
    expect((await call('POST', '/v1/users/fan1/token', own)).status).toBe(403);
    expect((await call('POST', '/v1/users/fan1/token')).json.code).toBe('UNAUTHORIZED');
    expect((await call('POST', '/v1/users/fan1/token', admin, { ttlMs: -5 })).json.code).toBe(
      'BAD_FRAME',
    );
    expect((await call('POST', '/v1/users/fan1/token', admin, '{oops')).json.code).toBe('BAD_JSON');
  });
});

describe('/v1/users/:id/preferences', () => {
  it('answers the defaults, stores valid preferences and returns them', async () => {
    const defaults = await call('GET', '/v1/users/prefs1/preferences', admin);
    expect(defaults).toEqual({
      status: 200,
      json: { categories: {}, quietHours: null, timeZone: 'UTC', digest: 'off' },
    });
    const wanted = {
      categories: { shows: { email: false }, '*': { web_push: false } },
      quietHours: { start: '22:00', end: '07:30' },
      timeZone: 'Europe/Berlin',
      digest: 'daily',
    };
    const own = { bearer: server.tokenFor('prefs1') };
    expect(await call('PUT', '/v1/users/prefs1/preferences', own, wanted)).toEqual({
      status: 200,
      json: wanted,
    });
    expect((await call('GET', '/v1/users/prefs1/preferences', own)).json).toEqual(wanted);
  });

  it('refuses invalid preferences with 400 BAD_PREFERENCES naming the field', async () => {
    const cases: Array<[object, string]> = [
      [{ quietHours: { start: '25:00', end: '07:00' } }, 'quietHours.start'],
      [{ timeZone: 'Mars/Olympus' }, 'timeZone'],
      [{ digest: 'weekly' }, 'digest'],
      [{ categories: { shows: { email: 'no' } } }, 'categories.shows.email'],
    ];
    for (const [body, field] of cases) {
      const { status, json } = await call('PUT', '/v1/users/prefs2/preferences', admin, body);
      expect(status).toBe(400);
      expect(json.code).toBe('BAD_PREFERENCES');
      expect(json.msg).toContain(field);
    }
    expect((await call('GET', '/v1/users/prefs2/preferences', admin)).json.timeZone).toBe('UTC');
  });

  it("keeps a user's token out of another user's preferences, and read keys out", async () => {
    const token = { token: server.tokenFor('prefs3') };
    expect((await call('GET', '/v1/users/prefs1/preferences', token)).status).toBe(403);
    expect((await call('PUT', '/v1/users/prefs1/preferences', token, {})).status).toBe(403);
    expect((await call('GET', '/v1/users/prefs1/preferences', read)).status).toBe(403);
  });
});

describe('/v1/users/:id/inbox', () => {
  it('pages newest first with limit, before and next, with the counts', async () => {
    const sent = [];
    for (let i = 0; i < 7; i++) sent.push((await server.notify('pager')).notification.id);
    const newest = [...sent].reverse();
    const own = { token: server.tokenFor('pager') };

    const first = await call('GET', '/v1/users/pager/inbox?limit=3', own);
    expect(first.status).toBe(200);
    const itemIds = (json: Json) => (json.items as Json[]).map((item) => item.id);
    expect(itemIds(first.json)).toEqual(newest.slice(0, 3));
    expect(first.json.next).toBe(newest[2]);
    expect(first.json.counts).toEqual({ total: 7, unread: 7, unseen: 7 });
    expect((first.json.items as Json[])[0]).toMatchObject({
      category: 'shows',
      read: false,
      seen: false,
      archived: false,
    });

    const second = await call(
      'GET',
      `/v1/users/pager/inbox?limit=3&before=${newest[2]}`,
      usersRead,
    );
    expect(itemIds(second.json)).toEqual(newest.slice(3, 6));
    const third = await call(
      'GET',
      `/v1/users/pager/inbox?limit=3&before=${second.json.next as string}`,
      admin,
    );
    expect(itemIds(third.json)).toEqual(newest.slice(6));
    expect(third.json.next).toBeNull();
    const badLimit = await call('GET', '/v1/users/pager/inbox?limit=0', usersRead);
    expect(badLimit.json.code).toBe('BAD_QUERY');
  });

  it('archives over HTTP: hidden from the list and counts, told to the live sockets', async () => {
    const a = (await server.notify('archiver')).notification.id;
    const b = (await server.notify('archiver')).notification.id;
    const own = { bearer: server.tokenFor('archiver') };
    const socket = await connect(`${server.wsUrl}/v1/user?token=${server.tokenFor('archiver')}`);
    expect((await socket.nextMessage()).t).toBe('counts');

    const read = await call('POST', '/v1/users/archiver/inbox/read', own, { ids: [a] });
    expect(read.json).toEqual({ ids: [a], counts: { total: 2, unread: 1, unseen: 1 } });
    const archived = await call('POST', '/v1/users/archiver/inbox/archive', admin, { ids: [a] });
    expect(archived.json).toEqual({ ids: [a], counts: { total: 1, unread: 1, unseen: 1 } });

    expect(await socket.nextMessage()).toEqual({ t: 'marked', as: 'read', ids: [a] });
    expect((await socket.nextMessage()).t).toBe('counts');
    expect(await socket.nextMessage()).toEqual({ t: 'marked', as: 'archived', ids: [a] });
    expect(await socket.nextMessage()).toEqual({ t: 'counts', total: 1, unread: 1, unseen: 1 });
    socket.close();

    const listed = await call('GET', '/v1/users/archiver/inbox', own);
    expect((listed.json.items as Json[]).map((item) => item.id)).toEqual([b]);
    const all = await call('GET', '/v1/users/archiver/inbox?archived=true', own);
    expect((all.json.items as Json[]).map((item) => [item.id, item.archived])).toEqual([
      [b, false],
      [a, true],
    ]);
    const bad = await call('POST', '/v1/users/archiver/inbox/seen', own, { ids: [] });
    expect(bad.json.code).toBe('BAD_FRAME');
  });

  it("refuses a user token on another user's inbox (403), and keys without users:read", async () => {
    await server.notify('private');
    const intruder = { token: server.tokenFor('intruder') };
    expect(await call('GET', '/v1/users/private/inbox', intruder)).toMatchObject({
      status: 403,
      json: { code: 'FORBIDDEN' },
    });
    const marking = await call('POST', '/v1/users/private/inbox/read', intruder, { ids: ['x'] });
    expect(marking.status).toBe(403);
    expect((await call('GET', '/v1/users/private/inbox', { key: keys.ingest })).status).toBe(403);
    // A read key may sit in a dashboard page: user data needs users:read (admin implies it).
    expect(await call('GET', '/v1/users/private/inbox', read)).toMatchObject({
      status: 403,
      json: { code: 'FORBIDDEN' },
    });
    expect((await call('GET', '/v1/users/private/inbox', usersRead)).status).toBe(200);
    expect((await call('GET', '/v1/users/private/inbox', admin)).status).toBe(200);
  });

  it("refuses user ids with a slash, which would reach into other users' keys", async () => {
    await server.notify('a/b');
    const token = { token: server.tokenFor('a') };
    expect((await call('GET', '/v1/users/a%2Fb/inbox', usersRead)).json.code).toBe('BAD_QUERY');
    expect((await call('GET', '/v1/users/a/inbox', token)).json.items).toEqual([]);
    expect((await call('POST', '/v1/users/a%2Fb/token', admin)).status).toBe(400);
  });

  it('tells a bad or expired token (BAD_TOKEN) from an unknown key (UNAUTHORIZED)', async () => {
    const expired = server.tokens.issue('p1', 'late', 1).token;
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const credential of [{ token: expired }, { bearer: expired }, { token: 'junk' }]) {
      expect(await call('GET', '/v1/users/late/inbox', credential)).toMatchObject({
        status: 401,
        json: { code: 'BAD_TOKEN' },
      });
    }
    expect(
      (await call('GET', '/v1/users/late/inbox', { key: 'no-such-key-at-all' })).json.code,
    ).toBe('UNAUTHORIZED');
  });
});

describe('GET /v1/users/:id/decisions', () => {
  it('answers why a user did or did not get a notification', async () => {
    const quiet = makeNotification('why', 901, { rule: 'setlist-vote', dedupKey: 'show-9' });
    const sent = makeNotification('why', 902, { category: 'news' });
    decisions.record(quiet, 'deferred', 'quiet_hours');
    decisions.record(quiet, 'suppressed', 'channel_disabled', 'email');
    decisions.record(sent, 'delivered', 'sockets=1', 'in_app');
    decisions.record(makeNotification('someone-else', 903), 'failed', 'offline', 'in_app');
    await decisions.durable();

    const all = await call('GET', '/v1/users/why/decisions', usersRead);
    expect(all.status).toBe(200);
    expect(all.json.userId).toBe('why');
    expect(all.json.decisions as Json[]).toHaveLength(3);
    for (const decision of all.json.decisions as Json[])
      expect(Math.abs((decision.ts as number) - Date.now())).toBeLessThan(60_000);

    const one = await call('GET', `/v1/users/why/decisions?notification=${quiet.id}`, admin);
    expect(
      (one.json.decisions as Json[]).map((d) => [d.outcome, d.reason, d.channel]).sort(),
    ).toEqual([
      ['deferred', 'quiet_hours', ''],
      ['suppressed', 'channel_disabled', 'email'],
    ]);
    expect((one.json.decisions as Json[])[0]).toMatchObject({
      notification_id: quiet.id,
      rule: 'setlist-vote',
      dedup_key: 'show-9',
      category: 'shows',
    });
    const byCategory = await call(
      'GET',
      '/v1/users/why/decisions?category=news&limit=5',
      usersRead,
    );
    expect((byCategory.json.decisions as Json[]).map((d) => d.notification_id)).toEqual([sent.id]);
  });

  it("is for users:read keys and the user's own token only", async () => {
    const own = await call('GET', '/v1/users/why/decisions', { token: server.tokenFor('why') });
    expect(own.status).toBe(200);
    expect(own.json.decisions as Json[]).toHaveLength(3);
    const other = { token: server.tokenFor('someone-else') };
    expect((await call('GET', '/v1/users/why/decisions', other)).status).toBe(403);
    expect((await call('GET', '/v1/users/why/decisions', read)).status).toBe(403);
    expect((await call('GET', '/v1/users/why/decisions', { key: keys.ingest })).status).toBe(403);
  });
});
