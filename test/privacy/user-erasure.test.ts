import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BacklineError } from '../../src/errors.js';
import type { DecisionRow } from '../../src/model/decision.js';
import type { EventRow } from '../../src/model/event.js';
import { createSuppressions } from '../../src/notify/channels/email/suppressions.js';
import { createPushSubscriptions } from '../../src/notify/channels/web-push/push-subscriptions.js';
import { createPreferences } from '../../src/notify/preferences.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createUserErasure } from '../../src/privacy/user-erasure.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import { createBatchWriter } from '../../src/storage/batch-writer.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import { insertInto, type ClickHouse } from '../../src/storage/clickhouse.js';
import { migrate } from '../../src/storage/migrate.js';
import { openSpool } from '../../src/storage/spool.js';
import { createUserData } from '../../src/storage/user-data.js';
import type { WindowRow } from '../../src/storage/window-store.js';
import { eventually } from '../helpers/eventually.js';
import { log, tempDir } from '../rules/rules-fixtures.js';
import { row } from '../storage/clickhouse.contract.js';

const dir = tempDir('erasure');
let ch: ClickHouse;
beforeAll(async () => {
  ch = openChdb(join(dir, 'ch'));
  await migrate(ch);
});
afterAll(() => ch.close());

/** The erasure over real ClickHouse, writers and state; `failures` decision deletes fail first. */
function setup(failures: number) {
  const state = createMemoryStateStore();
  const metrics = createMetrics();
  const writer = <Row extends object>(table: string) =>
    createBatchWriter<Row>({
      table,
      insert: insertInto<Row>(ch, table),
      spool: openSpool(join(dir, `spool-${table}-${failures}`)),
      metrics,
      log,
    });
  const data = createUserData(ch);
  let left = failures;
  const erasure = createUserErasure(
    {
      state,
      data: {
        ...data,
        // ClickHouse refusing the first deletes, as a server that is down would.
        eraseDecisions: (user) =>
          left-- > 0
            ? Promise.reject(new Error('connect ECONNREFUSED'))
            : data.eraseDecisions(user),
      },
      userState: {
        state,
        preferences: createPreferences(state),
        push: createPushSubscriptions(state),
        suppressions: createSuppressions(state),
      },
      writers: {
        events: writer<EventRow>('events'),
        decisions: writer<DecisionRow>('notification_decisions'),
        windows: writer<WindowRow>('stream_windows'),
      },
      rollupTables: () => [],
      metrics,
      log,
    },
    { retryBaseMs: 50, retryMaxMs: 100 },
  );
  return { state, erasure, metrics };
}

const eventsOf = async (user: string) =>
  (await ch.query<{ n: number }>(`SELECT count() AS n FROM events WHERE user_id = '${user}'`))[0]!
    .n;

it('runs one erase per user however often it is asked for', async () => {
  await ch.insert('events', [row('one-1', { user_id: 'once' }), row('one-2', { user_id: 'once' })]);
  const { erasure, state } = setup(0);
  await erasure.start();
  const [first, second] = await Promise.all([
    erasure.erase('p1', 'once'),
    erasure.erase('p1', 'once'),
  ]);
  expect(first).toBe(second);
  expect(first).toMatchObject({ events: 2, decisions: 0 });
  expect(await eventsOf('once')).toBe(0);
  expect(await state.list('erase/')).toEqual([]); // the journal, naming the user, is gone
  await erasure.stop();
});

it('answers ERASE_INCOMPLETE when a step fails, keeps the journal and retries until done', async () => {
  await ch.insert('events', [row('retry-1', { user_id: 'retried' })]);
  const { erasure, state, metrics } = setup(1);
  await erasure.start();
  const failed = await erasure.erase('p1', 'retried').catch((err: unknown) => err);
  expect(failed).toBeInstanceOf(BacklineError);
  expect(failed).toMatchObject({ code: 'ERASE_INCOMPLETE', status: 503 });
  const [[, journal]] = (await state.list<{ done: string[] }>('erase/')) as [
    [string, { done: string[] }],
  ];
  expect(journal.done).toEqual(['flush', 'spool', 'events', 'identities', 'warehouse']);
  // Asked again while it waits to retry: the caller waits for the next attempt.
  expect(await erasure.erase('p1', 'retried')).toMatchObject({ events: 1, decisions: 0 });
  expect(await eventsOf('retried')).toBe(0);
  await eventually(async () => (await state.list('erase/')).length === 0, 5000, 'the journal');
  const failures = await metrics.registry.getSingleMetric('backline_privacy_erasures_total')!.get();
  const byOutcome = Object.fromEntries(failures.values.map((v) => [v.labels.outcome, v.value]));
  expect(byOutcome).toMatchObject({ failed: 1, done: 1 });
  await erasure.stop();
});
