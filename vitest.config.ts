import { defineConfig } from 'vitest/config';

/**
 * Two projects in one run, sharing the workers. `unit`: tests of the code's parts in the test
 * process (the folders below), one process per worker for all of them: each file cleans up
 * after itself, and a process per file spent about a second of every file importing modules
 * (111 s of 162 files, 66 s without). `e2e`: tests that start servers, clusters and
 * clients, each file in a fresh process.
 */
const isolated = ['e2e', 'client', 'cluster', 'demo'];

export default defineConfig({
  test: {
    // Fails the run at once, naming the Debian packages, when a system tool is missing.
    // Then builds the server once for the run's server processes (test/helpers/server-build.ts).
    globalSetup: ['test/helpers/required-tools.ts', 'test/helpers/server-build.ts'],
    pool: 'forks',
    // Two cores: each worker may hold an embedded ClickHouse (≈200 MB: bench chdb-session-memory)
    // or a server process.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: isolated.map((folder) => `test/${folder}/**`),
          isolate: false,
        },
      },
      {
        extends: true,
        test: { name: 'e2e', include: isolated.map((folder) => `test/${folder}/**/*.test.ts`) },
      },
    ],
  },
});
