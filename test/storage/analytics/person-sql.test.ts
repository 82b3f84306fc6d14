import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventRow } from '../../../src/model/event.js';
import { identityMapSql, personEventsSql } from '../../../src/storage/analytics/person-sql.js';
import { createSqlParams } from '../../../src/storage/analytics/sql-params.js';
import { openChdb } from '../../../src/storage/chdb-client.js';
import type { ClickHouse } from '../../../src/storage/clickhouse.js';
import { migrate, readMigrations } from '../../../src/storage/migrate.js';
import { generateAnalyticsData } from '../../helpers/analytics-data.js';
import { identityMap, personOf } from '../../helpers/analytics-reference.js';

const opened: Array<{ ch: ClickHouse; dir: string }> = [];
const open = () => {
  const dir = mkdtempSync(join(tmpdir(), 'backline-identities-'));
  const ch = openChdb(dir);
  opened.push({ ch, dir });
  return ch;
};
afterEach(async () => {
  for (const { ch, dir } of opened.splice(0)) {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

let n = 0;
const row = (project: string, ts: number, user: string, anon: string, type = 'x'): EventRow => ({
  ...{ project, type, ts, client_ts: ts, sent_at: null, received_at: ts, id: `r${n++}` },
  ...{ user_id: user, anonymous_id: anon, session_id: '', props: '{}' },
});

const storedMap = async (ch: ClickHouse, project: string) => {
  const p = createSqlParams();
  const rows = await ch.query<{ anonymous_id: string; merged_user: string }>(
    `${identityMapSql(p.bind(project, 'String'))} ORDER BY anonymous_id`,
    p.values,
  );
  return new Map(rows.map((r) => [r.anonymous_id, r.merged_user]));
};

describe('identity merges', () => {
  it('are stored as events arrive; the earliest merge of an anonymous id wins, whatever arrives first', async () => {
    const ch = open();
    await migrate(ch);
    const t = Date.UTC(2026, 0, 1);
    // The later merge (a shared device) is inserted first, in its own insert.
    await ch.insert('events', [row('p', t + 5000, 'bob', 'a1', 'identify')]);
    await ch.insert('events', [
      row('p', t, '', 'a1'),
      row('p', t + 1000, 'ann', 'a1', 'identify'),
      row('p', t + 2000, 'ann', 'a1'),
      row('p', t + 3000, 'cat', 'a2'),
      row('q', t + 500, 'zed', 'a1'), // another project's merge of the same anonymous id
    ]);
    expect(await storedMap(ch, 'p')).toEqual(
      new Map([
        ['a1', 'ann'],
        ['a2', 'cat'],
      ]),
    );
    expect(await storedMap(ch, 'q')).toEqual(new Map([['a1', 'zed']]));
    // Stored, not recomputed: the merges outlive the events that made them (a TTL drop).
    await ch.exec('TRUNCATE TABLE events');
    expect(await storedMap(ch, 'p')).toEqual(
      new Map([
        ['a1', 'ann'],
        ['a2', 'cat'],
      ]),
    );
  });

  it('are backfilled from events stored before the migration', async () => {
    const ch = open();
    const migrations = readMigrations();
    const before = migrations.filter((m) => m.name < '004');
    await migrate(ch, before);
    const data = generateAnalyticsData({
      seed: 3,
      project: 'p',
      t0: Date.UTC(2026, 0, 5),
      days: 10,
      users: 40,
      anonymous: 5,
    });
    await ch.insert('events', data.rows);
    expect(await migrate(ch, migrations)).toContain('005_identities');
    expect(await storedMap(ch, 'p')).toEqual(
      new Map([...data.merges].sort(([a], [b]) => (a < b ? -1 : 1))),
    );
    expect(data.contested.length).toBeGreaterThan(0);
  });

  it('give each event its person: the user, the merged user, or the anonymous id', async () => {
    const ch = open();
    await migrate(ch);
    const data = generateAnalyticsData({
      seed: 11,
      project: 'p',
      t0: Date.UTC(2026, 0, 5),
      days: 10,
      users: 40,
      anonymous: 5,
    });
    await ch.insert('events', data.rows);
    const p = createSqlParams();
    const sql = `${personEventsSql(p, { project: 'p' }, ['e.id AS id'])} ORDER BY id`;
    const rows = await ch.query<{ id: string; person: string; identified: number }>(sql, p.values);
    const map = identityMap(data.rows);
    const expected = data.rows
      .filter((r) => personOf(r, map) !== '')
      .map((r) => ({
        id: r.id,
        person: personOf(r, map),
        identified: r.user_id || map.has(r.anonymous_id) ? 1 : 0,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(rows.map((r) => ({ ...r, identified: Number(r.identified) }))).toEqual(expected);
    expect(expected.some((r) => r.identified === 0)).toBe(true);
    expect(data.rows.some((r) => !r.user_id && map.has(r.anonymous_id))).toBe(true);
  });
});
