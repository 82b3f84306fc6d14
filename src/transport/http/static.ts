import type { HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { StaticAssets } from '../../static/dashboard-assets.js';
import type { Reply } from './reply.js';
import { createOpenRoutes } from './route.js';

// The page talks only to its own origin: HTTP for streams and metrics, sockets for live data
// ('self' covers ws: and wss: to the same host, CSP Level 3). No inline script or style, no
// plugins, no frames of it anywhere; its URL holds the key, so no Referer leaves it.
const contentSecurityPolicy = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Every static answer: scripts and styles are only ever what their content type says. */
const assetHeaders = { 'x-content-type-options': 'nosniff' };

const pageHeaders = {
  ...assetHeaders,
  'cache-control': 'no-cache',
  'content-security-policy': contentSecurityPolicy,
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY', // frame-ancestors, for browsers before CSP 2
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * `GET /` (the dashboard page) and `GET /assets/*` (its hashed, immutable scripts and styles).
 * Any other path still falls through to the `/*` 404 of `registerHttpOps`.
 */
export function registerHttpStatic(
  app: TemplatedApp,
  deps: { assets: StaticAssets; metrics: Metrics; log: Logger },
): void {
  const { assets, log } = deps;
  const route = createOpenRoutes(app, deps);

  const serve = (pathOf: (url: string) => string) => (reply: Reply, req: HttpRequest) => {
    const url = req.getUrl();
    const gzip = /\bgzip\b/.test(req.getHeader('accept-encoding'));
    return assets.get(pathOf(url)).then(
      (asset) => {
        if (!asset) return reply.error(new BacklineError('NOT_FOUND', `no asset ${url}`));
        const headers: Record<string, string> = asset.immutable
          ? { ...assetHeaders, 'cache-control': 'public, max-age=31536000, immutable' }
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

  route(
    'get',
    '/',
    serve(() => '/index.html'),
  );
  route(
    'get',
    '/assets/*',
    serve((url) => url),
    '/assets',
  );
}
