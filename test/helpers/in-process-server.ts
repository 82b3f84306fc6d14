import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { configSchema } from '../../src/compose/config.js';
import { composeNode } from '../../src/compose/node.js';
import { createLifecycle } from '../../src/ops/lifecycle.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { tempDir } from './server-process.js';

/** An admin key and a read key of project `p1`, and an admin key of project `p2`. */
export const inProcessKeys = {
  admin: `adm_${randomBytes(12).toString('hex')}`,
  read: `rd_${randomBytes(12).toString('hex')}`,
  otherAdmin: `oth_${randomBytes(12).toString('hex')}`,
};

/**
 * The whole server in this process, wired by the same `composeNode` as src/main.ts, for tests that need its parts: the route table, the
 * stores. Listens on a free loopback port. Projects `p1` and `p2` with `inProcessKeys`.
 */
export async function startInProcessServer(settings: Record<string, unknown> = {}) {
  const dataDir = tempDir('backline-inproc-');
  const config = configSchema.parse({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    logLevel: 'silent',
    projects: [
      {
        id: 'p1',
        keys: [
          { key: inProcessKeys.admin, scopes: ['admin', 'ingest'] },
          { key: inProcessKeys.read, scopes: ['read'] },
        ],
      },
      { id: 'p2', keys: [{ key: inProcessKeys.otherAdmin, scopes: ['admin'] }] },
    ],
    ...settings,
  });
  const log = pino({ level: 'silent' });
  const metrics = createMetrics();
  const lifecycle = createLifecycle(log);
  const deps = { node: undefined, dev: undefined, lifecycle, metrics, log };
  const { server, stored, services } = await composeNode(config, deps);
  await lifecycle.start(services);
  return {
    origin: `http://127.0.0.1:${server.port}`,
    server,
    stored,
    metrics,
    dataDir,
    stop: () => lifecycle.stop(),
  };
}
