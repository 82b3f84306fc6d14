import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, sendRows } from '../helpers/analytics-server.js';
import { launchChromium, poll } from '../helpers/browser.js';
import { eventually } from '../helpers/eventually.js';
import { attrs, openDashboard, shoot, texts } from '../helpers/dashboard-page.js';
import { dayMs, generatePredictionData } from '../helpers/prediction-data.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

/**
 * The model jobs end to end: the seeded generator's events sent over `POST /v1/events`, the
 * three jobs defined and run through `/v1/jobs`, then what they serve over HTTP (precomputed,
 * fresh and trending recommendations, churn risk, forecasts, the models' evaluations) and on
 * the dashboard's profile and Models pages in Chromium.
 */
const keys = {
  admin: 'predictions_admin_key_0123456789',
  ingest: 'predictions_ingest_key_0123456789',
  users: 'predictions_users_key_0123456789',
  read: 'predictions_read_key_0123456789',
  other: 'predictions_other_key_0123456789',
};
const config = {
  limits: { maxPastMs: 70 * dayMs },
  projects: [
    {
      id: 'shop',
      keys: [
        { key: keys.admin, scopes: ['admin', 'read'] },
        { key: keys.ingest, scopes: ['ingest'] },
        { key: keys.users, scopes: ['users:read'] },
        { key: keys.read, scopes: ['read'] },
      ],
    },
    { id: 'other', keys: [{ key: keys.other, scopes: ['admin', 'read'] }] },
  ],
};
// Seven whole weeks that end before today, starting on a Monday.
const days = 49;
const t0 = (() => {
  const start = Math.floor(Date.now() / dayMs) * dayMs - (days + 1) * dayMs;
  const weekday = (new Date(start).getUTCDay() + 6) % 7; // Monday 0
  return start - weekday * dayMs;
})();
const data = generatePredictionData({ seed: 3, project: 'shop', t0, days, users: 200 });

const interactions = (user: string) =>
  data.rows.filter(
    (r) => r.user_id === user && (r.type === 'vote.cast' || r.type === 'show.follow'),
  );
const counts = new Map(data.users.map((u) => [u.id, interactions(u.id).length]));
const busiest = (users: typeof data.users) =>
  [...users].sort((a, b) => counts.get(b.id)! - counts.get(a.id)!)[0]!;
// The user with the most interactions: their taste is plain in their history.
const fan = busiest(data.users);

let server: ServerProcess;
let browser: Browser;
let http: ReturnType<typeof api>;

async function trained(name: string, spec: object) {
  expect((await http.send('PUT', `/v1/jobs/${name}`, keys.admin, spec)).status).toBe(200);
  expect((await http.send('POST', `/v1/jobs/${name}/run`, keys.admin)).status).toBe(202);
  type Run = { outcome: string; error?: string };
  type Job = { status: { running: unknown; lastRun: Run | null } };
  let last: Run | null = null;
  await eventually(
    async () => {
      const { body } = await http.getJson<Job>(`/v1/jobs/${name}`, keys.admin);
      last = body.status.running ? null : body.status.lastRun;
      return last !== null;
    },
    60_000,
    `job ${name} to run`,
    100,
  );
  expect(last).toMatchObject({ outcome: 'ok' });
}

beforeAll(async () => {
  browser = await launchChromium();
  server = await startServer({ config });
  http = api(server);
  await sendRows(server, keys.ingest, data.rows);
  await trained('recs', { kind: 'recommendations' });
  await trained('churn', { kind: 'churn' });
  await trained('forecast', { kind: 'forecast', historyDays: 42 });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

type Recs = { model: string; source: string; items: Array<{ item: string; because: string }> };
const owned = (user: string) =>
  new Set(interactions(user).map((r) => (JSON.parse(r.props) as { showId: string }).showId));

describe('predictions over HTTP', () => {
  it('answers a known user their precomputed list, without what they have, naming the model', async () => {
    const { status, body } = await http.getJson<Recs>(
      `/v1/users/${fan.id}/recommendations?limit=10`,
      keys.users,
    );
    expect(status).toBe(200);
    expect(body.source).toBe('precomputed');
    expect(body.model).toMatch(/^recs@\d+$/);
    expect(body.items).toHaveLength(10);
    const mine = owned(fan.id);
    expect(body.items.filter((i) => mine.has(i.item))).toEqual([]);
    // Planted taste: most of the list is of the user's genre.
    const genre = fan.genre;
    const ofGenre = body.items.filter(
      (i) => data.shows.find((s) => s.id === i.item)?.genre === genre,
    );
    expect(ofGenre.length).toBeGreaterThanOrEqual(6);
  });

  it('a fresh user gets their show’s artist and genre, an empty one trending; a read key is refused', async () => {
    const show = data.shows[7]!;
    const props = {
      showId: show.id,
      artistId: `artist-${show.artist}`,
      genre: `genre-${show.genre}`,
    };
    const sent = await http.send('POST', '/v1/events', keys.ingest, {
      events: [{ id: 'fresh-1', type: 'vote.cast', ts: Date.now(), userId: 'newcomer', props }],
    });
    expect(sent.status).toBe(200);
    const path = '/v1/users/newcomer/recommendations';
    // The event is stored in a batch shortly after it is accepted.
    await poll(async () => (await http.getJson<Recs>(path, keys.users)).body.source).toBe('fresh');
    const fresh = await http.getJson<Recs>(path, keys.users);
    const items = fresh.body.items;
    expect(items.map((i) => i.item)).not.toContain(show.id);
    const sameArtist = items.filter(
      (i) => data.shows.find((s) => s.id === i.item)?.artist === show.artist,
    );
    expect(sameArtist.length).toBeGreaterThanOrEqual(3);
    const empty = await http.getJson<Recs>('/v1/users/nobody/recommendations?limit=5', keys.users);
    expect(empty.body.source).toBe('trending');
    expect(empty.body.items).toHaveLength(5);
    const refused = await http.getJson('/v1/users/user-1/recommendations', keys.read);
    expect([refused.status, refused.body.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('NO_MODEL where no model job has run; BAD_QUERY for a bad limit', async () => {
    const none = await http.getJson('/v1/users/user-1/recommendations', keys.other);
    expect([none.status, none.body.code]).toEqual([404, 'NO_MODEL']);
    const bad = await http.getJson('/v1/users/user-1/recommendations?limit=0', keys.users);
    expect([bad.status, bad.body.code]).toEqual([400, 'BAD_QUERY']);
  });

  it('churn risk with its features and contributions; forecasts with intervals; the models', async () => {
    type Churn = {
      model: string;
      scored: boolean;
      risk: number;
      contributions: Record<string, number>;
    };
    const active = busiest(data.users.filter((u) => u.churnDay === Infinity));
    const churn = await http.getJson<Churn>(`/v1/predictions/churn/${active.id}`, keys.users);
    expect(churn.body).toMatchObject({ scored: true });
    expect(churn.body.model).toMatch(/^churn@\d+$/);
    expect(Object.keys(churn.body.contributions).sort()).toEqual(
      ['events7d', 'notifications', 'recencyDays', 'sessions', 'trend'].sort(),
    );
    type Forecasts = {
      series: Array<{ series: string; days: Array<{ value: number; low: number; high: number }> }>;
    };
    const f = await http.getJson<Forecasts>('/v1/predictions/forecasts?series=dau', keys.read);
    expect(f.body.series.map((s) => s.series)).toEqual(['dau']);
    expect(f.body.series[0]!.days).toHaveLength(7);
    type Models = { models: Array<{ name: string; evaluation: { metrics: object } }> };
    const m = await http.getJson<Models>('/v1/predictions/models', keys.read);
    expect(m.body.models.map((x) => x.name).sort()).toEqual(['churn', 'forecast', 'recs']);
    for (const model of m.body.models)
      expect(Object.keys(model.evaluation.metrics).length).toBeGreaterThan(0);
  });
});

describe('predictions on the dashboard, in Chromium', () => {
  it('the profile shows the user’s recommendations and churn risk with its drivers', async () => {
    const url = `${server.url}/?key=${keys.admin}&view=profile&person=${fan.id}`;
    const { page, clean } = await openDashboard(browser, url);
    await poll(() => page.locator('#pr-recs li').count()).toBe(10);
    const api = await http.getJson<Recs>(
      `/v1/users/${fan.id}/recommendations?limit=10`,
      keys.users,
    );
    expect(await attrs(page, '#pr-recs li', 'data-item')).toEqual(
      api.body.items.map((i) => i.item),
    );
    await poll(() => page.getAttribute('#pr-churn', 'data-risk')).toMatch(/^0?\.\d+|^[01]$/);
    expect(await page.locator('#pr-drivers li').count()).toBe(5);
    expect((await texts(page, '#pr-recs-note'))[0]).toContain('recs@');
    await page.locator('#pr-recs').scrollIntoViewIfNeeded();
    await shoot(page, 'predictions.png');
    await clean();
  });

  it('the Models page shows each model’s evaluation next to its baseline', async () => {
    const { page, clean } = await openDashboard(
      browser,
      `${server.url}/?key=${keys.read}&view=models`,
    );
    await poll(() =>
      page.locator('#mo-table tbody tr[data-metric]').count(),
    ).toBeGreaterThanOrEqual(5);
    expect(await attrs(page, '#mo-table tbody tr[data-metric]', 'data-metric')).toEqual(
      expect.arrayContaining(['precisionAt10', 'recallAt10', 'auc', 'dauMae']),
    );
    await shoot(page, 'models.png');
    await clean();
  });
});
