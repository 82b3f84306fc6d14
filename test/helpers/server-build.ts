import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Where this checkout's server is built for the tests: one folder per checkout, so runs of
 * different clones never share one.
 */
export const serverBuildDir = join(
  tmpdir(),
  `backline-test-server-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`,
);

/** The built server's entry, when a build of this run is there. */
export const builtServerEntry = (): string | undefined => {
  const entry = join(serverBuildDir, 'src', 'main.js');
  return existsSync(entry) ? entry : undefined;
};

/**
 * Vitest's global setup: `src/` transpiled once, file by file, as tsx would on every start
 * (esbuild, the same layout, the TypeScript files kept beside their JavaScript, so
 * `import.meta.url` paths and the recommender worker's tsx entry hold), with `clickhouse/`,
 * `node_modules/` (links) and the root `package.json` and `tsconfig.json` beside it. The tests
 * start `node <build>/src/main.js` instead of `node --import tsx src/main.ts`: each start then
 * skips tsx's module hooks, about 0.9 s of CPU of a 2.9 s start, and the e2e files start
 * servers from about a hundred call sites. Rebuilt at the start of every run, into a fresh
 * folder renamed into place, so a run never starts a stale server.
 */
export default async function buildServer(): Promise<void> {
  const fresh = `${serverBuildDir}.${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  const files = walk(join(root, 'src'));
  await Promise.all(
    files.map(async (file) => {
      const target = join(fresh, relative(root, file));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(file, target);
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) return;
      const { code } = await transform(readFileSync(file, 'utf8'), {
        loader: 'ts',
        format: 'esm',
        target: 'node20',
        supported: { 'import-attributes': true },
        sourcefile: file,
      });
      writeFileSync(target.replace(/\.ts$/, '.js'), code);
    }),
  );
  for (const name of ['package.json', 'tsconfig.json'])
    copyFileSync(join(root, name), join(fresh, name));
  for (const name of ['clickhouse', 'node_modules'])
    symlinkSync(join(root, name), join(fresh, name));
  rmSync(serverBuildDir, { recursive: true, force: true });
  renameSync(fresh, serverBuildDir);
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}
