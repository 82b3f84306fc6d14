import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, pageErrors, poll, saveArtifact } from '../helpers/browser.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { connect } from '../helpers/socket-client.js';

const key = 'dashboard_overview_0123456789';
const day = 24 * 3600_000;
const config = {
  projects: [
    {
      id: 'venue',
      keys: [{ key, scopes: ['ingest', 'read', 'admin'] }],
      streams: [
        {
          // The watermark trails the clock by 8 s: each window stays open (provisional) that long.
          name: 'gate_counts',
          source: { types: ['door.scan'] },
          window: { kind: 'tumbling', sizeMs: 2000 },
          aggregates: [{ name: 'scans', fn: 'count' }],
          outOfOrderMs: 8000,
          idleTickMs: 200,
          emit: { mode: 'early', everyMs: 200 },
        },
        {
          // One window a day: a single window, as a topK stream usually shows.
          name: 'top_songs',
          source: { types: ['song.played'] },
          window: { kind: 'tumbling', sizeMs: day },
          aggregates: [
            { name: 'plays', fn: 'count' },
            { name: 'songs', fn: 'topK', field: 'props.song', k: 3 },
          ],
          emit: { mode: 'early', everyMs: 200 },
        },
      ],
      rules: [
        {
          name: 'ticket',
          trigger: { kind: 'event', types: ['ticket.bought'] },
          audience: { kind: 'user' },
          notification: {
            category: 'tickets',
            title: 'Your ticket',
            body: '',
            channels: ['in_app'],
          },
        },
      ],
    },
  ],
};

let browser: Browser;
let server: ServerProcess;
beforeAll(async () => {
  [browser, server] = await Promise.all([launchChromium(), startServer({ config })]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

const text = (page: Page, selector: string) => page.locator(selector).textContent();
const ingest = async (seq: number, events: object[]) => {
  const socket = await connect(`${server.wsUrl}/v1/ingest?key=${key}`);
  socket.send({ t: 'events', seq, events });
  const ack = await socket.nextMessage();
  socket.close();
  return ack;
};

describe('dashboard overview and stream views in a real browser', () => {
  it('opens on the overview, with the project’s numbers live and their scope', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors = pageErrors(page);
    await page.goto(`${server.url}/?key=${key}&user=fan-7`);
    expect(await page.locator('#overview').isVisible()).toBe(true);
    expect(await page.locator('#stream-view').isVisible()).toBe(false);
    expect(await page.getAttribute('#tab-overview', 'aria-selected')).toBe('true');
    // The user's socket is open (in_app reaches them) once the panel has loaded.
    await poll(() => text(page, '#inbox-message')).toBe('No notifications for fan-7 yet.');

    const ts = Date.now();
    const scans = Array.from({ length: 12 }, (_, i) => ({ id: `s${i}`, type: 'door.scan', ts }));
    const bad = [
      { id: 'b1', ts },
      { id: 'b2', ts },
      { id: 'b3', type: 7, ts },
    ];
    const ticket = { id: 't1', type: 'ticket.bought', ts, userId: 'fan-7' };
    expect(await ingest(1, [...scans, ...bad, ticket])).toMatchObject({ accepted: 13 });
    const socket = await connect(`${server.wsUrl}/v1/ingest?key=${key}`);
    socket.sendRaw(Buffer.from([0xc1]));
    expect(await socket.nextMessage()).toMatchObject({ t: 'error', code: 'BAD_MSGPACK' });
    socket.close();

    await poll(() => text(page, '#ov-accepted')).toBe('13');
    await poll(() => text(page, '#ov-rejected')).toBe('3');
    const codes = (list: string) =>
      page
        .locator(`${list} li`)
        .evaluateAll((items: Array<{ textContent: string | null }>) =>
          items.map((item) => item.textContent),
        );
    expect(await codes('#ov-rejected-codes')).toEqual(['MISSING_FIELD 2', 'BAD_FIELD_TYPE 1']);
    await poll(() => text(page, '#ov-frame-errors')).toBe('1');
    expect(await codes('#ov-frame-codes')).toEqual(['BAD_MSGPACK 1']);
    await poll(() => text(page, '#ov-rate')).toMatch(/^\d+\.\d$/);
    // The acks' latencies stay in the charts after they leave the 5 s the tiles cover.
    await poll(async () =>
      Number(await page.getAttribute('#ov-ack-chart', 'data-points')),
    ).toBeGreaterThan(0);
    // In-process per project: this project; the metrics registry's figures: server-wide.
    expect(await text(page, '#ov-events .scope')).toBe('this project');
    for (const tile of ['#ov-ack', '#ov-rejected-tile', '#ov-frame-errors-tile'])
      expect(await text(page, `${tile} .scope`), tile).toBe('server-wide');
    expect(await text(page, '#ov-late-scope')).toBe('server-wide, by stream name');
    const lateRows = page.locator('#ov-late tbody tr');
    expect(
      await lateRows.evaluateAll((rows: Array<{ dataset: { name?: string } }>) =>
        rows.map((r) => r.dataset.name),
      ),
    ).toEqual(['gate_counts', 'top_songs']);
    const inApp = page.locator('#ov-notifications tbody tr[data-name="in_app"] td');
    await poll(() => inApp.allTextContents()).toEqual(['in_app', '1', '1', '0', '0']);
    expect(await text(page, '#ov-notifications-scope')).toBe('this project');

    // Live charts of the readings, with axis titles and the latest values in the legend.
    await poll(() => page.locator('#ov-rate-chart').getAttribute('data-points')).not.toBe('0');
    expect(await text(page, '#ov-rate-chart .axis-title.y')).toBe('events/s (this project)');
    expect(await text(page, '#ov-rate-chart .axis-title.x')).toBe('time (local)');
    expect(await text(page, '#ov-ack-chart .axis-title.y')).toBe('ack latency, ms (server-wide)');
    expect(await page.locator('#ov-ack-chart .u-legend .u-label').allTextContents()).toEqual([
      'time',
      'p50',
      'p99',
    ]);
    expect(await page.locator('#status').getAttribute('data-state')).toBe('live');
    await saveArtifact(page, 'dashboard-overview.png');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('marks the open window provisional until it is final', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors = pageErrors(page);
    await page.goto(`${server.url}/?key=${key}`);
    await page.selectOption('#stream', 'gate_counts');
    expect(await page.getAttribute('#tab-stream', 'aria-selected')).toBe('true');
    await page.locator('#status[data-state="live"]').waitFor();

    const ts = Date.now();
    const start = Math.floor(ts / 2000) * 2000;
    const scans = Array.from({ length: 3 }, (_, i) => ({ id: `p${i}`, type: 'door.scan', ts }));
    expect(await ingest(2, scans)).toMatchObject({ accepted: 3 });

    const row = page.locator(`#windows tbody tr[data-start="${start}"]`);
    const band = page.locator(`#chart .provisional[data-start="${start}"]`);
    await poll(() => row.locator('td.values').textContent()).toBe('scans=3');
    expect(await row.locator('td.final').textContent()).toBe('provisional');
    await band.waitFor();
    expect(await band.textContent()).toBe('provisional');
    expect((await band.boundingBox())!.width).toBeGreaterThan(0);
    await saveArtifact(page, 'dashboard-stream.png');

    // The watermark passes the window's end 8 s after it: the row turns final, the band goes.
    await poll(() => row.locator('td.final').textContent(), 30_000).toBe('final');
    await band.waitFor({ state: 'detached' });
    expect(await text(page, '#chart .axis-title.y')).toBe('scans (events)');
    expect(await text(page, '#chart .axis-title.x')).toBe('window start (local time)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a single-window topK stream as bars, and its counts on an axis within the window', async () => {
    // The day's window must stay open through the test: not within a minute of its end.
    const toEnd = day - (Date.now() % day);
    if (toEnd < 60_000) await new Promise((resolve) => setTimeout(resolve, toEnd + 500));
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const errors = pageErrors(page);
    await page.goto(`${server.url}/?key=${key}&stream=top_songs`);
    await page.locator('#status[data-state="live"]').waitFor();

    const ts = Date.now();
    const start = Math.floor(ts / day) * day;
    const plays = Object.entries({ 'song-a': 5, 'song-b': 3, 'song-c': 2, 'song-d': 1 }).flatMap(
      ([song, n]) =>
        Array.from({ length: n }, (_, i) => ({
          id: `${song}-${i}`,
          type: 'song.played',
          ts,
          props: { song },
        })),
    );
    expect(await ingest(3, plays)).toMatchObject({ accepted: 11 });

    // `plays` first: a time series of one window, whose x axis is that window, not years.
    await poll(() => page.locator('#chart').getAttribute('data-points')).toBe('1');
    expect(await page.locator('#field option:checked').textContent()).toBe('plays');
    expect(Number(await page.getAttribute('#chart', 'data-x-min'))).toBe(start);
    expect(Number(await page.getAttribute('#chart', 'data-x-max'))).toBe(start + day);
    expect(await text(page, '#chart .axis-title.y')).toBe('plays (events)');
    // Off the plot, the legend shows the latest value.
    await poll(() => page.locator('#chart .u-legend .u-series').nth(1).textContent()).toBe('all11');

    await page.selectOption('#field', { label: 'songs (top values)' });
    await page.locator('#bars').waitFor();
    expect(await page.locator('#chart').isVisible()).toBe(false);
    const bars = page.locator('#bars .bar-row');
    await poll(() => bars.locator('.bar-label').allTextContents()).toEqual([
      'song-a',
      'song-b',
      'song-c',
    ]);
    expect(await bars.locator('.bar-count').allTextContents()).toEqual(['5', '3', '2']);
    const widths = await bars
      .locator('.bar')
      .evaluateAll((els: Array<{ getBoundingClientRect(): { width: number } }>) =>
        els.map((el) => el.getBoundingClientRect().width),
      );
    expect(widths[1]! / widths[0]!).toBeCloseTo(3 / 5, 2);
    expect(widths[2]! / widths[0]!).toBeCloseTo(2 / 5, 2);
    expect(Number(await page.getAttribute('#bars', 'data-start'))).toBe(start);
    expect(Number(await page.getAttribute('#bars', 'data-end'))).toBe(start + day);
    expect(await page.getAttribute('#bars', 'data-provisional')).toBe('true');
    expect(await text(page, '#bars .bars-caption')).toMatch(/^Window .+ · provisional$/);
    expect(await page.locator('#bars .bars-head span').allTextContents()).toEqual([
      'value',
      '',
      'songs (events)',
    ]);
    await saveArtifact(page, 'dashboard-topk.png');
    expect(errors).toEqual([]);
    await page.close();
  });
});
