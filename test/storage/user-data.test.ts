import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionRow } from '../../src/model/decision.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import type { ClickHouse } from '../../src/storage/clickhouse.js';
import { migrate } from '../../src/storage/migrate.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createLogger } from '../../src/ops/logger.js';
import { createRollupRoller } from '../../src/storage/rollup-roller.js';
import { markerKey, rollupTable, type RollupSpec } from '../../src/storage/rollup-sql.js';
import { createRollupStore } from '../../src/storage/rollup-store.js';
import { createRollupTurns } from '../../src/storage/rollup-turns.js';
import { createUserData } from '../../src/storage/user-data.js';
import type { WindowRow } from '../../src/storage/window-store.js';
import { row } from './clickhouse.contract.js';

let ch: ClickHouse;
const dir = mkdtempSync(join(tmpdir(), 'backline-user-data-'));
beforeAll(async () => {
  ch = openChdb(join(dir, 'ch'));
  await migrate(ch);
});
afterAll(() => ch.close());

const decision = (user: string, id: string): DecisionRow => ({
  ...{ project: 'p1', user_id: user, notification_id: id, rule: 'r', category: 'c' },
  ...{ dedup_key: '', channel: 'in_app', outcome: 'sent', reason: 'ok', attempt: 0 },
  ts: Date.now(),
});
const window = (key: string, values: object, stream = 's'): WindowRow => ({
  ...{ project: 'p1', stream, key, start: 1_800_000_000_000, end: 1_800_000_060_000 },
  ...{ rev: 1, values: JSON.stringify(values), emitted_at: 1_800_000_060_000 },
});

/** A stream grouped by user with a topK of users, as the pipeline's rollups make it. */
const byUser: RollupSpec = {
  name: 'by_user',
  source: { where: [] },
  groupBy: ['userId'],
  aggregates: [{ name: 'top', field: 'userId' }],
  functions: [{ fn: 'topK', params: [3], reads: 'text' }],
};
const everyone: RollupSpec = { ...byUser, name: 'everyone', groupBy: [] };

const strings = async (sql: string) =>
  (await ch.query<Record<string, unknown>>(sql)).map((r) => JSON.stringify(r));

describe('createUserData', () => {
  it('finds, exports and erases a user’s events, decisions, windows and rollup rows', async () => {
    const data = createUserData(ch, { pageRows: 2 });
    const turns = createRollupTurns();
    const store = createRollupStore(ch, turns);
    for (const spec of [byUser, everyone]) await store.ensure('p1', spec);
    await ch.insert('events', [
      row('e1', { user_id: 'gone', anonymous_id: 'dev-1' }),
      row('e2', { user_id: '', anonymous_id: 'dev-1' }), // before sign-in: the user's
      row('e3', { user_id: 'stays', anonymous_id: 'dev-1' }), // a shared device: the other user's
      row('e4', { user_id: 'stays' }),
      row('e5', { user_id: 'gone', project: 'p2' }), // the same id in another project
      row('e6', { user_id: 'gone' }),
    ]);
    // The roller stores the events' rollup rows.
    const log = createLogger('silent');
    await createRollupRoller({ ch, turns, metrics: createMetrics(), log }).rollNow();
    await ch.insert('notification_decisions', [decision('gone', 'n1'), decision('stays', 'n2')]);
    await ch.insert('stream_windows', [
      window('gone', { n: 1 }),
      window('x|gone', { n: 1 }),
      window('', {
        top: [
          { value: 'gone', count: 3 },
          { value: 'stays', count: 1 },
        ],
      }),
      window('stays', { n: 2 }),
    ]);

    const anonymousIds = await data.anonymousIds('p1', 'gone');
    expect(anonymousIds).toEqual(['dev-1']);
    expect(await data.notificationIds('p1', 'gone')).toEqual(['n1']);
    const user = { project: 'p1', userId: 'gone', anonymousIds };
    expect(await data.counts(user)).toEqual({ events: 3, decisions: 1 });
    const exported = [];
    for await (const page of data.events(user)) exported.push(...page.map((e) => e.id));
    expect(exported.sort()).toEqual(['e1', 'e2', 'e6']);

    expect(await data.eraseEvents(user)).toBe(3);
    expect(await data.eraseDecisions(user)).toBe(1);
    const tables = [byUser, everyone].map((spec) => rollupTable('p1', spec));
    // 2 windows keyed by the user, 1 topK rewritten, the rollup row keyed by the user and
    // the everyone rollup's hour whose topK lists them.
    expect(await data.eraseWindows(user, tables)).toBe(5);

    expect(await strings(`SELECT id FROM events ORDER BY id`)).toEqual(
      ['e3', 'e4', 'e5'].map((id) => JSON.stringify({ id })),
    );
    expect(await data.counts(user)).toEqual({ events: 0, decisions: 0 });
    const windows = await strings('SELECT key, values FROM stream_windows ORDER BY key');
    expect(windows).toEqual([
      JSON.stringify({ key: '', values: JSON.stringify({ top: [{ value: 'stays', count: 1 }] }) }),
      JSON.stringify({ key: 'stays', values: JSON.stringify({ n: 2 }) }),
    ]);
    // The user's anonymous event left a row keyed '' (no user id): counts only, it stays.
    const rows = `key != ${markerKey}`; // not the roller's marker row
    expect(await strings(`SELECT key FROM ${tables[0]} WHERE ${rows} ORDER BY key`)).toEqual([
      JSON.stringify({ key: '' }),
      JSON.stringify({ key: 'stays' }),
    ]);
    expect(await strings(`SELECT count() AS n FROM ${tables[1]} WHERE ${rows}`)).toEqual([
      '{"n":0}',
    ]);
    // Idempotent: a resumed erase finds nothing more.
    expect(await data.eraseEvents(user)).toBe(0);
    expect(await data.eraseWindows(user, tables)).toBe(0);
  });
});
