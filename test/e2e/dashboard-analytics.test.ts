import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRow } from '../../src/model/event.js';
import { dayMs } from '../helpers/analytics-data.js';
import { identityMap, personOf } from '../helpers/analytics-reference.js';
import { retentionReference } from '../helpers/analytics-reference-cohorts.js';
import { engagementReference } from '../helpers/analytics-reference-engagement.js';
import { funnelReference } from '../helpers/analytics-reference-funnels.js';
import { entityEvents, trendingReference } from '../helpers/analytics-reference-trending.js';
import { trendReference } from '../helpers/analytics-reference-trends.js';
import { sendRows } from '../helpers/analytics-server.js';
import { launchChromium, poll } from '../helpers/browser.js';
import {
  eventRow,
  keys,
  project,
  startDashboardAnalytics,
  superfan,
} from '../helpers/dashboard-analytics-data.js';
import {
  attrs,
  numberAttr,
  openDashboard,
  rangeOf,
  shoot,
  texts,
} from '../helpers/dashboard-page.js';
import { removeDir, type ServerProcess } from '../helpers/server-process.js';

/**
 * The dashboard's analytics pages in Chromium against the real server, seeded over the ingest
 * path: each page's numbers against a plain loop over the rows sent (the reference helpers use
 * no src/ code), and its empty and error states.
 */
let browser: Browser;
let server: ServerProcess;
let rows: EventRow[];

beforeAll(async () => {
  browser = await launchChromium();
  ({ server, rows } = await startDashboardAnalytics());
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

/** A page of the dashboard on `view` with `key` (admin by default). */
const open = (view: string, key = keys.admin, extra = '') =>
  openDashboard(browser, `${server.url}/?key=${key}&view=${view}${extra}`);

describe('the dashboard’s analytics pages in a real browser', () => {
  it('Trends: plays per day and the 14 days before, users by artist, revenue per week, none', async () => {
    const { page, clean } = await open('trends');
    await page.selectOption('#tr-event', 'song.play');
    await page.selectOption('#tr-range', '14');
    const range = await rangeOf(page, '#trends', 14);
    const ask = { project, interval: 'day', measure: 'count', event: 'song.play' } as const;
    const want = trendReference(rows, { ...ask, ...range });
    const span = range.to - range.from;
    const before = trendReference(rows, { ...ask, from: range.from - span, to: range.from });
    const cells = () => texts(page, '#tr-table tbody tr[data-bucket] td[data-series="0"]');
    await poll(async () => (await cells()).map(Number)).toEqual(want.series[0]!.values);
    expect(await attrs(page, '#tr-table tbody tr[data-bucket]', 'data-bucket')).toEqual(
      want.buckets.map(String),
    );
    expect(await texts(page, '#tr-table tr[data-total="current"] td[data-series="0"]')).toEqual([
      String(want.series[0]!.total),
    ]);
    expect(await texts(page, '#tr-table tr[data-total="previous"] td[data-series="0"]')).toEqual([
      String(before.series[0]!.total),
    ]);
    // The current period and the previous one, dashed, with the measure on the axis.
    expect(await page.getAttribute('#tr-chart', 'data-series')).toBe('2');
    expect(await texts(page, '#tr-chart .u-legend .u-label')).toEqual([
      'time',
      'all',
      'all · previous',
    ]);
    expect(await page.textContent('#tr-chart .axis-title.y')).toBe('events per day');
    await shoot(page, 'trends.png');

    // Distinct persons by artist: the top 3 and the rest as other, as the loop ranks them.
    await page.selectOption('#tr-measure', 'users');
    await page.fill('#tr-breakdown', 'props.artist');
    await page.fill('#tr-limit', '3');
    await page.press('#tr-limit', 'Enter');
    const byArtist = trendReference(rows, {
      ...ask,
      ...range,
      measure: 'users',
      breakdown: 'props.artist',
      limit: 3,
    });
    const names = byArtist.series.map((s) => (s.other ? 'other' : (s.key ?? '(none)')));
    await poll(() => texts(page, '#tr-table thead th')).toEqual(['day (UTC)', ...names]);
    const totals = await texts(page, '#tr-table tr[data-total="current"] td[data-series]');
    expect(totals.map(Number)).toEqual(byArtist.series.map((s) => s.total));

    // Ticket revenue per week: the sum of a prop.
    await page.fill('#tr-breakdown', '');
    await page.selectOption('#tr-event', 'ticket.buy');
    await page.selectOption('#tr-measure', 'sum');
    await page.fill('#tr-prop', 'props.price');
    await page.selectOption('#tr-interval', 'week');
    await page.selectOption('#tr-range', '90');
    // The last 90 days in whole ISO weeks: 13 of them.
    const weeks = await rangeOf(page, '#trends', 91);
    const revenue = trendReference(rows, {
      ...{ project, ...weeks, interval: 'week', event: 'ticket.buy' },
      ...{ measure: 'sum', prop: 'props.price' },
    });
    await poll(async () => (await cells()).map(Number)).toEqual(revenue.series[0]!.values);
    expect(await page.textContent('#tr-chart .axis-title.y')).toBe('sum of props.price per week');

    // No ticket bought in the last two days: said so, no empty chart.
    await page.selectOption('#tr-interval', 'day');
    await page.selectOption('#tr-range', '2');
    await poll(() => page.textContent('#tr-message')).toBe('No events match in this range.');
    expect(await page.locator('#tr-chart').isHidden()).toBe(true);
    expect(await page.locator('#tr-table').isHidden()).toBe(true);
    await clean();
  });

  it('Funnels: persons per step and the median time between steps, as the loop finds them', async () => {
    const { page, clean } = await open('funnels');
    const steps = ['page.view', 'signup', 'ticket.buy'];
    await page.locator('#fu-steps select').nth(1).waitFor();
    await page.click('#fu-add');
    for (const [i, type] of steps.entries())
      await page.locator('#fu-steps select').nth(i).selectOption(type);
    const range = await rangeOf(page, '#funnels', 28);
    const [want] = funnelReference(rows, {
      project,
      ...range,
      steps: steps.map((type) => ({ type })),
      windowMs: dayMs,
    });
    const result = '#fu-results .funnel[data-key="null"] .bar-row';
    await poll(async () => (await attrs(page, result, 'data-count')).map(Number)).toEqual(
      want!.counts,
    );
    const medians = (await attrs(page, result, 'data-median')).slice(1);
    expect(medians.map((m) => (m ? Number(m) : null))).toEqual(want!.medians);
    expect(await texts(page, `${result} .bar-label`)).toEqual([
      '1. page.view',
      '2. signup',
      '3. ticket.buy',
    ]);
    const conversion = want!.counts[2]! / want!.counts[0]!;
    expect(await page.locator(`${result} .bar-extra`).nth(6).textContent()).toBe(
      `${(conversion * 100).toFixed(1)}%`,
    );
    await shoot(page, 'funnels.png');

    // By traffic source: one list per value on the person's first step-1 event.
    await page.fill('#fu-breakdown', 'props.src');
    await page.press('#fu-breakdown', 'Enter');
    const bySource = funnelReference(rows, {
      project,
      ...range,
      steps: steps.map((type) => ({ type })),
      windowMs: dayMs,
      breakdown: 'props.src',
    });
    const keysShown = () => attrs(page, '#fu-results .funnel', 'data-key');
    await poll(keysShown).toEqual(bySource.map((r) => (r.other ? '(other)' : String(r.key))));
    const firstCounts = await attrs(
      page,
      '#fu-results .funnel .bar-row[data-step="1"]',
      'data-count',
    );
    expect(firstCounts.map(Number)).toEqual(bySource.map((r) => r.counts[0]));
    await clean();
  });

  it('Retention: a weekly cohort triangle whose cells are the loop’s returning persons', async () => {
    const { page, clean } = await open('retention');
    const range = await rangeOf(page, '#retention', 56);
    const want = retentionReference(rows, { project, ...range, interval: 'week', periods: 6 });
    const starts = () => attrs(page, '#re-table tbody tr', 'data-start');
    await poll(starts).toEqual(want.map((c) => String(c.start)));
    expect((await attrs(page, '#re-table tbody tr', 'data-size')).map(Number)).toEqual(
      want.map((c) => c.size),
    );
    let shown = 0;
    for (const cohort of want) {
      const cells = page.locator(`#re-table tr[data-start="${cohort.start}"] td.rate`);
      const counts = await attrs(
        page,
        `#re-table tr[data-start="${cohort.start}"] td.rate`,
        'data-count',
      );
      counts.forEach((count, k) => {
        if (count === null) return; // a period not begun yet: the triangle's empty corner
        expect(Number(count), `cohort ${cohort.start} week ${k}`).toBe(cohort.counts[k]);
        shown++;
      });
      expect(await cells.count()).toBe(7);
    }
    expect(shown).toBeGreaterThan(5);
    // A cell says its rate, and its count and size on hover.
    const big = want.find((c) => c.size > 0)!;
    const cell = page.locator(`#re-table tr[data-start="${big.start}"] td[data-period="0"]`);
    expect(await cell.getAttribute('title')).toBe(`${big.counts[0]} of ${big.size} persons`);
    expect(await cell.textContent()).toBe(`${((big.counts[0]! / big.size) * 100).toFixed(0)}%`);
    await shoot(page, 'retention.png');
    await clean();
  });

  it('Trending: artists ranked by score as the loop ranks them, moving with new plays', async () => {
    const { page, clean } = await open('trending');
    const ranked = async () => {
      const asOf = await numberAttr(page, '#tg-list', 'data-as-of');
      const events = entityEvents(rows, { project, entity: 'props.artistId' });
      return trendingReference(events, { asOf, periodMs: dayMs, halfLifeMs: 21_600_000 });
    };
    const shown = () => attrs(page, '#tg-list .bar-row', 'data-value');
    await poll(async () => (await shown()).length).toBe(4);
    const want = await ranked();
    expect(await shown()).toEqual(want.map((w) => w.value));
    expect((await attrs(page, '#tg-list .bar-row', 'data-events')).map(Number)).toEqual(
      want.map((w) => w.events),
    );
    const scores = (await attrs(page, '#tg-list .bar-row', 'data-score')).map(Number);
    scores.forEach((score, i) => expect(score).toBeCloseTo(want[i]!.score, 6));
    expect(await attrs(page, '#tg-list .bar-row', 'data-direction')).toEqual(
      want.map((w) =>
        w.previousEvents === 0 ? 'new' : w.score >= w.previousScore ? 'up' : 'down',
      ),
    );
    await shoot(page, 'trending.png');

    // A new artist breaks out: the page asks again by itself and puts it first.
    const now = Date.now();
    const burst = Array.from({ length: 60 }, (_, i) =>
      eventRow({
        id: `burst-${i}`,
        type: 'song.play',
        ts: now - i * 1000,
        userId: 'fan-1',
        props: { artistId: 'ar-new' },
      }),
    );
    await sendRows(server, keys.admin, burst);
    rows.push(...burst);
    await poll(async () => (await shown())[0]).toBe('ar-new');
    expect(await shown()).toEqual((await ranked()).map((w) => w.value));

    // A field nobody sends: the page says so.
    await page.fill('#tg-entity', 'props.nothing');
    await page.press('#tg-entity', 'Enter');
    await poll(() => page.textContent('#tg-message')).toBe(
      'No values of props.nothing in the last 1 d.',
    );
    expect(await page.locator('#tg-list .bar-row').count()).toBe(0);
    await clean();
  });

  it('Profile: a person’s merged ids, events, timeline and engagement score', async () => {
    const map = identityMap(rows);
    const [device] = superfan.devices;
    const theirs = rows
      .filter((r) => personOf(r, map) === superfan.user)
      .sort((a, b) => b.ts - a.ts || (a.id < b.id ? 1 : -1));
    expect(theirs.length).toBeGreaterThan(50);
    // Opened by the first device's anonymous id: the user it merged into.
    const { page, clean } = await open('profile', keys.admin, `&person=${device}`);
    await poll(() => page.textContent('#pr-person')).toBe(superfan.user);
    expect(await page.textContent('#pr-asked')).toBe(`${device} merged into this user`);
    expect(await page.textContent('#pr-events')).toBe(String(theirs.length));
    const merged = [...map].filter(([, u]) => u === superfan.user).map(([a]) => a);
    expect(merged.sort()).toEqual([...superfan.devices]);
    const identities = await texts(page, '#pr-identities li');
    expect(identities.map((t) => t.split(' ')[0])).toEqual(superfan.devices);
    expect(await attrs(page, '#pr-timeline li', 'data-id')).toEqual(
      theirs.slice(0, 50).map((r) => r.id),
    );
    // The score as of now: its parts as the loop finds them, the score to a tenth.
    const [score] = engagementReference(rows, {
      project,
      at: Date.now(),
      windowMs: 30 * dayMs,
      halfLifeMs: 7 * dayMs,
      frequencyTarget: 10,
      breadthTarget: 5,
      weights: [1, 1, 1],
    }).filter((s) => s.person === superfan.user);
    expect(await numberAttr(page, '#pr-score', 'data-score')).toBeCloseTo(score!.score, 1);
    const parts = await texts(page, '#pr-parts li');
    expect(parts[1]).toContain(`(${score!.activeDays} active days of 10)`);
    expect(parts[2]).toContain(`(${score!.eventTypes} event types of 5)`);
    await shoot(page, 'profile.png');

    // Older events, page by page, to the first: the anonymous visits before the first login.
    await page.click('#pr-more');
    await poll(() => page.locator('#pr-timeline li').count()).toBe(Math.min(100, theirs.length));
    expect(await attrs(page, '#pr-timeline li', 'data-id')).toEqual(
      theirs.slice(0, 100).map((r) => r.id),
    );
    expect(await texts(page, '#pr-timeline li:last-child .who')).toEqual([`anonymous ${device}`]);

    // Nobody of that id: an empty profile, said so.
    await page.fill('#pr-id', 'nobody-at-all');
    await page.press('#pr-id', 'Enter');
    await poll(() => page.textContent('#pr-message')).toBe('No events of nobody-at-all.');
    expect(await page.locator('#pr-body').isHidden()).toBe(true);
    expect(new URL(page.url()).searchParams.get('person')).toBe('nobody-at-all');
    await clean();
  });

  it('tells a key without users:read that the profile needs it, while trends still answer', async () => {
    const res = await fetch(`${server.url}/v1/analytics/persons/user-1`, {
      headers: { authorization: `Bearer ${keys.read}` },
    });
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([403, 'FORBIDDEN']);

    const { page, clean } = await open('profile', keys.read, '&person=user-1');
    const message = page.locator('#pr-message');
    await poll(() => message.getAttribute('data-code')).toBe('FORBIDDEN');
    expect(await message.getAttribute('data-kind')).toBe('error');
    expect(await message.textContent()).toContain(
      'This page needs a key with the users:read scope.',
    );
    expect(await page.locator('#pr-body').isHidden()).toBe(true);

    await page.click('#tab-trends');
    await poll(() => page.locator('#tr-table tbody tr[data-bucket]').count()).toBeGreaterThan(0);
    // A bad parameter is the server's code in the page, not a blank chart.
    await page.selectOption('#tr-measure', 'sum');
    await page.fill('#tr-prop', 'price');
    await page.press('#tr-prop', 'Enter');
    await poll(() => page.locator('#tr-message').getAttribute('data-code')).toBe('BAD_QUERY');
    expect(await page.textContent('#tr-message')).toMatch(/^BAD_QUERY: `prop`/);
    expect(await page.locator('#tr-chart').isHidden()).toBe(true);
    await clean();
  });
});
