import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { StaticAssets } from '../../static/dashboard-assets.js';
import { createReply } from './reply.js';

// The page talks only to its own origin: HTTP for streams and metrics, sockets for live data.
const pageHeaders = {
  'cache-control': 'no-cache',
  'content-security-policy':
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
};

/**
 * `GET /` (the dashboard page) and `GET /assets/*` (its hashed, immutable scripts and styles).
 * Any other path still falls through to the `/*` 404 of `registerHttpOps`.
 */
export function registerHttpStatic(
  app: TemplatedApp,
  deps: { assets: StaticAssets; metrics: Metrics; log: Logger },
): void {
  const { assets, metrics, log } = deps;

  const serve = (route: string, pathOf: (url: string) => string) => {
    const count = (status: number) => metrics.httpRequests.inc({ route, status });
    return (res: HttpResponse, req: HttpRequest) => {
      const url = req.getUrl();
      const gzip = /\bgzip\b/.test(req.getHeader('accept-encoding'));
      const reply = createReply(res, log, count);
      assets.get(pathOf(url)).then(
        (asset) => {
          if (!asset) return reply.error(new BacklineError('NOT_FOUND', `no asset ${url}`));
          const headers: Record<string, string> = asset.immutable
            ? { 'cache-control': 'public, max-age=31536000, immutable' }
            : { ...pageHeaders };
          headers.vary = 'accept-encoding';
          if (gzip) headers['content-encoding'] = 'gzip';
          reply.send(200, asset.contentType, gzip ? asset.gzip : asset.body, headers);
        },
        (err: unknown) => {
          log.error({ err }, 'the dashboard failed to build');
          reply.error(
            new BacklineError('NOT_READY', 'the dashboard failed to build', { cause: err }),
          );
        },
      );
    };
  };

  app.get(
    '/',
    serve('/', () => '/index.html'),
  );
  app.get(
    '/assets/*',
    serve('/assets', (url) => url),
  );
}
