import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSendHours,
  defaultSendHoursOptions,
  nextSendAt,
  spreadMinutes,
  type SendHoursOptions,
} from '../../src/analytics/send-hours.js';
import type { EventRow } from '../../src/model/event.js';
import { createMetrics } from '../../src/ops/metrics.js';
import {
  createSendHourQuery,
  type SendHourScope,
} from '../../src/storage/analytics/send-hour-sql.js';
import type { ClickHouse } from '../../src/storage/clickhouse.js';
import { seeded } from '../helpers/event-generator.js';
import { eventRows } from '../helpers/event-rows.js';
import { openMigratedChdb } from '../helpers/migrated-chdb.js';
import { dayMs, generateSendHourData, type PlantedUser } from '../helpers/send-hour-data.js';
import {
  projectHourReference,
  sendHoursReference,
  type SendHourAsk,
} from '../helpers/send-hour-reference.js';

const t0 = Date.UTC(2026, 0, 5);
const days = 28;
const now = t0 + days * dayMs;
let ch: ClickHouse;
let close: () => Promise<void>;
let rows: EventRow[];
let planted: PlantedUser[];
const metrics = createMetrics();

beforeAll(async () => {
  ({ ch, close } = await openMigratedChdb('backline-send-hours-'));
  const shop = generateSendHourData({
    seed: 13,
    project: 'shop',
    t0,
    days,
    before: 4,
    users: 2000,
  });
  // Another project with the same user ids at other hours: none of it may count.
  const other = generateSendHourData({
    seed: 14,
    project: 'other',
    t0,
    days,
    before: 0,
    users: 100,
  });
  planted = shop.users;
  rows = [...shop.rows, ...other.rows];
  for (let i = 0; i < rows.length; i += 20_000)
    await ch.insert('events', rows.slice(i, i + 20_000));
}, 30_000);
afterAll(() => close());

const queries = () => ({ sendHours: createSendHourQuery(ch) });
const askOf = (o: SendHoursOptions, project = 'shop'): SendHourAsk => ({
  ...o,
  project,
  nowMs: now,
});

describe('send hours against a loop over the raw rows', () => {
  const models: Array<Partial<SendHoursOptions>> = [
    {},
    { openWeight: 10, neighbourWeight: 0, minActiveDays: 3, batchSize: 700 },
    { lookbackDays: 10, openWeight: 0, neighbourWeight: 1, minActiveDays: 2, batchChars: 3000 },
  ];
  it.each(models)('%j', async (model) => {
    const o = { ...defaultSendHoursOptions, ...model };
    // The real query, watched: every batch within both bounds.
    const query = createSendHourQuery(ch);
    const asked: string[][] = [];
    const watched = {
      ...query,
      users: (scope: SendHourScope, ids: readonly string[]) => {
        asked.push([...ids]);
        return query.users(scope, ids);
      },
    };
    const sendHours = createSendHours({ queries: { sendHours: watched }, metrics }, o);
    // Unknown ids, a repeated one and an anonymous id are asked too: each gets one answer.
    const ids = [...planted.map((u) => u.id), 'nobody', 'u5', 'a3'];
    const answer = await sendHours.bestHours('shop', ids, now);
    const expected = sendHoursReference(rows, askOf(o), [...new Set(ids)]);
    expect(answer.projectHour).toBe(projectHourReference(rows, askOf(o)));
    expect(answer.users).toEqual(expected);
    expect(asked.flat().sort()).toEqual([...new Set(ids)].sort());
    for (const batch of asked) {
      expect(batch.length).toBeLessThanOrEqual(o.batchSize);
      expect(batch.join('').length + 3 * batch.length).toBeLessThanOrEqual(o.batchChars);
    }
    const bases = [...expected.values()].map((h) => h.basis);
    // Both sides of the evidence threshold are exercised.
    expect(bases.filter((b) => b === 'own').length).toBeGreaterThan(1000);
    expect(bases.filter((b) => b === 'project').length).toBeGreaterThan(50);
  });

  it('counts every answer by basis', async () => {
    const counted = createMetrics();
    const sendHours = createSendHours({ queries: queries(), metrics: counted });
    const own = await sendHours.bestHours('shop', ['u1', 'u2', 'nobody', 'u1'], now);
    expect([...own.users.values()].map((h) => h.basis)).toEqual(['own', 'own', 'project']);
    const values = (await counted.sendHours.get()).values;
    expect(values.map((v) => [v.labels.basis, v.value])).toEqual([
      ['own', 2],
      ['project', 1],
    ]);
    const seconds = (await counted.analyticsQuerySeconds.get()).values;
    expect(seconds.find((v) => v.metricName?.endsWith('_count'))?.labels).toEqual({
      api: 'send_hours',
    });
  });
});

describe('one user’s evidence', () => {
  const hour = 3600_000;
  const { rows: tiny, add } = eventRows('tiny');
  // `ann` browsed for three days as `a-ann`, then signed up: five active days at 07:xx.
  for (let d = 0; d < 3; d++)
    add('page.view', t0 + d * dayMs + 7 * hour + 60_000, { anon: 'a-ann' });
  add('identify', t0 + 3 * dayMs + 7 * hour, { user: 'ann', anon: 'a-ann' });
  add('page.view', t0 + 4 * dayMs + 7 * hour, { user: 'ann' });
  // `bob` later used ann's device logged in (his) and is active four days at 22:xx only.
  for (let d = 10; d < 14; d++)
    add('song.play', t0 + d * dayMs + 22 * hour, { user: 'bob', anon: 'a-ann' });
  // `cy`: 19:00–21:59 every day of a week, evenly; one open at 05:00 weighs 3 events, not 6.
  for (let d = 0; d < 7; d++)
    for (const h of [19, 20, 21]) add('page.view', t0 + d * dayMs + h * hour, { user: 'cy' });
  add('email.open', t0 + 8 * dayMs + 5 * hour, { user: 'cy' });
  // Deliveries at 12:00 are the provider's, not cy's activity.
  for (let d = 0; d < 20; d++) add('email.delivered', t0 + d * dayMs + 12 * hour, { user: 'cy' });

  beforeAll(() => ch.insert('events', tiny));

  it('learns from pre-signup history, smooths neighbours, and falls back with too little', async () => {
    const sendHours = createSendHours({ queries: queries() });
    const { users, projectHour } = await sendHours.bestHours('tiny', ['ann', 'bob', 'cy', ''], now);
    // Opens decide the project's hour when there are any.
    expect(projectHour).toBe(5);
    expect(users.get('ann')).toEqual({ hour: 7, basis: 'own' });
    expect(users.get('bob')).toEqual({ hour: 5, basis: 'project' });
    expect(users.get('cy')).toEqual({ hour: 20, basis: 'own' });
    expect(users.get('')).toEqual({ hour: 5, basis: 'project' });
    const lenient = createSendHours({ queries: queries() }, { minActiveDays: 4 });
    expect((await lenient.bestHours('tiny', ['bob'], now)).users.get('bob')).toEqual({
      hour: 22,
      basis: 'own',
    });
  });

  it('a project with no activity in the lookback answers the fallback hour', async () => {
    const sendHours = createSendHours({ queries: queries() }, { fallbackHour: 9 });
    const answer = await sendHours.bestHours('tiny', ['ann'], t0 + 200 * dayMs);
    expect(answer).toEqual({
      users: new Map([['ann', { hour: 9, basis: 'project' }]]),
      projectHour: 9,
    });
  });
});

/** Circular distance between two hours of the day. */
const apart = (a: number, b: number) => Math.min((a - b + 24) % 24, (b - a + 24) % 24);

describe('uplift on planted habits', () => {
  it('sending at the learned hours opens clearly more than at the project’s one best hour', async () => {
    const sendHours = createSendHours({ queries: queries() });
    const { users, projectHour } = await sendHours.bestHours(
      'shop',
      planted.map((u) => u.id),
      now,
    );
    // The planted open model: 45% within an hour of the habit, 5% otherwise; both arms see
    // the same draw per user, so the difference is the hour alone.
    const random = seeded(99);
    let [learned, fixed, ceiling] = [0, 0, 0];
    for (const user of planted) {
      const draw = random();
      const opens = (hour: number) => draw < (apart(hour, user.habit) <= 1 ? 0.45 : 0.05);
      if (opens(users.get(user.id)!.hour)) learned++;
      if (opens(projectHour)) fixed++;
      if (opens(user.habit)) ceiling++;
    }
    const rate = (n: number) => n / planted.length;
    const pct = (n: number) => `${(100 * rate(n)).toFixed(1)}%`;
    const own = [...users.values()].filter((h) => h.basis === 'own').length;
    console.log(
      `send-time uplift: ${planted.length} users (${own} with an own hour); opened: learned hours ${pct(learned)}, ` +
        `one fixed hour (${projectHour}:00 UTC) ${pct(fixed)}, each planted habit ${pct(ceiling)}`,
    );
    expect(rate(learned)).toBeGreaterThan(2 * rate(fixed));
    expect(rate(learned) - rate(fixed)).toBeGreaterThan(0.15);
  });
});

describe('nextSendAt', () => {
  const at = (d: number, h: number, m = 0) => Date.UTC(2026, 0, 5 + d, h, m);
  it('is the hour’s start today when ahead, now inside the hour, else tomorrow', () => {
    expect(nextSendAt(20, at(0, 9, 30))).toBe(at(0, 20));
    expect(nextSendAt(20, at(0, 20))).toBe(at(0, 20));
    expect(nextSendAt(20, at(0, 20, 10))).toBe(at(0, 20, 10));
    expect(nextSendAt(20, at(0, 21))).toBe(at(1, 20));
    expect(nextSendAt(0, at(0, 23, 59))).toBe(at(1, 0));
    expect(nextSendAt(20, at(0, 20, 10), 30)).toBe(at(0, 20, 30));
    expect(nextSendAt(20, at(0, 20, 40), 30)).toBe(at(0, 20, 40));
    expect(nextSendAt(8, at(0, 9), 15)).toBe(at(1, 8, 15));
    expect(() => nextSendAt(24, 0)).toThrow(RangeError);
    expect(() => nextSendAt(3, 0, 60)).toThrow(RangeError);
  });

  it('spreadMinutes keeps a user on one minute and spreads many evenly', () => {
    expect(spreadMinutes('u1', 30)).toBe(spreadMinutes('u1', 30));
    expect(spreadMinutes('u1', 0)).toBe(0);
    const counts = Array(30).fill(0);
    for (let i = 0; i < 3000; i++) counts[spreadMinutes(`u${i}`, 30)]++;
    expect(Math.min(...counts)).toBeGreaterThan(60);
    expect(Math.max(...counts)).toBeLessThan(140);
  });
});
