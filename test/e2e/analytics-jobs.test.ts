import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, JobStatus, RunRecord } from '../../src/analytics/job-status.js';
import type { EventRow } from '../../src/model/event.js';
import { openLmdbStateStore } from '../../src/state/lmdb-state-store.js';
import { dailyUsersReference } from '../helpers/analytics-reference-warehouse.js';
import { api, config, keys, startAnalyticsServer } from '../helpers/analytics-server.js';
import { parseCsv } from '../helpers/csv.js';
import { eventually } from '../helpers/eventually.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

/**
 * Warehouse jobs over the real server: defined, run on request, their rows as the loop says,
 * their status kept across a restart, and a run cut short by a crash run again at start.
 */
let server: ServerProcess;
let rows: EventRow[];
let http: ReturnType<typeof api>;
const job = { kind: 'daily_users', days: 40, everyMs: 3_600_000 };
type View = { name: string; status: JobStatus & { nextRunAt: number } };

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

const status = async () => (await http.getJson<View>('/v1/jobs/daily')).body.status;
const succeeded = async (after = 0) => {
  await eventually(async () => ((await status()).lastSuccess?.run ?? 0) > after, 20_000, 'a run');
  return (await status()).lastSuccess!;
};

async function expectRows(run: RunRecord) {
  const res = await http.call('/v1/jobs/daily/rows?format=csv', keys.users);
  expect(res.status).toBe(200);
  const [header, ...lines] = parseCsv(await res.text());
  const at = (c: string) => header!.indexOf(c);
  const got = lines.map((l) => [
    Date.parse(`${l[at('day')]}T00:00:00Z`),
    l[at('person')],
    Number(l[at('events')]),
  ]);
  const want = dailyUsersReference(rows, 'shop', run.run, 40).map((r) => [
    r.day,
    r.person,
    r.events,
  ]);
  expect(got).toEqual(want);
  expect(want.length).toBeGreaterThan(50);
  expect(run.rows).toBe(want.length);
}

describe('warehouse jobs over the real server', () => {
  it('defines, runs on request and serves the rows; other projects see nothing', async () => {
    expect((await http.send('PUT', '/v1/jobs/daily', keys.read, job)).status).toBe(403);
    const bad = await http.send('PUT', '/v1/jobs/daily', keys.admin, { kind: 'olap' });
    expect([bad.status, ((await bad.json()) as { code: string }).code]).toEqual([400, 'BAD_JOB']);
    expect((await http.send('PUT', '/v1/jobs/daily', keys.admin, job)).status).toBe(200);
    // A new job is due at once: the scheduler may have claimed it before this asks (409).
    expect([202, 409]).toContain(
      (await http.send('POST', '/v1/jobs/daily/run', keys.admin)).status,
    );
    const run = await succeeded();
    expect(await status()).toMatchObject({
      runs: 1,
      failures: 0,
      running: null,
      nextRunAt: run.run + 3_600_000,
    });
    expect((await http.call('/v1/jobs/daily/rows', keys.read)).status).toBe(403);
    await expectRows(run);

    expect((await http.getJson<{ jobs: View[] }>('/v1/jobs')).body.jobs.map((j) => j.name)).toEqual(
      ['daily'],
    );
    expect((await http.getJson<{ jobs: unknown[] }>('/v1/jobs', keys.rivalRead)).body.jobs).toEqual(
      [],
    );
    expect((await http.getJson('/v1/jobs/daily', keys.rivalRead)).body.code).toBe('UNKNOWN_JOB');
    // A name no job can have, longer than an LMDB key may be (the fuzz found a 500 here).
    const long = `/v1/jobs/${'a'.repeat(4000)}`;
    const asked = await http.send('POST', `${long}/run`, keys.admin);
    expect([asked.status, ((await asked.json()) as { code?: string }).code]).toEqual([
      404,
      'UNKNOWN_JOB',
    ]);
    expect((await http.getJson(long)).body.code).toBe('UNKNOWN_JOB');
    expect((await http.send('DELETE', long, keys.admin)).status).toBe(404);
  });

  it('keeps jobs and status across a restart, and runs again a run cut short by a crash', async () => {
    const before = await status();
    await server.stop();
    server = await startServer({ config, dataDir: server.dataDir });
    http = api(server);
    expect(await status()).toEqual(before); // not due for an hour: not run again

    // A crash in the middle of a run leaves its claim: the next start finds it dead.
    await server.stop();
    const state = openLmdbStateStore(join(server.dataDir, 'state'));
    const running = { run: Date.now(), instance: 'crashed-process', heartbeatAt: Date.now() };
    await state.update<JobRecord>('warehouse/shop/daily', (r) => ({
      ...r!,
      status: { ...r!.status, running },
    }));
    await state.close();
    server = await startServer({ config, dataDir: server.dataDir });
    http = api(server);
    const run = await succeeded(before.lastSuccess!.run);
    expect(await status()).toMatchObject({
      runs: 3,
      failures: 1,
      running: null,
      lastRun: { outcome: 'ok', run: run.run },
    });
    await expectRows(run);
    expect((await http.send('DELETE', '/v1/jobs/daily', keys.admin)).status).toBe(204);
    expect((await http.call('/v1/jobs/daily/rows', keys.users)).status).toBe(404);
  });
});
