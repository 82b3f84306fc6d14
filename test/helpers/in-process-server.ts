import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { composeCluster } from '../../src/compose/cluster.js';
import { configSchema } from '../../src/compose/config.js';
import { composeIngest } from '../../src/compose/ingest.js';
import { composeNotify } from '../../src/compose/notify.js';
import { composePipeline } from '../../src/compose/pipeline.js';
import { composePrivacy } from '../../src/compose/privacy.js';
import { composeRules } from '../../src/compose/rules.js';
import { composeStorage } from '../../src/compose/storage.js';
import { composeServer, composeSockets, openUws } from '../../src/compose/transport.js';
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
 * The whole server in this process, wired as src/main.ts wires it (the same compose
 * functions, in the same order), for tests that need its parts: the route table, the
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
  const uws = openUws(config, log);
  const metrics = createMetrics();
  const lifecycle = createLifecycle(log);
  const base = { projects: config.projects, metrics, log };
  const cluster = composeCluster(base);
  const { bus, presence } = cluster;
  const stored = composeStorage(config, base);
  const { ingest, dedupWarmUp } = composeIngest(config, { stored, ...base });
  const sockets = composeSockets(uws, metrics, config.live, bus);
  const inApp = { bus, presence };
  const notify = await composeNotify(config, { stored, ingest, inApp, dev: undefined, ...base });
  const route = notify.router.route;
  const { rules, ruleCatalog } = composeRules(config, { stored, ingest, route, bus, ...base });
  const pipelineDeps = { stored, ingest, bus, rules: rules.windowSink, ...base };
  const { pipeline, catalog, rollupsReady, openWindowsRestored } = composePipeline(
    config,
    pipelineDeps,
  );
  const privacy = composePrivacy(config, { stored, notify, catalog, ...base });
  const readiness = { ready: () => stored.events.ping() };
  const server = composeServer(config, {
    ...{ uws, sockets, stored, ingest, catalog, ruleCatalog, notify, privacy, bus, presence },
    readiness,
    ...base,
  });
  await lifecycle.start([
    ...[cluster.service, stored.stateService, stored.storage, stored.decisionWriter],
    ...[stored.auditWriter, rollupsReady, stored.windowWriter, stored.eventWriter, dedupWarmUp],
    ...[pipeline, openWindowsRestored, rules, notify.email.service, stored.timers],
    ...[privacy.erasure, sockets.hub, server],
  ]);
  return {
    origin: `http://127.0.0.1:${server.port}`,
    server,
    stored,
    metrics,
    dataDir,
    stop: () => lifecycle.stop(),
  };
}
