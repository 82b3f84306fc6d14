import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventRow } from '../../../src/model/event.js';
import { personDaysSql } from '../../../src/storage/analytics/person-days-sql.js';
import { createSqlParams } from '../../../src/storage/analytics/sql-params.js';
import { openChdb } from '../../../src/storage/chdb-client.js';
import type { ClickHouse } from '../../../src/storage/clickhouse.js';
import { migrate, readMigrations } from '../../../src/storage/migrate.js';
import { createUserData } from '../../../src/storage/user-data.js';
import { generateAnalyticsData } from '../../helpers/analytics-data.js';
import { identityMap, personOf } from '../../helpers/analytics-reference.js';

const dayMs = 86_400_000;
const opened: Array<{ ch: ClickHouse; dir: string }> = [];
const open = () => {
  const dir = mkdtempSync(join(tmpdir(), 'backline-person-days-'));
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

const data = () =>
  generateAnalyticsData({
    seed: 5,
    project: 'p',
    t0: Date.UTC(2026, 0, 5),
    days: 12,
    users: 40,
    anonymous: 6,
  });

/** Per person and UTC day: the first event's time, from a loop over the rows. */
function expected(rows: readonly EventRow[]): string[] {
  const map = identityMap(rows);
  const first = new Map<string, number>();
  for (const row of rows) {
    if (row.project !== 'p') continue;
    const person = personOf(row, map);
    if (!person) continue;
    const key = `${person}|${Math.floor(row.ts / dayMs) * dayMs}`;
    first.set(key, Math.min(first.get(key) ?? Infinity, row.ts));
  }
  return [...first].map(([key, ts]) => `${key}|${ts}`).sort();
}

async function stored(ch: ClickHouse): Promise<string[]> {
  const p = createSqlParams();
  const rows = await ch.query<{ key: string }>(
    `SELECT concat(person, '|', toString(day_ms), '|', toString(toUnixTimestamp64Milli(min(first_ts)))) AS key
     FROM (${personDaysSql(p, { project: 'p' })}) GROUP BY person, day_ms`,
    p.values,
  );
  return rows.map((r) => r.key).sort();
}

describe('person_days', () => {
  it('hold each person’s first event of each day, as the events and identities say', async () => {
    const ch = open();
    await migrate(ch);
    const { rows } = data();
    // Several insert blocks: the view's rows of one day fold across them.
    for (let i = 0; i < rows.length; i += 97) await ch.insert('events', rows.slice(i, i + 97));
    expect(await stored(ch)).toEqual(expected(rows));
  });

  it('are backfilled from the events stored before the migration', async () => {
    const ch = open();
    await migrate(
      ch,
      readMigrations().filter((m) => m.name < '008'),
    );
    const { rows } = data();
    await ch.insert('events', rows);
    expect(await migrate(ch)).toEqual(['008_person_days']);
    expect(await stored(ch)).toEqual(expected(rows));
  });

  it('lose a user’s rows with their events', async () => {
    const ch = open();
    await migrate(ch);
    const { rows } = data();
    await ch.insert('events', rows);
    const userId = rows.find((r) => r.project === 'p' && r.user_id && r.anonymous_id)!.user_id;
    const users = createUserData(ch);
    const user = { project: 'p', userId, anonymousIds: await users.anonymousIds('p', userId) };
    await users.eraseEvents(user);
    const left = rows.filter(
      (r) =>
        r.project !== 'p' ||
        (r.user_id !== userId && !(r.user_id === '' && user.anonymousIds.includes(r.anonymous_id))),
    );
    expect(await stored(ch)).toEqual(expected(left));
  });
});
