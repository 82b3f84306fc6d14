import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openSpool } from '../../src/storage/spool.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'backline-spool-'));

it('deletes partial files of an interrupted write on opening and keeps complete ones', async () => {
  const dir = tempDir();
  const first = openSpool<{ n: number }>(dir);
  await first.write('events-boot-1', [{ n: 1 }, { n: 2 }]);
  // What `kill -9` between open and rename leaves behind.
  const partial = join(dir, '0001760000000000-3-events-boot-2.ndjson.tmp');
  writeFileSync(partial, '{"n":3}\n{"n":');

  const second = openSpool<{ n: number }>(dir);
  expect(existsSync(partial)).toBe(false);
  expect(second.partialsRemoved).toBe(1);
  expect(second.totals()).toMatchObject({ files: 1, rows: 2 });
  expect(await second.oldest()).toMatchObject({
    token: 'events-boot-1',
    rows: [{ n: 1 }, { n: 2 }],
  });
  expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
});

it('reports no partial files when there were none', () => {
  const dir = join(tempDir(), 'fresh');
  mkdirSync(dir);
  expect(openSpool(dir).partialsRemoved).toBe(0);
});
