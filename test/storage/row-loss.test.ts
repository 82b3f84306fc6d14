import { Writable } from 'node:stream';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { createMetrics } from '../../src/ops/metrics.js';
import { createRowLoss } from '../../src/storage/row-loss.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  let wake = () => {};
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      wake();
      done();
    },
  });
  const next = (count: number) =>
    new Promise<void>((resolve) => {
      wake = () => lines.length >= count && resolve();
      wake();
    });
  return { log: pino(stream), lines, next };
}

it('counts every lost row and logs the first loss at once, the rest summed per interval', async () => {
  const { log, lines, next } = capture();
  const metrics = createMetrics();
  const loss = createRowLoss(
    { table: 'notification_decisions', metrics, log },
    { logIntervalMs: 50 },
  );
  loss.lost(3, 'spool_full');
  for (let i = 0; i < 100; i++) loss.lost(1, 'buffer_full');
  loss.lost(2, 'spool_full');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({
    level: 50,
    table: 'notification_decisions',
    rows: { spool_full: 3 },
  });
  await next(2);
  expect(lines[1]).toMatchObject({ rows: { buffer_full: 100, spool_full: 2 } });
  const { values } = await metrics.rowsLost.get();
  expect(values.map((v) => [v.labels.reason, v.value])).toEqual([
    ['spool_full', 5],
    ['buffer_full', 100],
  ]);
});

it('flush() reports what is left at once', () => {
  const { log, lines } = capture();
  const loss = createRowLoss({ table: 'stream_windows', metrics: createMetrics(), log });
  loss.lost(1, 'spool_error');
  loss.lost(4, 'spool_error');
  loss.flush();
  expect(lines.map((line) => line.rows)).toEqual([{ spool_error: 1 }, { spool_error: 4 }]);
});
