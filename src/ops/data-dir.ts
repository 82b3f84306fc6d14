import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StartError } from './start-error.js';

/**
 * Creates the data folder if needed and proves it writable by writing and removing a file
 * (permission bits alone say nothing for root, ACLs or a read-only mount), so a bad DATA_DIR
 * is one clear line at start rather than an ENOENT or EACCES deep in a later stack.
 *
 * @example
 * checkDataDir(config.dataDir); // throws StartError naming the folder
 */
export function checkDataDir(dir: string): void {
  const path = resolve(dir);
  try {
    mkdirSync(path, { recursive: true });
    const probe = join(path, `.write-check-${process.pid}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new StartError(
      `the data folder ${path} (DATA_DIR) cannot be created or written (${code}): ` +
        'create it writable for the user backline runs as, or set DATA_DIR to a writable folder',
      { cause: err },
    );
  }
}
