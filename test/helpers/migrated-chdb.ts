import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openChdb } from '../../src/storage/chdb-client.js';
import { migrate } from '../../src/storage/migrate.js';

/**
 * A real embedded ClickHouse in a fresh temporary folder, migrated; `close()` closes it and
 * removes the folder.
 *
 * @example
 * let ch: ClickHouse;
 * let close: () => Promise<void>;
 * beforeAll(async () => ({ ch, close } = await openMigratedChdb('backline-x-')));
 * afterAll(() => close());
 */
export async function openMigratedChdb(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const ch = openChdb(join(dir, 'ch'));
  await migrate(ch);
  const close = async () => {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { ch, close };
}
