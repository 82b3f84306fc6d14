import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface ToolPlaces {
  /** Directories searched for commands, as `PATH`. */
  path: string;
  /** The tests launch exactly this browser binary (playwright-core brings none). */
  chromium: string;
  /** Debian's interpreter: its `python3-*` packages install where it looks. */
  python: string;
  /** Debian installs HAProxy in /usr/sbin, which is not on every user's PATH. */
  haproxy: string;
}

const defaultPlaces: ToolPlaces = {
  path: process.env.PATH ?? '',
  chromium: '/usr/bin/chromium',
  python: '/usr/bin/python3',
  haproxy: '/usr/sbin/haproxy',
};

/**
 * The system tools `npm test` needs that this machine lacks, each with the Debian packages
 * that provide it, e.g. `promtool (apt-get install prometheus)`.
 */
export function missingTools(places: ToolPlaces = defaultPlaces): string[] {
  const missing: string[] = [];
  if (!onPath('promtool', places.path)) missing.push('promtool (apt-get install prometheus)');
  if (!executable(places.chromium))
    missing.push(`${places.chromium} (apt-get install chromium fonts-liberation)`);
  if (!onPath('redis-server', places.path))
    missing.push('redis-server (apt-get install redis-server)');
  if (!onPath('haproxy', places.path) && !executable(places.haproxy))
    missing.push('haproxy (apt-get install haproxy)');
  if (!executable(places.python)) {
    missing.push(`${places.python} (apt-get install python3 python3-msgpack python3-websockets)`);
  } else {
    for (const module of ['msgpack', 'websockets']) {
      const probe = spawnSync(places.python, ['-c', `import ${module}`], { stdio: 'ignore' });
      if (probe.status !== 0)
        missing.push(`${places.python} module ${module} (apt-get install python3-${module})`);
    }
  }
  return missing;
}

function onPath(command: string, path: string): boolean {
  return path.split(delimiter).some((dir) => dir !== '' && executable(join(dir, command)));
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Vitest `globalSetup`: stops the run before any test when a tool is missing, with one line
 * naming the packages, rather than an ENOENT deep inside one test. It exits instead of
 * throwing: Vitest reports a throw here as an "Unhandled Error" under "No test files found".
 */
export default function setup(): void {
  const missing = missingTools();
  if (missing.length === 0) return;
  console.error(`missing: ${missing.join(', ')}; .ci/run installs them all`);
  process.exit(1);
}
