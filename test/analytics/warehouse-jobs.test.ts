import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/analytics/job-status.js';
import { createWarehouseJobs } from '../../src/analytics/warehouse-jobs.js';
import { engagementSchema, jobsSchema } from '../../src/config/analytics-schema.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import {
  createWarehouseQuery,
  type WarehouseQuery,
} from '../../src/storage/analytics/warehouse-sql.js';
import { dayMs } from '../helpers/analytics-data.js';
import { openAnalyticsFixture } from '../helpers/analytics-fixture.js';
import { retentionReference } from '../helpers/analytics-reference-cohorts.js';
import { expectClose } from '../helpers/analytics-reference-trending.js';
import {
  dailyUsersReference,
  featuresReference,
} from '../helpers/analytics-reference-warehouse.js';
import { parseCsv } from '../helpers/csv.js';
import { log } from '../rules/rules-fixtures.js';

let f: Awaited<ReturnType<typeof openAnalyticsFixture>>;
let warehouse: WarehouseQuery;
beforeAll(async () => {
  f = await openAnalyticsFixture();
  warehouse = createWarehouseQuery(f.ch);
});
afterAll(async () => {
  await f.ch.close();
  rmSync(f.dir, { recursive: true, force: true });
});

const engagement = engagementSchema.parse({});
const settings = jobsSchema.parse({ checkEveryMs: 60_000 });
const hour = 3_600_000;

function jobs(
  state: StateStore,
  clock: { now: number },
  more: Partial<Parameters<typeof createWarehouseJobs>[0]> = {},
) {
  return createWarehouseJobs(
    {
      state,
      warehouse,
      settings,
      engagement,
      instance: 'node-a',
      exclusive: true,
      runsJobs: true,
      log,
      metrics: f.metrics,
      now: () => clock.now,
      ...more,
    },
    { heartbeatMs: 50, staleMs: 10_000 },
  );
}

const table = (name: string, job: string, run: number, order: string) =>
  f.ch.query<Record<string, string | number>>(
    `SELECT * EXCEPT (project, job, run) FROM ${name} WHERE project = 'shop' AND job = {job:String} AND run = {run:UInt64} ORDER BY ${order}`,
    { job, run },
  );
const ms = (text: string | number) => Date.parse(`${String(text).replace(' ', 'T')}Z`);

describe('warehouse jobs against loops over the raw rows', () => {
  const clock = { now: f?.now ?? 0 };
  let state: StateStore;

  it('materializes daily users, user features and a retention table, with their status', async () => {
    clock.now = f.now;
    state = createMemoryStateStore();
    const service = jobs(state, clock);
    await service.define('shop', 'daily', { kind: 'daily_users', days: 30, everyMs: 6 * hour });
    await service.define('shop', 'features', { kind: 'user_features' });
    const cohorts = { kind: 'retention', interval: 'week', periods: 3, cohort: 'signup', days: 35 };
    await service.define('shop', 'cohorts', cohorts);
    await service.runDue();
    const run = clock.now;

    const daily = await table('warehouse_daily_users', 'daily', run, 'day, person');
    expect(
      daily.map((r) => [
        ms(`${r.day} 00:00:00`),
        r.person,
        Number(r.events),
        Number(r.event_types),
        ms(r.first_ts!),
        ms(r.last_ts!),
      ]),
    ).toEqual(
      dailyUsersReference(f.rows, 'shop', run, 30).map((r) => [
        r.day,
        r.person,
        r.events,
        r.types,
        r.first,
        r.last,
      ]),
    );
    const features = await table('warehouse_user_features', 'features', run, 'person');
    const want = featuresReference(f.rows, 'shop', run, { ...engagement, weights: [1, 1, 1] });
    expect(
      features.map((r) => [
        r.person,
        Number(r.identified) === 1,
        ms(r.first_seen!),
        ms(r.last_seen!),
        Number(r.events),
        Number(r.active_days),
        Number(r.event_types),
        Number(r.events_7d),
        Number(r.events_30d),
      ]),
    ).toEqual(
      want.map((r) => [
        r.person,
        r.identified,
        r.first,
        r.last,
        r.events,
        r.days,
        r.types,
        r.week,
        r.month,
      ]),
    );
    features.forEach((r, i) =>
      expectClose(Number(r.engagement), want[i]!.engagement, String(r.person)),
    );
    expect(want.some((r) => r.engagement === 0) && want.some((r) => r.engagement > 0)).toBe(true);

    const retention = await table('warehouse_retention', 'cohorts', run, 'cohort_start, period');
    const span = { from: Math.floor(run / dayMs) * dayMs - 35 * dayMs, to: run };
    const expected = retentionReference(f.rows, {
      project: 'shop',
      ...span,
      interval: 'week',
      periods: 3,
      cohortType: 'signup',
    })
      .filter((c) => c.size > 0)
      .flatMap((c) =>
        c.counts.flatMap((n, k) =>
          c.start + k * 7 * dayMs <= run ? [[c.start, k, c.size, n]] : [],
        ),
      );
    expect(
      retention.map((r) => [
        ms(r.cohort_start!),
        Number(r.period),
        Number(r.size),
        Number(r.persons),
      ]),
    ).toEqual(expected);
    expect(expected.length).toBeGreaterThan(3);

    const status = await service.get('shop', 'daily');
    expect(status.status).toMatchObject({
      running: null,
      runs: 1,
      failures: 0,
      nextRunAt: run + 6 * hour,
    });
    expect(status.status.lastRun).toMatchObject({
      run,
      outcome: 'ok',
      rows: daily.length,
      durationMs: 0,
    });
    expect(status.status.lastSuccess).toEqual(status.status.lastRun);
    const csv = [];
    for await (const chunk of await service.rows('shop', 'daily', 'CSVWithNames'))
      csv.push(Buffer.from(chunk));
    const [header, ...lines] = parseCsv(Buffer.concat(csv).toString());
    expect(header).toEqual(['day', 'person', 'events', 'event_types', 'first_ts', 'last_ts']);
    expect(lines).toHaveLength(daily.length);
  });

  it('runs again when due, not before; replaces the rows; a failed run keeps the last good ones', async () => {
    const service = jobs(state, clock);
    const first = (await service.get('shop', 'daily')).status.lastSuccess!.run;
    clock.now = first + 6 * hour - 1;
    await service.runDue();
    expect((await service.get('shop', 'daily')).status.runs).toBe(1);
    clock.now = first + 6 * hour;
    await service.runDue();
    const again = (await service.get('shop', 'daily')).status;
    expect(again).toMatchObject({ runs: 2, lastSuccess: { run: clock.now, outcome: 'ok' } });
    const runs = await f.ch.query<{ run: string }>(
      `SELECT DISTINCT run FROM warehouse_daily_users WHERE job = 'daily'`,
    );
    expect(runs.map((r) => Number(r.run))).toEqual([clock.now]);

    const failing = jobs(state, clock, {
      warehouse: {
        ...warehouse,
        materialize: () => Promise.reject(new Error('Code: 241. MEMORY_LIMIT_EXCEEDED')),
      },
    });
    clock.now += 6 * hour;
    await failing.request('shop', 'daily');
    await failing.runDue();
    const failed = (await failing.get('shop', 'daily')).status;
    expect(failed).toMatchObject({
      runs: 3,
      failures: 1,
      lastRun: { outcome: 'failed', rows: null },
    });
    expect(failed.lastRun!.error).toContain('MEMORY_LIMIT_EXCEEDED');
    expect(failed.lastSuccess!.run).toBe(again.lastSuccess!.run);
  });

  it('runs a job at most once at a time across processes, and takes over a dead one’s run', async () => {
    const shared = createMemoryStateStore();
    const a = jobs(shared, clock, { instance: 'a', exclusive: false });
    const b = jobs(shared, clock, { instance: 'b', exclusive: false });
    await a.define('shop', 'once', { kind: 'daily_users', days: 3 });
    await Promise.all([a.runDue(), b.runDue(), a.runDue(), b.runDue()]);
    expect((await a.get('shop', 'once')).status).toMatchObject({ runs: 1, failures: 0 });
    expect(await b.request('shop', 'once')).toMatchObject({ name: 'once' });

    // A run claimed by a process that died: alive to others until its heartbeat is stale.
    const key = 'warehouse/shop/once';
    await shared.update<JobRecord>(key, (r) => ({
      ...r!,
      status: {
        ...r!.status,
        requestedAt: null,
        running: { run: clock.now, instance: 'gone', heartbeatAt: clock.now },
      },
    }));
    await expect(a.request('shop', 'once')).rejects.toMatchObject({ code: 'JOB_RUNNING' });
    await a.runDue();
    expect((await a.get('shop', 'once')).status.runs).toBe(1);
    clock.now += 10_001;
    await a.runDue();
    const taken = (await a.get('shop', 'once')).status;
    expect(taken).toMatchObject({
      runs: 3,
      failures: 1,
      running: null,
      lastRun: { outcome: 'ok' },
    });

    // Single node: a claim of another instance is a previous process's, so it is dead at once.
    await shared.update<JobRecord>(key, (r) => ({
      ...r!,
      status: {
        ...r!.status,
        running: { run: clock.now, instance: 'before-restart', heartbeatAt: clock.now },
      },
    }));
    const restarted = jobs(shared, clock, { instance: 'after-restart' });
    await restarted.runDue();
    expect((await restarted.get('shop', 'once')).status).toMatchObject({
      runs: 5,
      failures: 2,
      running: null,
    });
  });

  it('lists and deletes jobs per project; refuses bad definitions and unknown jobs', async () => {
    const service = jobs(state, clock);
    expect((await service.list('shop')).map((j) => j.name)).toEqual([
      'cohorts',
      'daily',
      'features',
    ]);
    expect(await service.list('other')).toEqual([]);
    const bad: Array<[string, unknown]> = [
      ['Bad Name', { kind: 'daily_users' }],
      ['x', { kind: 'cubes' }],
      ['x', { kind: 'daily_users', everyMs: 1000 }],
      ['x', { kind: 'retention', interval: 'month' }],
    ];
    for (const [name, spec] of bad)
      await expect(service.define('shop', name, spec)).rejects.toMatchObject({ code: 'BAD_JOB' });
    await expect(service.get('other', 'daily')).rejects.toMatchObject({ code: 'UNKNOWN_JOB' });
    await service.define('shop', 'fresh', { kind: 'user_features' });
    await expect(service.rows('shop', 'fresh', 'CSVWithNames')).rejects.toMatchObject({
      code: 'JOB_NO_ROWS',
    });
    expect(await service.remove('shop', 'features')).toBe(true);
    expect(await service.remove('shop', 'features')).toBe(false);
    const left = await f.ch.query(
      `SELECT count() AS n FROM warehouse_user_features WHERE job = 'features'`,
    );
    expect(left).toEqual([{ n: expect.anything() }]);
    expect(Number((left[0] as { n: string }).n)).toBe(0);
  });
});
