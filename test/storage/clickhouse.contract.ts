import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse, StreamFormat } from '../../src/storage/clickhouse.js';
import { createEventStore } from '../../src/storage/event-store.js';
import type { EventRow } from '../../src/model/event.js';
import { applyRetention, migrate } from '../../src/storage/migrate.js';

export function row(id: string, overrides: Partial<EventRow> = {}): EventRow {
  const now = Date.now();
  return {
    project: 'p1',
    type: 'page.view',
    ts: now,
    client_ts: now,
    sent_at: null,
    received_at: now,
    id,
    user_id: 'u',
    anonymous_id: '',
    session_id: '',
    props: '{}',
    ...overrides,
  };
}

/**
 * One suite for every ClickHouse backend (Hono's `common.case.test.ts` pattern). `streams:
 * false` for a backend that cannot stream results (a node reaching ClickHouse through another).
 */
export function clickHouseContract(
  name: string,
  open: () => Promise<ClickHouse>,
  { streams = true } = {},
): void {
  describe(`ClickHouse contract: ${name}`, () => {
    let ch: ClickHouse;
    beforeAll(async () => {
      ch = await open();
    });
    afterAll(async () => {
      await ch?.close();
    });

    it('applies migrations once and records them', async () => {
      expect(await migrate(ch)).toEqual([
        '001_events',
        '002_stream_windows',
        '003_notification_decisions',
        '004_audit_log',
        '005_identities',
        '006_warehouse',
        '007_event_blocks',
        '008_predictions',
        '009_actor_days',
      ]);
      expect(await migrate(ch)).toEqual([]);
      await applyRetention(ch, 30);
      await applyRetention(ch, 30);
      const [table] = await ch.query<{ engine_full: string }>(
        `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'events'`,
      );
      expect(table!.engine_full).toContain('toIntervalDay(30)');
      const [days] = await ch.query<{ engine_full: string }>(
        `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'actor_days'`,
      );
      // Its all-time rows (first events) stay.
      expect(days!.engine_full).toContain('TTL day + toIntervalDay(30) WHERE day > toDate(0)');
    });

    it('stores rows and counts them per type and time range', async () => {
      const store = createEventStore(ch);
      const t = Date.now() - 60_000;
      await store.insert(
        [
          row('a', { ts: t }),
          row('b', { ts: t + 1 }),
          row('c', { ts: t, type: 'vote.cast' }),
          row('d', { ts: t, project: 'p2' }),
        ],
        'contract-1',
      );
      expect(await store.countByType('p1', t, t + 10)).toEqual([
        { type: 'page.view', count: 2 },
        { type: 'vote.cast', count: 1 },
      ]);
      expect(await store.countByType('p1', t + 1, t + 10)).toEqual([
        { type: 'page.view', count: 1 },
      ]);
      expect(await store.countByType('p3', t, t + 10)).toEqual([]);
    });

    it('stores a batch inserted twice with the same dedup token once', async () => {
      const store = createEventStore(ch);
      const rows = [row('tok-1', { type: 'tok' }), row('tok-2', { type: 'tok' })];
      await store.insert(rows, 'contract-same');
      await store.insert(rows, 'contract-same');
      expect(await store.countByType('p1', 0, Date.now() + 1000)).toContainEqual({
        type: 'tok',
        count: 2,
      });
    });

    it('keeps any Unicode and props JSON intact', async () => {
      const store = createEventStore(ch);
      const props = JSON.stringify({ s: 'line\nbreak "quoted" \\ ☃ \ud83c\udfb5', lone: '\ud800' });
      await store.insert([row('ü-☃-🎵', { type: 'unicode', props })], 'contract-unicode');
      const [stored] = await ch.query<{ id: string; props: string }>(
        `SELECT id, props FROM events WHERE type = {type:String}`,
        { type: 'unicode' },
      );
      expect(stored).toEqual({ id: 'ü-☃-🎵', props });
      expect(JSON.parse(stored!.props).lone).toBe('\ud800');
    });

    it('tells which of a project’s ids are stored, within a time range when given', async () => {
      const store = createEventStore(ch);
      const t = Date.now() - 60_000; // within the retention TTL set above
      await store.insert(
        [row('s1', { ts: t }), row('s2', { ts: t + 1 }), row('s1', { ts: t, project: 'p2' })],
        'contract-stored',
      );
      const ids = ['s1', 's2', 's3', ...Array.from({ length: 6000 }, (_, i) => `none-${i}`)];
      expect([...(await store.storedIds('p1', ids))].sort()).toEqual(['s1', 's2']);
      expect([...(await store.storedIds('p2', ids))]).toEqual(['s1']);
      expect([...(await store.storedIds('p1', ids, { fromMs: t + 1, toMs: t + 1 }))]).toEqual([
        's2',
      ]);
      expect(await store.storedIds('p1', [])).toEqual(new Set());
    });

    it('lists the ids received since a time, newest first', async () => {
      const store = createEventStore(ch);
      const t = Date.now() + 5000;
      await store.insert(
        [row('r1', { received_at: t }), row('r2', { received_at: t + 1, project: 'p2' })],
        'contract-recent',
      );
      expect(await store.recentIds(t, 10)).toEqual([
        ['p2', 'r2'],
        ['p1', 'r1'],
      ]);
      expect(await store.recentIds(t, 1)).toEqual([['p2', 'r2']]);
    });

    it('runs a statement with bound parameters (INSERT … SELECT)', async () => {
      await ch.exec(
        'CREATE TABLE IF NOT EXISTS exec_params (n UInt64, tag String) ENGINE = Memory',
      );
      await ch.exec(
        'INSERT INTO exec_params SELECT number, {tag:String} FROM numbers({rows:UInt64})',
        { tag: "it's", rows: 5 },
      );
      expect(await ch.query('SELECT sum(n) AS s, any(tag) AS tag FROM exec_params')).toEqual([
        { s: expect.anything(), tag: "it's" },
      ]);
      const [row] = await ch.query<{ s: number | string }>('SELECT sum(n) AS s FROM exec_params');
      expect(Number(row!.s)).toBe(10);
      await ch.exec('DROP TABLE exec_params');
    });

    it.runIf(!streams)('says it cannot stream (exports answer EXPORT_UNAVAILABLE)', () => {
      expect(ch.stream).toBeUndefined();
    });

    it.runIf(streams)(
      'streams a result as one CSV and one Parquet file, with bound parameters',
      async () => {
        const sql = 'SELECT number AS n FROM numbers({rows:UInt64}) ORDER BY n';
        const read = async (format: StreamFormat) => {
          const parts: Buffer[] = [];
          for await (const chunk of ch.stream!(sql, { rows: 20_000 }, format))
            parts.push(Buffer.from(chunk));
          return Buffer.concat(parts);
        };
        const csv = (await read('CSVWithNames')).toString().trimEnd().split('\n');
        expect(csv).toEqual(['"n"', ...Array.from({ length: 20_000 }, (_, i) => String(i))]);
        const parquet = await read('Parquet');
        expect(parquet.subarray(0, 4).toString()).toBe('PAR1');
        expect(parquet.subarray(-4).toString()).toBe('PAR1');
        // One footer: the length before the closing magic points back into this file.
        expect(parquet.readUInt32LE(parquet.length - 8)).toBeLessThan(parquet.length);
        expect(parquet.indexOf('PAR1', 4)).toBe(parquet.length - 4);
      },
    );
  });
}
