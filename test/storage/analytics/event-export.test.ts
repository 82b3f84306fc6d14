import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRow } from '../../../src/model/event.js';
import { createEventExport } from '../../../src/storage/analytics/event-export.js';
import { openChdb } from '../../../src/storage/chdb-client.js';
import type { ClickHouse } from '../../../src/storage/clickhouse.js';
import { migrate } from '../../../src/storage/migrate.js';
import { parseCsv } from '../../helpers/csv.js';

const dir = mkdtempSync(join(tmpdir(), 'backline-export-'));
let ch: ClickHouse;
const t0 = Date.UTC(2026, 0, 5);
const rows: EventRow[] = [];
for (let i = 0; i < 30_000; i++) {
  const ts = t0 + i * 7_001;
  rows.push({
    ...{ project: i % 10 === 9 ? 'other' : 'shop', type: ['a', 'b', 'c'][i % 3]!, ts },
    ...{ client_ts: ts - 5, sent_at: null, received_at: ts + 3, id: `id-${i}` },
    ...{
      user_id: i % 4 ? `u${i % 97}` : '',
      anonymous_id: i % 5 ? `a${i % 89}` : '',
      session_id: 's',
    },
    props: JSON.stringify({ n: i, text: i % 7 ? 'plain' : 'with "quotes", commas\nand a line' }),
  });
}
const from = t0 + 1000 * 7_001;
const to = t0 + 25_000 * 7_001;
const text = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const expected = rows
  .filter((r) => r.project === 'shop' && r.ts >= from && r.ts < to)
  .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.ts - b.ts))
  .map((r) => [
    r.id,
    r.type,
    text(r.ts),
    text(r.client_ts),
    text(r.received_at),
    r.user_id,
    r.anonymous_id,
    r.session_id,
    r.props,
  ]);

beforeAll(async () => {
  ch = openChdb(join(dir, 'clickhouse'));
  await migrate(ch);
  for (let i = 0; i < rows.length; i += 5000) await ch.insert('events', rows.slice(i, i + 5000));
});
afterAll(async () => {
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
});

async function collect(chunks: AsyncIterable<Uint8Array>, during?: () => Promise<void>) {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) {
    parts.push(Buffer.from(chunk));
    if (during && parts.length === 1) await during();
  }
  return parts;
}

describe('event export', () => {
  it('streams the project’s rows in the range as CSV, in several chunks, while other queries run', async () => {
    const exports = createEventExport(ch);
    let inserted = 0;
    // Inserts and queries go on during an export: ingest does not stop for one.
    const parts = await collect(exports.chunks('shop', from, to, 'CSVWithNames'), async () => {
      const late = { ...rows[0]!, id: 'late', ts: to + 1 };
      await ch.insert('events', [late]);
      inserted = (await ch.query<{ n: string }>('SELECT count() AS n FROM events'))
        .map((r) => Number(r.n))
        .at(0)!;
    });
    expect(inserted).toBe(rows.length + 1);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const [header, ...body] = parseCsv(Buffer.concat(parts).toString('utf8'));
    expect(header).toEqual([
      'id',
      'type',
      'ts',
      'client_ts',
      'received_at',
      'user_id',
      'anonymous_id',
      'session_id',
      'props',
    ]);
    expect(body).toEqual(expected);
  });

  it('streams Parquet that reads back as the same rows', async () => {
    const parts = await collect(createEventExport(ch).chunks('shop', from, to, 'Parquet'));
    const file = join(dir, 'export.parquet');
    writeFileSync(file, Buffer.concat(parts));
    const back = await ch.query<Record<string, unknown>>(
      `SELECT id, type, toString(ts) AS ts, toString(client_ts) AS client_ts, toString(received_at) AS received_at,
         user_id, anonymous_id, session_id, props FROM file({file:String}, Parquet)`,
      { file },
    );
    expect(back.map((r) => Object.values(r))).toEqual(expected);
  });

  it('stops the query when the reader stops early, and the session stays usable', async () => {
    let seen = 0;
    for await (const _ of createEventExport(ch).chunks('shop', from, to, 'CSVWithNames')) {
      void _;
      if (++seen === 2) break;
    }
    const again = await collect(
      createEventExport(ch).chunks('shop', from, from + 7_001 * 30, 'CSVWithNames'),
    );
    expect(parseCsv(Buffer.concat(again).toString('utf8')).length).toBe(1 + 27);
  });
});
