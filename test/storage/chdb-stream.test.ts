import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';
import { afterAll, describe, expect, it } from 'vitest';
import {
  csvChunks,
  defaultChdbStreamOptions,
  parquetChunks,
  prepareExportDir,
} from '../../src/storage/chdb-stream.js';
import { eventually } from '../helpers/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'backline-chdb-stream-'));
const session = new Session(join(dir, 'ch'));
const exports = join(dir, 'exports');
prepareExportDir(exports);
afterAll(() => {
  session.close();
  rmSync(dir, { recursive: true, force: true });
});

const small = {
  ...defaultChdbStreamOptions,
  blockRows: 1000,
  parquetRowGroupRows: 2000,
  readBytes: 16_384,
};
const sql = 'SELECT number AS n, toString(number * 7) AS s FROM numbers({rows:UInt64})';

async function all(chunks: AsyncIterable<Uint8Array>) {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(Buffer.from(chunk));
  return parts;
}

describe('chdb streams', () => {
  it('writes the CSV header once, whatever the number of blocks', async () => {
    const parts = await all(csvChunks(session, sql, { rows: 5000 }, small));
    expect(parts.length).toBe(5);
    const lines = Buffer.concat(parts).toString().trimEnd().split('\n');
    expect(lines[0]).toBe('"n","s"');
    expect(lines.slice(1)).toEqual(Array.from({ length: 5000 }, (_, i) => `${i},"${i * 7}"`));
  });

  it('reads a Parquet file as the engine writes it, as one valid file, and removes it', async () => {
    const parts = await all(parquetChunks(session, sql, { rows: 50_000 }, exports, small));
    expect(parts.length).toBeGreaterThan(3);
    expect(Math.max(...parts.map((p) => p.length))).toBeLessThanOrEqual(small.readBytes);
    const file = join(dir, 'back.parquet');
    writeFileSync(file, Buffer.concat(parts));
    const back = await session.queryAsync(
      `SELECT count() AS c, sum(n) AS total, countIf(s = toString(n * 7)) AS same FROM file('${file}', Parquet)`,
      { format: 'JSONEachRow' },
    );
    expect(JSON.parse(back.text())).toEqual({
      c: 50_000,
      total: (49_999 * 50_000) / 2,
      same: 50_000,
    });
    await eventually(() => readdirSync(exports).length === 0, 10_000, 'the export file removed');
  });

  it('removes the file of a reader that stopped early once the engine is done', async () => {
    for await (const _ of parquetChunks(session, sql, { rows: 200_000 }, exports, small)) {
      void _;
      break;
    }
    await eventually(() => readdirSync(exports).length === 0, 30_000, 'the export file removed');
  });

  it('throws the engine’s error to the reader', async () => {
    const failing = parquetChunks(
      session,
      'SELECT throwIf(number = 10) FROM numbers({rows:UInt64})',
      { rows: 20 },
      exports,
      small,
    );
    await expect(all(failing)).rejects.toThrow(/throwIf|FUNCTION_THROW_IF_VALUE_IS_NON_ZERO/);
  });

  it('clears files a crash left behind', () => {
    writeFileSync(join(exports, 'left.parquet'), 'x');
    prepareExportDir(exports);
    expect(existsSync(join(exports, 'left.parquet'))).toBe(false);
  });
});
