import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/compose/config.js';
import { createDedupWindow } from '../../src/ingest/dedup-window.js';
import { createIngest } from '../../src/ingest/ingest-service.js';
import { createLocalAcceptance } from '../../src/ingest/local-acceptance.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createBatchWriter } from '../../src/storage/batch-writer.js';
import type { EventRow } from '../../src/model/event.js';
import { openSpool } from '../../src/storage/spool.js';

const limits = configSchema.parse({}).limits;
const log = pino({ level: 'silent' });

/** An ingest whose storage takes rows into an array once `open` lets it. */
function setup(options: { maxBufferedRows?: number; fail?: boolean } = {}) {
  const stored: EventRow[] = [];
  let open!: () => void;
  const spoolDir = mkdtempSync(join(tmpdir(), 'backline-ingest-'));
  const spool = openSpool<EventRow>(spoolDir);
  // With its folder gone the spool cannot take a batch either.
  if (options.fail) rmSync(spoolDir, { recursive: true });
  const gate = new Promise<void>((resolve) => (open = resolve));
  const writer = createBatchWriter<EventRow>(
    {
      table: 'events',
      insert: async (rows) => {
        await gate;
        if (options.fail) throw new Error('disk and ClickHouse both gone');
        stored.push(...rows);
      },
      spool,
      metrics: createMetrics(),
      log,
    },
    {
      flushIntervalMs: 1,
      maxBufferedRows: options.maxBufferedRows ?? 1000,
    },
  );
  const dedup = createDedupWindow();
  const acceptance = createLocalAcceptance({ writer, dedup });
  const ingest = createIngest({ acceptance, metrics: createMetrics(), limits });
  return { ingest, stored, open, dedup };
}

const events = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, type: 't', ts: Date.now() }));

describe('createIngest', () => {
  it('acknowledges only after storage took the rows', async () => {
    const { ingest, stored, open } = setup();
    const result = ingest.accept('p', events(3, 'a'));
    let settled = false;
    void result.durable.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    open();
    await result.durable;
    expect(stored.map((row) => row.id)).toEqual(['a0', 'a1', 'a2']);
  });

  it('makes a duplicate wait for its first copy to be durable', async () => {
    const { ingest, open } = setup();
    const first = ingest.accept('p', events(2, 'd'));
    const again = ingest.accept('p', events(2, 'd'));
    let settled = false;
    void again.durable.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    open();
    expect(await first.durable).toEqual({ accepted: 2, duplicates: 0 });
    expect(await again.durable).toEqual({ accepted: 0, duplicates: 2 });
  });

  it('refuses with BACKPRESSURE and a retry hint while storage is behind', () => {
    const { ingest } = setup({ maxBufferedRows: 5 });
    ingest.accept('p', events(5, 'b'));
    expect(() => ingest.accept('p', events(1, 'c'))).toThrow(
      expect.objectContaining({ code: 'BACKPRESSURE', retryAfterMs: expect.any(Number) }),
    );
  });

  it('forgets ids that could not be made durable, so a retry is accepted', async () => {
    const { ingest, open, dedup } = setup({ fail: true });
    const result = ingest.accept('p', events(2, 'f'));
    open();
    await expect(result.durable).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(dedup.has('p', 'f0')).toBe(false);
  });

  it('refuses new batches once closed', () => {
    const { ingest } = setup();
    ingest.close();
    expect(() => ingest.accept('p', events(1, 'z'))).toThrow(
      expect.objectContaining({ code: 'SHUTTING_DOWN' }),
    );
  });
});
