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

it('rewrites batches in place: rows dropped or changed, emptied files removed, tokens kept', async () => {
  const dir = tempDir();
  const spool = openSpool<{ user: string; n: number }>(dir);
  await spool.write('events-boot-1', [
    { user: 'gone', n: 1 },
    { user: 'kept', n: 2 },
  ]);
  await spool.write('events-boot-2', [{ user: 'gone', n: 3 }]);
  await spool.write('events-boot-3', [{ user: 'kept', n: 4 }]);
  const changed = await spool.rewrite((row) =>
    row.user === 'gone' ? undefined : row.n === 4 ? { ...row, n: 40 } : row,
  );
  expect(changed).toBe(3);
  expect(spool.totals()).toMatchObject({ files: 2, rows: 2 });
  expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  // What a restart reads back: the rewritten rows under their original tokens.
  const reopened = openSpool<{ user: string; n: number }>(dir);
  const first = await reopened.oldest();
  expect(first).toMatchObject({ token: 'events-boot-1', rows: [{ user: 'kept', n: 2 }] });
  await reopened.remove(first!.file);
  expect(await reopened.oldest()).toMatchObject({
    token: 'events-boot-3',
    rows: [{ user: 'kept', n: 40 }],
  });
  expect(await reopened.rewrite((row) => row)).toBe(0);
});
