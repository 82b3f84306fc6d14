import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { missingTools } from './required-tools.js';
import { removeDir, tempDir } from './server-process.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const empty = tempDir('backline-no-tools-');
afterAll(() => removeDir(empty));

describe('required system tools', () => {
  it('finds every tool on this machine', () => {
    expect(missingTools()).toEqual([]);
  });

  it('names the Debian package of each missing tool', () => {
    const places = {
      path: empty,
      chromium: join(empty, 'chromium'),
      python: join(empty, 'py'),
      haproxy: join(empty, 'haproxy'),
    };
    expect(missingTools(places)).toEqual([
      'promtool (apt-get install prometheus)',
      `${empty}/chromium (apt-get install chromium fonts-liberation)`,
      'redis-server (apt-get install redis-server)',
      'haproxy (apt-get install haproxy)',
      `${empty}/py (apt-get install python3 python3-msgpack python3-websockets)`,
    ]);
  });

  it('names each Python module the interpreter cannot import', () => {
    // Debian's python3 isolated from its dist-packages: a python3 without the two packages.
    const python = join(empty, 'python3-bare');
    writeFileSync(python, '#!/bin/sh\nexec /usr/bin/python3 -I -S "$@"\n');
    chmodSync(python, 0o755);
    expect(
      missingTools({
        path: process.env.PATH ?? '',
        chromium: '/usr/bin/chromium',
        python,
        haproxy: '/usr/sbin/haproxy',
      }),
    ).toEqual([
      `${python} module msgpack (apt-get install python3-msgpack)`,
      `${python} module websockets (apt-get install python3-websockets)`,
    ]);
  });

  it('stops a Vitest run before any test with one line naming the packages', () => {
    const run = spawnSync(
      process.execPath,
      [join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'test/lib/backoff.test.ts'],
      { cwd: root, env: { ...process.env, PATH: empty, NO_COLOR: '1' }, encoding: 'utf8' },
    );
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(
      'missing: promtool (apt-get install prometheus), redis-server (apt-get install redis-server); ' +
        '.ci/run installs them all',
    );
    expect(run.stdout).not.toMatch(/Test Files|passed/);
  });
});
