import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, runServerUntilExit, tempDir } from '../helpers/server-process.js';

const dirs: string[] = [];
const freshDir = () => {
  const dir = tempDir('backline-start-');
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach(removeDir));

describe('problems an operator must fix stop the start with one clear line', () => {
  it('a DATA_DIR that cannot be created: names the folder, exit code 1', async () => {
    const file = join(freshDir(), 'a-regular-file');
    writeFileSync(file, '');
    const dataDir = join(file, 'data'); // below a regular file: not creatable, even by root
    const { code, stderr } = await runServerUntilExit({ dataDir });
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^backline cannot start: the data folder ${dataDir} \\(DATA_DIR\\) .*\\(ENOTDIR\\).*DATA_DIR`,
        ),
      ),
    ]);
  });

  it('a streams.json that does not parse: names the file, exit code 1, the file is kept', async () => {
    const dataDir = freshDir();
    const text = '{"dev": {"votes": {"name": "votes", ';
    writeFileSync(join(dataDir, 'streams.json'), text);
    const { code, stderr } = await runServerUntilExit({ dataDir });
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^backline cannot start: the saved definitions in .*streams\.json cannot be read/,
      ),
    ]);
    expect(readFileSync(join(dataDir, 'streams.json'), 'utf8')).toBe(text);
  });

  it('a rules.json that cannot be read (a folder): names the file, exit code 1', async () => {
    const dataDir = freshDir();
    mkdirSync(join(dataDir, 'rules.json'));
    const { code, stderr } = await runServerUntilExit({ dataDir });
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^backline cannot start: the saved definitions in .*rules\.json cannot be read \(EISDIR\)/,
      ),
    ]);
  });
});
