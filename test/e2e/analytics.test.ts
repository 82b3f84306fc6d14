import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendTimeSchema } from '../../src/config/analytics-schema.js';
import type { EventRow } from '../../src/model/event.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import { cohortReference, retentionReference } from '../helpers/analytics-reference-cohorts.js';
import {
  distributionReference,
  engagementReference,
  stickinessReference,
} from '../helpers/analytics-reference-engagement.js';
import { funnelReference } from '../helpers/analytics-reference-funnels.js';
import { trendReference } from '../helpers/analytics-reference-trends.js';
import {
  api,
  days,
  keys,
  query,
  range,
  startAnalyticsServer,
} from '../helpers/analytics-server.js';
import { parseCsv } from '../helpers/csv.js';
import { eventually } from '../helpers/eventually.js';
import { scrape } from '../helpers/scrape.js';
import { projectHourReference, sendHoursReference } from '../helpers/send-hour-reference.js';
import { removeDir, type ServerProcess } from '../helpers/server-process.js';

/**
 * The analytics APIs over the real server and HTTP, against plain loops over the rows sent:
 * project `shop`'s answers hold nothing of project `rival`'s events.
 */
let server: ServerProcess;
let rows: EventRow[];
let http: ReturnType<typeof api>;

beforeAll(async () => {
  const started = await startAnalyticsServer();
  server = started.server;
  rows = started.rows.shop;
  http = api(server);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

type Series = { key: string | null; values: number[] };
type Steps = { count: number; medianMsFromPrevious: number | null }[];
type Cohorts = { start: number; size: number; counts: number[] }[];

describe('analytics over the real server', () => {
  it('GET /v1/analytics/trends', async () => {
    const ask = { measure: 'users', event: 'song.play', breakdown: 'props.artist', limit: 3 };
    const path = `/v1/analytics/trends?${query(ask)}`;
    const { status, body } = await http.getJson<{ buckets: number[]; series: Series[] }>(path);
    expect(status).toBe(200);
    const expected = trendReference(rows, {
      project: 'shop',
      ...range,
      interval: 'day',
      ...(ask as { measure: 'users' }),
    });
    expect({ buckets: body.buckets, series: body.series }).toEqual(expected);

    // Read out of the JSON text a second time (analytics.autoMaterialize.slowQueries 2, every
    // read counted as slow), props.artist becomes a column of events; the answer stays.
    expect((await http.getJson(path)).body).toEqual(body);
    const made = async () =>
      (await scrape(server.url, 'backline_analytics_prop_columns_made_total', {
        outcome: 'made',
      })) >= 1 &&
      (await scrape(server.url, 'backline_analytics_prop_columns', {
        source: 'auto',
        state: 'ready',
      })) >= 1;
    await eventually(made, 30_000, 'props.artist a column of events, written');
    expect((await http.getJson(path)).body).toEqual(body);
  });

  it('GET /v1/analytics/funnels', async () => {
    const steps = [{ type: 'page.view' }, { type: 'signup' }, { type: 'ticket.buy' }];
    const path = `/v1/analytics/funnels?${query({ steps, window: 7_200_000 })}`;
    const { status, body } = await http.getJson<{ results: { steps: Steps }[] }>(path);
    expect(status).toBe(200);
    const [expected] = funnelReference(rows, {
      project: 'shop',
      ...range,
      steps,
      windowMs: 7_200_000,
    });
    const got = body.results[0]!.steps;
    expect(got.map((s) => s.count)).toEqual(expected!.counts);
    expect(got.slice(1).map((s) => s.medianMsFromPrevious)).toEqual(expected!.medians);
  });

  it('GET /v1/analytics/retention', async () => {
    const ask = { interval: 'week', periods: 2 } as const;
    const path = `/v1/analytics/retention?${query(ask)}`;
    const { status, body } = await http.getJson<{ cohorts: Cohorts }>(path);
    expect(status).toBe(200);
    const expected = retentionReference(rows, { project: 'shop', ...range, ...ask });
    expect(body.cohorts.map((c) => [c.start, c.size, c.counts])).toEqual(
      expected.map((c) => [c.start, c.size, c.counts]),
    );
  });

  it('GET /v1/analytics/engagement, /engagement/users (users:read) and /stickiness', async () => {
    const at = range.to;
    const formula = { windowMs: 14 * 86_400_000, halfLifeMs: 604_800_000, frequencyTarget: 10 };
    const ask = { ...formula, breadthTarget: 5, weights: [1, 2, 1] as [number, number, number] };
    const expected = engagementReference(rows, { project: 'shop', at, ...ask });
    const params = `at=${at}&window=${formula.windowMs}&weights=1,2,1`;
    const dist = await http.getJson<{ persons: number; bins: { persons: number }[] }>(
      `/v1/analytics/engagement?${params}`,
    );
    const want = distributionReference(expected, 10);
    expect([dist.body.persons, dist.body.bins.map((b) => b.persons)]).toEqual([
      want.persons,
      want.counts,
    ]);
    const path = `/v1/analytics/engagement/users?${params}&limit=3`;
    expect((await http.getJson(path, keys.read)).status).toBe(403);
    const top = await http.getJson<{ users: { person: string }[] }>(path, keys.users);
    const ranked = [...expected].sort((a, b) => b.score - a.score);
    expect(top.body.users.map((u) => u.person)).toEqual(ranked.slice(0, 3).map((u) => u.person));

    const sticky = await http.getJson<{ days: unknown[] }>(
      `/v1/analytics/stickiness?${query({ monthDays: 7 })}`,
    );
    const dayList = Array.from({ length: days }, (_, i) => range.from + i * 86_400_000);
    expect(sticky.body.days).toEqual(
      stickinessReference(rows, { project: 'shop', days: dayList, monthDays: 7 }),
    );
  });

  it('saved cohorts: admin writes, read keys read, members as the loop says, and a rule audience', async () => {
    const where = [{ field: 'props.price', op: 'gt' as const, value: 60 }];
    const cohort = { conditions: [{ kind: 'performed', types: ['ticket.buy'], where }] };
    const path = '/v1/cohorts/big_buyers';
    expect((await http.send('PUT', path, keys.read, cohort)).status).toBe(403);
    const bad = await http.send('PUT', path, keys.admin, { conditions: [{ kind: 'bought' }] });
    expect([bad.status, ((await bad.json()) as { code: string }).code]).toEqual([
      400,
      'BAD_COHORT',
    ]);
    expect((await http.send('PUT', path, keys.admin, cohort)).status).toBe(200);
    expect((await http.getJson(path)).body).toMatchObject({ name: 'big_buyers', match: 'all' });
    // Members are user ids: a read key (which may sit in a dashboard page) is refused them.
    expect((await http.getJson(`${path}/members`, keys.read)).status).toBe(403);
    const members = (
      await http.getJson<{ persons: string[] }>(`${path}/members?identified=true`, keys.users)
    ).body.persons;
    const rule = {
      match: 'all' as const,
      conditions: [{ kind: 'performed' as const, types: ['ticket.buy'], where, min: 1 }],
    };
    const expected = cohortReference(rows, 'shop', rule, true);
    expect(members).toEqual(expected);
    expect(members.length).toBeGreaterThan(1);

    const news = {
      trigger: { kind: 'event', types: ['news.post'] },
      audience: { kind: 'cohort', cohort: 'big_buyers' },
      notification: {
        category: 'news',
        title: 'News for big buyers',
        body: '',
        channels: ['in_app'],
      },
    };
    expect((await http.send('PUT', '/v1/rules/big_news', keys.admin, news)).status).toBe(200);
    const post = { events: [{ id: 'news-1', type: 'news.post', ts: Date.now() }] };
    expect((await http.send('POST', '/v1/events', keys.ingest, post)).status).toBe(200);
    const inbox = async (user: string) =>
      (
        await http.getJson<{ items: { category: string }[] }>(`/v1/users/${user}/inbox`, keys.admin)
      ).body.items.map((i) => i.category);
    for (const user of expected)
      await eventually(
        async () => (await inbox(user)).includes('news'),
        20_000,
        `news for ${user}`,
      );
    const outsider = 'user-' + [...Array(60).keys()].find((i) => !expected.includes(`user-${i}`));
    expect(await inbox(outsider)).not.toContain('news');

    expect((await http.send('DELETE', path, keys.admin)).status).toBe(204);
    expect((await http.getJson(path)).body.code).toBe('UNKNOWN_COHORT');
  });

  it('GET /v1/export/events as CSV and Parquet (users:read)', async () => {
    const expected = rows
      .filter((r) => r.ts >= range.from && r.ts < range.to)
      .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.ts - b.ts))
      .map((r) => [r.id, r.type, r.user_id, r.anonymous_id, r.props]);
    const path = (format: string) => `/v1/export/events?${query({ format })}`;
    expect((await http.call(path('csv'), keys.read)).status).toBe(403);
    // A page of an allowed origin reads it: the streamed answer carries the CORS headers too.
    const csv = await fetch(`${server.url}${path('csv')}`, {
      headers: { authorization: `Bearer ${keys.users}`, origin: 'https://app.example.com' },
    });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const [header, ...body] = parseCsv(await csv.text());
    const pick = (line: string[]) =>
      ['id', 'type', 'user_id', 'anonymous_id', 'props'].map((c) => line[header!.indexOf(c)]!);
    expect(body.map(pick)).toEqual(expected);

    const parquet = await http.call(path('parquet'), keys.users);
    expect(parquet.headers.get('content-disposition')).toContain('.parquet');
    const dir = mkdtempSync(join(tmpdir(), 'backline-parquet-'));
    const file = join(dir, 'events.parquet');
    writeFileSync(file, Buffer.from(await parquet.arrayBuffer()));
    const ch = openChdb(join(dir, 'ch'));
    const back = await ch.query<
      Record<'id' | 'type' | 'user_id' | 'anonymous_id' | 'props', string>
    >('SELECT id, type, user_id, anonymous_id, props FROM file({file:String}, Parquet)', { file });
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
    expect(back.map((r) => [r.id, r.type, r.user_id, r.anonymous_id, r.props])).toEqual(expected);
  });

  it('GET /v1/users/:id/send-hour (users:read): each user’s hour and basis as the loop says', async () => {
    const at = range.to; // a midnight: the next send is `hour` hours later
    const ask = { ...sendTimeSchema.parse({}), project: 'shop', nowMs: at };
    const users = Array.from({ length: 60 }, (_, i) => `user-${i}`);
    const all = sendHoursReference(rows, ask, users);
    // A few of each basis (each answer is a query), an anonymous id and an unknown one.
    const of = (basis: string) => users.filter((id) => all.get(id)!.basis === basis).slice(0, 6);
    const ids = [...of('own'), ...of('project'), 'anon-3', 'nobody'];
    expect(of('own').length).toBe(6);
    const expected = sendHoursReference(rows, ask, ids);
    const projectHour = projectHourReference(rows, ask);
    const answers = await Promise.all(
      ids.map((id) => http.getJson(`/v1/users/${id}/send-hour?at=${at}`, keys.users)),
    );
    expect(answers.map((a) => a.body)).toEqual(
      ids.map((userId) => {
        const { hour, basis } = expected.get(userId)!;
        return { userId, at, hour, basis, projectHour, nextSendAt: at + hour * 3600_000 };
      }),
    );
    expect((await http.getJson('/v1/users/user-1/send-hour', keys.read)).status).toBe(403);
    const bad = await http.getJson('/v1/users/user-1/send-hour?at=soon', keys.users);
    expect([bad.status, bad.body.code]).toEqual([400, 'BAD_QUERY']);
  });

  it('refuses bad parameters with 400 BAD_QUERY, counted per route', async () => {
    const route = '/v1/analytics/trends';
    const labels = { route, status: '400' };
    const before = await scrape(server.url, 'backline_http_requests_total', labels);
    const { status, body } = await http.getJson(`${route}?measure=sum`);
    expect([status, body.code]).toEqual([400, 'BAD_QUERY']);
    expect((await http.getJson('/v1/export/events?format=xlsx', keys.users)).body.code).toBe(
      'BAD_QUERY',
    );
    const after = await scrape(server.url, 'backline_http_requests_total', labels);
    expect(after - before).toBe(1);
    expect((await http.getJson('/v1/analytics/funnels', keys.ingest)).status).toBe(403);
  });
});
