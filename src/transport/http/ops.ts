import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import { createReply } from './reply.js';

export interface ReadinessCheck {
  /** Resolves when the server can take traffic; rejects with the reason otherwise. */
  ready(): Promise<void>;
}

/** `GET /healthz` (the process serves), `GET /readyz` (storage reachable, migrations done), `GET /metrics`. */
export function registerHttpOps(
  app: TemplatedApp,
  deps: { metrics: Metrics; log: Logger; readiness: ReadinessCheck },
): void {
  const { metrics, log, readiness } = deps;
  const count = (route: string) => (status: number) => metrics.httpRequests.inc({ route, status });

  app.get('/healthz', (res: HttpResponse) => {
    createReply(res, log, count('/healthz')).json(200, { status: 'ok' });
  });

  app.get('/readyz', (res: HttpResponse) => {
    const reply = createReply(res, log, count('/readyz'));
    readiness.ready().then(
      () => reply.json(200, { status: 'ready' }),
      (err: unknown) =>
        reply.error(new BacklineError('NOT_READY', `not ready: ${(err as Error).message}`)),
    );
  });

  app.get('/metrics', (res: HttpResponse) => {
    const reply = createReply(res, log, count('/metrics'));
    metrics.registry.metrics().then(
      (text) => reply.send(200, metrics.registry.contentType, text),
      (err: unknown) => reply.error(err),
    );
  });

  app.any('/*', (res: HttpResponse, req: HttpRequest) => {
    const route = `${req.getMethod().toUpperCase()} ${req.getUrl()}`.slice(0, 200);
    createReply(res, log, count('unmatched')).error(
      new BacklineError('NOT_FOUND', `no route ${route}`),
    );
  });
}
