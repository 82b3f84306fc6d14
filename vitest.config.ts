import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fails the run at once, naming the Debian packages, when a system tool is missing.
    globalSetup: ['test/helpers/required-tools.ts'],
    pool: 'forks',
    // Two cores: each worker may hold an embedded ClickHouse (≈200 MB: bench chdb-session-memory)
    // or a server process.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
