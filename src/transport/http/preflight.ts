import type { TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { Cors } from '../cors.js';
import { createOpenRoutes } from './route.js';

/**
 * `OPTIONS /v1/*`, the CORS preflight a browser sends before a cross-origin call with a key
 * header or a JSON body: 204 with the allowed methods and headers for a page of an allowed
 * origin, 403 ORIGIN_NOT_ALLOWED otherwise. Registered only when `cors.origins` lists any.
 */
export function registerHttpPreflight(
  app: TemplatedApp,
  deps: { cors: Cors; metrics: Metrics; log: Logger },
): void {
  const { cors } = deps;
  if (!cors.enabled) return;
  createOpenRoutes(app, deps)('options', '/v1/*', (reply, req) => {
    const origin = req.getHeader('origin');
    if (origin === '' || !cors.allows(origin, req.getHeader('host')))
      throw new BacklineError('ORIGIN_NOT_ALLOWED', `origin ${origin || '(none)'} is not allowed`);
    reply.send(204, 'text/plain', '', cors.preflightHeaders(origin));
  });
}
