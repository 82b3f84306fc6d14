import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cspViolations, launchChromium, poll, saveArtifact } from '../helpers/browser.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { connect, stats } from '../helpers/socket-client.js';

const key = 'dashboard_key_0123456789';
const allowedLatenessMs = 5000;
const config = {
  projects: [
    {
      id: 'venue',
      // admin: the page issues the notifications panel's user token with the page's key.
      keys: [{ key, scopes: ['ingest', 'read', 'admin'] }],
      streams: [
        {
          name: 'door_scans',
          source: { types: ['door.scan'] },
          groupBy: ['props.gate'],
          window: { kind: 'tumbling', sizeMs: 1000 },
          aggregates: [
            { name: 'scans', fn: 'count' },
            { name: 'fans', fn: 'uniq', field: 'userId' },
          ],
          outOfOrderMs: 200,
          idleTickMs: 200,
          allowedLatenessMs,
          emit: { mode: 'early', everyMs: 100 },
        },
        {
          name: 'merch_sales',
          source: { types: ['merch.sold'] },
          window: { kind: 'tumbling', sizeMs: 60_000 },
          aggregates: [{ name: 'revenue', fn: 'sum', field: 'props.eur' }],
        },
      ],
      rules: [
        {
          name: 'ticket',
          trigger: { kind: 'event', types: ['ticket.bought'] },
          audience: { kind: 'user' },
          notification: {
            category: 'tickets',
            title: 'Your ticket for {{props.show}}',
            body: 'Gate {{props.gate}} opens at 19:00.',
            channels: ['in_app'],
          },
        },
      ],
    },
  ],
};
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** What the test reads of the chart's canvas (the tests are type-checked without the DOM). */
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(...box: number[]): { data: Uint8ClampedArray } };
}

/** Pixels of the chart's canvas drawn in its first series colour (#3c6df0). */
function seriesPixels(page: Page): Promise<number> {
  return page.locator('#chart .uplot canvas').evaluate((canvas: Canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const near = (v: number, want: number) => Math.abs(v - want) < 24;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (near(data[i]!, 0x3c) && near(data[i + 1]!, 0x6d) && near(data[i + 2]!, 0xf0)) n++;
    }
    return n;
  });
}

/** How many window starts the table shows. */
const distinctStarts = async (page: Page) =>
  new Set(
    await page
      .locator('#windows tbody tr')
      .evaluateAll((rows: Array<{ dataset: Record<string, string> }>) =>
        rows.map((r) => r.dataset.start),
      ),
  ).size;

const row = (page: Page, gate: string) => page.locator(`#windows tbody tr[data-key="${gate}"]`);

/** Titles in the notifications panel, newest first. */
const panelTitles = (page: Page) => page.locator('#inbox li .title').allTextContents();

describe('dashboard in a real browser', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ config });
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  it('serves the page with a Content Security Policy and the other security headers', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'self'",
      "connect-src 'self'",
      "object-src 'none'",
      "frame-ancestors 'none'",
    ])
      expect(csp).toContain(directive);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    // The page's URL holds the key: no Referer may carry it elsewhere.
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('shows a stream picked from the key’s streams, live, in the table and the chart', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const violations = await cspViolations(page);
    await page.goto(`${server.url}/?key=${key}`);

    await poll(() => page.locator('#stream option').allTextContents()).toEqual([
      'door_scans · tumbling 1 s by props.gate · early',
      'merch_sales · tumbling 1 min · final',
    ]);
    await page.selectOption('#stream', 'door_scans');
    await page.locator('#status[data-state="live"]').waitFor();
    expect(new URL(page.url()).searchParams.get('stream')).toBe('door_scans');

    // One frame over the ingest socket: gate A 5 scans by 3 fans, gate B 3 scans by 3 fans.
    const ts = Date.now();
    const scan = (id: string, gate: string, userId: string) => ({
      id,
      type: 'door.scan',
      ts,
      userId,
      props: { gate },
    });
    const ingest = await connect(`${server.wsUrl}/v1/ingest?key=${key}`);
    const events = [
      ...['u1', 'u2', 'u3', 'u1', 'u2'].map((u, i) => scan(`a${i}`, 'A', u)),
      ...['u4', 'u5', 'u6'].map((u, i) => scan(`b${i}`, 'B', u)),
    ];
    ingest.send({ t: 'events', seq: 1, events });
    expect(await ingest.nextMessage()).toMatchObject({ t: 'ack', accepted: 8 });

    const start = String(Math.floor(ts / 1000) * 1000);
    await poll(() => row(page, 'A').locator('td.values').textContent()).toBe('scans=5 fans=3');
    await poll(() => row(page, 'B').locator('td.values').textContent()).toBe('scans=3 fans=3');
    expect(await row(page, 'A').getAttribute('data-start')).toBe(start);
    // The window closes once the watermark passes its end: the row turns final.
    await row(page, 'A').and(page.locator('[data-final="true"]')).waitFor({ timeout: 10_000 });
    const finalRev = Number(await row(page, 'A').locator('td').nth(4).textContent());

    await poll(() => page.locator('#chart').getAttribute('data-series')).toBe('2');
    expect(Number(await page.locator('#chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(
      2,
    );
    expect(await page.locator('#chart .uplot canvas').count()).toBe(1);
    await poll(() => seriesPixels(page)).toBeGreaterThan(20);
    expect(await page.locator('#field option:checked').textContent()).toBe('scans');

    // A late scan within the allowed lateness re-emits the window; one far too late is counted.
    ingest.send({
      t: 'events',
      seq: 2,
      events: [scan('a-late', 'A', 'u7'), { ...scan('too-late', 'A', 'u8'), ts: ts - 60_000 }],
    });
    expect(await ingest.nextMessage()).toMatchObject({ t: 'ack', accepted: 2 });
    await poll(() => row(page, 'A').locator('td.values').textContent()).toBe('scans=6 fans=4');
    expect(Number(await row(page, 'A').locator('td').nth(4).textContent())).toBeGreaterThan(
      finalRev,
    );
    await poll(() => page.locator('#late-within').textContent()).toBe('1');
    await poll(() => page.locator('#late-dropped').textContent()).toBe('1');
    expect(await page.locator('#live-dropped').textContent()).toBe('0');
    ingest.close();

    await saveArtifact(page, 'dashboard.png');
    expect(errors).toEqual([]);
    expect(violations).toEqual([]);
    await page.close();
  });

  it('shows a user’s notifications live with the unread count, and marks all read', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const violations = await cspViolations(page);
    await page.goto(`${server.url}/?key=${key}`);
    expect(await page.inputValue('#user')).toBe('demo-fan');
    await page.fill('#user', 'fan-7');
    await page.press('#user', 'Enter');
    await poll(() => page.locator('#inbox-message').textContent()).toBe(
      'No notifications for fan-7 yet.',
    );
    expect(new URL(page.url()).searchParams.get('user')).toBe('fan-7');
    expect(await page.textContent('#unread-count')).toBe('0');
    expect(await page.isDisabled('#mark-all-read')).toBe(true);

    const ingest = await connect(`${server.wsUrl}/v1/ingest?key=${key}`);
    const ticket = { type: 'ticket.bought', ts: Date.now(), userId: 'fan-7' };
    const props = { show: 'Low at Columbiahalle', gate: 'B' };
    ingest.send({ t: 'events', seq: 1, events: [{ ...ticket, id: 't1', props }] });
    expect(await ingest.nextMessage()).toMatchObject({ t: 'ack', accepted: 1 });
    ingest.close();

    await poll(() => panelTitles(page)).toEqual(['Your ticket for Low at Columbiahalle']);
    const item = page.locator('#inbox li').first();
    expect(await item.locator('.body').textContent()).toBe('Gate B opens at 19:00.');
    expect(await item.locator('.category').textContent()).toBe('tickets');
    expect(await item.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await item.getAttribute('data-read')).toBe('false');
    await poll(() => page.textContent('#unread-count')).toBe('1');
    expect(await page.locator('#inbox-message').isHidden()).toBe(true);
    await saveArtifact(page, 'dashboard-notifications.png');

    await page.click('#mark-all-read');
    await poll(() => page.textContent('#unread-count')).toBe('0');
    await poll(() => item.getAttribute('data-read')).toBe('true');
    const inbox = await fetch(`${server.url}/v1/users/fan-7/inbox?key=${key}`);
    expect(((await inbox.json()) as { counts: object }).counts).toEqual({
      total: 1,
      unread: 0,
      unseen: 0,
    });
    expect(errors).toEqual([]);
    expect(violations).toEqual([]);
    await page.close();
  });

  it('tells a refused key instead of showing streams', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?key=not_a_key_0123456789`);
    await poll(() => page.locator('#message').textContent()).toContain('UNAUTHORIZED');
    expect(await page.locator('#stream option').count()).toBe(0);
    await page.close();
  });
});

describe('dashboard in demo mode', () => {
  // `BACKLINE_README_SCREENSHOT=1` also refreshes the README's pictures, after more windows.
  const readme = process.env.BACKLINE_README_SCREENSHOT === '1';
  const shoot = async (page: Page, artifact: string, picture: string) => {
    await saveArtifact(page, artifact, false);
    const inReadme = new URL(`../../src/dashboard/${picture}`, import.meta.url);
    if (readme) await page.screenshot({ path: inReadme.pathname });
  };

  it(
    'shows the example streams moving with the synthetic live-music traffic',
    { timeout: readme ? 240_000 : 120_000 },
    async () => {
      const server = await startServer({ env: { BACKLINE_DEMO: '1', BACKLINE_DEMO_HISTORY: '0' } });
      const page = await browser.newPage({ viewport: { width: 1200, height: readme ? 760 : 900 } });
      const violations = await cspViolations(page);
      try {
        expect(server.output()).toContain(`dashboard: ${server.url}/?key=${server.key}`);
        // A short-window copy of votes_per_show, defined through the admin API, fills the chart fast.
        const res = await fetch(`${server.url}/v1/streams/votes_2s`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            source: { types: ['vote.cast'] },
            groupBy: ['props.showId'],
            window: { kind: 'tumbling', sizeMs: 2000 },
            aggregates: [
              { name: 'votes', fn: 'count' },
              { name: 'voters', fn: 'uniq', field: 'userId' },
            ],
            outOfOrderMs: 500,
            emit: { mode: 'early', everyMs: 500 },
          }),
        });
        expect(res.status).toBeLessThan(300);

        await page.goto(`${server.url}/?key=${server.key}&stream=votes_per_show`);
        await page.locator('#status[data-state="live"]').waitFor();
        const streams = await page
          .locator('#stream option')
          .evaluateAll((options: Array<{ value: string }>) => options.map((o) => o.value));
        expect(streams).toEqual(
          expect.arrayContaining(['votes_per_show', 'active_users', 'votes_2s']),
        );
        await poll(() => page.locator('#windows tbody tr').count()).toBeGreaterThan(0);
        expect(await page.locator('#windows tbody tr td.values').first().textContent()).toMatch(
          /^votes=\d+ voters=\d+$/,
        );
        expect(await page.locator('#windows tbody tr').first().getAttribute('data-key')).toMatch(
          /^show-/,
        );

        await page.selectOption('#stream', 'votes_2s');
        const windowsWanted = readme ? 15 : 2;
        await poll(() => distinctStarts(page), readme ? 60_000 : 15_000).toBeGreaterThanOrEqual(
          windowsWanted,
        );
        expect(Number(await page.locator('#chart').getAttribute('data-series'))).toBeGreaterThan(1);
        await poll(() => seriesPixels(page)).toBeGreaterThan(20);

        const counts = (await stats(server.url, server.key)).counts;
        for (const type of ['page.view', 'vote.cast']) expect(counts[type]).toBeGreaterThan(0);

        // The demo user's own events fire the dev project's example rules within the first
        // minute: welcome at once, the show reminder 8 s in (src/demo/demo-fan.ts).
        expect(await page.inputValue('#user')).toBe('demo-fan');
        await poll(() => panelTitles(page)).toContain('Welcome to backline, Demo Fan');
        await poll(() => panelTitles(page), 60_000).toContain('Nova Lane plays in 1 hour');
        if (readme) {
          // hot_show: the busiest show's votes cross the bound once in each minute's window.
          await poll(
            async () => (await panelTitles(page)).some((t) => t.endsWith('is on fire')),
            90_000,
          ).toBe(true);
        }
        expect(Number(await page.textContent('#unread-count'))).toBeGreaterThanOrEqual(2);

        await shoot(page, 'dashboard-demo.png', 'screenshot.png');

        // The overview: the demo's traffic as this project's own rate and totals.
        await page.click('#tab-overview');
        await poll(async () => Number(await page.textContent('#ov-accepted'))).toBeGreaterThan(0);
        await poll(() => page.textContent('#ov-rate')).toMatch(/^\d+\.\d$/);
        if (readme) {
          // Half a minute of readings draws the rate and latency lines.
          await poll(
            async () => Number(await page.getAttribute('#ov-rate-chart', 'data-points')),
            60_000,
          ).toBeGreaterThanOrEqual(30);
        }
        await shoot(page, 'dashboard-demo-overview.png', 'overview.png');

        // The demo's top songs: one field, a topK, shown as bars of the newest window.
        await page.selectOption('#stream', 'top_songs');
        await page.locator('#bars .bar-row').first().waitFor();
        expect(await page.locator('#bars .bar-row .bar-label').first().textContent()).toMatch(
          /^song-\d+$/,
        );
        await shoot(page, 'dashboard-demo-topk.png', 'topk.png');
        expect(violations).toEqual([]);
      } finally {
        await page.close();
        expect(await server.stop()).toBe(0);
        removeDir(server.dataDir);
      }
    },
  );
});
