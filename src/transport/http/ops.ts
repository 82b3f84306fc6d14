import type { TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import { createOpenRoutes } from './route.js';

export interface ReadinessCheck {
  /** Resolves when the server can take traffic; rejects with the reason otherwise. */
  ready(): Promise<void>;
}

/** `GET /healthz` (the process serves), `GET /readyz` (storage reachable, migrations done), `GET /metrics`. */
export function registerHttpOps(
  app: TemplatedApp,
  deps: { metrics: Metrics; log: Logger; readiness: ReadinessCheck },
): void {
  const { metrics, readiness } = deps;
  const route = createOpenRoutes(app, deps);

  route('get', '/healthz', (reply) => reply.json(200, { status: 'ok' }));

  route('get', '/readyz', (reply) =>
    readiness.ready().then(
      () => reply.json(200, { status: 'ready' }),
      (err: unknown) =>
        reply.error(new BacklineError('NOT_READY', `not ready: ${(err as Error).message}`)),
    ),
  );

  route('get', '/metrics', async (reply) => {
    reply.send(200, metrics.registry.contentType, await metrics.registry.metrics());
  });

  route(
    'any',
    '/*',
    (reply, req) => {
      const route = `${req.getMethod().toUpperCase()} ${req.getUrl()}`.slice(0, 200);
      reply.error(new BacklineError('NOT_FOUND', `no route ${route}`));
    },
    'unmatched',
  );
}
